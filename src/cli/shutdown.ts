/**
 * Ending a command-line run that used Redis, in bounded time: against a Redis that has gone away, BullMQ's
 * close (and any command) would wait for it forever, and the run must end with its one-line error instead.
 */
import { ErrorCodes, errorMessage, isListwashError } from '../errors.js';

/**
 * Resolve with `true` once `p` settles, or `false` after `ms` (a late settlement is observed, never an
 * unhandled rejection). A rejection of `p` is thrown.
 */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = p.then(
    () => true,
    (err: unknown) => {
      throw err;
    },
  );
  late.catch(() => undefined);
  try {
    return await Promise.race([late, new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Close `svc` (workers, queues, connections), waiting at most `ms`. When Redis does not answer the close
 * cannot finish: the run ends anyway (its process exits) with the error that says why. A close that fails
 * otherwise is said in one line.
 */
export async function closeWithin(svc: { close(): Promise<void> }, ms: number, say: (line: string) => void): Promise<boolean> {
  try {
    return await settlesWithin(svc.close(), ms);
  } catch (err) {
    say(`listwash: closing the workers failed: ${errorMessage(err)}`);
    return false;
  }
}

/** Whether a run ended because Redis went away (its close and clean-up need not wait for it). */
export function redisGone(err: unknown): boolean {
  return isListwashError(err, ErrorCodes.REDIS_UNAVAILABLE);
}
