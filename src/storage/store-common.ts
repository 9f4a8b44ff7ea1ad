/**
 * Small checks and errors shared by the store implementations.
 */
import { ErrorCodes, ListwashError } from '../errors.js';
import { isPrefix, type Location } from './location.js';

/** Throw `STORAGE_BAD_URL` when `loc` is a prefix/directory where one object/file is needed. */
export function assertObjectLocation(loc: Location, op: string): void {
  if (isPrefix(loc)) {
    throw new ListwashError(ErrorCodes.STORAGE_BAD_URL, `cannot ${op} ${loc.url}: it names a prefix/directory, not an object`, { url: loc.url });
  }
}

/** The error `done` rejects with after `abort()`. */
export function abortedError(loc: Location): ListwashError {
  return new ListwashError(ErrorCodes.STORAGE_IO, `write to ${loc.url} aborted`, { url: loc.url, aborted: true });
}

/** After `abort()`: wait for `done` to settle; its own "aborted" rejection is expected, anything else is thrown. */
export async function settleAborted(done: Promise<void>): Promise<void> {
  try {
    await done;
  } catch (err) {
    if (!(err instanceof ListwashError && err.details.aborted === true)) throw err;
  }
}

/** Validate `ReadOptions.maxBytes`. */
export function checkMaxBytes(maxBytes: number | undefined): void {
  if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || maxBytes < 1)) {
    throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
  }
}

/**
 * 'error' listener for a write stream whose failures are reported by `WriteHandle.done` (and to `pipeline` through
 * `stream.errored`). It exists so that an 'error' emitted before the caller attached a listener cannot crash the
 * process; it deliberately does nothing else.
 */
export function reportedThroughDone(): void {
  // Deliberately empty — see above.
}
