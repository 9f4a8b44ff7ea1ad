/**
 * `listwash doctor`: one line per check, a summary, exit code 1 when a check FAILs, `--json` for
 * machines, `--offline`, `--ip`; usage errors. Against the simulated world only.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/cli/commands/doctor.js';
import { main } from '../../src/cli/main.js';
import { logStartupChecks } from '../../src/doctor/index.js';
import { isListwashError } from '../../src/errors.js';
import type { SimWorld } from '../../src/world/index.js';
import { doctorConfig, doctorEnv, EGRESS_IP, HELO, MAIL_FROM, startWorld, WELL_KNOWN_MX } from './helpers.js';

let world: SimWorld;

beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world?.stop();
});

/** runDoctor in this process, its output collected. */
async function doctorOutput(opts: Parameters<typeof runDoctor>[1], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  const sink = new PassThrough();
  let out = '';
  sink.on('data', (b: Buffer) => (out += b.toString()));
  const code = await runDoctor(doctorConfig(world, env), opts, sink);
  return { code, out };
}

/** The real command in a child process: `listwash doctor …` with the world's environment. */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'doctor', ...args], {
      cwd: join(import.meta.dirname, '../..'),
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('listwash doctor', () => {
  it('prints a header, one line per check and a summary; exits 0 when nothing FAILs', async () => {
    const r = await cli(['--ip', EGRESS_IP], doctorEnv(world));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('this machine:');
    expect(lines[1]).toMatch(/^ {2}ok {4}DNS {10}the DNS resolver \(LISTWASH_DNS_SERVERS=127\.[\d.]+:\d+\) answers \(MX doctor\.test: NOERROR\)$/);
    expect(lines[2]).toBe(`identity default: HELO ${HELO}, MAIL FROM ${MAIL_FROM}`);
    expect(lines.slice(3, 9).map((l) => l.slice(0, 21))).toEqual([
      '  ok    port 25      ',
      '  ok    egress IP    ',
      '  ok    HELO name    ',
      '  ok    reverse DNS  ',
      '  ok    SPF          ',
      '  ok    DNSBL        ',
    ]);
    expect(lines[9]).toBe('all checks passed');
    expect(lines).toHaveLength(10);
    expect(world.host(WELL_KNOWN_MX).stats.commands).toEqual({ QUIT: 1 });
  });

  it('exits 1 when a check FAILs, and --json says why', async () => {
    world.resetStats();
    const r = await cli(['--offline', '--json', '--ip', '11.1.2.99'], doctorEnv(world));
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as { ok: boolean; fails: number; machine: { check: string; level: string }[]; identities: { name: string; egressIp: string; checks: { check: string; level: string; message: string }[] }[] };
    expect(json).toMatchObject({ ok: false, fails: 2, warnings: 1, skipped: 1, machine: [{ check: 'dns', level: 'ok' }] });
    expect(json.identities[0]).toMatchObject({ name: 'default', helo: HELO, mailFrom: MAIL_FROM, egressIp: '11.1.2.99' });
    expect(json.identities[0]!.checks.map((c) => [c.check, c.level])).toEqual([
      ['port25', 'skip'],
      ['egress-ip', 'ok'],
      ['helo', 'warn'],
      ['reverse-dns', 'fail'],
      ['spf', 'fail'],
      ['dnsbl', 'ok'],
    ]);
    expect(world.host(WELL_KNOWN_MX).stats.connections).toBe(0);
  });

  it('a blocked port 25 FAILs with the plain explanation', async () => {
    const { code, out } = await doctorOutput({ ip: EGRESS_IP }, { LISTWASH_SMTP_PORT: '1', LISTWASH_DOCTOR_PORT25_HOST: `${world.host(WELL_KNOWN_MX).ip}` });
    expect(code).toBe(1);
    expect(out).toMatch(/^ {2}FAIL {2}port 25 {6}connecting to 127\.[\d.]+ \[127\.[\d.]+\]:1 was refused \(ECONNREFUSED\): every result will be unknown: outbound port 25 is blocked; ask your provider to open it or run the workers elsewhere$/m);
    expect(out.trimEnd().split('\n').at(-1)).toBe('1 FAIL, 0 warn: results will be unreliable until every FAIL is fixed');
  });

  it('warnings and skipped checks alone exit 0', async () => {
    const { code, out } = await doctorOutput({ offline: true });
    expect(code).toBe(0);
    expect(out.trimEnd().split('\n').at(-1)).toBe('no FAIL, 1 warn, 4 not checked: nothing found that makes results unreliable, but read the warnings');
  });

  it('LISTWASH_DOCTOR_IP stands in for --ip; --ip wins', async () => {
    const fromSetting = await doctorOutput({ offline: true, json: true }, { LISTWASH_DOCTOR_IP: EGRESS_IP });
    expect(JSON.parse(fromSetting.out)).toMatchObject({ ok: true, identities: [{ egressIp: EGRESS_IP }] });
    const flag = await doctorOutput({ offline: true, json: true, ip: '11.1.2.99' }, { LISTWASH_DOCTOR_IP: EGRESS_IP });
    expect(JSON.parse(flag.out)).toMatchObject({ ok: false, identities: [{ egressIp: '11.1.2.99' }] });
  });

  it('explains usage errors', async () => {
    for (const [argv, message] of [
      [['doctor', '--ip', 'not-an-ip'], /--ip takes an IP address; got "not-an-ip"/],
      [['doctor', 'extra'], /doctor takes no arguments/],
      [['doctor', '--ip'], /--ip/],
    ] as const) {
      let caught: unknown;
      try {
        await main([...argv]);
      } catch (err) {
        caught = err;
      }
      expect(isListwashError(caught, 'CLI_USAGE'), argv.join(' ')).toBe(true);
      expect((caught as Error).message).toMatch(message);
    }
  });

  it('a bad LISTWASH_DOCTOR_PORT25_HOST is a CONFIG_INVALID naming the setting', async () => {
    const err: unknown = await doctorOutput({}, { LISTWASH_DOCTOR_PORT25_HOST: 'mx.example.org:99999' }).then(() => undefined, (e: unknown) => e);
    expect(isListwashError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toBe('LISTWASH_DOCTOR_PORT25_HOST: not host or host:port: "mx.example.org:99999"');
  });

  it('at a worker start, checks that cannot run at all are one FAIL line, never an exception', async () => {
    const lines: string[] = [];
    const report = await logStartupChecks(doctorConfig(world, { LISTWASH_DOCTOR_PORT25_HOST: 'a b' }), (l) => lines.push(l));
    expect(report).toBeNull();
    expect(lines).toEqual(['FAIL the checks could not run: LISTWASH_DOCTOR_PORT25_HOST: not host or host:port: "a b"']);
  });

  it('a bad LISTWASH_DOCTOR_IP fails the configuration with one line', async () => {
    const r = await cli([], { ...doctorEnv(world), LISTWASH_DOCTOR_IP: 'nat-box' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('listwash: CONFIG_INVALID: LISTWASH_DOCTOR_IP: not an IP address: "nat-box"\n');
  });
});
