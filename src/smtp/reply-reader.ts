/**
 * Streaming SMTP reply parser: the client session feeds it socket chunks as they arrive and gets
 * back every reply those chunks completed. Handles multi-line replies (`250-…` until `250 …`),
 * CRLF or bare LF, chunks that end mid-line (even mid-UTF-8 character) and several replies in one
 * chunk (PIPELINING). Guards against a hostile server that sends endless lines or endless replies.
 */
import { ErrorCodes, ListwashError } from '../errors.js';
import { hasReplyCode, replyFromLines, type SmtpReply } from './reply.js';

/** Limits of the reader. */
export interface ReplyReaderOptions {
  /** Longest accepted line in bytes, without its line break. Default 8192 (RFC 5321 allows 512). */
  maxLineBytes?: number;
  /** Most lines in one reply. Default 1000. */
  maxLines?: number;
}

export const DEFAULT_MAX_LINE_BYTES = 8192;
export const DEFAULT_MAX_REPLY_LINES = 1000;

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;

/**
 * Incremental reply parser for one connection (make a new one after STARTTLS).
 *
 * A line without a reply code continues the reply in progress when there is one (tolerance for
 * sloppy servers); otherwise it is a complete reply by itself with code `0`, so a peer that does
 * not speak SMTP fails fast instead of waiting for a timeout. Empty lines between replies are
 * ignored.
 *
 * When a limit is exceeded `push` throws a {@link ListwashError} with code `SMTP_SESSION` and
 * `details.kind === 'reply_too_long'`; the reader is then spent and throws the same error again.
 */
export class ReplyReader {
  private readonly maxLineBytes: number;
  private readonly maxLines: number;
  /** Bytes of an unfinished line from earlier chunks (a private copy), or null. */
  private partial: Buffer | null = null;
  /** Lines of the reply in progress. */
  private lines: string[] = [];
  private failure: ListwashError | null = null;

  constructor(options: ReplyReaderOptions = {}) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.maxLines = options.maxLines ?? DEFAULT_MAX_REPLY_LINES;
  }

  /** True when part of a reply has been received but not its final line. */
  get pending(): boolean {
    return this.partial !== null || this.lines.length > 0;
  }

  /** Feed the next chunk; returns the replies it completed, in order (often none or one). */
  push(chunk: Buffer | string): SmtpReply[] {
    if (this.failure) throw this.failure;
    let buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (this.partial) {
      buf = Buffer.concat([this.partial, buf]);
      this.partial = null;
    }
    const out: SmtpReply[] = [];
    let start = 0;
    for (let nl = buf.indexOf(LF, start); nl !== -1; nl = buf.indexOf(LF, start)) {
      const end = nl > start && buf[nl - 1] === CR ? nl - 1 : nl;
      this.takeLine(buf, start, end, out);
      start = nl + 1;
    }
    if (start < buf.length) {
      // Do not wait for the line break of a line that is already too long.
      const rest = buf.length - start;
      const contentBytes = buf[buf.length - 1] === CR ? rest - 1 : rest;
      if (contentBytes > this.maxLineBytes) this.fail('line', contentBytes);
      this.partial = Buffer.from(buf.subarray(start)); // copy: the caller may reuse its buffer
    }
    return out;
  }

  private takeLine(buf: Buffer, start: number, end: number, out: SmtpReply[]): void {
    if (end - start > this.maxLineBytes) this.fail('line', end - start);
    if (end === start && this.lines.length === 0) return; // blank line between replies
    const line = buf.toString('utf8', start, end);
    if (this.lines.length >= this.maxLines) this.fail('lines', this.lines.length + 1);
    this.lines.push(line);
    const coded = hasReplyCode(line);
    const continues = coded ? buf[start + 3] === DASH : this.lines.length > 1;
    if (continues) return;
    out.push(replyFromLines(this.lines));
    this.lines = [];
  }

  private fail(limit: 'line' | 'lines', actual: number): never {
    const max = limit === 'line' ? this.maxLineBytes : this.maxLines;
    const what = limit === 'line' ? `a reply line of more than ${max} bytes` : `a reply of more than ${max} lines`;
    this.failure = new ListwashError(ErrorCodes.SMTP_SESSION, `server sent ${what}`, {
      kind: 'reply_too_long',
      limit,
      max,
      actual,
    });
    this.partial = null;
    this.lines = [];
    throw this.failure;
  }
}
