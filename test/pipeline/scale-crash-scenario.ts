/**
 * The scale-out and crash scenario, shared by the test against one Redis (`scale-crash.test.ts`) and the
 * test against a real Redis Cluster (`test/cluster/`): two `workers/all.ts` processes share a list; one is
 * SIGKILLed mid-run, its stalled batch runs again on the other, and the list still ends with every row
 * once and the right verdicts. Then a graceful SIGTERM: the worker finishes its batch, exits 0 and
 * leaves no throttle lease behind.
 *
 * Redis is the one `REDIS_URL` names (default 127.0.0.1:6379): every connection, the test's and the
 * worker processes', is made from it.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { QUEUES } from '../../src/pipeline/names.js';
import { ListwashService } from '../../src/pipeline/service.js';
import { createRedis, type RedisClient } from '../../src/redis/connect.js';
import { MxThrottle, mxThrottleOptionsFromConfig } from '../../src/throttle/index.js';
import { SimWorld, type SimWorldSpec } from '../../src/world/index.js';
import { killWorkerProcesses, startWorkerProcess, type WorkerProc } from '../helpers/processes.js';
import { dropKeys, pipelineConfig, pipelineEnv, reportRows, testPrefix, waitFor } from './helpers.js';

const DOMAINS = ['d1.test', 'd2.test', 'd3.test', 'd4.test', 'd5.test', 'd6.test'];
const PER_DOMAIN = 50;
/** `u<even>` mailboxes exist, `u<odd>` do not. */
const MAILBOXES = Array.from({ length: PER_DOMAIN }, (_, i) => `u${i}`).filter((_, i) => i % 2 === 0);

const spec: SimWorldSpec = {
  domains: {
    ...Object.fromEntries(DOMAINS.map((d) => [d, { mx: [{ host: `mx.${d}`, preference: 10 }] }])),
    'slow.test': { mx: [{ host: 'mx.slow.test', preference: 10 }] },
  },
  hosts: {
    ...Object.fromEntries(DOMAINS.map((d) => [`mx.${d}`, { mailboxes: MAILBOXES, replyDelayMs: 80 }])),
    // One batch here takes seconds: the SIGTERMed worker is mid-session when the signal arrives.
    'mx.slow.test': { mailboxes: MAILBOXES, replyDelayMs: 250 },
  },
};

/**
 * The hosts time RCPTs on arrival. With three processes (two workers and this one, with the world) on two
 * cores, a worker's event loop can be held up for tens of milliseconds between its throttle grant and its
 * write, so two RCPTs granted 131 ms apart (8/s with the 5% spacing margin) can arrive closer. This test is
 * about crashes, not pacing precision (test/throttle measures that in Redis time): it checks the rate over
 * 950 ms windows, i.e. tolerates 50 ms of delivery jitter.
 */
const JITTER_WINDOW_MS = 950;

const EXTRA_ENV = {
  LISTWASH_BATCH_SIZE: '10',
  LISTWASH_MX_RCPT_PER_SECOND: '8',
  LISTWASH_MX_MAX_CONNECTIONS: '2',
  LISTWASH_MX_LEASE_MS: '3000',
  LISTWASH_LOCK_DURATION_MS: '2000',
  LISTWASH_STALLED_INTERVAL_MS: '1000',
};

function csvOf(addresses: string[]): string {
  return ['id,email,note', ...addresses.map((a, i) => `${i + 1},${a},row ${i + 1}`)].join('\n') + '\n';
}

function expectedReason(address: string): string {
  return Number(/^u(\d+)@/.exec(address)![1]) % 2 === 0 ? 'accepted' : 'mailbox_not_found';
}

/** Register the scenario's hooks and tests in the calling test file. */
export function describeScaleAndCrashes(): void {
  let world: SimWorld;
  let cfg: Config;
  let svc: ListwashService;
  let redis: RedisClient;
  let dir: string;
  let events: QueueEvents;
  let eventsConnection: RedisClient;
  const prefix = testPrefix();
  const run = `scale-${process.pid}-${Date.now()}`;
  const procs: WorkerProc[] = [];
  const stalled: string[] = [];

  async function startWorker(concurrency: number): Promise<WorkerProc> {
    const w = await startWorkerProcess(pipelineEnv(world, prefix, null, EXTRA_ENV), ['--concurrency', String(concurrency)]);
    procs.push(w);
    return w;
  }

  /** `processedBy` of every probe job active now. */
  async function activeProbeJobs(): Promise<{ id: string; by: string }[]> {
    const jobs = await svc.probeQueue.getActive();
    return jobs.filter((j) => j?.id && j.processedBy).map((j) => ({ id: j.id!, by: j.processedBy! }));
  }

  async function leasesOf(holder: string): Promise<string[]> {
    const throttle = new MxThrottle(redis, mxThrottleOptionsFromConfig(cfg));
    const out: string[] = [];
    for (const h of world.hostNames) {
      const members = await redis.zrange(throttle.keys(throttle.groupFor(h)).leases, 0, -1);
      out.push(...members.filter((m) => m.startsWith(`${holder}:`)));
    }
    return out;
  }

  beforeAll(async () => {
    world = await SimWorld.start(spec);
    dir = await mkdtemp(join(tmpdir(), 'lw-scale-'));
    cfg = pipelineConfig(world, prefix, null, EXTRA_ENV);
    svc = new ListwashService(cfg);
    redis = createRedis(cfg);
    eventsConnection = createRedis(cfg);
    events = new QueueEvents(QUEUES.probe, { connection: eventsConnection, prefix: cfg.queuePrefix });
    events.on('stalled', ({ jobId }) => stalled.push(jobId));
    await events.waitUntilReady();
  });

  afterAll(async () => {
    await killWorkerProcesses(procs);
    await events?.close();
    eventsConnection?.disconnect();
    await svc?.close();
    redis?.disconnect();
    await dropKeys(cfg.redisUrl, prefix);
    await world?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('two worker processes, one SIGKILLed mid-run', () => {
    it('finishes the list: the dead worker’s batch runs again elsewhere, every row once with the right verdict', async () => {
      const [a, b] = await Promise.all([startWorker(8), startWorker(8)]);
      const addresses = DOMAINS.flatMap((d) => Array.from({ length: PER_DOMAIN }, (_, i) => `u${i}@${d}`));
      const input = join(dir, 'big.csv');
      await writeFile(input, csvOf(addresses));
      const output = join(dir, 'big-out') + '/';
      const { listId } = await svc.submit({ input, output, listId: `${run}-big` });
      const state = svc.state(listId);

      // Watch who runs what; kill A once some batches are done and A is in the middle of one.
      const seenBy = new Set<string>();
      let killedJobs: string[] = [];
      await waitFor(
        async () => {
          const active = await activeProbeJobs();
          for (const j of active) seenBy.add(j.by);
          const done = await redis.scard(state.keys.done);
          const onA = active.filter((j) => j.by === a!.name).map((j) => j.id);
          if (done >= 4 && onA.length > 0) {
            a!.child.kill('SIGKILL');
            killedJobs = onA;
            return true;
          }
          return false;
        },
        30_000,
        'worker A to be mid-batch after a few batches',
        50,
      );
      expect(await a!.exit).toBeNull();
      expect(a!.child.signalCode).toBe('SIGKILL');

      // B carries on alone; record what it runs until the list is done.
      const watch = setInterval(() => {
        activeProbeJobs().then(
          (jobs) => jobs.forEach((j) => seenBy.add(j.by)),
          (err: unknown) => process.emitWarning(`watching active jobs: ${String(err)}`),
        );
      }, 100);
      try {
        await svc.waitUntilDone(listId, { timeoutMs: 90_000, pollMs: 200 });
      } finally {
        clearInterval(watch);
      }

      // Both processes did work, and the killed worker's batch was recovered as a stalled job.
      expect(seenBy).toContain(a!.name);
      expect(seenBy).toContain(b!.name);
      expect(stalled.filter((id) => killedJobs.includes(id)).length).toBeGreaterThan(0);

      const { header, rows } = reportRows(await readFile(join(output, 'report.csv'), 'utf8'));
      expect(header.slice(0, 3)).toEqual(['id', 'email', 'note']);
      expect(rows.map((r) => r.email)).toEqual(addresses);
      expect(rows.map((r) => r.id)).toEqual(addresses.map((_, i) => String(i + 1)));
      const wrong = rows.filter((r) => r.reason !== expectedReason(r.email!)).map((r) => `${r.email}: ${r.status}/${r.reason} ${r.smtp_reply}`);
      expect(wrong).toEqual([]);
      const summary = JSON.parse(await readFile(join(output, 'summary.json'), 'utf8')) as { rows: number; batches: number; byStatus: Record<string, number> };
      expect(summary.rows).toBe(addresses.length);
      expect(summary.byStatus).toEqual({ deliverable: addresses.length / 2, undeliverable: addresses.length / 2 });

      // The crash did not make the fleet impolite (the dead worker's sockets closed with it).
      expect(world.politenessReport({ maxConnections: cfg.mxMaxConnections, rcptPerSecond: cfg.mxRcptPerSecond, windowMs: JITTER_WINDOW_MS })).toEqual([]);
    });
  });

  describe('graceful SIGTERM', () => {
    it('finishes the batch in hand, exits 0 and leaves no lease; the list completes on the next worker', async () => {
      const live = procs.find((p) => p.alive()) ?? (await startWorker(4));
      const addresses = Array.from({ length: 20 }, (_, i) => `u${i}@slow.test`);
      const input = join(dir, 'slow.csv');
      await writeFile(input, csvOf(addresses));
      const output = join(dir, 'slow-out') + '/';
      const { listId } = await svc.submit({ input, output, listId: `${run}-slow` });

      let inHand: string[] = [];
      await waitFor(
        async () => {
          inHand = (await activeProbeJobs()).filter((j) => j.by === live.name).map((j) => j.id);
          return inHand.length > 0;
        },
        20_000,
        'the worker to be mid-batch',
        50,
      );
      const before = world.host('mx.slow.test').stats.rcptCount;
      live.child.kill('SIGTERM');
      expect(await live.exit).toBe(0);
      expect(live.stderr).toContain('SIGTERM');
      // It finished what it held: the session went on after the signal, and nothing was left to stall.
      expect(world.host('mx.slow.test').stats.rcptCount).toBeGreaterThan(before);
      expect(await leasesOf(live.name)).toEqual([]);
      const activeNow = await activeProbeJobs();
      expect(activeNow.filter((j) => j.by === live.name)).toEqual([]);

      // Another worker (in-process here) finishes the list.
      await svc.startWorkers({ split: true, probe: true, aggregate: true, probeConcurrency: 4 });
      await svc.waitUntilDone(listId, { timeoutMs: 60_000, pollMs: 200 });
      const { rows } = reportRows(await readFile(join(output, 'report.csv'), 'utf8'));
      expect(rows.map((r) => [r.email, r.reason])).toEqual(addresses.map((a) => [a, expectedReason(a)]));
      expect(stalled.filter((id) => inHand.includes(id))).toEqual([]);
      expect(world.politenessReport({ maxConnections: cfg.mxMaxConnections, rcptPerSecond: cfg.mxRcptPerSecond, windowMs: JITTER_WINDOW_MS })).toEqual([]);
    });
  });
}
