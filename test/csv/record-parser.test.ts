/**
 * The record parser against csv-parse, the grammar it reimplements: random inputs full of quotes, delimiters, CR,
 * LF, NUL and multi-byte characters, fed in random chunks, must give the same records, the same start lines and the
 * same errors as csv-parse with the options listwash reads with — every line break (CRLF, LF, CR alone) ends a
 * record: `record_delimiter: ['\r\n', '\n', '\r']` (line numbers derived as the csv-parse-based reader derived
 * them).
 */
import { Readable } from 'node:stream';
import { CsvError, type InfoRecord } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CsvRecordParser, recordFields, type CsvRow } from '../../src/csv/record-parser.js';
import { csvLine } from '../../src/pipeline/aggregate.js';
import { canonicalShare, readCsvBatches, readCsvRows } from '../../src/csv/reader.js';
import { ListwashError } from '../../src/errors.js';
import { seededRandom } from '../../scripts/bench/common.js';

interface Case {
  text: Buffer;
  delimiter: string;
  hasHeader: boolean;
  relaxQuotes: boolean;
  maxRecordSize: number;
}

type Outcome = { rows: CsvRow[] } | { error: { csvCode: string; line: number } };

function countCrlf(value: string): number {
  let n = 0;
  for (let i = value.indexOf('\r\n'); i !== -1; i = value.indexOf('\r\n', i + 2)) n++;
  return n;
}

/** csv-parse, with start lines computed as the csv-parse-based reader did. */
function reference(c: Case): Outcome {
  const p = { endLine: 0, emptyLines: 0, overcount: 0 };
  const lines: number[] = [];
  try {
    const records = parse(c.text, {
      delimiter: c.delimiter,
      quote: '"',
      escape: '"',
      record_delimiter: ['\r\n', '\n', '\r'],
      bom: true,
      relax_column_count: true,
      relax_quotes: c.relaxQuotes,
      skip_empty_lines: true,
      max_record_size: c.maxRecordSize,
      on_record: (record: string[], ctx: InfoRecord) => {
        lines.push(p.endLine + 1 + (ctx.empty_lines - p.emptyLines));
        for (const field of record) p.overcount += countCrlf(field);
        p.endLine = ctx.lines - p.overcount;
        p.emptyLines = ctx.empty_lines;
        return record;
      },
    }) as string[][];
    const rows = records.map((fields, i) => ({ index: i, line: lines[i]!, fields }));
    if (c.hasHeader) {
      rows.shift();
      rows.forEach((r) => r.index--);
    }
    return { rows };
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    const empty = typeof err.empty_lines === 'number' ? err.empty_lines : p.emptyLines;
    return { error: { csvCode: err.code, line: p.endLine + 1 + (empty - p.emptyLines) } };
  }
}

function ours(c: Case, chunkSizes: () => number, onlyColumn?: number): Outcome {
  const parser = new CsvRecordParser({ delimiter: c.delimiter, hasHeader: c.hasHeader, relaxQuotes: c.relaxQuotes, maxRecordSize: c.maxRecordSize, ...(onlyColumn !== undefined ? { onlyColumn } : {}) });
  const rows: CsvRow[] = [];
  try {
    for (let i = 0; i < c.text.length; ) {
      const n = chunkSizes();
      parser.push(c.text.subarray(i, i + n), rows);
      i += n;
    }
    parser.end(rows);
    return { rows };
  } catch (err) {
    if (!(err instanceof ListwashError)) throw err;
    return { error: { csvCode: String(err.details.csvCode), line: Number(err.details.line) } };
  }
}

const rng = seededRandom;

const TOKENS = ['a', 'b', 'xyz', 'é', '€', '😀', ',', ';', '"', '""', '"', '\n', '\r\n', '\r', ' ', '\0', '\t'];

function randomCase(r: () => number): Case {
  const n = Math.floor(r() * 60);
  let s = '';
  for (let i = 0; i < n; i++) s += TOKENS[Math.floor(r() * TOKENS.length)];
  const bom = r() < 0.1 ? '\ufeff' : '';
  return {
    text: Buffer.from(bom + s, 'utf8'),
    delimiter: r() < 0.8 ? ',' : ';',
    hasHeader: r() < 0.5,
    relaxQuotes: r() < 0.8,
    maxRecordSize: r() < 0.3 ? 1 + Math.floor(r() * 20) : 0,
  };
}

describe('CsvRecordParser', () => {
  it('agrees with csv-parse on 20,000 random inputs in random chunks', () => {
    const r = rng(20261129);
    for (let k = 0; k < 20_000; k++) {
      const c = randomCase(r);
      const want = reference(c);
      const got = ours(c, () => 1 + Math.floor(r() * 9));
      const label = JSON.stringify({ ...c, text: c.text.toString('utf8') });
      if ('error' in want) expect(got, label).toEqual(want);
      else expect(got, label).toEqual(want);
    }
  });

  it('with onlyColumn, gives the same records with the other fields empty, and the same errors', () => {
    const r = rng(7);
    for (let k = 0; k < 10_000; k++) {
      const c = randomCase(r);
      const column = Math.floor(r() * 3);
      const want = reference(c);
      const blanked: Outcome = 'rows' in want ? { rows: want.rows.map((row) => ({ ...row, fields: row.fields.map((v, i) => (i === column ? v : '')) })) } : want;
      expect(ours(c, () => 1 + Math.floor(r() * 9), column), JSON.stringify({ ...c, column, text: c.text.toString('utf8') })).toEqual(blanked);
    }
  });

  it('with keepRaw, gives each record its bytes: read again alone they give its fields, and when canonical they are its fields as we write them', () => {
    const r = rng(20261202);
    let canonical = 0;
    let other = 0;
    for (let k = 0; k < 20_000; k++) {
      const c = randomCase(r);
      const want = reference(c);
      if (!('rows' in want)) continue;
      const column = r() < 0.5 ? Math.floor(r() * 3) : undefined;
      const parser = new CsvRecordParser({ delimiter: c.delimiter, hasHeader: c.hasHeader, relaxQuotes: c.relaxQuotes, maxRecordSize: c.maxRecordSize, keepRaw: true, ...(column !== undefined ? { onlyColumn: column } : {}) });
      const rows: CsvRow[] = [];
      for (let i = 0; i < c.text.length; ) {
        const n = 1 + Math.floor(r() * 9);
        parser.push(c.text.subarray(i, i + n), rows);
        i += n;
      }
      parser.end(rows);
      const label = JSON.stringify({ ...c, column, text: c.text.toString('utf8') });
      expect(rows.length, label).toBe(want.rows.length);
      rows.forEach((row, i) => {
        const fields = want.rows[i]!.fields;
        expect(recordFields(row.raw!, c), label).toEqual(fields);
        if (row.canonical) {
          canonical++;
          expect(c.delimiter, label).toBe(',');
          expect(row.raw!.toString('utf8'), label).toBe(csvLine(fields));
        } else if (c.delimiter === ',' && row.raw!.toString('utf8') !== csvLine(fields)) other++;
      });
    }
    // both kinds turn up in random input
    expect(canonical).toBeGreaterThan(1000);
    expect(other).toBeGreaterThan(1000);
  });

  it('with keepRaw, calls a record canonical exactly when its bytes are how we would write it (comma-delimited input)', () => {
    const read = (text: string) => {
      const parser = new CsvRecordParser({ delimiter: ',', hasHeader: false, relaxQuotes: true, maxRecordSize: 0, keepRaw: true });
      const rows: CsvRow[] = [];
      parser.push(Buffer.from(text), rows);
      parser.end(rows);
      return rows.map((row) => [row.raw!.toString('utf8'), row.canonical]);
    };
    expect(read('a,"b, c",d\r\n"x""y",,"line\nbreak"\n')).toEqual([
      ['a,"b, c",d', true],
      ['"x""y",,"line\nbreak"', true],
    ]);
    // quotes that are not needed, a stray quote, quotes followed by more of the field
    expect(read('"a",b\nJohn "Jo" Smith,x\n"a"b,c\n""\n')).toEqual([
      ['"a",b', false],
      ['John "Jo" Smith,x', false],
      ['"a"b,c', false],
      ['""', false],
    ]);
    const semicolon = new CsvRecordParser({ delimiter: ';', hasHeader: false, relaxQuotes: true, maxRecordSize: 0, keepRaw: true });
    const rows: CsvRow[] = [];
    semicolon.push(Buffer.from('a;b\n'), rows);
    semicolon.end(rows);
    expect(rows.map((row) => row.canonical)).toEqual([false]);
  });

  it('measures on a sample how many records copying would save: none in a "quote all" export, all in a plain one', () => {
    const dialect = { delimiter: ',', hasHeader: true, columnCount: 3 };
    const rows = Array.from({ length: 50 }, (_, i) => [`u${i}@x.test`, `Name ${i}`, i % 5 ? 'plain' : 'a, b']);
    const plain = ['email,name,note', ...rows.map((r) => csvLine(r))].join('\n') + '\n';
    const quoteAll = ['"email","name","note"', ...rows.map((r) => r.map((f) => `"${f}"`).join(','))].join('\n') + '\n';
    expect(canonicalShare(Buffer.from(plain), dialect)).toBe(1);
    expect(canonicalShare(Buffer.from(quoteAll), dialect)).toBe(0);
    // rows narrower than the header are written anew too; the last, cut record is not counted; no whole record: 1
    expect(canonicalShare(Buffer.from('email,name,note\na@x.test,A\nb@x.test,B,c\nc@x.te'), dialect)).toBe(0.5);
    expect(canonicalShare(Buffer.from('email,name,note\na@x.te'), dialect)).toBe(1);
    expect(canonicalShare(Buffer.from('email;name;note\na@x.test;A;c\n'), { ...dialect, delimiter: ';' })).toBe(0);
  });

  it('reads a record on its own as the file read it, even one that starts with a byte-order mark character', () => {
    expect(recordFields(Buffer.from('\ufeffa,"b,""c"""'), { delimiter: ',', relaxQuotes: true })).toEqual(['\ufeffa', 'b,"c"']);
  });

  it('agrees with csv-parse on a realistic export read in one piece and byte by byte', () => {
    const lines = ['id,name,email,company,note'];
    for (let i = 0; i < 300; i++) lines.push(`${i},"Doe, J${i}",j${i}@example.org,"Acme ""${i}"" Inc.","multi\r\nline ${i}"`);
    const c: Case = { text: Buffer.from(lines.join('\r\n') + '\r\n'), delimiter: ',', hasHeader: true, relaxQuotes: true, maxRecordSize: 1 << 20 };
    const want = reference(c);
    expect('rows' in want && want.rows.length).toBe(300);
    expect(ours(c, () => 1 << 20)).toEqual(want);
    expect(ours(c, () => 1)).toEqual(want);
  });

  it('refuses a delimiter it cannot read with', () => {
    expect(() => new CsvRecordParser({ delimiter: '::', hasHeader: false, relaxQuotes: true, maxRecordSize: 0 })).toThrow(/unsupported delimiter/);
    expect(() => new CsvRecordParser({ delimiter: '"', hasHeader: false, relaxQuotes: true, maxRecordSize: 0 })).toThrow(/unsupported delimiter/);
  });

  it('reads a UTF-16LE file with a byte-order mark, as csv-parse does', () => {
    const text = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('email,name\nann@example.org,Ann\n', 'utf16le')]);
    const parser = new CsvRecordParser({ delimiter: ',', hasHeader: true, relaxQuotes: true, maxRecordSize: 0 });
    const rows: CsvRow[] = [];
    for (let i = 0; i < text.length; i += 3) parser.push(text.subarray(i, i + 3), rows);
    parser.end(rows);
    expect(rows).toEqual([{ index: 0, line: 2, fields: ['ann@example.org', 'Ann'] }]);
  });
});

describe('readCsvBatches', () => {
  it('delivers every record once, in order, in non-empty batches; readCsvRows gives the same records', async () => {
    const text = 'email\n' + Array.from({ length: 5000 }, (_, i) => `u${i}@example.org`).join('\n') + '\n';
    const parts: Buffer[] = [];
    const buf = Buffer.from(text);
    for (let i = 0; i < buf.length; i += 1000) parts.push(buf.subarray(i, i + 1000));
    const dialect = { delimiter: ',', hasHeader: true } as const;
    const batches: CsvRow[][] = [];
    for await (const b of readCsvBatches(Readable.from(parts), dialect)) batches.push(b);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.every((b) => b.length > 0)).toBe(true);
    const flat = batches.flat();
    expect(flat.map((r) => r.fields[0])).toEqual(Array.from({ length: 5000 }, (_, i) => `u${i}@example.org`));
    expect(flat.map((r) => r.line)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 2));
    const one: CsvRow[] = [];
    for await (const r of readCsvRows(Readable.from(parts), dialect)) one.push(r);
    expect(one).toEqual(flat);
  });

  it('delivers the records before a malformed one, then fails naming its line', async () => {
    const text = 'email\na@example.org\nb@example.org\n"c@example.org\n';
    const seen: string[] = [];
    let error: unknown = null;
    try {
      for await (const b of readCsvBatches(Readable.from([Buffer.from(text)]), { delimiter: ',', hasHeader: true })) seen.push(...b.map((r) => r.fields[0]!));
    } catch (err) {
      error = err;
    }
    expect(seen).toEqual(['a@example.org', 'b@example.org']);
    expect(error).toBeInstanceOf(ListwashError);
    expect((error as ListwashError).code).toBe('CSV_UNTERMINATED_QUOTE');
    expect((error as ListwashError).details.line).toBe(4);
  });
});
