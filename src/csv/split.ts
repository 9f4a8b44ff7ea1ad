/**
 * A small quote-aware CSV splitter for sniffing a sample (not for reading files — that is `record-parser.ts`'s job).
 * Pure. Quotes are special only at the start of a field; `""` inside a quoted field is one quote; anything after a
 * closing quote is kept (lenient, like the reader); every line break outside quotes (CRLF, LF, CR) ends a record,
 * as in the reader.
 */

export type RecordDelimiter = '\r\n' | '\n' | '\r';

/**
 * The line ending of the sample: the first line break outside quotes. No line break at all → `'\n'`. A `\r` at the
 * very end of the sample (its `\n` possibly cut off) counts as `'\r\n'`. It decides the output files' line ending
 * only: reading ends a record at every line break, whichever this is.
 */
export function detectRecordDelimiter(text: string, quote = '"'): RecordDelimiter {
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === quote) inQuotes = !inQuotes;
    else if (!inQuotes && c === '\n') return '\n';
    else if (!inQuotes && c === '\r') return text[i + 1] === '\n' || i + 1 === text.length ? '\r\n' : '\r';
  }
  return '\n';
}

export interface SplitResult {
  /** Records in order; blank lines are skipped. */
  rows: string[][];
  /** The text ended inside a quoted field (the sample cut a record short); that partial record is not in `rows`. */
  unterminated: boolean;
}

/**
 * Split `text` into records of fields.
 * @param maxRows stop after this many records (default 1000).
 */
export function splitRecords(text: string, delimiter: string, quote = '"', maxRows = 1000): SplitResult {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let fieldStarted = false; // anything (even an empty quoted string) seen in this record
  let inQuotes = false;
  const n = text.length;
  const endRecord = (): void => {
    if (fieldStarted || row.length > 0 || field !== '') {
      row.push(field);
      rows.push(row);
    }
    row = [];
    field = '';
    fieldStarted = false;
  };
  let i = 0;
  while (i < n && rows.length < maxRows) {
    const c = text[i] as string;
    if (inQuotes) {
      if (c === quote) {
        if (text[i + 1] === quote) {
          field += quote;
          i += 2;
          continue;
        }
        inQuotes = false;
      } else {
        field += c;
      }
      i++;
      continue;
    }
    if (c === quote && field === '') {
      inQuotes = true;
      fieldStarted = true;
      i++;
      continue;
    }
    if (c === delimiter) {
      row.push(field);
      field = '';
      fieldStarted = true;
      i++;
      continue;
    }
    if (c === '\n' || c === '\r') {
      endRecord();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    field += c;
    fieldStarted = true;
    i++;
  }
  if (inQuotes) return { rows, unterminated: true };
  if (rows.length < maxRows) endRecord();
  return { rows, unterminated: false };
}
