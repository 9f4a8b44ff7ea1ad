import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readCsvRows, sniffCsv, type CsvRow, type ReadCsvOptions } from '../../src/csv/index.js';
import { ListwashError } from '../../src/errors.js';

type Dialect = Parameters<typeof readCsvRows>[1];

const LF: Dialect = { delimiter: ',', recordDelimiter: '\n', hasHeader: true };

/** Feed `text` in small chunks so records and line breaks straddle chunk boundaries. */
function chunked(text: string | Buffer, size = 7): Readable {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

async function collect(input: Readable, dialect: Dialect, opts?: ReadCsvOptions): Promise<CsvRow[]> {
  const rows: CsvRow[] = [];
  for await (const row of readCsvRows(input, dialect, opts)) rows.push(row);
  return rows;
}

async function readError(input: Readable, dialect: Dialect, opts?: ReadCsvOptions): Promise<ListwashError> {
  try {
    await collect(input, dialect, opts);
  } catch (err) {
    if (err instanceof ListwashError) return err;
    throw err;
  }
  throw new Error('reading did not fail');
}

describe('readCsvRows', () => {
  it('numbers records by data index and by the line they start on, across multi-line quoted fields and blank lines', async () => {
    const text = [
      'name,email,address', // 1 (header)
      'Ann,ann@example.org,"1 Main St', // 2
      'Apt 2', // 3
      'Springfield"', // 4
      '', // 5 blank
      'Bob,bob@example.net,Nowhere', // 6
      '', // 7 blank
      '', // 8 blank
      '"Cy ""The Guy""",cy@example.com,"x', // 9
      '', // 10 (blank line inside quotes belongs to the field)
      'y"', // 11
      'Di,di@example.org,end', // 12
    ].join('\n');
    const rows = await collect(chunked(text), LF);
    expect(rows.map((r) => [r.index, r.line])).toEqual([
      [0, 2],
      [1, 6],
      [2, 9],
      [3, 12],
    ]);
    expect(rows[0]?.fields).toEqual(['Ann', 'ann@example.org', '1 Main St\nApt 2\nSpringfield']);
    expect(rows[2]?.fields).toEqual(['Cy "The Guy"', 'cy@example.com', 'x\n\ny']);
  });

  it('keeps short and long records as they are', async () => {
    const rows = await collect(chunked('a,b,c\n1,2,3\n4\n5,6,7,8,9\n\n10,11,12\n'), LF);
    expect(rows.map((r) => r.fields)).toEqual([['1', '2', '3'], ['4'], ['5', '6', '7', '8', '9'], ['10', '11', '12']]);
    expect(rows.map((r) => r.line)).toEqual([2, 3, 4, 6]);
  });

  it('skips blank lines but keeps a line of only delimiters as a record of empty fields', async () => {
    const rows = await collect(chunked('email,name\n\n,\n""\nann@example.org,Ann\n'), LF);
    expect(rows.map((r) => [r.line, r.fields])).toEqual([
      [3, ['', '']],
      [4, ['']],
      [5, ['ann@example.org', 'Ann']],
    ]);
  });

  it('without a header the first record is data', async () => {
    const rows = await collect(chunked('ann@example.org\nbob@example.net'), { ...LF, hasHeader: false });
    expect(rows).toEqual([
      { index: 0, line: 1, fields: ['ann@example.org'] },
      { index: 1, line: 2, fields: ['bob@example.net'] },
    ]);
  });

  it('reads a BOM + CRLF + semicolon file as sniffed', async () => {
    const buf = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('email;name\r\nann@example.org;"Lee;\r\nAnn"\r\nbob@example.net;Bob\r\n')]);
    const dialect = sniffCsv(buf);
    expect(dialect).toMatchObject({ delimiter: ';', recordDelimiter: '\r\n', bom: true, hasHeader: true });
    const rows = await collect(chunked(buf, 3), dialect);
    expect(rows.map((r) => [r.line, r.fields])).toEqual([
      [2, ['ann@example.org', 'Lee;\r\nAnn']],
      [4, ['bob@example.net', 'Bob']],
    ]);
  });

  it('reads a file with mixed LF and CRLF endings without leaving CRs in fields', async () => {
    const rows = await collect(chunked('email,n\r\na@example.org,1\nb@example.org,2\r\n'), { ...LF, recordDelimiter: '\r\n' });
    expect(rows.map((r) => r.fields)).toEqual([['a@example.org', '1'], ['b@example.org', '2']]);
  });

  it('ends a record at a CR alone inside a CRLF file: no two rows are merged (issue 7, item 4)', async () => {
    const text = 'name,email\r\nA,a@x.test\rB,b@x.test\r\nC,c@x.test\r\n';
    const rows = await collect(chunked(text, 3), sniffCsv(Buffer.from(text)));
    expect(rows.map((r) => [r.line, r.fields])).toEqual([
      [2, ['A', 'a@x.test']],
      [3, ['B', 'b@x.test']],
      [4, ['C', 'c@x.test']],
    ]);
  });

  it('ends a record at a CR alone inside a LF file, and at a LF inside a CR-only file', async () => {
    const lf = await collect(chunked('email\na@x.test\rb@x.test\nc@x.test\n'), LF);
    expect(lf.map((r) => [r.line, r.fields[0]])).toEqual([[2, 'a@x.test'], [3, 'b@x.test'], [4, 'c@x.test']]);
    const cr = await collect(chunked('email\ra@x.test\nb@x.test\rc@x.test\r'), { ...LF, recordDelimiter: '\r' });
    expect(cr.map((r) => [r.line, r.fields[0]])).toEqual([[2, 'a@x.test'], [3, 'b@x.test'], [4, 'c@x.test']]);
  });

  it('keeps a CR alone inside quotes as data, and a quote followed by a CR alone closes its field', async () => {
    const rows = await collect(chunked('email,note\na@x.test,"one\rtwo"\rb@x.test,"x"\rc@x.test,y\n', 2), LF);
    expect(rows.map((r) => [r.line, r.fields])).toEqual([
      [2, ['a@x.test', 'one\rtwo']],
      [4, ['b@x.test', 'x']],
      [5, ['c@x.test', 'y']],
    ]);
  });

  it('reads a CR-only file', async () => {
    const rows = await collect(chunked('email\ra@example.org\rb@example.org\r'), { ...LF, recordDelimiter: '\r' });
    expect(rows.map((r) => [r.line, r.fields])).toEqual([
      [2, ['a@example.org']],
      [3, ['b@example.org']],
    ]);
  });

  it('keeps quotes inside unquoted fields by default, and fails on them when relaxQuotes is false', async () => {
    const text = 'name,email\nJohn "Jo" Smith,jo@example.org\n';
    expect((await collect(chunked(text), LF)).map((r) => r.fields)).toEqual([['John "Jo" Smith', 'jo@example.org']]);
    const err = await readError(chunked(text), LF, { relaxQuotes: false });
    expect(err.code).toBe('CSV_MALFORMED');
    expect(err.message).toMatch(/^line 2: /);
    expect(err.details).toMatchObject({ line: 2, csvCode: 'INVALID_OPENING_QUOTE' });
  });

  it('names the line where an unterminated quoted field starts', async () => {
    const lines = ['email,name', 'a@example.org,Ann', '', 'b@example.org,"Bob', 'c@example.org,Cy', 'd@example.org,Di'];
    const err = await readError(chunked(lines.join('\n') + '\n'), LF);
    expect(err.code).toBe('CSV_UNTERMINATED_QUOTE');
    expect(err.message).toBe('line 4: quoted field not terminated');
    expect(err.details).toMatchObject({ line: 4, csvCode: 'CSV_QUOTE_NOT_CLOSED' });
  });

  it('names the right line for an unterminated quote after multi-line records', async () => {
    const text = 'email,note\na@example.org,"x\ny\nz"\nb@example.org,ok\nc@example.org,"open\nmore\n';
    const err = await readError(chunked(text), LF);
    expect(err.code).toBe('CSV_UNTERMINATED_QUOTE');
    expect(err.details).toMatchObject({ line: 6 });
    // The same with CRLF line breaks, also inside the quoted field.
    const crlf = await readError(chunked(text.replaceAll('\n', '\r\n')), { ...LF, recordDelimiter: '\r\n' });
    expect(crlf.code).toBe('CSV_UNTERMINATED_QUOTE');
    expect(crlf.details).toMatchObject({ line: 6 });
  });

  it('a runaway quote that exceeds the record size limit is reported as unterminated, at its start line', async () => {
    const body = Array.from({ length: 200 }, (_, i) => `u${i}@example.org,row ${i}`).join('\n');
    const text = `email,name\nok@example.org,Ok\nbad@example.org,"oops\n${body}\n`;
    const err = await readError(chunked(text, 64), LF, { maxRecordSize: 1000 });
    expect(err.code).toBe('CSV_UNTERMINATED_QUOTE');
    expect(err.details).toMatchObject({ line: 3, csvCode: 'CSV_MAX_RECORD_SIZE' });
  });

  it('a single over-long line is CSV_MALFORMED naming its line', async () => {
    const text = `email,name\nok@example.org,Ok\nlong@example.org,${'x'.repeat(5000)}\n`;
    const err = await readError(chunked(text, 256), LF, { maxRecordSize: 1000 });
    expect(err.code).toBe('CSV_MALFORMED');
    expect(err.message).toMatch(/^line 3: record longer than 1000 characters/);
  });

  it('wraps an input stream failure as STORAGE_IO', async () => {
    const input = new Readable({ read() {} });
    input.push('email\na@example.org\n');
    setImmediate(() => input.destroy(new Error('connection reset')));
    const err = await readError(input, LF);
    expect(err.code).toBe('STORAGE_IO');
    expect(err.message).toMatch(/connection reset/);
  });

  it('destroys the input when the consumer stops early', async () => {
    const input = new Readable({ read() {} });
    input.push('email\na@example.org\nb@example.org\n');
    for await (const row of readCsvRows(input, LF)) {
      expect(row.fields).toEqual(['a@example.org']);
      break;
    }
    expect(input.destroyed).toBe(true);
  });
});

describe("readCsvRows with Excel's sep= line", () => {
  it('skips the sep= line before the header, and numbers lines from the top of the file', async () => {
    const text = 'sep=;\nemail;name\nann@example.org;Ann\nbob@example.net;Bob\n';
    const rows = await collect(chunked(text, 3), sniffCsv(Buffer.from(text)));
    expect(rows).toEqual([
      { index: 0, line: 3, fields: ['ann@example.org', 'Ann'] },
      { index: 1, line: 4, fields: ['bob@example.net', 'Bob'] },
    ]);
  });
});
