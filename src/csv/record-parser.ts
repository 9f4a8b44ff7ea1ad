/**
 * CSV records from bytes, incrementally: feed chunks, get every record they complete (with its 0-based data index
 * and the 1-based line it starts on). Pure: no I/O, no timers.
 *
 * The grammar is csv-parse 7's with the options listwash reads CSV with — quote and escape `"`, record delimiters
 * CRLF, LF and CR (`record_delimiter: ['\r\n', '\n', '\r']`), `relax_column_count`, `relax_quotes` (optional),
 * `skip_empty_lines`, `max_record_size`, `bom` — so rows come out exactly as csv-parse gives them
 * (test/csv/record-parser.test.ts compares the two on random input), about four times faster: fields are cut
 * straight out of the chunk's bytes, one `toString` per field, records go out in arrays rather than one stream
 * event each.
 *
 * What that grammar means, for the record:
 * - every line break outside quotes ends a record, whatever the file's usual line ending: CRLF, LF, and a CR alone
 *   (a file with mixed endings never has two rows merged into one; a CR alone is not data);
 * - a field that starts with `"` is quoted until a `"` followed by the delimiter, a line break, the end of
 *   input or a NUL byte; `""` inside is one `"`; a line break inside belongs to the field, as it is;
 * - with relaxed quotes (the default), a `"` inside an unquoted field is kept as it is, and a closing `"` followed
 *   by anything else gives back the field with its quotes (`"a"b` → `"a"b`);
 * - records may have any number of fields; lines holding nothing are skipped, but a line of only delimiters is a
 *   record of empty fields;
 * - a UTF-8 byte-order mark is dropped; a UTF-16LE one switches the input to UTF-16LE;
 * - lines are counted as a person would: CRLF, LF and CR are one line break each, inside quotes too.
 */
import { StringDecoder } from 'node:string_decoder';
import { ErrorCodes, ListwashError } from '../errors.js';

export interface CsvRow {
  /** 0-based index among data records (the header is not counted). */
  index: number;
  /** 1-based line of the file where the record starts (a quoted field may continue it over several lines). */
  line: number;
  /** Field values, as many as the record has (may differ from the header's count). */
  fields: string[];
  /** With `keepRaw`: the record's bytes as read (UTF-8, without its line break). */
  raw?: Buffer;
  /**
   * With `keepRaw`: true when `raw` is exactly how listwash writes the record's fields — comma-delimited, a field
   * quoted only when it holds a comma, a quote, CR or LF, quotes doubled (`csvLine` in the aggregate) — so the bytes
   * can be copied instead of decoded and encoded again. Always false for another delimiter.
   */
  canonical?: boolean;
}

export interface RecordParserOptions {
  /** Field delimiter: one ASCII character other than `"`, CR and LF. */
  delimiter: string;
  /** The first record is a header: not returned, not counted in `index`. */
  hasHeader: boolean;
  /** Records before the header (or the data) that are not data either, e.g. Excel's `sep=;` line: dropped. Default 0. */
  preambleRecords?: number;
  /** Largest record before failing (csv-parse's measure: earlier fields in characters, the current one in bytes). 0: no limit. */
  maxRecordSize: number;
  /** Keep stray quotes instead of failing. */
  relaxQuotes: boolean;
  /**
   * Decode only this 0-based column: every other field comes back as `''` (records keep their number of fields).
   * For readers that need one column; saves most of the decoding. Default: all columns.
   */
  onlyColumn?: number;
  /** Give each record its bytes and whether they are canonical (`CsvRow.raw`, `CsvRow.canonical`). Default false. */
  keepRaw?: boolean;
}

const DQ = 0x22;
const CR = 0x0d;
const LF = 0x0a;
const QUOTE = Buffer.from('"');
const EMPTY = Buffer.alloc(0);
const LINE_BREAK = Buffer.from('\n');

/** The bytes of the field being read: one range of the current buffer, or pieces once it is not contiguous. */
class FieldBytes {
  start = 0;
  end = 0;
  bytes = 0;
  parts: Buffer[] | null = null;

  append(buf: Buffer, s: number, e: number): void {
    if (this.parts !== null) this.parts.push(buf.subarray(s, e));
    else if (this.bytes === 0) {
      this.start = s;
      this.end = e;
    } else if (this.end === s) this.end = e;
    else this.parts = [buf.subarray(this.start, this.end), buf.subarray(s, e)];
    this.bytes += e - s;
  }

  prependQuote(buf: Buffer): void {
    if (this.parts !== null) this.parts.unshift(QUOTE);
    else this.parts = this.bytes === 0 ? [QUOTE] : [QUOTE, buf.subarray(this.start, this.end)];
    this.bytes++;
  }

  /** The field as text; the buffer is emptied. */
  /** Forget the field without decoding it. */
  skip(): void {
    this.bytes = 0;
    this.parts = null;
  }

  take(buf: Buffer): string {
    const s = this.parts !== null ? Buffer.concat(this.parts).toString('utf8') : this.bytes === 0 ? '' : buf.toString('utf8', this.start, this.end);
    this.bytes = 0;
    this.parts = null;
    return s;
  }

  peek(buf: Buffer): string {
    return this.parts !== null ? Buffer.concat(this.parts).toString('utf8') : this.bytes === 0 ? '' : buf.toString('utf8', this.start, this.end);
  }
}

/** A field that is not decoded: forgotten, `''` in its place. */
function skipped(f: FieldBytes): string {
  f.skip();
  return '';
}

function validDelimiter(d: string): number {
  const c = d.length === 1 ? d.charCodeAt(0) : -1;
  if (c <= 0 || c > 0x7f || c === DQ || c === CR || c === LF) {
    throw new ListwashError(ErrorCodes.CSV_MALFORMED, `unsupported delimiter ${JSON.stringify(d)}: one ASCII character other than a quote or a line break is needed`, { delimiter: d });
  }
  return c;
}

/** Incremental CSV record parser. After it throws, it throws the same error again. */
export class CsvRecordParser {
  private readonly d: number;
  private readonly max: number;
  private readonly relax: boolean;
  /** The only column decoded, or -1 for all. */
  private readonly only: number;
  private readonly keepRaw: boolean;
  /** Records still to drop before the data: preamble and header. */
  private skipPending: number;
  /** Bytes of a record not complete yet (re-read from its start with the next chunk). */
  private pending: Buffer = EMPTY;
  /** Line on which the pending record starts. */
  private line = 1;
  private index = 0;
  /** The byte-order mark has been looked for. */
  private started = false;
  private utf16: StringDecoder | null = null;
  private failure: ListwashError | null = null;
  private readonly field = new FieldBytes();

  constructor(opts: RecordParserOptions) {
    this.d = validDelimiter(opts.delimiter);
    this.max = opts.maxRecordSize;
    this.relax = opts.relaxQuotes;
    this.only = opts.onlyColumn ?? -1;
    this.keepRaw = opts.keepRaw ?? false;
    this.skipPending = (opts.preambleRecords ?? 0) + (opts.hasHeader ? 1 : 0);
  }

  /** Feed the next chunk; complete records are appended to `out`. */
  push(chunk: Buffer, out: CsvRow[]): void {
    if (this.failure) throw this.failure;
    const buf = this.prepare(chunk, false);
    if (buf === null) return;
    const stop = this.parse(buf, false, out);
    this.pending = stop < buf.length ? buf.subarray(stop) : EMPTY;
  }

  /** The input is complete: the last record (if any) is appended to `out`. */
  end(out: CsvRow[]): void {
    if (this.failure) throw this.failure;
    const buf = this.prepare(EMPTY, true) ?? EMPTY;
    this.parse(buf, true, out);
    this.pending = EMPTY;
  }

  /**
   * The 1-based line on which the next byte pushed will be: the line of the incomplete record held back, plus the
   * line breaks inside it (CRLF, LF and a CR alone are one each, as everywhere here).
   */
  nextLine(): number {
    let line = this.line;
    const p = this.pending;
    for (let i = 0; i < p.length; i++) {
      const c = p[i];
      if (c === LF || (c === CR && p[i + 1] !== LF)) line++;
    }
    return line;
  }

  /** Pending bytes + the chunk, after the byte-order mark (and UTF-16 decoding). Null: wait for more. */
  private prepare(chunk: Buffer, eof: boolean): Buffer | null {
    let data: Buffer;
    if (!this.started) {
      const head = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
      if (head.length < 3 && !eof) {
        this.pending = head;
        return null;
      }
      this.started = true;
      this.pending = EMPTY;
      if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) data = head.subarray(3);
      else if (head.length >= 3 && head[0] === 0xff && head[1] === 0xfe) {
        this.utf16 = new StringDecoder('utf16le');
        data = Buffer.from(this.utf16.write(head.subarray(2)), 'utf8');
      } else data = head;
    } else data = this.utf16 ? Buffer.from(this.utf16.write(chunk), 'utf8') : chunk;
    if (eof && this.utf16) data = Buffer.concat([data, Buffer.from(this.utf16.end(), 'utf8')]);
    return this.pending.length > 0 ? Buffer.concat([this.pending, data]) : data;
  }

  private fail(err: ListwashError): ListwashError {
    this.failure = err;
    return err;
  }

  private tooLong(startLine: number, atLine: number): ListwashError {
    const max = this.max;
    const details = { line: startLine, csvCode: 'CSV_MAX_RECORD_SIZE', csvMessage: `Max Record Size: record exceed the maximum number of tolerated bytes of ${max} at line ${atLine}` };
    // Only a quoted field can carry a record over line breaks: a record this long that spans lines is a runaway quote.
    if (atLine > startLine) {
      return this.fail(new ListwashError(ErrorCodes.CSV_UNTERMINATED_QUOTE, `line ${startLine}: quoted field not terminated (the record runs past line ${atLine} and over ${max} characters)`, details));
    }
    return this.fail(new ListwashError(ErrorCodes.CSV_MALFORMED, `line ${startLine}: record longer than ${max} characters`, details));
  }

  /**
   * Read records from `buf` (which starts at a record boundary). Returns where the first incomplete record starts
   * (`buf.length` when none); `this.line` is then that record's line.
   */
  private parse(buf: Buffer, eof: boolean, out: CsvRow[]): number {
    const len = buf.length;
    const D = this.d;
    const max = this.max;
    const only = this.only;
    const f = this.field;
    f.skip();
    let recStart = 0;
    let recLine = this.line;
    let line = recLine;
    let fields: string[] = [];
    /** Characters of the record's finished fields (for the size limit). */
    let recLen = 0;
    /**
     * Whether `recLen` counts exactly. With `onlyColumn`, skipped fields count their bytes (never fewer than their
     * characters); a record that looks too long on that count is read again, exactly, before it fails.
     */
    let exact = only < 0;
    let quoting = false;
    let wasQuoting = false;
    /** The record so far is canonical (see `CsvRow.canonical`): only with a comma delimiter. */
    const comma = D === 0x2c;
    let canon = comma;
    /** The quoted field being read holds a delimiter, quote or line break (else its quotes were not needed). */
    let special = false;
    let pos = 0;

    for (;;) {
      if (pos >= len) {
        if (!eof) break;
        if (quoting) {
          throw this.fail(
            new ListwashError(ErrorCodes.CSV_UNTERMINATED_QUOTE, `line ${recLine}: quoted field not terminated`, {
              line: recLine,
              csvCode: 'CSV_QUOTE_NOT_CLOSED',
              csvMessage: `Quote Not Closed: the parsing is finished with an opening quote at line ${line}`,
            }),
          );
        }
        if (wasQuoting || fields.length > 0 || f.bytes > 0) {
          fields.push(only < 0 || fields.length === only ? f.take(buf) : skipped(f));
          this.emit(fields, recLine, out, buf, recStart, len, canon);
        }
        this.line = line;
        return len;
      }
      /** Bytes about to be added to the field (for the size limit: checked before each byte, as csv-parse does). */
      let adding = 1;
      const c = buf[pos] as number;
      let next = pos + 1;
      if (quoting) {
        if (c === DQ) {
          if (pos + 1 >= len && !eof) break;
          const after = pos + 1 < len ? (buf[pos + 1] as number) : -1;
          if (after === DQ) {
            // `""`: one quote.
            if (max > 0 && recLen + f.bytes > max) {
              if (exact) throw this.tooLong(recLine, line);
            } else {
              special = true;
              f.append(buf, pos + 1, pos + 2);
              pos += 2;
              continue;
            }
          } else {
            // A line break of any kind after the quote closes the field.
            if (after === -1 || after === 0 || after === D || after === LF || after === CR) {
              quoting = false;
              wasQuoting = true;
              // Quotes around a field that needs none, or a NUL after them (the field goes on), are not how we write it.
              if (!special || after === 0) canon = false;
              pos++;
              continue;
            }
            if (!this.relax) {
              throw this.fail(
                new ListwashError(ErrorCodes.CSV_MALFORMED, `line ${recLine}: Invalid Closing Quote: got "${String.fromCharCode(after)}" at line ${line} instead of delimiter, record delimiter, trimable character (if activated) or comment`, {
                  line: recLine,
                  csvCode: 'CSV_INVALID_CLOSING_QUOTE',
                  csvMessage: `Invalid Closing Quote: got "${String.fromCharCode(after)}" at line ${line}`,
                }),
              );
            }
            // Not a closing quote after all: the field keeps its quotes and goes on unquoted.
            quoting = false;
            wasQuoting = true;
            canon = false;
            f.prependQuote(buf);
            if (max > 0 && recLen + f.bytes > max) {
              if (exact) throw this.tooLong(recLine, line);
            } else {
              f.append(buf, pos, pos + 1);
              pos++;
              continue;
            }
          }
        } else if (c === CR || c === LF) {
          if (max > 0 && recLen + f.bytes > max) {
            if (exact) throw this.tooLong(recLine, line);
          } else {
            if (c === CR || buf[pos - 1] !== CR) line++;
            special = true;
            f.append(buf, pos, pos + 1);
            pos++;
            continue;
          }
        } else {
          if (c === D) special = true;
          while (next < len) {
            const b = buf[next] as number;
            if (b === DQ || b === CR || b === LF) break;
            if (b === D) special = true;
            next++;
          }
          adding = next - pos;
        }
      } else if (c === DQ) {
        if (f.bytes === 0) {
          quoting = true;
          special = false;
          pos++;
          continue;
        }
        if (!this.relax) {
          const value = f.peek(buf);
          const msg = `Invalid Opening Quote: a quote is found on field ${fields.length} at line ${line}, value is ${JSON.stringify(value)}`;
          throw this.fail(new ListwashError(ErrorCodes.CSV_MALFORMED, `line ${recLine}: ${msg}`, { line: recLine, csvCode: 'INVALID_OPENING_QUOTE', csvMessage: msg }));
        }
        // A stray quote in an unquoted field: kept as it is (appended below); we would quote the field.
        canon = false;
      } else if (c === LF || c === CR) {
        // CRLF, LF or a CR alone: the record ends. A CR at the end of the bytes waits for the next chunk (its LF?).
        if (c === CR && pos + 1 >= len && !eof) break;
        line++;
        const contentEnd = pos;
        pos += c === CR && pos + 1 < len && buf[pos + 1] === LF ? 2 : 1;
        if (wasQuoting || fields.length > 0 || f.bytes > 0) {
          fields.push(only < 0 || fields.length === only ? f.take(buf) : skipped(f));
          this.emit(fields, recLine, out, buf, recStart, contentEnd, canon);
          fields = [];
          recLen = 0;
          wasQuoting = false;
          exact = only < 0;
        }
        canon = comma;
        // else: a line holding nothing, skipped.
        recStart = pos;
        recLine = line;
        continue;
      } else if (c === D) {
        if (only < 0 || fields.length === only) {
          const v = f.take(buf);
          fields.push(v);
          recLen += v.length;
        } else {
          recLen += exact ? f.take(buf).length : f.bytes;
          fields.push(skipped(f));
        }
        wasQuoting = false;
        pos++;
        continue;
      } else {
        while (next < len) {
          const b = buf[next] as number;
          if (b === D || b === DQ || b === CR || b === LF) break;
          next++;
        }
        adding = next - pos;
      }
      // Data bytes [pos, next).
      if (max > 0 && recLen + f.bytes + adding - 1 > max) {
        if (exact) throw this.tooLong(recLine, line);
      } else {
        f.append(buf, pos, next);
        pos = next;
        continue;
      }
      // Over the size limit on an estimate: read the record again, counting exactly.
      exact = true;
      pos = recStart;
      line = recLine;
      fields = [];
      recLen = 0;
      quoting = false;
      wasQuoting = false;
      canon = comma;
      f.skip();
    }
    // Out of bytes inside a record: it is read again, from its start, with the next chunk.
    this.line = recLine;
    return recStart;
  }

  private emit(fields: string[], line: number, out: CsvRow[], buf: Buffer, start: number, end: number, canonical: boolean): void {
    if (this.skipPending > 0) {
      this.skipPending--;
      return;
    }
    if (this.keepRaw) out.push({ index: this.index++, line, fields, raw: buf.subarray(start, end), canonical });
    else out.push({ index: this.index++, line, fields });
  }
}

/**
 * Every field of one record's bytes (`CsvRow.raw`), read as the whole file was read: for a reader that kept the raw
 * record and decoded only one column (`onlyColumn`), when it needs the other fields after all.
 */
export function recordFields(raw: Buffer, opts: Pick<RecordParserOptions, 'delimiter' | 'relaxQuotes'>): string[] {
  const parser = new CsvRecordParser({ delimiter: opts.delimiter, hasHeader: false, maxRecordSize: 0, relaxQuotes: opts.relaxQuotes });
  const rows: CsvRow[] = [];
  // A line break first (an empty line, skipped): bytes at the start of a record are never taken for a byte-order mark.
  parser.push(LINE_BREAK, rows);
  parser.push(raw, rows);
  parser.end(rows);
  return rows[0]?.fields ?? [];
}
