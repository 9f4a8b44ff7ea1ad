/**
 * Egress identities through the real pipeline (Redis throttle, BullMQ, in-process workers): two
 * identities on loopback source addresses from LISTWASH_EGRESS_FILE, against hosts that limit, greylist
 * and refuse per client address — as real hosts do, each identity is a client of its own.
 */
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MxThrottle, mxThrottleOptionsFromConfig } from '../../src/throttle/index.js';
import type { SimWorldSpec } from '../../src/world/index.js';
import { emailCsv, PipelineFixture } from './pipeline-fixture.js';

const A = '127.0.0.2';
const B = '127.0.0.3';
const RATE = 4;
const CONNECTIONS = 2;
const WIDE_MAILBOXES = ['u0', 'u3', 'u6', 'u9', 'u12', 'u15', 'u18', 'u21'];

const spec: SimWorldSpec = {
  domains: {
    'wide.test': { mx: [{ host: 'mx.wide.test', preference: 10 }] },
    'greyid.test': { mx: [{ host: 'mx.greyid.test', preference: 10 }] },
    'pickyid.test': { mx: [{ host: 'mx.pickyid.test', preference: 10 }] },
  },
  hosts: {
    // Per client address: 2 connections, 4 RCPT in any second; three violations ban the client.
    'mx.wide.test': { mailboxes: WIDE_MAILBOXES, maxConnectionsPerClient: CONNECTIONS, maxRcptPerSecond: RATE, banAfterViolations: 3 },
    'mx.greyid.test': { mailboxes: ['g1', 'g2'], greylistSeconds: 2 },
    // A DNSBL lists identity a's address only.
    'mx.pickyid.test': { mailboxes: ['p1'], dnsblClients: [A] },
  },
};

const egressFile = join(tmpdir(), `lw-egress-${randomBytes(4).toString('hex')}.json`);
const fx = new PipelineFixture();

beforeAll(async () => {
  await writeFile(
    egressFile,
    JSON.stringify([
      { name: 'a', bind: A, helo: 'a.probe.test', mailFrom: 'probe@a.probe.test' },
      { name: 'b', bind: B, helo: 'b.probe.test', mailFrom: 'probe@b.probe.test' },
    ]),
  );
  await fx.start(spec, {
    LISTWASH_EGRESS_FILE: egressFile,
    LISTWASH_MX_MAX_CONNECTIONS: String(CONNECTIONS),
    LISTWASH_MX_RCPT_PER_SECOND: String(RATE),
    LISTWASH_BLOCKED_PATIENCE_SEC: '900',
  });
});
afterAll(async () => {
  await fx.stop();
  await rm(egressFile, { force: true });
});

const clientOf = (host: string, ip: string) => fx.world.host(host).stats.clients.get(ip);

describe('egress identities in the pipeline', () => {
  it('each identity keeps the per-host limits as a client of its own, and both carry the list', async () => {
    const addresses = Array.from({ length: 24 }, (_, i) => `u${i}@wide.test`);
    const { rows, summary } = await fx.clean('wide', emailCsv(addresses), 60_000);
    expect(rows.map((r) => r.reason)).toEqual(addresses.map((a) => (WIDE_MAILBOXES.includes(a.split('@')[0]!) ? 'accepted' : 'mailbox_not_found')));
    expect(fx.world.politenessReport({ maxConnections: CONNECTIONS, rcptPerSecond: RATE, windowMs: 950, perClient: true })).toEqual([]);
    const host = fx.world.host('mx.wide.test').stats;
    expect(host.violations).toEqual({ connectionLimit: 0, rate: 0 });
    expect(clientOf('mx.wide.test', A)?.rcptTimestamps.length).toBeGreaterThan(0);
    expect(clientOf('mx.wide.test', B)?.rcptTimestamps.length).toBeGreaterThan(0);
    const egress = summary.egress as Record<string, { sessions: number; rcpts: number; refusals: number }>;
    expect(Object.keys(egress).sort()).toEqual(['a', 'b']);
    expect(egress.a!.rcpts + egress.b!.rcpts).toBe(host.rcptCount);
    expect(egress.a!.refusals + egress.b!.refusals).toBe(0);
    expect((summary.mxHosts as Record<string, unknown>)['mx.wide.test']).toBeDefined();
  });

  it('greylisted addresses and the catch-all probe are retried from the client address that was greylisted', async () => {
    const addresses = ['g1', 'g2', 'x1', 'x2', 'x3', 'x4'].map((l) => `${l}@greyid.test`);
    const { rows } = await fx.clean('greyid', emailCsv(addresses), 60_000);
    expect(rows.map((r) => [r.email, r.reason])).toEqual(addresses.map((a) => [a, a.startsWith('g') ? 'accepted' : 'mailbox_not_found']));
    const host = fx.world.host('mx.greyid.test').stats;
    expect(host.greylisted).toBeGreaterThan(0);
    // Every recipient — the addresses and the catch-all probe — was asked from one client address only.
    const asked = new Map<string, Set<string>>();
    for (const [ip, c] of host.clients) for (const r of c.recipients) (asked.get(r) ?? asked.set(r, new Set()).get(r)!).add(ip);
    expect(asked.size).toBe(addresses.length + 1);
    for (const [recipient, ips] of asked) expect([recipient, ips.size]).toEqual([recipient, 1]);
  });

  it('a host that bans one identity is finished by the other; the ban opens that identity\'s circuit only', async () => {
    const addresses = ['p1', 'q1', 'q2', 'q3'].map((l) => `${l}@pickyid.test`);
    const { rows, summary } = await fx.clean('pickyid', emailCsv(addresses), 30_000);
    expect(rows.map((r) => [r.email, r.reason, r.smtp_code])).toEqual(addresses.map((a) => [a, a.startsWith('p1') ? 'accepted' : 'mailbox_not_found', a.startsWith('p1') ? '250' : '550']));
    expect(clientOf('mx.pickyid.test', B)?.recipients).toEqual(expect.arrayContaining(addresses));
    const egress = summary.egress as Record<string, { refusals: number }>;
    expect(egress.a!.refusals).toBeGreaterThanOrEqual(1);
    expect(egress.b!.refusals).toBe(0);
    const redis = new Redis(fx.cfg.redisUrl);
    try {
      const throttle = new MxThrottle(redis, mxThrottleOptionsFromConfig(fx.cfg));
      const a = await throttle.circuitState(throttle.groupFor('mx.pickyid.test', 'a'));
      expect(a.open).toBe(true);
      expect(a.permanentRefusal).toContain(`Client host [${A}] blocked using dnsbl.sim.test`);
      expect((await throttle.circuitState(throttle.groupFor('mx.pickyid.test', 'b'))).open).toBe(false);
    } finally {
      redis.disconnect();
    }
  });
});
