/**
 * Streaming CSV reading: records with their 0-based data index and the 1-based line they start on. Short and long
 * records are kept as they are (never dropped); blank lines are skipped; a line holding only delimiters (`,,`) is a
 * record of empty fields; every line break outside quotes (CRLF, LF or a CR alone) ends a record. The grammar is
 * csv-parse's (see `record-parser.ts`).
 */
import type { Readable } from 'node:stream';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import type { Location } from '../storage/location.js';
import type { Store } from '../storage/store.js';
import { CsvRecordParser, type CsvRow } from './record-parser.js';
import { SNIFF_SAMPLE_BYTES, type CsvDialect } from './sniff.js';
import { TextGuard } from './text-guard.js';

export type { CsvRow } from './record-parser.js';

export interface ReadCsvOptions {
  /** Largest record, in characters, before the read fails (guards memory against a runaway quote). Default 1 MiB. */
  maxRecordSize?: number;
  /**
   * Keep quotes that appear inside an unquoted field (`John "Jo" Smith`) instead of failing. Default true: such
   * rows are common in exported lists and are not ambiguous.
   */
  relaxQuotes?: boolean;
  /** Decode only this 0-based column; other fields come back as `''` (records keep their number of fields). Default: all. */
  onlyColumn?: number;
  /** Give each record its bytes and whether they are canonical (`CsvRow.raw`, `CsvRow.canonical`). Default false. */
  keepRaw?: boolean;
}

/** Default `maxRecordSize`: 1 MiB. */
export const MAX_RECORD_SIZE = 1024 * 1024;

function inputError(err: unknown): ListwashError {
  if (err instanceof ListwashError) return err;
  return new ListwashError(ErrorCodes.STORAGE_IO, `reading the CSV input failed: ${errorMessage(err)}`, {}, { cause: err });
}

/**
 * What reading needs of a dialect. `recordDelimiter` does not change how a file is read (every line break ends a
 * record); it is accepted so that a sniffed dialect can be passed as it is.
 */
type Dialect = Pick<CsvDialect, 'delimiter' | 'hasHeader'> & Partial<Pick<CsvDialect, 'recordDelimiter' | 'sepLine'>>;

/**
 * Read the records of a CSV stream in batches: every record each input chunk completes, in order (a batch is never
 * empty). Cheaper per record than {@link readCsvRows}: callers loop over a batch without awaiting per record.
 * The header record (when `dialect.hasHeader`) and Excel's `sep=` line (when `dialect.sepLine`) are skipped. The
 * input is consumed, and destroyed if iteration stops early. Every byte is checked as text (no NUL, valid UTF-8:
 * {@link TextGuard}), to the end of the file. Records before a malformed one (or one holding a bad byte) are
 * delivered before the error is thrown.
 * @throws ListwashError `CSV_UNTERMINATED_QUOTE` / `CSV_MALFORMED` / `CSV_NOT_TEXT` (message starts `line N:`,
 *   `details.line`), `STORAGE_IO` when the input stream fails.
 */
export async function* readCsvBatches(input: Readable, dialect: Dialect, opts: ReadCsvOptions = {}): AsyncGenerator<CsvRow[], void, undefined> {
  const parser = new CsvRecordParser({
    delimiter: dialect.delimiter,
    hasHeader: dialect.hasHeader,
    preambleRecords: dialect.sepLine === true ? 1 : 0,
    maxRecordSize: opts.maxRecordSize ?? MAX_RECORD_SIZE,
    relaxQuotes: opts.relaxQuotes ?? true,
    ...(opts.onlyColumn !== undefined ? { onlyColumn: opts.onlyColumn } : {}),
    keepRaw: opts.keepRaw ?? false,
  });
  const guard = new TextGuard();
  let failure: unknown = null;
  let out: CsvRow[] = [];
  try {
    try {
      for await (const chunk of input as AsyncIterable<Buffer | string>) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        const bad = guard.scan(bytes);
        if (bad !== -1) {
          // The records before the bad byte are delivered; the one holding it is not.
          parser.push(bytes.subarray(0, bad), out);
          throw guard.error(parser.nextLine());
        }
        parser.push(bytes, out);
        if (out.length > 0) {
          const batch = out;
          out = [];
          yield batch;
        }
      }
      if (guard.end()) throw guard.error(parser.nextLine());
      parser.end(out);
    } catch (err) {
      failure = inputError(err);
    }
    if (out.length > 0) yield out;
    if (failure !== null) throw failure;
  } finally {
    if (!input.readableEnded) input.destroy();
  }
}

/**
 * Read the records of a CSV stream, one at a time (see {@link readCsvBatches}).
 * @throws ListwashError `CSV_UNTERMINATED_QUOTE` / `CSV_MALFORMED` / `CSV_NOT_TEXT` (message starts `line N:`,
 *   `details.line`), `STORAGE_IO` when the input stream fails.
 */
export async function* readCsvRows(input: Readable, dialect: Dialect, opts: ReadCsvOptions = {}): AsyncGenerator<CsvRow, void, undefined> {
  for await (const batch of readCsvBatches(input, dialect, opts)) yield* batch;
}

/**
 * Read a whole CSV stream to check it, keeping nothing: every byte as text (NUL, UTF-8) and every record's grammar
 * (quotes, record size), as {@link readCsvBatches} reads it, without decoding fields. For a pass that must not start
 * work (probing) on a file that turns out to be broken further down. Returns the number of data records.
 * @throws ListwashError as {@link readCsvBatches}.
 */
export async function verifyCsv(input: Readable, dialect: Dialect, opts: Omit<ReadCsvOptions, 'onlyColumn'> = {}): Promise<number> {
  let records = 0;
  // A column no record has: no field is decoded.
  for await (const batch of readCsvBatches(input, dialect, { ...opts, onlyColumn: Number.MAX_SAFE_INTEGER })) records += batch.length;
  return records;
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

/**
 * The share of the records in a file's first bytes (`sample`, e.g. from {@link readSample}) that are canonical
 * (`CsvRow.canonical`) and as wide as the header: what copying records as read would save on that file. A "quote all"
 * export has none. The sample's last record, which may be cut, is left out; a sample without a whole record gives 1.
 */
export function canonicalShare(sample: Buffer, dialect: Pick<CsvDialect, 'delimiter' | 'hasHeader' | 'columnCount'> & Partial<Pick<CsvDialect, 'sepLine'>>): number {
  const parser = new CsvRecordParser({
    delimiter: dialect.delimiter,
    hasHeader: dialect.hasHeader,
    preambleRecords: dialect.sepLine === true ? 1 : 0,
    maxRecordSize: 0,
    relaxQuotes: true,
    onlyColumn: Number.MAX_SAFE_INTEGER,
    keepRaw: true,
  });
  const rows: CsvRow[] = [];
  parser.push(sample, rows);
  if (rows.length === 0) return 1;
  let copied = 0;
  for (const r of rows) if (r.canonical === true && r.fields.length === dialect.columnCount) copied++;
  return copied / rows.length;
}
