/**
 * CSV dialect detection from the first bytes of a file (see `readSample`). Pure: bytes in, dialect or typed error out.
 *
 * Steps: decode (BOM, binary/encoding checks) → line ending → delimiter (the candidate whose field count is most
 * consistent across sample records) → header row and email column.
 */
import { ErrorCodes, ListwashError } from '../errors.js';
import { bestColumn, emailCounts, findHeader, looksLikeEmail, matchEmailHeader } from './email-column.js';
import { detectRecordDelimiter, splitRecords, type RecordDelimiter } from './split.js';
import { decodeSample } from './text.js';

export interface CsvDialect {
  delimiter: string;
  quote: '"';
  recordDelimiter: RecordDelimiter;
  /** The file starts with a UTF-8 byte-order mark. */
  bom: boolean;
  /**
   * The file starts with Excel's `sep=X` line, which names the delimiter and is neither header nor data: reading
   * skips it. Absent: no such line.
   */
  sepLine?: boolean;
  hasHeader: boolean;
  /** Column names: the header row, or synthesised `col_1`, `col_2`, … when there is none (or for extra columns). */
  headers: string[];
  /** 0-based index of the email column. */
  emailColumn: number;
  /**
   * Number of columns of every output row ({@link columnCountOf}): the header's, or without a header the most
   * common field count of the sample's records; never less than the email column needs. A shorter record is padded,
   * a longer one has its surplus fields joined into its last column — wherever in the file it is.
   */
  columnCount: number;
}

export interface SniffOptions {
  /**
   * The email column, chosen by the user: a header name (matched case/space/underscore-insensitively; implies a
   * header row) or a 0-based column index. Default: detected.
   */
  emailColumn?: string | number;
}

/** How many bytes of a file to sniff (64 KiB). */
export const SNIFF_SAMPLE_BYTES = 64 * 1024;

/** Delimiter candidates, in order of preference on ties. */
export const DELIMITERS = [',', ';', '\t', '|'] as const;

/** Records of the sample used for delimiter scoring. */
const SCORE_ROWS = 200;
/** Without a header name, the email column must hold email-looking values in at least this share of data records. */
const MIN_EMAIL_SHARE = 0.1;

interface DelimiterScore {
  delimiter: string;
  /** Most common field count (larger on ties). */
  mode: number;
  /** Share of records with `mode` fields. */
  consistency: number;
}

/** The most common number of fields among `rows` (the larger on ties; 1 without rows) and how many records have it. */
function commonWidth(rows: readonly (readonly string[])[]): { mode: number; modeFreq: number } {
  const freq = new Map<number, number>();
  for (const r of rows) freq.set(r.length, (freq.get(r.length) ?? 0) + 1);
  let mode = 1;
  let modeFreq = 0;
  for (const [count, f] of freq) {
    if (f > modeFreq || (f === modeFreq && count > mode)) [mode, modeFreq] = [count, f];
  }
  return { mode, modeFreq };
}

function scoreDelimiter(text: string, delimiter: string): DelimiterScore {
  const { rows } = splitRecords(text, delimiter, '"', SCORE_ROWS);
  const { mode, modeFreq } = commonWidth(rows);
  return { delimiter, mode, consistency: rows.length === 0 ? 0 : modeFreq / rows.length };
}

/**
 * The delimiter whose field count is most consistent across records (then: more fields, then: preference order).
 * A candidate that does not split most records into ≥ 2 fields does not count; none → `,` (a single column).
 */
export function detectDelimiter(text: string): string {
  let best: DelimiterScore | undefined;
  for (const d of DELIMITERS) {
    const s = scoreDelimiter(text, d);
    if (s.mode < 2) continue;
    if (best === undefined || s.consistency > best.consistency || (s.consistency === best.consistency && s.mode > best.mode)) best = s;
  }
  return best?.delimiter ?? ',';
}

function noEmailColumn(message: string, headers: readonly string[]): ListwashError {
  return new ListwashError(ErrorCodes.CSV_NO_EMAIL_COLUMN, message, { headers: [...headers] });
}

function listHeaders(cells: readonly string[]): string {
  return cells.length === 0 ? '(none)' : cells.map((h) => JSON.stringify(h)).join(', ');
}

/**
 * Could this first-row cell be a column name rather than data? No `@`, not empty, and not a dotted token like a
 * host name (`john.example.com` is a bad address, not a header).
 */
function headerish(cell: string): boolean {
  const v = cell.trim();
  return v !== '' && !v.includes('@') && !/^[^\s]+\.[a-z]{2,}$/i.test(v);
}

interface HeaderChoice {
  hasHeader: boolean;
  emailColumn: number;
}

function chooseByName(rows: string[][], name: string): HeaderChoice {
  const first = rows[0] ?? [];
  const col = findHeader(first, name);
  if (col === -1) throw noEmailColumn(`no column named ${JSON.stringify(name)}; the header row has ${listHeaders(first)}`, first);
  return { hasHeader: true, emailColumn: col };
}

function chooseByIndex(rows: string[][], index: number, columnCount: number): HeaderChoice {
  const first = rows[0] ?? [];
  if (!Number.isInteger(index) || index < 0 || index >= columnCount) {
    throw noEmailColumn(`email column index ${index} is out of range: the file has ${columnCount} column(s); first row: ${listHeaders(first)}`, first);
  }
  const cell = first[index] ?? '';
  const laterEmails = emailCounts(rows.slice(1), columnCount)[index] as number;
  const hasHeader = headerish(cell) && (matchEmailHeader(first, []) !== -1 || laterEmails > 0);
  return { hasHeader, emailColumn: index };
}

function chooseAuto(rows: string[][], columnCount: number): HeaderChoice {
  const first = rows[0] ?? [];
  const rest = rows.slice(1);
  if (first.some(looksLikeEmail)) {
    // The first record holds an address: data, not a header.
    return { hasHeader: false, emailColumn: bestColumn(emailCounts(rows, columnCount)) };
  }
  const named = matchEmailHeader(first, rest);
  if (named !== -1) return { hasHeader: true, emailColumn: named };
  const counts = emailCounts(rest, columnCount);
  const col = bestColumn(counts);
  if (col !== -1 && (counts[col] as number) >= Math.max(1, Math.ceil(rest.length * MIN_EMAIL_SHARE))) {
    return { hasHeader: headerish(first[col] ?? ''), emailColumn: col };
  }
  throw noEmailColumn(`no column looks like email addresses (no header named like "email", and no column where addresses are common); first row: ${listHeaders(first)}`, first);
}

/**
 * The output width of a file: the header row's number of fields, or without a header the most common number of
 * fields of the sample's records — at least enough for the email column. Records that differ are fitted to it
 * (padded, or surplus fields joined into the last column), so the rule does not depend on where a record is.
 */
export function columnCountOf(rows: readonly (readonly string[])[], hasHeader: boolean, emailColumn: number): number {
  const base = hasHeader ? (rows[0]?.length ?? 1) : commonWidth(rows).mode;
  return Math.max(base, emailColumn + 1);
}

/**
 * Excel's `sep=X` first line (X: the delimiter; Excel writes and honours it), with its line break, or null. A quote
 * or a line break cannot be a delimiter: such a line is left to be read as data.
 */
function excelSepLine(text: string): { delimiter: string; length: number } | null {
  const m = /^sep=([^"\r\n])(\r\n|\n|\r|$)/i.exec(text);
  if (!m || (m[1] as string).charCodeAt(0) > 0x7f) return null;
  return { delimiter: m[1] as string, length: m[0].length };
}

/** The line the first record starts on: after any blank lines (CRLF, LF, CR: one line break each). */
function firstRecordLine(text: string): number {
  const blank = /^[\r\n]*/.exec(text)?.[0] ?? '';
  return 1 + blank.replace(/\r\n/g, '\n').length;
}

/**
 * Detect the dialect of a CSV file from its first bytes (a prefix is fine: a record cut off inside quotes at the end
 * is ignored, a multi-byte character cut off at the end is ignored).
 * @throws ListwashError `CSV_EMPTY`, `CSV_NOT_TEXT`, `CSV_UNTERMINATED_QUOTE` (the first record never ends in the
 *   sample), `CSV_NO_EMAIL_COLUMN` (message lists the headers it saw).
 */
export function sniffCsv(sample: Buffer, opts: SniffOptions = {}): CsvDialect {
  const decoded = decodeSample(sample);
  const { bom } = decoded;
  const sep = excelSepLine(decoded.text);
  const text = sep ? decoded.text.slice(sep.length) : decoded.text;
  const recordDelimiter = detectRecordDelimiter(decoded.text);
  const delimiter = sep?.delimiter ?? detectDelimiter(text);
  const { rows } = splitRecords(text, delimiter);
  if (rows.length === 0) {
    if (text.trim() === '') throw new ListwashError(ErrorCodes.CSV_EMPTY, 'the file holds only a "sep=" line');
    // The first record opens a quote that does not close within the sample: nothing to judge by.
    const line = firstRecordLine(text) + (sep ? 1 : 0);
    throw new ListwashError(ErrorCodes.CSV_UNTERMINATED_QUOTE, `line ${line}: quoted field not terminated (the first record does not end within the first ${sample.length} bytes)`, { line, sampleBytes: sample.length });
  }
  // Candidate columns for the email column: any a sample record has.
  const widest = Math.max(...rows.map((r) => r.length));
  const choice =
    typeof opts.emailColumn === 'string'
      ? chooseByName(rows, opts.emailColumn)
      : typeof opts.emailColumn === 'number'
        ? chooseByIndex(rows, opts.emailColumn, widest)
        : chooseAuto(rows, widest);
  const columnCount = columnCountOf(rows, choice.hasHeader, choice.emailColumn);
  const headerRow = choice.hasHeader ? (rows[0] as string[]) : [];
  const headers = Array.from({ length: columnCount }, (_, i) => headerRow[i] ?? `col_${i + 1}`);
  return {
    delimiter,
    quote: '"',
    recordDelimiter,
    bom,
    ...(sep ? { sepLine: true } : {}),
    hasHeader: choice.hasHeader,
    headers,
    emailColumn: choice.emailColumn,
    columnCount,
  };
}
