/**
 * `POST /v1/verify` over real HTTP: probed by the workers through the fleet-wide per-MX throttle —
 * a verify request and a list at the same strict host keep that host's limits together — answered
 * by the deadline, and leaving no state behind. Without workers nothing is probed at all.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimWorldSpec } from '../../src/world/index.js';
import { waitFor } from '../pipeline/helpers.js';
import { postJson, startApiFixture, type ApiFixture } from './fixture.js';

const LIMITS = { maxConnections: 1, rcptPerSecond: 2 };
const LIST_SIZE = 12;
const STRICT_WORLD: SimWorldSpec = {
  domains: {
    'strict.test': { mx: [{ host: 'mx.strict.test', preference: 10 }] },
    'grey.test': { mx: [{ host: 'mx.grey.test', preference: 10 }] },
  },
  hosts: {
    'mx.strict.test': { mailboxes: [...Array.from({ length: LIST_SIZE }, (_, i) => `u${i}`), 'v1'], maxConnectionsPerClient: LIMITS.maxConnections, maxRcptPerSecond: LIMITS.rcptPerSecond },
    'mx.grey.test': { mailboxes: ['g'], greylistSeconds: 600 },
  },
};

let f: ApiFixture;
let redis: Redis;

beforeAll(async () => {
  f = await startApiFixture({
    world: STRICT_WORLD,
    workers: true,
    env: { LISTWASH_MX_MAX_CONNECTIONS: String(LIMITS.maxConnections), LISTWASH_MX_RCPT_PER_SECOND: String(LIMITS.rcptPerSecond) },
  });
  redis = new Redis(f.cfg.redisUrl);
});
afterAll(async () => {
  redis?.disconnect();
  await f?.close();
});

/** Keys of ephemeral verify lists still in Redis. */
async function verifyKeys(fx: ApiFixture): Promise<string[]> {
  const base = fx.cfg.queuePrefix.replace(/[{}]/g, '');
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${base}:list:{verify-*`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

/** Probe jobs waiting, delayed or running. */
async function openProbeJobs(fx: ApiFixture): Promise<number> {
  const counts = await fx.api.service.probeQueue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

describe('POST /v1/verify', () => {
  it("is probed through the fleet-wide throttle: with a list running at the same host, the host's limits hold", async () => {
    const csv = 'email\n' + Array.from({ length: LIST_SIZE }, (_, i) => `u${i}@strict.test`).join('\n') + '\n';
    await writeFile(join(f.root, 'strict.csv'), csv);
    const alice = f.client('alice');
    await alice.createList({ input: pathToFileURL(join(f.root, 'strict.csv')).href, id: 'strict-list' });
    await waitFor(async () => (await alice.getList('strict-list')).state === 'probing', 20_000, 'the list to be probing');

    const answer = await alice.verify(['v1@strict.test', 'nobody@strict.test', 'not an address', 'v1@strict.test'], { deadlineMs: 60_000 });

    expect(answer.deadlinePassed).toBe(false);
    expect(answer.results.map((r) => [r.input, r.status, r.reason, r.final])).toEqual([
      ['v1@strict.test', 'deliverable', 'accepted', true],
      ['nobody@strict.test', 'undeliverable', 'mailbox_not_found', true],
      ['not an address', 'undeliverable', 'invalid_syntax', true],
      ['v1@strict.test', 'deliverable', 'accepted', true],
    ]);
    expect(answer.results[0]).toMatchObject({ address: 'v1@strict.test', mxHost: 'mx.strict.test', smtpCode: 250, flags: { role: false, disposable: false, free: false } });

    const done = await alice.waitForList('strict-list', { pollMs: 200, timeoutMs: 90_000 });
    expect(done.counts.byStatus).toEqual({ deliverable: LIST_SIZE });
    expect(f.world!.politenessReport({ ...LIMITS, windowMs: 950 })).toEqual([]);
    expect(f.world!.host('mx.strict.test').stats.rcptCount).toBeGreaterThanOrEqual(LIST_SIZE + 2);
    // The verify request is no list: not in the listing, and its state is gone.
    expect((await alice.listLists()).lists.map((l) => l.id)).toEqual(['strict-list']);
    await waitFor(async () => (await verifyKeys(f)).length === 0, 15_000, 'the verify state to be deleted');
  });

  it('answers an address still open at the deadline as unknown with its provisional reason and a note', async () => {
    const answer = await f.client('bob').verify(['g@grey.test'], { deadlineMs: 2500 });
    expect(answer.deadlinePassed).toBe(true);
    expect(answer.results).toHaveLength(1);
    expect(answer.results[0]).toMatchObject({ input: 'g@grey.test', status: 'unknown', reason: 'greylisted', final: false, note: expect.stringContaining('deadline') });
    await waitFor(async () => (await verifyKeys(f)).length === 0, 15_000, 'the verify state to be deleted');
    expect(await openProbeJobs(f)).toBe(0);
  });

  it("queues its batches ahead of the lists' waiting batches (LIFO)", async () => {
    const g = await startApiFixture();
    try {
      const q = g.api.service.probeQueue;
      await q.addBulk([0, 1, 2].map((n) => ({ name: 'probe', data: { listId: 'queued-list', batchId: `queued-list.b${n}`, domain: 'example.com', addresses: [`a${n}@example.com`] }, opts: { jobId: `queued-list.b${n}` } })));
      const answering = g.client('alice').verify(['someone@example.org'], { deadlineMs: 2000 });
      await waitFor(async () => (await q.getWaiting(0, 0))[0]?.id?.startsWith('verify-') === true, 5000, 'the verify batch at the head of the queue');
      const waiting = await q.getWaiting();
      expect(waiting.map((j) => j.id?.replace(/^verify-[0-9a-f-]+/, 'verify'))).toEqual(['verify.b0', 'queued-list.b0', 'queued-list.b1', 'queued-list.b2']);
      expect((await answering).deadlinePassed).toBe(true);
      expect((await q.getWaiting()).map((j) => j.id)).toEqual(['queued-list.b0', 'queued-list.b1', 'queued-list.b2']);
    } finally {
      await g.close();
    }
  });

  it('caps the deadline at LISTWASH_VERIFY_DEADLINE_MS', async () => {
    const g = await startApiFixture({ env: { LISTWASH_VERIFY_DEADLINE_MS: '300' } });
    try {
      const res = await postJson(g, '/v1/verify', { addresses: ['someone@example.com'], deadlineMs: 600_000 });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { deadlinePassed: boolean; results: { note: string }[] };
      expect(body.deadlinePassed).toBe(true);
      expect(body.results[0]!.note).toContain('(300 ms)');
    } finally {
      await g.close();
    }
  });

  it('probes nothing in the API process: without workers every valid address is unknown at the deadline, and nothing is left behind', async () => {
    const g = await startApiFixture();
    try {
      const answer = await g.client('alice').verify(['someone@example.com', 'broken@'], { deadlineMs: 400 });
      expect(answer.results.map((r) => [r.status, r.reason, r.final])).toEqual([
        ['unknown', 'temporary_failure', false],
        ['undeliverable', 'invalid_syntax', true],
      ]);
      await waitFor(async () => (await verifyKeys(g)).length === 0, 15_000, 'the verify state to be deleted');
      expect(await openProbeJobs(g)).toBe(0);
    } finally {
      await g.close();
    }
  });
});
