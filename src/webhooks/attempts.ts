/**
 * The record of a list's webhook attempts, kept in the list's status (`ListView.webhook`, newest
 * last; the last `KEPT_ATTEMPTS`). Pure.
 */
import type { ListEnd } from './payload.js';

/**
 * What an attempt led to: `delivered` (2xx: never sent again), `retrying` (tried again at
 * `nextAttemptAt`), `gave_up` (failed, and the retry window is over), `refused` (the target is not
 * allowed: never retried), `sending` (under way), `interrupted` (the worker stopped during it; the
 * next run of the job tries again).
 */
export type AttemptOutcome = 'delivered' | 'retrying' | 'gave_up' | 'refused' | 'sending' | 'interrupted';

export interface WebhookAttempt {
  /** 1 for the first attempt. */
  attempt: number;
  /** When it started, ms since the epoch. */
  at: number;
  /** The end it announced. */
  state: ListEnd;
  /** The receiver's HTTP status; null when none came (refused, connection failed, timeout). */
  status: number | null;
  /** Why it failed (code and one line); null when delivered. Never holds the secret or the URL's path and query. */
  error: { code: string; message: string } | null;
  durationMs: number;
  outcome: AttemptOutcome;
  /** When the next attempt runs (outcome `retrying`), else null. */
  nextAttemptAt: number | null;
}

/** Attempts kept in a list's status (older ones are dropped; `webhookAttempts` counts them all). */
export const KEPT_ATTEMPTS = 20;

/**
 * The record as the next attempt finds it: an attempt still `sending` is one whose worker stopped
 * (killed, crashed) before it could record the answer.
 */
export function settleInterrupted(previous: readonly WebhookAttempt[], code: string): WebhookAttempt[] {
  return previous.map((a) =>
    a.outcome === 'sending' ? { ...a, outcome: 'interrupted', error: { code, message: 'the worker stopped during this attempt (the receiver may have got it: dedupe on webhook-id)' } } : a,
  );
}

/** The attempts with `a` appended, at most `keep` of them (the newest). */
export function withAttempt(previous: readonly WebhookAttempt[], a: WebhookAttempt, keep = KEPT_ATTEMPTS): WebhookAttempt[] {
  return [...previous, a].slice(-keep);
}

/** Attempts recorded in a list's metadata field `webhook` (none when absent or not a JSON array). */
export function parseAttempts(json: string | undefined): WebhookAttempt[] {
  if (!json) return [];
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? (v as WebhookAttempt[]) : [];
  } catch {
    // Written by another version in another shape: start a new record rather than fail the delivery.
    return [];
  }
}
