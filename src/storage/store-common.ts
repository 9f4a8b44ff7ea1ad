/**
 * Small checks and errors shared by the store implementations.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCodes, ListwashError } from '../errors.js';
import { isPrefix, joinLocation, type Location } from './location.js';
import type { Store } from './store.js';

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

/**
 * Mark a promise's rejection as handled, and return the same promise: whoever awaits it still gets the rejection, but
 * a rejection nobody awaits (yet) cannot crash the process as an unhandled rejection. For the `done`/`stored` promises
 * of writes, which callers await late (after writing everything) or not at all (after an earlier failure).
 */
export function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(reportedThroughDone);
  return p;
}

/** Wait until `p` settles, whatever its outcome — which is reported to whoever awaits `p` itself. */
export async function settled(p: Promise<unknown>): Promise<void> {
  await p.then(reportedThroughDone, reportedThroughDone);
}

/** Storage error codes that trying again cannot change: the list fails at once instead of being retried. */
const PERMANENT_CODES: ReadonlySet<string> = new Set([
  ErrorCodes.STORAGE_BAD_URL,
  ErrorCodes.STORAGE_NOT_FOUND,
  ErrorCodes.STORAGE_READ_ONLY,
  ErrorCodes.STORAGE_ACCESS_DENIED,
  ErrorCodes.STORAGE_NO_SPACE,
]);

/**
 * True for a storage error that a retry of the job cannot fix: read-only, permission denied, no space left, no such
 * bucket/file, a bad location, or a `STORAGE_IO` marked `details.permanent` (e.g. a path through a file). Transient
 * failures (network, S3 5xx) are false.
 */
export function isPermanentStorageError(err: unknown): boolean {
  if (!(err instanceof ListwashError)) return false;
  return PERMANENT_CODES.has(err.code) || (err.code === ErrorCodes.STORAGE_IO && err.details.permanent === true);
}

/** A location as users write it: the path for a local file, the `s3://` URL otherwise. */
export function displayLocation(loc: Location): string {
  return loc.kind === 'file' ? loc.path : loc.url;
}

/** Name of the write check's probe file: `.listwash-write-check-<12 hex>`. */
export const WRITE_CHECK_PREFIX = '.listwash-write-check-';

/** Write a small probe file under the prefix `output` and delete it again (the write check). */
export async function writeAndDeleteProbe(store: Store, output: Location): Promise<void> {
  const probe = joinLocation(output, `${WRITE_CHECK_PREFIX}${randomBytes(6).toString('hex')}`);
  const handle = await store.openWrite(probe, { contentType: 'text/plain' });
  handle.stream.end('listwash checks that it can write here; this file is deleted at once\n');
  await handle.done;
  await store.delete(probe);
}
