/**
 * Refusals through the real pipeline, with the default patience (900 s) in force so that nothing here
 * may wait for it: a primary MX that greets with 421 "too busy" while the backup works (issue 7 item
 * 12), and a host that refuses the prober for good — a DNSBL listing at RCPT (issue 7 item 13).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MxThrottle, mxThrottleOptionsFromConfig } from '../../src/throttle/index.js';
import type { SimWorldSpec } from '../../src/world/index.js';
import { emailCsv, PipelineFixture } from './pipeline-fixture.js';

const BUSY_GREETING = '421 4.7.0 mx1.busyprimary.test Too busy, try later';

const spec: SimWorldSpec = {
  domains: {
    'busyprimary.test': {
      mx: [
        { host: 'mx1.busyprimary.test', preference: 10 },
        { host: 'mx2.busyprimary.test', preference: 20 },
      ],
    },
    'listed.test': { mx: [{ host: 'mx.listed.test', preference: 10 }] },
    'listed2.test': { mx: [{ host: 'mx.listed.test', preference: 10 }] },
  },
  hosts: {
    'mx1.busyprimary.test': { connectReply: BUSY_GREETING },
    'mx2.busyprimary.test': { mailboxes: ['alice', 'bob'] },
    'mx.listed.test': { mailboxes: ['alice'], dnsblClients: true },
  },
};

const fx = new PipelineFixture();

beforeAll(async () => {
  // One batch at a time: later batches meet the primary's cooldown instead of its greeting.
  await fx.start(spec, { LISTWASH_BLOCKED_PATIENCE_SEC: '900', LISTWASH_MX_COOLDOWN_MS: '30000', LISTWASH_CATCH_ALL_PROBE: 'false' }, 1);
});
afterAll(() => fx.stop());

async function throttleOf(host: string) {
  const redis = new Redis(fx.cfg.redisUrl);
  try {
    const throttle = new MxThrottle(redis, mxThrottleOptionsFromConfig(fx.cfg));
    const group = throttle.groupFor(host);
    return { state: await throttle.state(group), stats: await throttle.stats(group) };
  } finally {
    redis.disconnect();
  }
}

describe('a primary MX that greets with 421 "too busy" while the backup works', () => {
  it('verifies every address at the backup in the same run, backs off the primary and opens no circuit', async () => {
    const addresses = ['alice@busyprimary.test', 'bob@busyprimary.test', 'nobody@busyprimary.test', 'ghost@busyprimary.test', 'carl@busyprimary.test'];
    // Batches of 3, one after the other: the first meets the 421 greeting, the second the primary's
    // 30 s cooldown; both must finish at the backup at once, not after the cooldown or the patience.
    const { rows } = await fx.clean('busyprimary', emailCsv(addresses), 20_000);
    expect(rows.map((r) => [r.email, r.reason, r.mx_host])).toEqual([
      ['alice@busyprimary.test', 'accepted', 'mx2.busyprimary.test'],
      ['bob@busyprimary.test', 'accepted', 'mx2.busyprimary.test'],
      ['nobody@busyprimary.test', 'mailbox_not_found', 'mx2.busyprimary.test'],
      ['ghost@busyprimary.test', 'mailbox_not_found', 'mx2.busyprimary.test'],
      ['carl@busyprimary.test', 'mailbox_not_found', 'mx2.busyprimary.test'],
    ]);
    const primary = await throttleOf('mx1.busyprimary.test');
    expect(primary.stats.rateLimitedSignals).toBeGreaterThanOrEqual(1);
    expect(primary.stats.blockedSignals).toBe(0);
    expect(primary.state.circuit.open).toBe(false);
    expect(primary.state.cooldownUntil).not.toBeNull();
    expect(fx.world.host('mx1.busyprimary.test').stats.rcptCount).toBe(0);
  });
});

describe('a host that refuses the prober for good (554 5.7.1 … blocked using <dnsbl>, at RCPT)', () => {
  it('ends every address at once as unknown/blocked with the server\'s own reply — also the batches the open circuit refuses', async () => {
    const host = fx.world.host('mx.listed.test');
    const addresses = ['alice@listed.test', 'bob@listed.test', 'carl@listed.test', 'dora@listed.test', 'eve@listed2.test', 'finn@listed2.test', 'gus@listed2.test'];
    const { rows } = await fx.clean('listed', emailCsv(addresses), 20_000);
    for (const r of rows) {
      expect([r.email, r.status, r.reason, r.bounce_risk, r.smtp_code, r.mx_host]).toEqual([r.email, 'unknown', 'blocked', 'unknown', '554', 'mx.listed.test']);
      expect(r.smtp_reply).toMatch(/^554 5\.7\.1 Service unavailable; Client host \[[0-9.]+\] blocked using dnsbl\.sim\.test$/);
    }
    expect(rows.map((r) => r.email)).toEqual(addresses);
    // The first session's refusal opened the circuit; the later batches were refused by it, not probed.
    expect(host.stats.connections).toBe(1);
    const circuit = (await throttleOf('mx.listed.test')).state.circuit;
    expect(circuit.open).toBe(true);
    expect(circuit.permanentRefusal).toContain('blocked using dnsbl.sim.test');
  });
});
