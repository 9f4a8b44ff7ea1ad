/**
 * Reading an S3 object through connections that break. A GetObject body that fails part-way (connection reset) or
 * ends before its Content-Length (truncated) is resumed with a Range GET for the rest, pinned to the same object
 * version (If-Match ETag), so a reader gets every byte once — or an error, never a short object that looks whole.
 */
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';

/** One GET's body and the bytes of the object it covers. */
export interface BodyPart {
  body: Readable;
  /** Offset of the body's first byte in the object. */
  start: number;
  /** Offset just past its last byte (`start` + Content-Length); `undefined` when the response did not say. */
  end: number | undefined;
  etag: string | undefined;
}

export interface ResumeOptions {
  /** Fail after this many resumes in a row that brought no byte. */
  maxStalls: number;
  /** Fail after this many resumes in all (a connection that keeps breaking). */
  maxResumes: number;
  /** Wait before the first resume; doubled per stalled resume, at most 5 s. */
  baseDelayMs: number;
}

export const DEFAULT_RESUME: ResumeOptions = { maxStalls: 4, maxResumes: 20, baseDelayMs: 250 };

/**
 * The object's bytes from `first` on, resumed after failures by `refetch(from)` (a GET of `from`..`end` of the same
 * version). Throws what `giveUp` makes of the last failure when the limits are reached.
 */
export async function* resumingBody(
  first: BodyPart,
  refetch: (from: number, end: number | undefined, etag: string | undefined) => Promise<BodyPart>,
  giveUp: (err: unknown, why: string) => ListwashError,
  opts: ResumeOptions = DEFAULT_RESUME,
): AsyncGenerator<Buffer> {
  let part = first;
  let pos = first.start;
  let resumes = 0;
  let stalls = 0;
  let posAtLastFailure = pos;
  for (;;) {
    try {
      for await (const chunk of part.body) {
        pos += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (part.end === undefined || pos >= part.end) return;
      throw new ListwashError(ErrorCodes.STORAGE_IO, `the response ended after ${pos} of ${part.end} bytes`);
    } catch (err) {
      stalls = pos > posAtLastFailure ? 0 : stalls + 1;
      posAtLastFailure = pos;
      resumes++;
      if (stalls > opts.maxStalls) throw giveUp(err, `no progress in ${stalls} tries at byte ${pos}`);
      if (resumes > opts.maxResumes) throw giveUp(err, `the connection broke ${resumes} times`);
      await sleep(Math.min(5000, opts.baseDelayMs * 2 ** Math.max(0, stalls - 1)));
      part = await refetch(pos, part.end, part.etag);
    }
  }
}

/** Why a resumed read gave up, for the message. */
export function gaveUpReason(err: unknown, why: string): string {
  return `${errorMessage(err)} (${why})`;
}
