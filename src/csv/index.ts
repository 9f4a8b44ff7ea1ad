/**
 * CSV input handling: dialect sniffing, streaming reading with line numbers, and output writing.
 */
export { sniffCsv, detectDelimiter, columnCountOf, SNIFF_SAMPLE_BYTES, DELIMITERS, type CsvDialect, type SniffOptions } from './sniff.js';
export { decodeSample, checkUtf8, type DecodedSample } from './text.js';
export { TextGuard } from './text-guard.js';
export { detectRecordDelimiter, splitRecords, type RecordDelimiter, type SplitResult } from './split.js';
export { looksLikeEmail, normalizeHeader, matchEmailHeader, findHeader, EMAIL_HEADER_NAMES } from './email-column.js';
export { readCsvRows, readCsvBatches, verifyCsv, readSample, canonicalShare, MAX_RECORD_SIZE, type CsvRow, type ReadCsvOptions } from './reader.js';
