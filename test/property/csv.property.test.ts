/**
 * Properties of CSV reading (`src/csv`) on generated files: every row written comes out exactly once, in order,
 * however the bytes are cut into chunks; the record parser agrees with csv-parse (its reference grammar, with
 * `record_delimiter: ['\r\n', '\n', '\r']`); the whole-file text check finds the first bad byte wherever the chunks
 * are cut.
 */
import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TextGuard, checkUtf8, readCsvBatches } from '../../src/csv/index.js';
import { CsvRecordParser } from '../../src/csv/record-parser.js';
import { chunkSizes, cut } from './arbitraries.js';

const RUNS = { numRuns: 600 };

/** Field content: the characters CSV is about (delimiters, quotes, line breaks), text, multi-byte characters. */
const field = fc.string({ unit: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('a', 'b', 'x y', '@', '.') }, { weight: 4, arbitrary: fc.constantFrom(',', ';', '\t', '|', '"', '""', '\r', '\n', '\r\n', ' ', 'é', '€', '😀') }), maxLength: 8 });

interface CsvCase {
  rows: string[][];
  delimiter: string;
  /** The file as written. */
  bytes: Buffer;
}

/** Write `rows` as CSV: fields quoted when they need it, records ended by LF, CRLF or CR (mixed), blank lines between. */
const csvCase: fc.Arbitrary<CsvCase> = fc
  .record({
    rows: fc.array(fc.array(field, { minLength: 1, maxLength: 5 }), { maxLength: 15 }),
    delimiter: fc.constantFrom(',', ';', '\t', '|'),
    eols: fc.array(fc.constantFrom('\n', '\r\n', '\r', '\n\n', '\r\n\r\n', '\r\r'), { minLength: 1, maxLength: 15 }),
    quoteAll: fc.boolean(),
    finalEol: fc.boolean(),
    bom: fc.boolean(),
  })
  .map(({ rows, delimiter, eols, quoteAll, finalEol, bom }) => {
    const needsQuotes = (v: string, only: boolean) => quoteAll || v.includes(delimiter) || /["\r\n]/.test(v) || (only && v === '');
    const line = (r: string[]) => r.map((v) => (needsQuotes(v, r.length === 1) ? `"${v.replaceAll('"', '""')}"` : v)).join(delimiter);
    const text = rows.map((r, i) => line(r) + (i < rows.length - 1 || finalEol ? (eols[i % eols.length] as string) : '')).join('');
    return { rows, delimiter, bytes: Buffer.from((bom ? '\ufeff' : '') + text, 'utf8') };
  });

async function readAll(c: CsvCase, sizes: readonly number[]): Promise<{ fields: string[]; index: number; line: number }[]> {
  const out = [];
  for await (const batch of readCsvBatches(Readable.from(cut(c.bytes, sizes)), { delimiter: c.delimiter, hasHeader: false })) out.push(...batch);
  return out;
}

describe('CSV reading', () => {
  it('gives back every row written, exactly once and in order, however the bytes are cut into chunks', async () => {
    await fc.assert(
      fc.asyncProperty(csvCase, chunkSizes(), async (c, sizes) => {
        const rows = await readAll(c, sizes);
        expect(rows.map((r) => r.fields)).toEqual(c.rows);
        expect(rows.map((r) => r.index)).toEqual(c.rows.map((_, i) => i));
        rows.forEach((r, i) => i > 0 && expect(r.line).toBeGreaterThan(rows[i - 1]!.line));
      }),
      RUNS,
    );
  });

  it('the record parser gives what csv-parse gives, records and start lines aside, on any such file in any chunks', () => {
    fc.assert(
      fc.property(csvCase, chunkSizes(), (c, sizes) => {
        const want = parse(c.bytes, { delimiter: c.delimiter, quote: '"', escape: '"', record_delimiter: ['\r\n', '\n', '\r'], bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true }) as string[][];
        const parser = new CsvRecordParser({ delimiter: c.delimiter, hasHeader: false, relaxQuotes: true, maxRecordSize: 0 });
        const got: string[][] = [];
        const sink: { fields: string[]; index: number; line: number }[] = [];
        for (const chunk of cut(c.bytes, sizes)) parser.push(chunk, sink);
        parser.end(sink);
        got.push(...sink.map((r) => r.fields));
        expect(got).toEqual(want);
      }),
      RUNS,
    );
  });
});

/** Bytes that are mostly text, with stray bytes that make it invalid now and then. */
const mostlyText = fc
  .array(
    fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom('a', ',', '\n', '\r\n', 'é', '€', '😀').map((s) => Buffer.from(s)) },
      { weight: 1, arbitrary: fc.constantFrom(0x00, 0x80, 0xc0, 0xc3, 0xe2, 0xed, 0xf0, 0xf4, 0xf5, 0xff).map((b) => Buffer.from([b])) },
    ),
    { maxLength: 40 },
  )
  .map((parts) => Buffer.concat(parts));

/** Where the whole-buffer checks find the first bad byte (NUL, invalid UTF-8, a character cut by the end), or -1. */
function firstBad(buf: Buffer): number {
  const nul = buf.indexOf(0);
  const { invalidAt, validEnd } = checkUtf8(buf);
  const candidates = [nul, invalidAt, validEnd < buf.length ? validEnd : -1].filter((i) => i !== -1);
  return candidates.length === 0 ? -1 : Math.min(...candidates);
}

describe('TextGuard', () => {
  it('finds the same first bad byte as a check of the whole buffer, however the bytes are cut into chunks', () => {
    fc.assert(
      fc.property(mostlyText, chunkSizes(5), (bytes, sizes) => {
        const guard = new TextGuard();
        let at = -1;
        let seen = 0;
        for (const chunk of cut(bytes, sizes)) {
          const bad = guard.scan(chunk);
          if (bad !== -1) {
            at = guard.error(1).details.offset as number;
            // The index in the chunk: at the bad byte, or at the chunk's start when it began in the chunk before.
            expect(seen + bad).toBeGreaterThanOrEqual(at);
            expect(seen + bad).toBeLessThanOrEqual(at + 3);
            break;
          }
          seen += chunk.length;
        }
        if (at === -1 && guard.end()) at = guard.error(1).details.offset as number;
        expect(at).toBe(firstBad(bytes));
      }),
      { numRuns: 3000 },
    );
  });
});
