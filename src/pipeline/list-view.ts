/**
 * A list's status as users see it (CLI `status --json`, HTTP `GET /v1/lists/:id`), typed, from the
 * list's metadata hash (where every value is a string). Pure.
 */
import type { WebhookAttempt } from '../webhooks/attempts.js';
import type { ListMeta, ListStatus } from './list-state.js';

export interface ListTimings {
  /** ms since the epoch; null when the phase has not been reached. */
  createdAt: number | null;
  splitStartedAt: number | null;
  splitDoneAt: number | null;
  probeStartedAt: number | null;
  aggregateStartedAt: number | null;
  finishedAt: number | null;
  /** Seconds from creation to the end (or to now while it runs). */
  elapsedSec: number | null;
}

export interface ListError {
  code: string;
  message: string;
}

export interface ListView {
  id: string;
  state: ListStatus;
  /** Unique addresses with a final verdict, in percent of the unique addresses (100 when done). */
  percent: number;
  input: string;
  output: string;
  /** The API key name that submitted it (absent for the command line and the job contract). */
  owner: string | null;
  emailColumn: string | number | null;
  rows: number | null;
  unique: number | null;
  duplicates: number | null;
  invalid: number | null;
  domains: number | null;
  /** Unique addresses with a final verdict so far. */
  verified: number;
  batches: { total: number | null; done: number; failed: number };
  /**
   * Verdicts so far: by status and by reason. While the list runs these count unique addresses
   * (flags such as role or disposable are applied when the report is written); once done they are
   * the report's counts per row (summary.json).
   */
  counts: { byStatus: Record<string, number>; byReason: Record<string, number>; byBounceRisk: Record<string, number> };
  timings: ListTimings;
  /** When the earliest greylist retry of this list runs (ms epoch), if one is waiting. */
  nextGreylistRetryAt: number | null;
  /** Throttle groups (MX hosts or providers) holding batches of this list back right now. */
  throttled: { group: string; why: string; batches: number }[];
  error: ListError | null;
  /** The last batch that failed for good (its addresses end `unknown`), if any. */
  lastBatchError: string | null;
  callbackUrl: string | null;
  /** Webhook delivery attempts (see `src/webhooks/`), newest last; the last one's `outcome` says where delivery stands. */
  webhook: WebhookAttempt[] | null;
}

const num = (v: string | undefined): number | null => (v === undefined || v === '' ? null : Number(v));

function parseJson<T>(v: string | undefined): T | null {
  if (v === undefined || v === '') return null;
  try {
    return JSON.parse(v) as T;
  } catch {
    // A field written by an older version in another shape: show nothing rather than fail the view.
    return null;
  }
}

/** Counters `s:<status>` / `r:<reason>` recorded by the probe stage. */
function prefixed(meta: ListMeta, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(meta)) if (k.startsWith(prefix) && Number(v) !== 0) out[k.slice(prefix.length)] = Number(v);
  return out;
}

export function listView(
  meta: ListMeta,
  live: { batchesDone: number; nextGreylistRetryAt: number | null; throttled: ListView['throttled'] },
  now: number = Date.now(),
): ListView {
  const state = meta.status;
  const unique = num(meta.unique);
  const verified = num(meta.final) ?? 0;
  const finalCounts = parseJson<ListView['counts']>(meta.counts);
  const percent = state === 'done' ? 100 : unique ? Math.min(100, Math.floor((1000 * verified) / unique) / 10) : unique === 0 ? 100 : 0;
  const createdAt = num(meta.createdAt);
  const finishedAt = num(meta.finishedAt);
  return {
    id: meta.listId,
    state,
    percent,
    input: meta.input,
    output: meta.output,
    owner: meta.owner ?? null,
    emailColumn: parseJson<string | number>(meta.emailColumn),
    rows: num(meta.rows),
    unique,
    duplicates: num(meta.duplicates),
    invalid: num(meta.invalid),
    domains: num(meta.domains),
    verified,
    // A done list's per-batch bookkeeping is gone with its working state: every batch was done.
    batches: { total: num(meta.batches), done: state === 'done' ? (num(meta.batches) ?? live.batchesDone) : live.batchesDone, failed: num(meta.batchesFailed) ?? 0 },
    counts: finalCounts ?? { byStatus: prefixed(meta, 's:'), byReason: prefixed(meta, 'r:'), byBounceRisk: {} },
    timings: {
      createdAt,
      splitStartedAt: num(meta.splitStartedAt),
      splitDoneAt: num(meta.splitDoneAt),
      probeStartedAt: num(meta.probeStartedAt),
      aggregateStartedAt: num(meta.aggregateStartedAt),
      finishedAt,
      elapsedSec: createdAt === null ? null : ((finishedAt ?? now) - createdAt) / 1000,
    },
    nextGreylistRetryAt: state === 'probing' ? live.nextGreylistRetryAt : null,
    throttled: state === 'probing' ? live.throttled : [],
    error: meta.errorCode || meta.error ? { code: meta.errorCode ?? 'JOB_FAILED', message: meta.error ?? '' } : null,
    lastBatchError: meta.lastBatchError ?? null,
    callbackUrl: meta.callbackUrl ?? null,
    webhook: parseJson<WebhookAttempt[]>(meta.webhook),
  };
}
