/**
 * Fixtures of the doctor's tests: a healthy simulated world (a well-known MX for the port-25 check, the
 * prober's HELO name with forward and reverse DNS, an SPF policy, two DNSBL zones), variants of it, and
 * configurations pointing at it. DNS answers come from the world only; connections go to loopback only.
 */
import { loadConfig, type Config } from '../../src/config.js';
import { doctorContextFromConfig, identitiesFromConfig, runChecks, type CheckId, type CheckResult, type DoctorIdentity, type DoctorOptions, type DoctorReport } from '../../src/doctor/index.js';
import { SimWorld, type SimWorldSpec } from '../../src/world/index.js';

/** The prober's public IP in these tests. DNS data only: nothing binds or connects to it. */
export const EGRESS_IP = '11.1.2.3';
/** Another public address (DNS data only). */
export const OTHER_IP = '11.9.9.9';
export const HELO = 'probe.doctor.test';
export const MAIL_FROM = 'bounces@doctor.test';
/** The port-25 check's target, a host of the world. */
export const WELL_KNOWN_MX = 'mx.wellknown.test';
export const DNSBLS = ['bl1.dnsbl.test', 'bl2.dnsbl.test'];

/** A world in which every check passes for {@link EGRESS_IP} (given with `--ip`). */
export function healthySpec(): SimWorldSpec {
  return {
    domains: {
      'wellknown.test': { mx: [{ host: WELL_KNOWN_MX, preference: 5 }] },
      'doctor.test': { mx: [{ host: WELL_KNOWN_MX, preference: 10 }], txt: ['google-site-verification=abc', `v=spf1 ip4:${EGRESS_IP} -all`] },
    },
    hosts: { [WELL_KNOWN_MX]: {} },
    names: { [HELO]: { a: [EGRESS_IP] } },
    reverse: { [EGRESS_IP]: HELO },
    dnsbls: { [DNSBLS[0]!]: {}, [DNSBLS[1]!]: {} },
  };
}

/** Start a world from the healthy spec, changed by `change`. */
export function startWorld(change: (spec: SimWorldSpec) => void = () => undefined): Promise<SimWorld> {
  const spec = healthySpec();
  change(spec);
  return SimWorld.start(spec, { smtpPort: 0 });
}

/** Environment for listwash against `world`: its DNS and SMTP port, short timeouts, the doctor's settings. */
export function doctorEnv(world: SimWorld, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...world.env(),
    LISTWASH_HELO_NAME: HELO,
    LISTWASH_MAIL_FROM: MAIL_FROM,
    LISTWASH_DOCTOR_PORT25_HOST: WELL_KNOWN_MX,
    LISTWASH_DOCTOR_TIMEOUT_MS: '1500',
    LISTWASH_DNSBL_ZONES: DNSBLS.join(','),
    LISTWASH_DNS_TIMEOUT_MS: '500',
    LISTWASH_DNS_TRIES: '1',
    ...extra,
  };
}

export function doctorConfig(world: SimWorld, extra: Record<string, string> = {}): Config {
  return loadConfig(doctorEnv(world, extra));
}

/** Run every check against `world` (the identities of the config unless given). */
export async function runDoctorOn(world: SimWorld, opts: DoctorOptions = {}, extra: Record<string, string> = {}, identities?: DoctorIdentity[]): Promise<DoctorReport> {
  const cfg = doctorConfig(world, extra);
  const ctx = doctorContextFromConfig(cfg, opts);
  try {
    return await runChecks(ctx, identities ?? identitiesFromConfig(cfg));
  } finally {
    ctx.close();
  }
}

/** The result of check `id` of the first identity. */
export function checkOf(report: DoctorReport, id: CheckId): CheckResult {
  const c = report.identities[0]?.checks.find((x) => x.check === id);
  if (!c) throw new Error(`no ${id} check in the report`);
  return c;
}

/** Levels of every check of the first identity, by id. */
export function levels(report: DoctorReport): Record<string, string> {
  return Object.fromEntries((report.identities[0]?.checks ?? []).map((c) => [c.check, c.level]));
}
