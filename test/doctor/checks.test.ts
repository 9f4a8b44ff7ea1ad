/**
 * Each check of the doctor, passing and failing, against the simulated world's DNS (HELO names, reverse
 * DNS, SPF policies and DNSBL zones published by the world spec). The port-25 check is off here
 * (--offline; see port25.test.ts), so the egress IP comes from --ip.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyDnsblAnswer, decideEgressIp, isFqdn, judgeDnsbls, type DoctorIdentity } from '../../src/doctor/index.js';
import type { SimWorld } from '../../src/world/index.js';
import { randomLoopbackIp } from '../world/raw-smtp-client.js';
import { checkOf, DNSBLS, EGRESS_IP, HELO, levels, MAIL_FROM, OTHER_IP, runDoctorOn, startWorld } from './helpers.js';

/** Egress IPs with something wrong in their reverse DNS or reputation (DNS data only). */
const NO_PTR_IP = '11.1.2.4';
const UNCONFIRMED_IP = '11.1.2.5';
const OTHER_NAME_IP = '11.1.2.6';
const LISTED_IP = '11.1.2.7';

let world: SimWorld;

beforeAll(async () => {
  world = await startWorld((spec) => {
    Object.assign(spec.names!, {
      'noaddr.doctor.test': {},
      'elsewhere.doctor.test': { a: [OTHER_IP] },
      'broken.doctor.test': { servfail: true },
      'unconfirmed.doctor.test': { a: [OTHER_IP] },
      'other-name.doctor.test': { a: [OTHER_NAME_IP] },
      'softfail.doctor.test': { txt: ['v=spf1 ~all'] },
      'nospf.doctor.test': { txt: ['verification=1'] },
      'badspf.doctor.test': { txt: ['v=spf1 ip4:1.2.3 -all'] },
    });
    Object.assign(spec.reverse!, { [UNCONFIRMED_IP]: 'unconfirmed.doctor.test', [OTHER_NAME_IP]: 'other-name.doctor.test', [LISTED_IP]: HELO });
    spec.dnsbls![DNSBLS[0]!] = { listed: { [LISTED_IP]: { code: '127.0.0.4', reason: 'https://bl1.dnsbl.test/lookup?ip=11.1.2.7' } } };
    spec.dnsbls!['refuses.dnsbl.test'] = { answerAll: '127.255.255.254' };
    spec.dnsbls!['broken.dnsbl.test'] = { servfail: true };
  });
});
afterAll(async () => {
  await world?.stop();
});

/** The doctor offline with `--ip ip`, for one identity with this HELO name and MAIL FROM. */
function doctorFor(ip: string, identity: Partial<DoctorIdentity> = {}, env: Record<string, string> = {}) {
  return runDoctorOn(world, { offline: true, ip }, env, [{ name: 'default', helo: HELO, mailFrom: MAIL_FROM, ...identity }]);
}

describe('a healthy prober', () => {
  it('passes every check but the skipped port-25 one', async () => {
    const report = await doctorFor(EGRESS_IP);
    expect(levels(report)).toEqual({ port25: 'skip', 'egress-ip': 'ok', helo: 'ok', 'reverse-dns': 'ok', spf: 'ok', dnsbl: 'ok' });
    expect(report).toMatchObject({ fails: 0, warnings: 0, skipped: 1 });
    expect(report.identities[0]!.egressIp).toBe(EGRESS_IP);
  });
});

describe('DNS resolver', () => {
  it('ok when it answers (NXDOMAIN is an answer)', async () => {
    const report = await doctorFor(EGRESS_IP, { mailFrom: 'x@gone.doctor.test' });
    expect(report.machine).toEqual([expect.objectContaining({ check: 'dns', level: 'ok', message: expect.stringMatching(/answers \(MX gone\.doctor\.test: NXDOMAIN\)$/) })]);
  });

  it('FAIL when it does not answer: every address would end unknown', async () => {
    const report = await doctorFor(EGRESS_IP, {}, { LISTWASH_DNS_SERVERS: `${randomLoopbackIp()}:9`, LISTWASH_DNS_TIMEOUT_MS: '200' });
    expect(report.machine[0]).toMatchObject({
      level: 'fail',
      message: expect.stringMatching(/^the DNS resolver \(LISTWASH_DNS_SERVERS=127\.[\d.]+:9\) did not answer \(DNS MX doctor\.test: no answer \(timeout\)\): every address would end unknown\/temporary_failure; point LISTWASH_DNS_SERVERS at a working resolver$/),
    });
    expect(report.fails).toBeGreaterThanOrEqual(1);
    // The other DNS-based checks could not run: warnings, not made-up verdicts.
    expect(levels(report)).toEqual({ port25: 'skip', 'egress-ip': 'ok', helo: 'warn', 'reverse-dns': 'warn', spf: 'warn', dnsbl: 'warn' });
  });
});

describe('egress IP', () => {
  it("prefers a public bind address, then --ip, then the port-25 connection's source address", () => {
    expect(decideEgressIp({ bind: '11.0.0.1', given: EGRESS_IP, socketLocal: '11.0.0.2', offline: false })).toMatchObject({ ip: '11.0.0.1', result: { level: 'ok', details: { source: 'bind' } } });
    expect(decideEgressIp({ bind: '10.0.0.1', given: EGRESS_IP, socketLocal: '10.0.0.1', offline: false })).toMatchObject({ ip: EGRESS_IP, result: { level: 'ok', details: { source: 'given' } } });
    expect(decideEgressIp({ socketLocal: '11.0.0.2', offline: false })).toMatchObject({ ip: '11.0.0.2', result: { level: 'ok', details: { source: 'connection' } } });
  });

  it('says plainly when the public IP cannot be determined (NAT, --offline, a private --ip)', () => {
    const nat = decideEgressIp({ socketLocal: '172.31.5.9', offline: false });
    expect(nat.ip).toBeNull();
    expect(nat.result.level).toBe('warn');
    expect(nat.result.message).toMatch(/^connections leave from 172\.31\.5\.9, which is not a public address .*: the public IP could not be determined; pass --ip/);
    expect(decideEgressIp({ offline: true }).result.message).toMatch(/^the public IP could not be determined: no connection was made \(--offline\); pass --ip/);
    expect(decideEgressIp({ offline: false }).result.message).toMatch(/the port-25 check made no connection/);
    expect(decideEgressIp({ given: '192.168.1.5', offline: true })).toMatchObject({ ip: null, result: { level: 'warn', message: expect.stringMatching(/^192\.168\.1\.5 \(given by --ip.*\) is not a public address/) } });
  });

  it('without an egress IP, reverse DNS, SPF and DNSBLs are not checked (and the HELO name still is)', async () => {
    const report = await runDoctorOn(world, { offline: true });
    expect(levels(report)).toEqual({ port25: 'skip', 'egress-ip': 'warn', helo: 'ok', 'reverse-dns': 'skip', spf: 'skip', dnsbl: 'skip' });
    expect(checkOf(report, 'spf').message).toBe('not checked: needs the public egress IP (pass --ip)');
    expect(report.fails).toBe(0);
  });
});

describe('HELO name resolves', () => {
  it('ok when its A record is the egress IP', async () => {
    expect(checkOf(await doctorFor(EGRESS_IP), 'helo')).toMatchObject({ level: 'ok', message: `HELO name ${HELO} resolves to ${EGRESS_IP}` });
  });

  it('FAIL when it does not exist, has no address, or is not a fully qualified name', async () => {
    expect(checkOf(await doctorFor(EGRESS_IP, { helo: 'nowhere.doctor.test' }), 'helo')).toMatchObject({
      level: 'fail',
      message: `HELO name nowhere.doctor.test does not exist (NXDOMAIN): servers that check it refuse the prober, so results will be unknown/blocked; publish an A record nowhere.doctor.test → ${EGRESS_IP}`,
    });
    expect(checkOf(await doctorFor(EGRESS_IP, { helo: 'noaddr.doctor.test' }), 'helo').message).toMatch(/^HELO name noaddr\.doctor\.test has no A\/AAAA record/);
    const bare = checkOf(await doctorFor(EGRESS_IP, { helo: 'worker-7' }), 'helo');
    expect(bare).toMatchObject({ level: 'fail', message: expect.stringMatching(/^HELO name "worker-7" is not a fully qualified domain name: many servers refuse such a client/) });
    expect(world.dns.queryCount('worker-7', 'A')).toBe(0);
  });

  it('warn when it resolves elsewhere, or DNS fails', async () => {
    expect(checkOf(await doctorFor(EGRESS_IP, { helo: 'elsewhere.doctor.test' }), 'helo')).toMatchObject({
      level: 'warn',
      message: expect.stringMatching(new RegExp(`resolves to ${OTHER_IP}, not to the egress IP ${EGRESS_IP}`)),
    });
    expect(checkOf(await doctorFor(EGRESS_IP, { helo: 'broken.doctor.test' }), 'helo')).toMatchObject({ level: 'warn', message: expect.stringMatching(/^could not resolve the HELO name broken\.doctor\.test \(.*SERVFAIL\): not checked/) });
  });

  it('knows a fully qualified name', () => {
    expect(['mx.example.org', 'a-b.example.co.uk', 'verify.example.org.'].map(isFqdn)).toEqual([true, true, true]);
    expect(['localhost', 'ip-10-0-0-1', '1.2.3.4', 'a..b', '-x.example.org', 'host.123', 'under_score.example.org'].map(isFqdn)).toEqual([false, false, false, false, false, false, false]);
  });
});

describe('reverse DNS (forward-confirmed, matching the HELO name)', () => {
  it('ok when the PTR is the HELO name and it resolves back', async () => {
    expect(checkOf(await doctorFor(EGRESS_IP), 'reverse-dns')).toMatchObject({ level: 'ok', details: { ptr: [HELO], confirmed: [HELO] } });
  });

  it('FAIL without a PTR record', async () => {
    expect(checkOf(await doctorFor(NO_PTR_IP), 'reverse-dns')).toMatchObject({
      level: 'fail',
      message: `${NO_PTR_IP} has no reverse DNS (PTR): many providers refuse or distrust such a client, so results will be unknown/blocked; ask the owner of ${NO_PTR_IP} (your hosting provider) to set its PTR to ${HELO}`,
    });
  });

  it('FAIL when the PTR name does not resolve back to the IP', async () => {
    expect(checkOf(await doctorFor(UNCONFIRMED_IP), 'reverse-dns')).toMatchObject({
      level: 'fail',
      message: expect.stringMatching(new RegExp(`^the PTR of ${UNCONFIRMED_IP} is unconfirmed\\.doctor\\.test, which does not resolve back to ${UNCONFIRMED_IP}`)),
    });
  });

  it('warn when it is forward-confirmed but not the HELO name', async () => {
    expect(checkOf(await doctorFor(OTHER_NAME_IP), 'reverse-dns')).toMatchObject({
      level: 'warn',
      message: `reverse DNS of ${OTHER_NAME_IP} is other-name.doctor.test (forward-confirmed), but the HELO name is ${HELO}: receivers that compare them distrust the prober; set LISTWASH_HELO_NAME=other-name.doctor.test or change the PTR to ${HELO}`,
    });
  });
});

describe('SPF of the MAIL FROM domain', () => {
  it('ok when it passes for the egress IP', async () => {
    expect(checkOf(await doctorFor(EGRESS_IP), 'spf')).toMatchObject({ level: 'ok', message: `SPF of doctor.test passes for ${EGRESS_IP} ("ip4:${EGRESS_IP}")`, details: { result: 'pass' } });
  });

  it('FAIL when it fails or is broken; warn for softfail and none', async () => {
    expect(checkOf(await doctorFor(NO_PTR_IP), 'spf')).toMatchObject({
      level: 'fail',
      message: `SPF of doctor.test fails for ${NO_PTR_IP} ("-all"): servers that check SPF at MAIL FROM refuse the probes, so results will be unknown/blocked; add ip4:${NO_PTR_IP} to the SPF record of doctor.test (TXT "v=spf1 … ip4:${NO_PTR_IP} -all")`,
    });
    expect(checkOf(await doctorFor(EGRESS_IP, { mailFrom: 'x@badspf.doctor.test' }), 'spf')).toMatchObject({ level: 'fail', details: { result: 'permerror' }, message: expect.stringMatching(/is broken \(the SPF record of badspf\.doctor\.test is invalid: not an IPv4 network/) });
    expect(checkOf(await doctorFor(EGRESS_IP, { mailFrom: 'x@softfail.doctor.test' }), 'spf')).toMatchObject({ level: 'warn', details: { result: 'softfail' } });
    expect(checkOf(await doctorFor(EGRESS_IP, { mailFrom: 'x@nospf.doctor.test' }), 'spf')).toMatchObject({
      level: 'warn',
      details: { result: 'none' },
      message: `nospf.doctor.test publishes no SPF record: some receivers distrust the probes; publish TXT "v=spf1 ip4:${EGRESS_IP} -all" at nospf.doctor.test`,
    });
  });

  it('a null sender is checked against the HELO name', async () => {
    expect(checkOf(await doctorFor(EGRESS_IP, { mailFrom: '' }), 'spf')).toMatchObject({ details: { domain: HELO, result: 'none' } });
  });
});

describe('DNSBL listing', () => {
  it('ok when no zone lists the IP (reversed-octet query, NXDOMAIN)', async () => {
    world.resetStats();
    expect(checkOf(await doctorFor(EGRESS_IP), 'dnsbl')).toMatchObject({ level: 'ok', message: `${EGRESS_IP} is not listed on any of 2 blocklists (${DNSBLS.join(', ')})` });
    expect(world.dns.queryCount(`3.2.1.11.${DNSBLS[0]}`, 'A')).toBe(1);
    expect(world.dns.queryCount(`3.2.1.11.${DNSBLS[1]}`, 'A')).toBe(1);
  });

  it('FAIL when listed, with the answer code and the TXT reason', async () => {
    expect(checkOf(await doctorFor(LISTED_IP), 'dnsbl')).toMatchObject({
      level: 'fail',
      message: `${LISTED_IP} is listed on ${DNSBLS[0]} (127.0.0.4: https://bl1.dnsbl.test/lookup?ip=11.1.2.7): servers using these lists refuse the prober, so their results will be unknown/blocked; request delisting (the reason says how) or probe from another IP`,
    });
  });

  it('a 127.255.255.x answer is "could not check", never "listed"; so is a failing zone', async () => {
    const c = checkOf(await doctorFor(EGRESS_IP, {}, { LISTWASH_DNSBL_ZONES: `${DNSBLS[0]},refuses.dnsbl.test,broken.dnsbl.test` }), 'dnsbl');
    expect(c.level).toBe('warn');
    expect(c.message).toMatch(/^could not check refuses\.dnsbl\.test \(127\.255\.255\.254: the list refuses queries through public\/open resolvers: use your own resolver/);
    expect(c.message).toMatch(/could not check broken\.dnsbl\.test \(.*SERVFAIL\); not listed on the other 1$/);
  });

  it('listed and unchecked together: FAIL naming both', async () => {
    const c = checkOf(await doctorFor(LISTED_IP, {}, { LISTWASH_DNSBL_ZONES: `${DNSBLS[0]},refuses.dnsbl.test` }), 'dnsbl');
    expect(c.level).toBe('fail');
    expect(c.message).toMatch(/listed on bl1\.dnsbl\.test .*; could not check refuses\.dnsbl\.test/);
  });

  it('reads answers: NXDOMAIN clear, 127.0.0.x listed, other addresses not a code', () => {
    expect(classifyDnsblAnswer('z', { kind: 'none', nxdomain: true })).toEqual({ zone: 'z', kind: 'clear' });
    expect(classifyDnsblAnswer('z', { kind: 'ok', values: ['127.0.0.2', '127.0.0.11'] })).toEqual({ zone: 'z', kind: 'listed', codes: ['127.0.0.2', '127.0.0.11'], reason: null });
    expect(classifyDnsblAnswer('z', { kind: 'ok', values: ['127.255.255.255'] })).toMatchObject({ kind: 'unchecked', why: expect.stringMatching(/too many queries/) });
    expect(classifyDnsblAnswer('z', { kind: 'ok', values: ['198.51.100.9'] })).toMatchObject({ kind: 'unchecked', why: expect.stringMatching(/not a blocklist code/) });
    expect(judgeDnsbls(EGRESS_IP, [])).toMatchObject({ level: 'skip', message: expect.stringMatching(/LISTWASH_DNSBL_ZONES/) });
  });
});

describe('several identities', () => {
  it('are the egress pool of LISTWASH_EGRESS_FILE: a bound one is checked from its address, a proxied one says where port 25 must be checked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lw-doctor-egress-'));
    const file = join(dir, 'egress.json');
    await writeFile(file, JSON.stringify([
      { name: 'local', bind: '127.0.0.1', helo: HELO, mailFrom: MAIL_FROM },
      { name: 'proxied', socks: 'socks5://user:secret@127.0.0.1:1080', helo: HELO, mailFrom: MAIL_FROM },
    ]));
    try {
      const report = await runDoctorOn(world, { offline: true, ip: EGRESS_IP }, { LISTWASH_EGRESS_FILE: file });
      expect(report.identities.map((r) => [r.identity.name, r.identity.bind, r.identity.socks])).toEqual([
        ['local', '127.0.0.1', undefined],
        ['proxied', undefined, '127.0.0.1:1080'],
      ]);
      expect(JSON.stringify(report)).not.toContain('secret');
      const online = await runDoctorOn(world, { ip: EGRESS_IP }, { LISTWASH_EGRESS_FILE: file });
      expect(online.identities[1]!.checks.find((c) => c.check === 'port25')).toMatchObject({ level: 'skip', message: expect.stringMatching(/SOCKS5 proxy 127\.0\.0\.1:1080/) });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('are checked one by one, each with its own names', async () => {
    const report = await runDoctorOn(world, { offline: true, ip: EGRESS_IP }, {}, [
      { name: 'good', helo: HELO, mailFrom: MAIL_FROM },
      { name: 'bad', helo: 'nowhere.doctor.test', mailFrom: 'x@softfail.doctor.test' },
    ]);
    const level = (i: number, id: string) => report.identities[i]!.checks.find((c) => c.check === id)?.level;
    expect(report.identities.map((r, i) => [r.identity.name, level(i, 'helo'), level(i, 'reverse-dns'), level(i, 'spf')])).toEqual([
      ['good', 'ok', 'ok', 'ok'],
      // The shared IP's PTR names the good identity's HELO name, not the bad one's.
      ['bad', 'fail', 'warn', 'warn'],
    ]);
    expect(report).toMatchObject({ fails: 1, warnings: 2 });
  });
});
