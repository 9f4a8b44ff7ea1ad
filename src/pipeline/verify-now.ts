/**
 * Verify a few addresses now (`POST /v1/verify`), through the same workers and the same fleet-wide
 * per-MX throttle as lists — never in the caller's process and never around the throttle:
 *
 * 1. invalid syntax is answered at once (no probe);
 * 2. the rest become an ephemeral list (`kind: 'verify'` in its metadata: no listing, no files, no
 *    events, no webhook) whose per-domain batch jobs are added `lifo`, so workers take them before
 *    the batches of queued lists;
 * 3. the caller waits until every batch is done or the deadline passes; an address still open then
 *    is `unknown` with its provisional reason (e.g. `greylisted`) and a note that the deadline passed;
 * 4. the ephemeral list is cancelled (running sessions QUIT within a second), its queued jobs removed,
 *    and its state deleted (a short expiry at once, the keys themselves a few seconds later, when no
 *    running batch can write to them any more).
 */
import { randomUUID } from 'node:crypto';
import type { JobsOptions, Queue } from 'bullmq';
import { parseAddress, type AddressResult } from '../address/index.js';
import type { Config } from '../config.js';
import { ErrorCodes, errorMessage, isListwashError } from '../errors.js';
import type { Logger } from '../log.js';
import { applyFlags, verdict, type Verdict } from '../verdict.js';
import type { AggregateJobData, ProbeJobData } from './jobs.js';
import { ACTIVE_STATUSES, type ListState } from './list-state.js';
import { aggregateJobId, batchJobId } from './names.js';
import { decodeVerdict } from './result-codec.js';

export interface VerifyNowDeps {
  cfg: Pick<Config, 'batchSize'>;
  probeQueue: Queue<ProbeJobData>;
  aggregateQueue: Queue<AggregateJobData>;
  state(listId: string): ListState;
  /** Job options of probe jobs (attempts, backoff, removal); `lifo` and `jobId` are added here. */
  probeJobOptions: JobsOptions;
  log: Logger;
}

export interface VerifyNowOptions {
  /** Answer by this many ms from now at the latest. */
  deadlineMs: number;
  /** Who asks (an API key's name), recorded on the ephemeral list. */
  owner?: string;
  /** How often the batches are looked at while waiting. Default 100 ms. */
  pollMs?: number;
}

export interface VerifyAddressResult {
  /** The address as given. */
  input: string;
  /** The normalised address (what RCPT TO carried), or null for invalid syntax. */
  address: string | null;
  status: Verdict['status'];
  reason: Verdict['reason'];
  bounceRisk: Verdict['bounceRisk'];
  /** False when the deadline passed before a final answer: the verdict is provisional (`unknown`). */
  final: boolean;
  /** Why the answer is not final, or what was wrong with the syntax. */
  note: string | null;
  /** A likely intended address when the domain looks like a typo. */
  suggestion: string | null;
  flags: { role: boolean; disposable: boolean; free: boolean } | null;
  mxHost: string | null;
  smtpCode: number | null;
  smtpReply: string | null;
  catchAll: boolean | null;
}

export interface VerifyNowAnswer {
  results: VerifyAddressResult[];
  /** True when at least one address was still open at the deadline. */
  deadlinePassed: boolean;
  elapsedMs: number;
}

/** One batch job of the ephemeral list. */
interface Batch {
  batchId: string;
  domain: string;
  addresses: string[];
  utf8: number[];
}

/** What is known about one address when the wait ends. */
interface Known {
  verdict: Verdict | null;
  final: boolean;
}

/** Seconds the ephemeral state lives after the answer, at most (a safety net for the deferred delete). */
const LEFTOVER_TTL_SEC = 30;
/** Delay before the ephemeral keys are deleted: by then every running batch has seen the cancellation. */
const DELETE_AFTER_MS = 3000;

/** Per-domain batches of the unique valid addresses, at most `batchSize` each. Pure. */
export function planBatches(listId: string, parsed: readonly AddressResult[], batchSize: number): Batch[] {
  const byDomain = new Map<string, Map<string, boolean>>();
  for (const a of parsed) {
    if (!a.ok) continue;
    let m = byDomain.get(a.domain);
    if (!m) byDomain.set(a.domain, (m = new Map()));
    m.set(a.normalized, a.flags.smtputf8);
  }
  const batches: Batch[] = [];
  for (const [domain, addrs] of byDomain) {
    const all = [...addrs.entries()];
    for (let i = 0; i < all.length; i += batchSize) {
      const chunk = all.slice(i, i + batchSize);
      batches.push({
        batchId: batchJobId(listId, batches.length),
        domain,
        addresses: chunk.map(([a]) => a),
        utf8: chunk.flatMap(([, u], j) => (u ? [j] : [])),
      });
    }
  }
  return batches;
}

/** The answer for one address. Pure. */
export function resultFor(a: AddressResult, known: Known | undefined, deadlineNote: string): VerifyAddressResult {
  if (!a.ok) {
    const v = verdict('invalid_syntax');
    return { input: a.input, address: null, ...pick(v), final: true, note: a.message, suggestion: a.suggestion, flags: null, mxHost: null, smtpCode: null, smtpReply: null, catchAll: null };
  }
  const flags = { role: a.flags.role, disposable: a.flags.disposable, free: a.flags.free };
  const base = { input: a.input, address: a.normalized, suggestion: a.suggestion, flags };
  if (known?.final) {
    // A batch given up after its last attempt leaves no verdict: the same answer as in a list's report.
    const v = applyFlags(known.verdict ?? verdict('temporary_failure', { smtpReply: 'no result was recorded for this address' }), a.flags);
    return { ...base, ...pick(v), final: true, note: null, ...evidence(v) };
  }
  // Still open: its provisional answer (always `unknown`: retries are about "not now"), or none yet.
  const v = known?.verdict ?? verdict('temporary_failure');
  return { ...base, ...pick(v), final: false, note: deadlineNote, ...evidence(v) };
}

function pick(v: Verdict): Pick<VerifyAddressResult, 'status' | 'reason' | 'bounceRisk'> {
  return { status: v.status, reason: v.reason, bounceRisk: v.bounceRisk };
}

function evidence(v: Verdict): Pick<VerifyAddressResult, 'mxHost' | 'smtpCode' | 'smtpReply' | 'catchAll'> {
  return { mxHost: v.mxHost ?? null, smtpCode: v.smtpCode ?? null, smtpReply: v.smtpReply ?? null, catchAll: v.catchAll ?? null };
}

export class VerifyNow {
  /** Deferred deletes of ephemeral state, by list id. */
  private readonly deletes = new Map<string, NodeJS.Timeout>();

  constructor(private readonly deps: VerifyNowDeps) {}

  async run(addresses: readonly string[], opts: VerifyNowOptions): Promise<VerifyNowAnswer> {
    const started = Date.now();
    const deadline = started + opts.deadlineMs;
    const parsed = addresses.map((a) => parseAddress(a));
    const listId = `verify-${randomUUID()}`;
    const batches = planBatches(listId, parsed, this.deps.cfg.batchSize);
    let known = new Map<string, Known>();
    let open = false;
    if (batches.length > 0) {
      const state = this.deps.state(listId);
      try {
        await this.start(state, batches, opts.owner);
        const allDone = await this.waitForBatches(state, batches.length, deadline, opts.pollMs ?? 100);
        known = await this.collect(state, batches, allDone);
        open = !allDone;
      } finally {
        await this.end(state, batches);
      }
    }
    const note = `the deadline (${opts.deadlineMs} ms) passed before a final answer; this is the answer so far`;
    const results = parsed.map((a) => resultFor(a, a.ok ? known.get(a.normalized) : undefined, note));
    return { results, deadlinePassed: open && results.some((r) => !r.final), elapsedMs: Date.now() - started };
  }

  /** Record the ephemeral list and add its batch jobs, first in line (`lifo`). */
  private async start(state: ListState, batches: Batch[], owner: string | undefined): Promise<void> {
    const unique = batches.reduce((n, b) => n + b.addresses.length, 0);
    await state.create({ kind: 'verify', input: '', output: '', ...(owner ? { owner } : {}) });
    await state.transition('probing', ['queued'], { unique, rows: unique, duplicates: 0, invalid: 0, domains: new Set(batches.map((b) => b.domain)).size });
    await state.splitFinished(batches.length);
    await this.deps.probeQueue.addBulk(
      batches.map((b) => ({
        name: 'probe',
        data: { listId: state.listId, batchId: b.batchId, domain: b.domain, addresses: b.addresses, ...(b.utf8.length ? { utf8: b.utf8 } : {}) },
        opts: { ...this.deps.probeJobOptions, lifo: true, jobId: b.batchId },
      })),
    );
  }

  /** True when every batch is done before the deadline. */
  private async waitForBatches(state: ListState, total: number, deadline: number, pollMs: number): Promise<boolean> {
    for (;;) {
      if ((await state.doneCount()) >= total) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise((r) => setTimeout(r, Math.min(pollMs, left)));
    }
  }

  /**
   * The verdicts so far. A done batch's are final; in a batch still at work, the addresses its job
   * has left to probe (`pending`) are open (their stored verdict, if any, is provisional).
   */
  private async collect(state: ListState, batches: Batch[], allDone: boolean): Promise<Map<string, Known>> {
    const open = new Set<string>();
    if (!allDone) {
      const done = await state.doneBatches();
      for (const b of batches) {
        if (done.has(b.batchId)) continue;
        const job = await this.deps.probeQueue.getJob(b.batchId);
        for (const a of job?.data.pending ?? b.addresses) open.add(a);
      }
    }
    const addresses = batches.flatMap((b) => b.addresses);
    const stored = await state.results(addresses);
    const out = new Map<string, Known>();
    addresses.forEach((a, i) => {
      const s = stored[i];
      out.set(a, { verdict: s ? decodeVerdict(s) : null, final: !open.has(a) });
    });
    return out;
  }

  /**
   * Cancel the ephemeral list (its running sessions stop), remove its queued jobs, and delete its
   * state: a short expiry now, the keys a few seconds later (see the module comment).
   */
  private async end(state: ListState, batches: Batch[]): Promise<void> {
    const listId = state.listId;
    try {
      await state.transition('cancelled', ACTIVE_STATUSES, { finishedAt: Date.now() }).catch((e: unknown) => {
        // Already done (every batch finished) or gone: nothing to cancel.
        if (!isListwashError(e, ErrorCodes.LIST_ENDED) && !isListwashError(e, ErrorCodes.LIST_STATE_LOST)) throw e;
      });
      await Promise.all([...batches.map((b) => this.deps.probeQueue.remove(b.batchId)), this.deps.aggregateQueue.remove(aggregateJobId(listId))]);
      await state.expireIn(LEFTOVER_TTL_SEC);
    } finally {
      const timer = setTimeout(() => {
        this.deletes.delete(listId);
        state.destroy().catch((e: unknown) => this.deps.log.warn({ listId }, `deleting a verify request's state: ${errorMessage(e)}`));
      }, DELETE_AFTER_MS);
      timer.unref();
      this.deletes.set(listId, timer);
    }
  }

  /** Delete the state of every answered request now (on shutdown; what cannot be deleted expires by itself). */
  async close(): Promise<void> {
    const ids = [...this.deletes.keys()];
    for (const t of this.deletes.values()) clearTimeout(t);
    this.deletes.clear();
    const settled = await Promise.allSettled(ids.map((id) => this.deps.state(id).destroy()));
    settled.forEach((r, i) => {
      if (r.status === 'rejected') this.deps.log.warn({ listId: ids[i] }, `deleting a verify request's state: ${errorMessage(r.reason)}`);
    });
  }
}

