/**
 * CSV output with csv-stringify: comma-delimited, `"`-quoted only where needed (delimiter, quote, CR or LF inside a
 * field), the input's line ending.
 *
 * Values are written as they are. Formula injection (a cell starting with `=`, `+`, `-`, `@`, tab or CR that a
 * spreadsheet would evaluate) is NOT neutralised by default, because prefixing a `'` would change the user's own
 * data, which listwash promises to hand back unchanged. Set `escapeFormulas: true` for output that will be opened
 * in a spreadsheet from an untrusted source.
 */
import { stringify, type Stringifier } from 'csv-stringify';

export interface CsvWriterOptions {
  /** Line ending of the output. Default `'\n'`; pass the input's `recordDelimiter` to match it (CR-only becomes LF). */
  recordDelimiter?: '\r\n' | '\n' | '\r';
  /** Prefix cells that start with `=`, `+`, `-`, `@`, tab or CR with `'` (csv-stringify `escape_formulas`). Default false. */
  escapeFormulas?: boolean;
  /** Write a UTF-8 byte-order mark first (Excel then detects UTF-8). Default false. */
  bom?: boolean;
}

/**
 * A Transform: write records (`string[]`, object mode), read CSV text. The `headers` record is written first; pass
 * `null` for no header row.
 */
export function createCsvWriter(opts: CsvWriterOptions, headers: readonly string[] | null): Stringifier {
  const writer = stringify({
    delimiter: ',',
    quote: '"',
    escape: '"',
    record_delimiter: opts.recordDelimiter === '\r\n' ? '\r\n' : '\n',
    // With an explicit record_delimiter csv-stringify stops quoting fields that hold the *other* line breaks;
    // a lone CR or LF in a value must still be quoted or the file would not read back.
    quote_record_delimiter: true,
    escape_formulas: opts.escapeFormulas ?? false,
    bom: opts.bom ?? false,
    header: false,
  });
  if (headers !== null) writer.write([...headers]);
  return writer;
}
