/**
 * Split: stream the list's CSV once, normalise and deduplicate its addresses, and turn the unique
 * ones into per-domain batch jobs of at most `batchSize` addresses. Invalid syntax needs no network
 * and no job: the aggregator gives those rows their verdict from the address itself.
 *
 * Memory is bounded: addresses wait in per-domain buckets only until a bucket is full or the buckets
 * together hold `maxBuffered` addresses, then they leave as batch jobs. Dedup state lives in Redis.
 * Deterministic: the same input gives the same batches with the same job ids, so a re-run after a
 * crash adds nothing twice.
 */
import type { Queue } from 'bullmq';
import { parseAddress } from '../address/index.js';
import type { Config } from '../config.js';
import { readCsvRows, readSample, sniffCsv, type CsvDialect } from '../csv/index.js';
import { parseLocation, storeFor } from '../storage/index.js';
import type { AggregateJobData, ProbeJobData, SplitJobData } from './jobs.js';
import { aggregateJobId, batchJobId } from './names.js';
import type { ListState } from './list-state.js';

export interface SplitOptions {
  batchSize: number;
  /** Most addresses waiting in buckets before all buckets are flushed. Default 50,000. */
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
}

interface Pending {
  address: string;
  domain: string;
  utf8: boolean;
}

export async function runSplit(data: SplitJobData, deps: SplitDeps, opts: SplitOptions): Promise<SplitSummary> {
  const { cfg, state } = deps;
  const maxBuffered = opts.maxBuffered ?? 50_000;
  const dedupChunk = opts.dedupChunk ?? 2_000;
  const loc = parseLocation(data.input);
  const store = storeFor(loc, cfg);

  await state.set({ status: 'splitting' });
  await state.mark('splitStartedAt');
  await state.startSplitRun();

  const sample = await readSample(store, loc, 64 * 1024);
  const dialect: CsvDialect = sniffCsv(sample, data.emailColumn !== undefined ? { emailColumn: data.emailColumn } : {});
  await state.set({ dialect: JSON.stringify(dialect) });

  const s: SplitSummary = { rows: 0, unique: 0, duplicates: 0, invalid: 0, batches: 0, domains: 0 };
  const domains = new Set<string>();
  const buckets = new Map<string, { addresses: string[]; utf8: number[] }>();
  let buffered = 0;
  let chunk: Pending[] = [];
  let jobs: { name: string; data: ProbeJobData; opts: NonNullable<SplitDeps['probeJobOptions']> }[] = [];

  const addJobs = async (force: boolean) => {
    if (jobs.length === 0 || (!force && jobs.length < 100)) return;
    const out = jobs;
    jobs = [];
    await deps.probeQueue.addBulk(out);
  };
  const emit = (domain: string) => {
    const b = buckets.get(domain);
    if (!b || b.addresses.length === 0) return;
    buckets.delete(domain);
    buffered -= b.addresses.length;
    const batchId = batchJobId(data.listId, s.batches++);
    jobs.push({
      name: 'probe',
      data: { listId: data.listId, batchId, domain, addresses: b.addresses, ...(b.utf8.length ? { utf8: b.utf8 } : {}) },
      opts: { ...(deps.probeJobOptions ?? {}), jobId: batchId },
    });
  };
  const flushChunk = async () => {
    if (chunk.length === 0) return;
    const c = chunk;
    chunk = [];
    const fresh = await state.dedup(c.map((p) => p.address));
    c.forEach((p, i) => {
      if (!fresh[i]) {
        s.duplicates++;
        return;
      }
      s.unique++;
      domains.add(p.domain);
      let b = buckets.get(p.domain);
      if (!b) buckets.set(p.domain, (b = { addresses: [], utf8: [] }));
      if (p.utf8) b.utf8.push(b.addresses.length);
      b.addresses.push(p.address);
      buffered++;
      if (b.addresses.length >= opts.batchSize) emit(p.domain);
    });
    if (buffered >= maxBuffered) for (const d of [...buckets.keys()]) emit(d);
    await addJobs(false);
  };

  const input = await store.openRead(loc);
  for await (const row of readCsvRows(input, dialect)) {
    s.rows++;
    const parsed = parseAddress(row.fields[dialect.emailColumn] ?? '');
    if (!parsed.ok) {
      s.invalid++;
      continue;
    }
    chunk.push({ address: parsed.normalized, domain: parsed.domain, utf8: parsed.flags.smtputf8 });
    if (chunk.length >= dedupChunk) await flushChunk();
  }
  await flushChunk();
  for (const d of [...buckets.keys()]) emit(d);
  await addJobs(true);
  s.domains = domains.size;

  await state.set({ rows: s.rows, unique: s.unique, duplicates: s.duplicates, invalid: s.invalid, domains: s.domains, status: 'probing' });
  await state.mark('splitDoneAt');
  await state.endSplitRun();
  if (await state.splitFinished(s.batches)) await enqueueAggregate(deps.aggregateQueue, data.listId);
  await state.touch();
  return s;
}

export async function enqueueAggregate(queue: Queue<AggregateJobData>, listId: string): Promise<void> {
  await queue.add('aggregate', { listId }, { jobId: aggregateJobId(listId) });
}
