/**
 * The text checks of `decodeSample` (no NUL byte, valid UTF-8) over a whole file, chunk by chunk, as it is read:
 * a bad byte anywhere fails the read with the same `CSV_NOT_TEXT` error as in the first 64 KiB. Pure: bytes in,
 * position of the first bad byte out; nothing but a multi-byte character cut by a chunk boundary (≤ 3 bytes) is held.
 */
import { isUtf8 } from 'node:buffer';
import type { ListwashError } from '../errors.js';
import { checkUtf8, notUtf8Error, nulByteError } from './text.js';

const EMPTY = Buffer.alloc(0);

/** Length of the UTF-8 sequence a lead byte starts (1 for bytes that cannot start one: the check rejects them). */
function sequenceLength(lead: number): number {
  if (lead >= 0xc0 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf7) return 4;
  return 1;
}

/** Where a multi-byte sequence cut off by the end of `buf` starts, or `buf.length` when the last one is whole. */
function incompleteTail(buf: Buffer): number {
  const n = buf.length;
  for (let i = n - 1; i >= 0 && i >= n - 3; i--) {
    const c = buf[i] as number;
    if ((c & 0xc0) === 0x80) continue; // a continuation byte: look further back
    return c >= 0xc0 && sequenceLength(c) > n - i ? i : n;
  }
  return n;
}

/** The first bad byte of a rejected chunk. */
interface BadByte {
  /** Offset in the file. */
  offset: number;
  /** The byte. */
  value: number;
  nul: boolean;
}

/**
 * Checks a file's bytes as they stream by. `scan` each chunk in order, then `end`; the first bad byte stops it.
 * Line numbers are the reader's business (it knows where its records are): `error(line)` builds the error.
 */
export class TextGuard {
  /** Bytes of the file before the current chunk. */
  private seen = 0;
  /** A multi-byte character cut by the end of the last chunk, checked with the next one. */
  private carry: Buffer = EMPTY;
  private bad: BadByte | null = null;

  /**
   * Check the next chunk. Returns -1 when it is fine, else the index in `chunk` of the first bad byte (0 when the
   * bad sequence began in the chunk before): the bytes before it are good text.
   */
  scan(chunk: Buffer): number {
    if (this.bad) return 0;
    const carried = this.carry.length;
    const data = carried > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const cut = incompleteTail(data);
    const body = cut === data.length ? data : data.subarray(0, cut);
    const base = this.seen - carried;
    this.seen += chunk.length;
    if (body.indexOf(0) === -1 && isUtf8(body)) {
      this.carry = cut === data.length ? EMPTY : Buffer.from(data.subarray(cut));
      return -1;
    }
    // The slow path, on all the bytes: a sequence cut short *before* the tail is invalid (`checkUtf8` forgives only
    // the one cut by the end of its input, which is what is carried).
    const nulAt = data.indexOf(0);
    const { invalidAt, validEnd } = checkUtf8(data);
    const at = nulAt !== -1 && (invalidAt === -1 || nulAt < invalidAt) ? nulAt : invalidAt;
    if (at === -1) {
      // `checkUtf8` defines what is valid; `isUtf8` is only the fast path.
      this.carry = validEnd === data.length ? EMPTY : Buffer.from(data.subarray(validEnd));
      return -1;
    }
    this.bad = { offset: base + at, value: data[at] as number, nul: at === nulAt };
    return Math.max(0, at - carried);
  }

  /** The file is complete. True when it ends inside a multi-byte character (a bad byte: see {@link error}). */
  end(): boolean {
    if (this.bad) return true;
    if (this.carry.length === 0) return false;
    this.bad = { offset: this.seen - this.carry.length, value: this.carry[0] as number, nul: false };
    return true;
  }

  /**
   * The `CSV_NOT_TEXT` error for the bad byte found, on `line` (1-based).
   * @throws Error when no bad byte was found (a bug of the caller).
   */
  error(line: number): ListwashError {
    const bad = this.bad;
    if (!bad) throw new Error('TextGuard.error() without a bad byte');
    return bad.nul ? nulByteError(line, bad.offset) : notUtf8Error(line, bad.offset, bad.value);
  }
}
