/**
 * Split: stream the list's CSV once, normalise and deduplicate its addresses, and turn the unique
 * ones into per-domain batch jobs of at most `batchSize` addresses. Invalid syntax needs no network
 * and no job: the aggregator gives those rows their verdict from the address itself.
 *
 * Memory is bounded: addresses wait in per-domain buckets until a bucket is full, or until the buckets
 * together hold `maxBuffered` addresses — then the fullest buckets leave as batch jobs until half of
 * that is left, so small domains still gather into few batches. Dedup state lives in Redis; its round
 * trips (and the job additions) overlap the parsing of the rows that follow. Deterministic: the same
 * input gives the same batches with the same job ids, so a re-run after a crash adds nothing twice.
 *
 * A domain without any mail route (NXDOMAIN, null MX, neither MX nor address records) needs no probe job:
 * given `deadEnd`, the split asks DNS for each batch's domain (the probe's own question, through the same
 * cache) and records such batches' final verdicts itself, in bulk, counting them as done batches. Only the
 * batches of other domains (MX hosts, or a DNS failure to retry) become probe jobs; their domains are marked as
 * probed first, so the aggregate looks up one by one only the addresses of domains that were probed.
 */
import type { Queue } from 'bullmq';
import { parseAddress } from '../address/index.js';
import type { Config } from '../config.js';
import type { VerdictCache } from '../verdict-cache/verdict-cache.js';
import type { Verdict } from '../verdict.js';
import { readSample, sniffCsv, verifyCsv, type CsvDialect } from '../csv/index.js';
import { readCsvBatches } from '../csv/reader.js';
import { parseLocation, storeFor } from '../storage/index.js';
import type { AggregateJobData, ProbeJobData, SplitJobData } from './jobs.js';
import { aggregateJobId, batchJobId } from './names.js';
import type { DoneBatch, ListState } from './list-state.js';
import type { FleetCounters } from './fleet-counters.js';
import { encodeVerdict } from './result-codec.js';

export interface SplitOptions {
  batchSize: number;
  /** Most addresses waiting in buckets before the fullest buckets are flushed. Default 200,000. */
  maxBuffered?: number;
  /** Addresses per dedup round trip. Default 2,000. */
  dedupChunk?: number;
}

export interface SplitSummary {
  rows: number;
  unique: number;
  duplicates: number;
  invalid: number;
  batches: number;
  domains: number;
}

export interface SplitDeps {
  cfg: Config;
  state: ListState;
  probeQueue: Queue<ProbeJobData>;
  aggregateQueue: Queue<AggregateJobData>;
  /** Job options for batch jobs. */
  probeJobOptions?: Parameters<Queue<ProbeJobData>['add']>[2];
  /**
   * The engine's answer for a domain without any mail route: the final verdict every one of its addresses gets
   * (`DomainVerifier.deadEnd`); null for any other domain. None: every batch becomes a probe job.
   */
  deadEnd?: (domain: string) => Promise<Verdict | null>;
  /** Told the final verdicts of the batches the split ends itself, as the probe tells them. */
  verdictCache?: VerdictCache | null;
  counters?: FleetCounters;
}

type ProbeJob = { name: string; data: ProbeJobData; opts: NonNullable<SplitDeps['probeJobOptions']> };

interface Pending {
  address: string;
  domain: string;
  utf8: boolean;
}

/** Rows read between two looks at whether the list was cancelled meanwhile. */
const STOP_CHECK_ROWS = 50_000;

/** Dedup round trips in flight while the following rows are parsed. */
const DEDUP_AHEAD = 4;
/** Batch jobs per `addBulk`, and `addBulk` calls in flight. */
const JOBS_PER_ADD = 100;
const ADDS_AHEAD = 4;

/**
 * Promises started in order, at most `limit` of them unsettled: `push` waits for the oldest when the
 * window is full. Results and rejections come out in start order.
 */
class OrderedWindow<T> {
  private readonly queue: Promise<T>[] = [];

  constructor(private readonly limit: number) {}

  /** Add a started promise; returns the oldest one's result when the window overflowed, else undefined. */
  async push(p: Promise<T>): Promise<{ value: T } | undefined> {
    // Observed in order below; a rejection before then must not count as unhandled.
    p.catch(() => undefined);
    this.queue.push(p);
    if (this.queue.length <= this.limit) return undefined;
    return { value: await (this.queue.shift() as Promise<T>) };
  }

  /** Wait for everything still in flight, in order. */
  async *drain(): AsyncGenerator<T> {
    while (this.queue.length > 0) yield await (this.queue.shift() as Promise<T>);
  }
}

export async function runSplit(data: SplitJobData, deps: SplitDeps, opts: SplitOptions): Promise<SplitSummary> {
  const { cfg, state } = deps;
  const maxBuffered = opts.maxBuffered ?? 200_000;
  const dedupChunk = opts.dedupChunk ?? 2_000;
  const loc = parseLocation(data.input);
  const store = storeFor(loc, cfg);

  // A cancelled (or failed) list is not split; a split run again after a crash starts afresh.
  await state.transition('splitting', ['queued', 'splitting']);
  await state.mark('splitStartedAt');
  await state.startSplitRun();

  const sample = await readSample(store, loc, 64 * 1024);
  const dialect: CsvDialect = sniffCsv(sample, data.emailColumn !== undefined ? { emailColumn: data.emailColumn } : {});
  await state.set({ dialect: JSON.stringify(dialect) });
  // The whole file is checked (text, CSV grammar) before any batch is queued: a file broken far down fails before any probing.
  await verifyCsv(await store.openRead(loc), dialect);

  const s: SplitSummary = { rows: 0, unique: 0, duplicates: 0, invalid: 0, batches: 0, domains: 0 };
  /** Per domain (every domain seen: the count is the summary's), the addresses waiting for its next batch. */
  const buckets = new Map<string, { addresses: string[]; utf8: number[] }>();
  let buffered = 0;
  let chunk: Pending[] = [];
  /** Dedup round trips so far: each one's number makes it idempotent. */
  let chunks = 0;
  const jobs: ProbeJob[] = [];
  const { dispatch, prefetch } = batchDispatcher(data.listId, deps);
  const adds = new OrderedWindow<unknown>(ADDS_AHEAD);
  const dedups = new OrderedWindow<{ chunk: Pending[]; fresh: boolean[] }>(DEDUP_AHEAD);

  const addJobs = async (force: boolean) => {
    while (jobs.length >= JOBS_PER_ADD || (force && jobs.length > 0)) {
      const out = jobs.splice(0, JOBS_PER_ADD);
      await adds.push(dispatch(out));
    }
  };
  const emit = (domain: string, b: { addresses: string[]; utf8: number[] }) => {
    if (b.addresses.length === 0) return;
    const { addresses, utf8 } = b;
    b.addresses = [];
    b.utf8 = [];
    buffered -= addresses.length;
    const batchId = batchJobId(data.listId, s.batches++);
    jobs.push({
      name: 'probe',
      data: { listId: data.listId, batchId, domain, addresses, ...(utf8.length ? { utf8 } : {}), ...(data.maxAge !== undefined ? { maxAge: data.maxAge } : {}) },
      opts: { ...(deps.probeJobOptions ?? {}), jobId: batchId },
    });
  };
  /** Too much waiting: the fullest buckets leave (largest first, ties in first-seen order) until half is left. */
  const relieve = () => {
    const order = [...buckets.entries()].filter(([, b]) => b.addresses.length > 0).sort((x, y) => y[1].addresses.length - x[1].addresses.length);
    for (const [domain, b] of order) {
      if (buffered <= maxBuffered / 2) break;
      emit(domain, b);
    }
  };
  const place = async (c: Pending[], fresh: boolean[]) => {
    for (let i = 0; i < c.length; i++) {
      const p = c[i] as Pending;
      if (!fresh[i]) {
        s.duplicates++;
        continue;
      }
      s.unique++;
      let b = buckets.get(p.domain);
      if (!b) {
        buckets.set(p.domain, (b = { addresses: [], utf8: [] }));
        prefetch(p.domain);
      }
      if (p.utf8) b.utf8.push(b.addresses.length);
      b.addresses.push(p.address);
      buffered++;
      if (b.addresses.length >= opts.batchSize) emit(p.domain, b);
    }
    if (buffered >= maxBuffered) relieve();
    await addJobs(false);
  };
  const flushChunk = async () => {
    if (chunk.length === 0) return;
    const c = chunk;
    chunk = [];
    const done = await dedups.push(state.dedup(c.map((p) => p.address), chunks++).then((fresh) => ({ chunk: c, fresh })));
    if (done) await place(done.value.chunk, done.value.fresh);
  };

  const input = await store.openRead(loc);
  const emailColumn = dialect.emailColumn;
  let sinceCheck = 0;
  for await (const rows of readCsvBatches(input, dialect, { onlyColumn: emailColumn })) {
    s.rows += rows.length;
    if ((sinceCheck += rows.length) >= STOP_CHECK_ROWS) {
      sinceCheck = 0;
      await state.assertActive();
    }
    for (const row of rows) {
      const parsed = parseAddress(row.fields[emailColumn] ?? '');
      if (!parsed.ok) {
        s.invalid++;
        continue;
      }
      chunk.push({ address: parsed.normalized, domain: parsed.domain, utf8: parsed.flags.smtputf8 });
    }
    if (chunk.length >= dedupChunk) await flushChunk();
  }
  await flushChunk();
  for await (const done of dedups.drain()) await place(done.chunk, done.fresh);
  for (const [d, b] of buckets) emit(d, b);
  await addJobs(true);
  for await (const _ of adds.drain()) {
    // every addBulk settled, in order (a rejection is thrown here)
  }
  s.domains = buckets.size;

  await state.transition('probing', ['splitting'], { rows: s.rows, unique: s.unique, duplicates: s.duplicates, invalid: s.invalid, domains: s.domains });
  await state.mark('splitDoneAt');
  await state.endSplitRun();
  if (await state.splitFinished(s.batches)) await enqueueAggregate(deps.aggregateQueue, data.listId);
  await state.touch();
  return s;
}

/** Domains whose answer is kept for the batches that follow (a large domain's batches ask once). */
const ROUTES_KEPT = 10_000;
/** DNS questions asked ahead (when a domain is first seen, long before its batch leaves) at once, at most. */
const PREFETCH_AHEAD = 256;
/** Addresses of dead batches recorded in one round trip, at most (a batch is never cut). */
const DEAD_GROUP = 10_000;

/**
 * Batch jobs out: those of domains without a mail route are ended here (their DNS answer recorded as their
 * verdicts, the batches counted done); the others are added to the probe queue.
 */
function batchDispatcher(listId: string, deps: SplitDeps): { dispatch: (jobs: ProbeJob[]) => Promise<unknown>; prefetch: (domain: string) => void } {
  const { deadEnd } = deps;
  /** Jobs to the probe queue, their domains marked as probed first (see `ListState.markProbed`). */
  const probe = async (jobs: ProbeJob[]) => {
    await deps.state.markProbed([...new Set(jobs.map((j) => j.data.domain))]);
    await deps.probeQueue.addBulk(jobs);
  };
  if (!deadEnd) return { dispatch: probe, prefetch: () => undefined };
  const routes = new Map<string, Promise<Verdict | null>>();
  const routeOf = (domain: string) => {
    let r = routes.get(domain);
    if (r === undefined) {
      if (routes.size >= ROUTES_KEPT) routes.clear();
      routes.set(domain, (r = deadEnd(domain)));
    }
    return r;
  };
  let ahead = 0;
  /** Domains seen while PREFETCH_AHEAD questions were in flight: asked, in order, as answers come. */
  const later: string[] = [];
  let next = 0;
  /**
   * Ask now — or as soon as fewer than PREFETCH_AHEAD questions are in flight — so the answer is there when the
   * domain's batch leaves (a failure is seen, and thrown, there).
   */
  const prefetch = (domain: string) => {
    if (ahead >= PREFETCH_AHEAD) {
      later.push(domain);
      return;
    }
    if (routes.has(domain)) return;
    ahead++;
    const answered = () => {
      ahead--;
      while (ahead < PREFETCH_AHEAD && next < later.length) prefetch(later[next++] as string);
      if (next === later.length) later.length = next = 0;
    };
    routeOf(domain).then(answered, answered);
  };
  let probeMarked = false;
  const dispatch = async (jobs: ProbeJob[]) => {
    const ends = await Promise.all(jobs.map((j) => routeOf(j.data.domain)));
    const live = jobs.filter((_, i) => ends[i] === null);
    const dead = jobs.flatMap((j, i) => {
      const verdict = ends[i];
      return verdict ? [{ data: j.data, verdict }] : [];
    });
    const endDead = async () => {
      if (dead.length === 0) return;
      // A list cancelled (or failed) meanwhile gets no more verdicts, as a probe job would not.
      await deps.state.assertActive();
      if (!probeMarked) {
        await deps.state.mark('probeStartedAt');
        probeMarked = true;
      }
      const verifiedAt = Date.now();
      const encoded = new Map<Verdict, string>();
      const keeps = deps.verdictCache ? (v: Verdict) => deps.verdictCache?.keeps(v.reason) === true : () => false;
      // Recorded in groups of at most DEAD_GROUP addresses, one after the other: what waits for Redis stays small.
      for (let from = 0; from < dead.length; ) {
        const verdicts = new Map<Verdict, number>();
        const remembered: { address: string; verdict: Verdict; verifiedAt: number }[] = [];
        const batches: DoneBatch[] = [];
        for (let n = 0; from < dead.length && (n === 0 || n + (dead[from]?.data.addresses.length ?? 0) <= DEAD_GROUP); from++) {
          const { data, verdict: v } = dead[from] as (typeof dead)[number];
          const count = data.addresses.length;
          n += count;
          let e = encoded.get(v);
          if (e === undefined) encoded.set(v, (e = encodeVerdict(v, verifiedAt)));
          batches.push({ batchId: data.batchId, domain: data.domain, verdict: e, progress: { final: count, byStatus: { [v.status]: count }, byReason: { [v.reason]: count } } });
          verdicts.set(v, (verdicts.get(v) ?? 0) + count);
          if (keeps(v)) for (const address of data.addresses) remembered.push({ address, verdict: v, verifiedAt });
        }
        const [complete] = await Promise.all([
          deps.state.recordDoneBatches(batches),
          remembered.length > 0 ? deps.verdictCache?.store(remembered, verifiedAt) : undefined,
          deps.counters?.finalVerdicts(verdicts),
        ]);
        if (complete) await enqueueAggregate(deps.aggregateQueue, listId);
      }
    };
    await Promise.all([live.length > 0 ? probe(live) : undefined, endDead()]);
  };
  return { dispatch, prefetch };
}

export async function enqueueAggregate(queue: Queue<AggregateJobData>, listId: string): Promise<void> {
  await queue.add('aggregate', { listId }, { jobId: aggregateJobId(listId) });
}
