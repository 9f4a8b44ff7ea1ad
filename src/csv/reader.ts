/**
 * Streaming CSV reading with csv-parse: records with their 0-based data index and the 1-based line they start on.
 * Short and long records are kept as they are (never dropped); blank lines are skipped; a line holding only
 * delimiters (`,,`) is a record of empty fields.
 */
import type { Readable } from 'node:stream';
import { CsvError, parse, type InfoRecord } from 'csv-parse';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import type { Location } from '../storage/location.js';
import type { Store } from '../storage/store.js';
import { SNIFF_SAMPLE_BYTES, type CsvDialect } from './sniff.js';

export interface CsvRow {
  /** 0-based index among data records (the header is not counted). */
  index: number;
  /** 1-based line of the file where the record starts (a quoted field may continue it over several lines). */
  line: number;
  /** Field values, as many as the record has (may differ from the header's count). */
  fields: string[];
}

export interface ReadCsvOptions {
  /** Largest record, in characters, before the read fails (guards memory against a runaway quote). Default 1 MiB. */
  maxRecordSize?: number;
  /**
   * Keep quotes that appear inside an unquoted field (`John "Jo" Smith`) instead of failing. Default true: such
   * rows are common in exported lists and are not ambiguous.
   */
  relaxQuotes?: boolean;
}

/** Default `maxRecordSize`: 1 MiB. */
export const MAX_RECORD_SIZE = 1024 * 1024;

/**
 * Line bookkeeping, updated as csv-parse emits each record (ahead of the consumer, which may lag by the stream's
 * buffer): csv-parse reports the line where a record ends and a running count of skipped blank lines.
 */
interface Progress {
  /** Line the previous record ended on (0 before the first). */
  endLine: number;
  /** Blank lines skipped up to the previous record. */
  emptyLines: number;
  /** Extra lines csv-parse has counted so far (CRLFs inside quoted fields). */
  overcount: number;
}

function countCrlf(value: string): number {
  let n = 0;
  for (let i = value.indexOf('\r\n'); i !== -1; i = value.indexOf('\r\n', i + 2)) n++;
  return n;
}

function startLine(p: Progress, emptyLinesNow: number): number {
  return p.endLine + 1 + (emptyLinesNow - p.emptyLines);
}

function numberProp(err: CsvError, name: string): number | undefined {
  const v = err[name];
  return typeof v === 'number' ? v : undefined;
}

/** A csv-parse error as a typed error naming the line where the failing record starts. */
function parseError(err: CsvError, p: Progress, maxRecordSize: number): ListwashError {
  const line = startLine(p, numberProp(err, 'empty_lines') ?? p.emptyLines);
  const atLine = numberProp(err, 'lines') ?? line;
  const details = { line, csvCode: err.code, csvMessage: err.message };
  if (err.code === 'CSV_QUOTE_NOT_CLOSED') {
    return new ListwashError(ErrorCodes.CSV_UNTERMINATED_QUOTE, `line ${line}: quoted field not terminated`, details, { cause: err });
  }
  if (err.code === 'CSV_MAX_RECORD_SIZE') {
    // Only a quoted field can carry a record over line breaks: a record this long that spans lines is a runaway quote.
    if (atLine > line) {
      return new ListwashError(ErrorCodes.CSV_UNTERMINATED_QUOTE, `line ${line}: quoted field not terminated (the record runs past line ${atLine} and over ${maxRecordSize} characters)`, details, { cause: err });
    }
    return new ListwashError(ErrorCodes.CSV_MALFORMED, `line ${line}: record longer than ${maxRecordSize} characters`, details, { cause: err });
  }
  return new ListwashError(ErrorCodes.CSV_MALFORMED, `line ${line}: ${err.message}`, details, { cause: err });
}

function inputError(err: unknown): ListwashError {
  if (err instanceof ListwashError) return err;
  return new ListwashError(ErrorCodes.STORAGE_IO, `reading the CSV input failed: ${errorMessage(err)}`, {}, { cause: err });
}

/**
 * Read the records of a CSV stream. The header record (when `dialect.hasHeader`) is skipped.
 * The input is consumed, and destroyed if iteration stops early.
 * @throws ListwashError `CSV_UNTERMINATED_QUOTE` / `CSV_MALFORMED` (message starts `line N:`, `details.line`),
 *   `STORAGE_IO` when the input stream fails.
 */
export async function* readCsvRows(input: Readable, dialect: Pick<CsvDialect, 'delimiter' | 'recordDelimiter' | 'hasHeader'>, opts: ReadCsvOptions = {}): AsyncGenerator<CsvRow, void, undefined> {
  const maxRecordSize = opts.maxRecordSize ?? MAX_RECORD_SIZE;
  const progress: Progress = { endLine: 0, emptyLines: 0, overcount: 0 };
  /** Start lines of records parsed but not yet consumed, in order (at most the parser's buffer). */
  const startLines: number[] = [];
  const parser = parse({
    delimiter: dialect.delimiter,
    quote: '"',
    escape: '"',
    // Both Unix and Windows endings for LF/CRLF files (mixed files exist); CR-only files split on CR alone.
    record_delimiter: dialect.recordDelimiter === '\r' ? ['\r'] : ['\r\n', '\n'],
    bom: true,
    relax_column_count: true,
    relax_quotes: opts.relaxQuotes ?? true,
    skip_empty_lines: true,
    max_record_size: maxRecordSize,
    on_record: (record: string[], ctx: InfoRecord) => {
      startLines.push(startLine(progress, ctx.empty_lines));
      // csv-parse counts a CRLF inside a quoted field as two lines (one per character); undo that.
      for (const field of record) progress.overcount += countCrlf(field);
      progress.endLine = ctx.lines - progress.overcount;
      progress.emptyLines = ctx.empty_lines;
      return record;
    },
  });
  const onInputError = (err: unknown): void => {
    parser.destroy(inputError(err));
  };
  input.on('error', onInputError);
  input.pipe(parser);
  let index = 0;
  let headerPending = dialect.hasHeader;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      const line = startLines.shift() as number;
      if (headerPending) {
        headerPending = false;
        continue;
      }
      yield { index: index++, line, fields: record };
    }
  } catch (err) {
    if (err instanceof CsvError) throw parseError(err, progress, maxRecordSize);
    throw inputError(err);
  } finally {
    input.off('error', onInputError);
    input.unpipe(parser);
    if (!input.readableEnded) input.destroy();
    parser.destroy();
  }
}

/**
 * The first `bytes` of a stored CSV, for `sniffCsv` — without reading the whole object (S3: a Range GET; local: the
 * first bytes of the file).
 * @param bytes default {@link SNIFF_SAMPLE_BYTES} (64 KiB).
 */
export async function readSample(store: Store, loc: Location, bytes: number = SNIFF_SAMPLE_BYTES): Promise<Buffer> {
  const stream = await store.openRead(loc, { maxBytes: bytes });
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= bytes) break;
    }
  } catch (err) {
    throw inputError(err);
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, bytes);
}
