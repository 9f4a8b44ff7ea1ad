import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { createCsvWriter, readCsvRows, sniffCsv, type CsvWriterOptions } from '../../src/csv/index.js';

async function write(opts: CsvWriterOptions, headers: string[] | null, records: string[][]): Promise<string> {
  const writer = createCsvWriter(opts, headers);
  const out = text(writer);
  await pipeline(Readable.from(records), writer);
  return out;
}

const tricky: string[][] = [
  ['ann@example.org', 'Lee, Ann', 'says "hi"'],
  ['bob@example.net', 'line1\nline2', 'cr\ronly'],
  ['cy@example.com', 'win\r\nbreak', '=SUM(A1:A2)'],
  ['di@example.org', '', '  spaced  '],
  ['émile@exemple.fr', 'Zoë 👋', '@mention'],
];

describe('createCsvWriter', () => {
  it('writes comma-delimited CSV, quoting only where needed, with LF by default', async () => {
    const out = await write({}, ['email', 'name'], [
      ['a@example.org', 'Ann'],
      ['b@example.org', 'Lee, Bob'],
      ['c@example.org', 'say "x"'],
      ['d@example.org', ''],
    ]);
    expect(out).toBe('email,name\na@example.org,Ann\nb@example.org,"Lee, Bob"\nc@example.org,"say ""x"""\nd@example.org,\n');
  });

  it('uses CRLF when asked, and still quotes a lone LF or CR inside a value', async () => {
    const out = await write({ recordDelimiter: '\r\n' }, ['email', 'note'], [
      ['a@example.org', 'x\ny'],
      ['b@example.org', 'x\ry'],
    ]);
    expect(out).toBe('email,note\r\na@example.org,"x\ny"\r\nb@example.org,"x\ry"\r\n');
  });

  it('leaves formula-like values alone by default, and escapes them on request', async () => {
    expect(await write({}, null, [['=1+1', '@x', '-2', 'ok']])).toBe('=1+1,@x,-2,ok\n');
    expect(await write({ escapeFormulas: true }, null, [['=1+1', '@x', '-2', 'ok']])).toBe("'=1+1,'@x,'-2,ok\n");
  });

  it.each(['\n', '\r\n'] as const)('round-trips tricky values byte-faithfully through the reader (%j)', async (rd) => {
    const headers = ['email', 'name', 'note'];
    const csv = await write({ recordDelimiter: rd }, headers, tricky);
    const buf = Buffer.from(csv, 'utf8');
    const dialect = sniffCsv(buf);
    expect(dialect).toMatchObject({ delimiter: ',', recordDelimiter: rd, hasHeader: true, headers, emailColumn: 0 });
    const back: string[][] = [];
    for await (const row of readCsvRows(Readable.from([buf]), dialect)) back.push(row.fields);
    expect(back).toEqual(tricky);
  });

  it('writes a BOM when asked', async () => {
    const writer = createCsvWriter({ bom: true }, ['email']);
    const chunks: Buffer[] = [];
    writer.on('data', (c: Buffer | string) => chunks.push(Buffer.from(c)));
    await pipeline(Readable.from([['a@example.org']]), writer);
    expect(Buffer.concat(chunks).subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
  });
});
