/** Throttle budgets and circuits per (egress identity, MX group): each identity is a client of its own to the host. */
import { afterAll, describe, expect, it } from 'vitest';
import { identityGroup } from '../../src/throttle/providers.js';
import { ThrottleFixture } from './helpers.js';

const fx = new ThrottleFixture();
afterAll(() => fx.cleanup());

describe('throttle groups per egress identity', () => {
  it('keys a non-default identity\'s group egress:<identity>:<group>, same limits; the default identity keys as before', () => {
    const t = fx.throttle();
    const plain = t.groupFor('alt1.aspmx.l.google.com');
    expect(t.groupFor('alt1.aspmx.l.google.com', 'default')).toEqual(plain);
    expect(t.groupFor('alt1.aspmx.l.google.com', 'ip2')).toEqual({ ...plain, key: 'egress:ip2:provider:google' });
    expect(t.groupFor('mx.small.example', 'ip2').key).toBe('egress:ip2:mx.small.example');
    expect(t.keys(t.groupFor('mx.small.example', 'ip2')).leases).toContain('{egress:ip2:mx.small.example}');
  });

  it('lets two identities each use the full per-host budget', async () => {
    const t = fx.throttle();
    const g = fx.group(2, 5);
    const a = identityGroup(g, 'a');
    const b = identityGroup(g, 'b');
    expect((await t.acquire(a)).granted).toBe(true);
    expect((await t.acquire(a)).granted).toBe(true);
    expect(await t.acquire(a)).toMatchObject({ granted: false, why: 'busy' });
    expect((await t.acquire(b)).granted).toBe(true);
    expect((await t.acquire(b)).granted).toBe(true);
    expect(await t.acquire(b)).toMatchObject({ granted: false, why: 'busy' });
    // RCPT pacing is per identity too: each has its own first RCPT now.
    expect(await t.takeRcpt(a)).toBe(0);
    expect(await t.takeRcpt(b)).toBe(0);
    expect(await t.takeRcpt(a)).toBeGreaterThan(0);
  });

  it('opens a circuit for one identity only', async () => {
    const t = fx.throttle({ openMs: 60_000 });
    const g = fx.group(2, 2);
    await t.reportBlocked(identityGroup(g, 'a'), 'mx\n554 5.7.1 blocked using dnsbl');
    expect(await t.acquire(identityGroup(g, 'a'))).toMatchObject({ granted: false, why: 'open' });
    expect((await t.acquire(identityGroup(g, 'b'))).granted).toBe(true);
    expect((await t.acquire(g)).granted).toBe(true);
  });
});
