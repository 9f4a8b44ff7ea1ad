/**
 * `listwash worker` runs the doctor's checks at start and logs one line each, with FAIL in capitals —
 * and starts anyway. Real worker processes (Redis at REDIS_URL, the simulated world for DNS and SMTP).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimWorld } from '../../src/world/index.js';
import { dropKeys, pipelineEnv, testPrefix, waitFor } from '../pipeline/helpers.js';
import { doctorEnv, HELO, startWorld } from './helpers.js';

let world: SimWorld;
const prefix = testPrefix();
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

beforeAll(async () => {
  world = await startWorld((spec) => {
    // Port 25 blocked: the well-known MX refuses connections (another host gives the world its SMTP port).
    spec.hosts = { 'mx.wellknown.test': { refuse: true }, 'mx.other.test': {} };
  });
});
afterAll(async () => {
  await dropKeys(redisUrl, prefix);
  await world?.stop();
});

/** Start a worker, wait until it runs, SIGTERM it, and return its exit code and log. */
async function workerLog(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; log: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/all.ts', ...args], {
    cwd: join(import.meta.dirname, '../..'),
    env: { ...process.env, ...pipelineEnv(world, prefix, null, doctorEnv(world, env)) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitFor(() => log.includes(' running ') || child.exitCode !== null, 20_000, 'the worker to start');
    // The checks run beside the work; a stopping worker waits for them, so their lines are in by the exit.
    child.kill('SIGTERM');
    return { code: await exit, log };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

describe('listwash worker at start', () => {
  it('logs one line per check, FAIL loudly, and runs anyway', async () => {
    const { code, log } = await workerLog(['--concurrency', '1'], { LISTWASH_DOCTOR_IP: '11.1.2.3' });
    expect(code).toBe(0);
    const doctorLines = log.split('\n').filter((l) => / doctor: /.test(l));
    expect(doctorLines.map((l) => l.replace(/^listwash worker \d+ doctor: /, '').slice(0, 30))).toEqual([
      'ok DNS: the DNS resolver (LIST',
      'FAIL port 25 [default]: connec',
      'ok egress IP [default]: probes',
      'ok HELO name [default]: HELO n',
      'ok reverse DNS [default]: 11.1',
      'ok SPF [default]: SPF of docto',
      'ok DNSBL [default]: 11.1.2.3 i',
      '1 FAIL, 0 warn: results will b',
    ]);
    expect(doctorLines[1]).toMatch(/every result will be unknown: outbound port 25 is blocked/);
    expect(log).toMatch(/listwash worker \d+ running \(split, probe, aggregate, webhook\)/);
    expect(log.indexOf(' running ')).toBeLessThan(log.indexOf(' doctor: '));
  });

  it('a worker that does not probe runs no checks', async () => {
    world.resetStats();
    const r = await workerLog(['--only', 'split,aggregate']);
    expect(r.code).toBe(0);
    expect(r.log).toMatch(/ running \(split, aggregate\)/);
    expect(r.log).not.toMatch(/ doctor: /);
    expect(world.dns.queryCount(HELO, 'A')).toBe(0);
  });

  it('LISTWASH_DOCTOR_AT_START=false turns the checks off', async () => {
    world.resetStats();
    const r = await workerLog(['--concurrency', '1'], { LISTWASH_DOCTOR_AT_START: 'false' });
    expect(r.code).toBe(0);
    expect(r.log).not.toMatch(/ doctor: /);
    expect(world.dns.queryCount(HELO, 'A')).toBe(0);
  });
});
