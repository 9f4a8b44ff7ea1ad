/**
 * When a failed webhook is tried again: exponential back-off from `LISTWASH_WEBHOOK_RETRY_DELAY_MS`
 * (doubling, at most an hour apart), for at most `LISTWASH_WEBHOOK_RETRY_WINDOW_SEC` after the first
 * attempt. Pure.
 */

/** Longest wait between two attempts. */
export const MAX_RETRY_DELAY_MS = 3_600_000;

export interface RetrySettings {
  webhookRetryDelayMs: number;
  webhookRetryWindowSec: number;
}

/** The wait after the `failed`-th failed attempt (1-based). */
export function retryDelayMs(failed: number, firstDelayMs: number): number {
  const doublings = Math.max(0, Math.min(failed - 1, 40));
  return Math.min(firstDelayMs * 2 ** doublings, MAX_RETRY_DELAY_MS);
}

/**
 * When the next attempt runs after `failed` failed attempts, or null when it would start after the
 * retry window (counted from the first attempt): the delivery has failed for good.
 */
export function nextAttemptAt(failed: number, firstAttemptAt: number, now: number, s: RetrySettings): number | null {
  const at = now + retryDelayMs(failed, s.webhookRetryDelayMs);
  return at - firstAttemptAt <= s.webhookRetryWindowSec * 1000 ? at : null;
}
