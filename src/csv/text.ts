/**
 * Is this sample text? Decode the first bytes of an upload as UTF-8, recognising the usual wrong uploads (Excel
 * workbooks, archives, UTF-16 exports, Latin-1 files, web pages and JSON saved as .csv) and saying what to do about
 * them. Pure.
 */
import { ErrorCodes, ListwashError } from '../errors.js';

export interface DecodedSample {
  /** The sample as text, without a BOM and without a multi-byte character cut off at the end of the sample. */
  text: string;
  /** Whether the sample started with a UTF-8 byte-order mark. */
  bom: boolean;
}

const EXPORT_HINT = 'open it in a spreadsheet program and save/export it as "CSV UTF-8"';

interface Magic {
  bytes: readonly number[];
  /** What the file is and what to do, after "the file ". */
  describe(sample: Buffer): string;
}

function describeZip(sample: Buffer): string {
  const latin = sample.toString('latin1');
  if (latin.includes('xl/')) return `looks like an Excel .xlsx workbook, not a CSV file; ${EXPORT_HINT}`;
  if (latin.includes('opendocument.spreadsheet')) return `looks like an OpenDocument .ods spreadsheet, not a CSV file; ${EXPORT_HINT}`;
  if (latin.includes('word/')) return 'looks like a Word .docx document, not a CSV file';
  return 'looks like a ZIP archive; unzip it and upload the CSV file inside';
}

const MAGICS: readonly Magic[] = [
  { bytes: [0x50, 0x4b, 0x03, 0x04], describe: describeZip },
  { bytes: [0x50, 0x4b, 0x05, 0x06], describe: describeZip },
  { bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], describe: () => `looks like a legacy Excel .xls (Office 97–2003) file, not a CSV file; ${EXPORT_HINT}` },
  { bytes: [0x1f, 0x8b], describe: () => 'is gzip-compressed; decompress it and upload the CSV file inside' },
  { bytes: [0x25, 0x50, 0x44, 0x46, 0x2d], describe: () => 'looks like a PDF document, not a CSV file' },
];

/** Text that is not CSV: a web page or a JSON document saved with a .csv name. */
const TEXT_SHAPES: readonly { test: RegExp; describe: string }[] = [
  { test: /^\s*(<!doctype\s+html|<html[\s>]|<\?xml[^>]*>\s*<!doctype\s+html)/i, describe: 'looks like an HTML page (a web page saved as .csv), not a CSV file' },
  { test: /^\s*(\[\s*[{["]|\{\s*"[^"\n]*"\s*:)/, describe: 'looks like a JSON document, not a CSV file' },
];

function startsWith(buf: Buffer, bytes: readonly number[]): boolean {
  return buf.length >= bytes.length && bytes.every((b, i) => buf[i] === b);
}

function notText(message: string, details: Record<string, unknown> = {}): ListwashError {
  return new ListwashError(ErrorCodes.CSV_NOT_TEXT, message, details);
}

/**
 * Offset of the first byte that is not part of a valid UTF-8 sequence, or -1. A sequence cut off by the end of the
 * buffer is not an error (the sample is usually a prefix of the file); `validEnd` excludes it.
 */
export function checkUtf8(buf: Buffer): { invalidAt: number; validEnd: number } {
  let i = 0;
  const n = buf.length;
  while (i < n) {
    const b = buf[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let len: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [len, min] = [2, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [len, min] = [3, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [len, min] = [4, 0x10000];
    else return { invalidAt: i, validEnd: i };
    if (i + len > n) {
      // Truncated at the end of the sample: valid if what is there are continuation bytes.
      for (let j = i + 1; j < n; j++) if (((buf[j] as number) & 0xc0) !== 0x80) return { invalidAt: i, validEnd: i };
      return { invalidAt: -1, validEnd: i };
    }
    let cp = b & (0xff >> (len + 1));
    for (let j = 1; j < len; j++) {
      const c = buf[i + j] as number;
      if ((c & 0xc0) !== 0x80) return { invalidAt: i, validEnd: i };
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return { invalidAt: i, validEnd: i };
    i += len;
  }
  return { invalidAt: -1, validEnd: n };
}

/**
 * The 1-based line of the byte at `offset`, counted as a person would: CRLF, LF and a CR alone are one line break
 * each (inside quotes too — the way the record reader numbers lines).
 */
export function lineAt(buf: Buffer, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset; i++) {
    const c = buf[i];
    if (c === 0x0a) n++;
    else if (c === 0x0d && !(i + 1 < buf.length && buf[i + 1] === 0x0a)) n++;
  }
  return n;
}

/**
 * `CSV_NOT_TEXT` for a byte that is not valid UTF-8: the line, the byte and its offset in the file.
 * @param offset of the byte in the file (BOM included).
 */
export function notUtf8Error(line: number, offset: number, byteValue: number): ListwashError {
  const byte = `0x${byteValue.toString(16).toUpperCase().padStart(2, '0')}`;
  return notText(`line ${line}: the file is not valid UTF-8 (byte ${byte} at offset ${offset}; perhaps Windows-1252/Latin-1); ${EXPORT_HINT}`, { line, offset, byte });
}

/**
 * `CSV_NOT_TEXT` for a NUL byte: the line and the offset in the file.
 * @param offset of the byte in the file (BOM included).
 */
export function nulByteError(line: number, offset: number): ListwashError {
  return notText(`line ${line}: the file contains NUL bytes (binary data at byte ${offset}), not a text CSV`, { line, offset });
}

/** Share of the bytes at even (or odd) offsets that are NUL — high for UTF-16 text without a BOM. */
function nulShare(buf: Buffer, parity: 0 | 1): number {
  let nul = 0;
  let total = 0;
  for (let i = parity; i < buf.length; i += 2) {
    total++;
    if (buf[i] === 0) nul++;
  }
  return total === 0 ? 0 : nul / total;
}

/**
 * Decode a sample of an upload. The rest of the file gets the same NUL/UTF-8 checks while it is read (see
 * `TextGuard`), with the same errors.
 * @throws ListwashError `CSV_EMPTY` (no bytes, or only a BOM/whitespace), `CSV_NOT_TEXT` (binary, UTF-16/32,
 *   not UTF-8) with a message saying what the file looks like and how to fix it (NUL and invalid UTF-8: starting
 *   `line N:`, with `details.line` and `details.offset`).
 */
export function decodeSample(sample: Buffer): DecodedSample {
  if (sample.length === 0) throw new ListwashError(ErrorCodes.CSV_EMPTY, 'the file is empty');
  for (const magic of MAGICS) {
    if (startsWith(sample, magic.bytes)) throw notText(`the file ${magic.describe(sample)}`);
  }
  if (startsWith(sample, [0xff, 0xfe, 0x00, 0x00]) || startsWith(sample, [0x00, 0x00, 0xfe, 0xff])) {
    throw notText(`the file is UTF-32 encoded; ${EXPORT_HINT}`, { encoding: 'utf-32' });
  }
  if (startsWith(sample, [0xff, 0xfe]) || startsWith(sample, [0xfe, 0xff])) {
    throw notText(`the file is UTF-16 encoded (Excel "Unicode Text"); ${EXPORT_HINT}`, { encoding: 'utf-16' });
  }
  const bom = startsWith(sample, [0xef, 0xbb, 0xbf]);
  const body = bom ? sample.subarray(3) : sample;
  const nulAt = body.indexOf(0);
  if (nulAt !== -1) {
    if (body.length >= 4 && Math.max(nulShare(body, 0), nulShare(body, 1)) > 0.3) {
      throw notText(`the file looks UTF-16 encoded (without a byte-order mark); ${EXPORT_HINT}`, { encoding: 'utf-16' });
    }
    throw nulByteError(lineAt(body, nulAt), nulAt + (bom ? 3 : 0));
  }
  const { invalidAt, validEnd } = checkUtf8(body);
  if (invalidAt !== -1) throw notUtf8Error(lineAt(body, invalidAt), invalidAt + (bom ? 3 : 0), body[invalidAt] as number);
  const text = body.subarray(0, validEnd).toString('utf8');
  if (text.trim() === '') {
    throw new ListwashError(ErrorCodes.CSV_EMPTY, bom ? 'the file holds only a byte-order mark and blank space' : 'the file holds only blank space');
  }
  for (const shape of TEXT_SHAPES) {
    if (shape.test.test(text)) throw notText(`the file ${shape.describe}; export the list as CSV instead`);
  }
  return { text, bom };
}
