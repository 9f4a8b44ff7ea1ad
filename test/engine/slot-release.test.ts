/**
 * A pacing gate's session slot goes back only once the host has seen the connection closed: otherwise the next
 * session (this call's or another worker's) overlaps the last one at the host, which a strict host refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createVerifier, type GateLease, type ProbeGate } from '../../src/engine/index.js';
import { SimWorld } from '../../src/world/index.js';

let world: SimWorld;

beforeAll(async () => {
  world = await SimWorld.start({
    domains: { 'slot.test': { mx: [{ host: 'mx.slot.test', preference: 10 }] } },
    hosts: { 'mx.slot.test': { mailboxes: ['a', 'b', 'c', 'd', 'e'] } },
  });
});
afterAll(async () => {
  await world?.stop();
});

/** A gate that records, at each release, how many connections the host still had open. */
function recordingGate(paced: boolean, openAtRelease: number[]): ProbeGate {
  return {
    async acquire(host: string): Promise<GateLease> {
      return {
        granted: true,
        group: host,
        ...(paced ? { beforeRcpt: async () => undefined } : {}),
        release: async () => {
          openAtRelease.push(world.host('mx.slot.test').stats.currentConnections);
        },
      };
    },
    async report(): Promise<void> {
      return undefined;
    },
  };
}

describe('session slot release', () => {
  it('gives a pacing gate its slot back only after the host has closed the connection, for every session', async () => {
    const openAtRelease: number[] = [];
    const cfg = loadConfig({ ...world.env(), LISTWASH_HELO_NAME: 'probe.listwash.test', LISTWASH_MAIL_FROM: 'probe@listwash.test', LISTWASH_RCPT_PER_SESSION: '2', LISTWASH_CATCH_ALL_PROBE: 'false' });
    const { verifier } = createVerifier(cfg, { gate: recordingGate(true, openAtRelease) });
    const r = await verifier.verify('slot.test', ['a', 'b', 'c', 'd', 'e', 'x'].map((l) => ({ address: `${l}@slot.test` })));
    expect(r.outcomes.map((o) => (o.kind === 'deferred' ? 'deferred' : o.verdict.reason))).toEqual(['accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'mailbox_not_found']);
    expect(openAtRelease).toEqual([0, 0, 0]);
  });
});
