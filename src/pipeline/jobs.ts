/** Job payloads on the three queues, and their validation. Keep them small: BullMQ stores them in Redis. */
import { checkListJob } from '../contract/list-job-check.js';
import type { ListJob } from '../contract/list-job.js';

/**
 * Upload job: clean one list. Its payload is the job contract (`src/contract/list-job.ts`, published as
 * `schemas/list-job.v1.json`): `{ version: 1, listId, input, output, emailColumn?, escapeFormulas?, callbackUrl?, maxAge? }`.
 */
export type SplitJobData = ListJob;

/** Batch job: probe up to `batchSize` unique addresses of one domain. */
export interface ProbeJobData {
  listId: string;
  batchId: string;
  domain: string;
  /** Normalised addresses (unique within the list). */
  addresses: string[];
  /** Indices into `addresses` that need SMTPUTF8. */
  utf8?: number[];
  /** Addresses still to probe (absent on the first run: all). */
  pending?: string[];
  /** Greylist-schedule retries used so far. */
  attempt?: number;
  /**
   * Pending addresses that got a greylisting answer in an earlier run. One greylisted for the first time in the
   * schedule's last run (its earlier runs broke before its RCPT) still gets its one retry: greylisting asks for it.
   */
  greylisted?: string[];
  /** When this batch was first held back by ban signs / rate limits (ms epoch), for the patience. */
  heldSince?: number;
  /** Pending address → the egress identity it was greylisted on: its retries go from there (greylisting keys on the client address). */
  pendingIdentity?: Record<string, string>;
  /** The egress identity whose catch-all probe of this domain was greylisted: the next run probes from it. */
  catchAllIdentity?: string;
  /** Final verdicts of this batch so far (its runs before this one), for the list's progress counters. */
  progress?: { final: number; byStatus: Record<string, number>; byReason: Record<string, number>; cacheHits?: number; cacheLookups?: number };
  /** The list's `maxAge` (seconds): verdicts older than this are not taken from the verdict cache; 0 probes every address. */
  maxAge?: number;
}

export interface AggregateJobData {
  listId: string;
}

/**
 * Validate an upload job's payload against the job contract.
 * @throws ListwashError `JOB_INVALID` naming the offending field (`details.field`).
 */
export function validateSplitJob(d: unknown): SplitJobData {
  return checkListJob(d);
}
