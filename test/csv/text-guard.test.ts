/**
 * The text checks (no NUL byte, valid UTF-8) cover the whole file while it is read, not only the 64 KiB sample:
 * a bad byte anywhere fails the read with the sample's error code, naming its line and offset.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SNIFF_SAMPLE_BYTES, TextGuard, readCsvRows, sniffCsv, type CsvRow } from '../../src/csv/index.js';
import { ListwashError } from '../../src/errors.js';

const LF = { delimiter: ',', hasHeader: true } as const;

function chunked(buf: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

/** Every row read before the failure, and the failure. */
async function readAll(buf: Buffer, size = 4096): Promise<{ rows: CsvRow[]; error: ListwashError | null }> {
  const rows: CsvRow[] = [];
  try {
    for await (const r of readCsvRows(chunked(buf, size), LF)) rows.push(r);
  } catch (err) {
    if (err instanceof ListwashError) return { rows, error: err };
    throw err;
  }
  return { rows, error: null };
}

/** `email,name` then `n` rows `uI@x.test,NameI` (each 11 + digits bytes), then `tail`. */
function list(n: number, tail: Buffer): Buffer {
  const rows = Array.from({ length: n }, (_, i) => `u${i}@x.test,Name${i}\n`).join('');
  return Buffer.concat([Buffer.from(`email,name\n${rows}`), tail]);
}

describe('the text checks over the whole file', () => {
  it('a Latin-1 byte past the first 64 KiB fails with CSV_NOT_TEXT, its line and offset; the rows before it are read', async () => {
    const n = 5000; // ~ 95 KB of rows before the bad one
    const before = list(n, Buffer.alloc(0));
    expect(before.length).toBeGreaterThan(SNIFF_SAMPLE_BYTES);
    const buf = list(n, Buffer.from('jos\xe9@x.test,Jos\xe9\nlast@x.test,Last\n', 'latin1'));
    const { rows, error } = await readAll(buf);
    expect(rows).toHaveLength(n);
    expect(error?.code).toBe('CSV_NOT_TEXT');
    expect(error?.details).toMatchObject({ line: n + 2, offset: before.length + 3, byte: '0xE9' });
    expect(error?.message).toBe(`line ${n + 2}: the file is not valid UTF-8 (byte 0xE9 at offset ${before.length + 3}; perhaps Windows-1252/Latin-1); open it in a spreadsheet program and save/export it as "CSV UTF-8"`);
  });

  it('a NUL byte past the first 64 KiB fails with CSV_NOT_TEXT and its line, instead of being copied into the output', async () => {
    const n = 5000;
    const before = list(n, Buffer.from('ok@x.test,"multi\r\nline"\n'));
    const buf = Buffer.concat([before, Buffer.from('nul@x.test,a\0b\n')]);
    const { rows, error } = await readAll(buf, 65536);
    expect(rows).toHaveLength(n + 1);
    expect(error?.code).toBe('CSV_NOT_TEXT');
    expect(error?.details).toMatchObject({ line: n + 4, offset: before.length + 12 });
    expect(error?.message).toMatch(new RegExp(`^line ${n + 4}: the file contains NUL bytes \\(binary data at byte ${before.length + 12}\\), not a text CSV$`));
  });

  it('gives the same error as the sample check when the bad byte is inside the first 64 KiB', async () => {
    for (const tail of [Buffer.from('b\xe9d@x.test,X\n', 'latin1'), Buffer.from('nul@x.test,\0\n')]) {
      const buf = list(20, tail);
      let sniffed: unknown = null;
      try {
        sniffCsv(buf);
      } catch (err) {
        sniffed = err;
      }
      const { error } = await readAll(buf, 7);
      expect(sniffed).toBeInstanceOf(ListwashError);
      expect(error).not.toBeNull();
      expect({ code: error!.code, message: error!.message, details: error!.details }).toEqual({
        code: (sniffed as ListwashError).code,
        message: (sniffed as ListwashError).message,
        details: (sniffed as ListwashError).details,
      });
      expect(error!.details.line).toBe(22);
    }
  });

  it('accepts multi-byte characters cut by any chunk boundary', async () => {
    const buf = list(3, Buffer.from('zoë@x.test,Zoë 😀 €\n'));
    for (const size of [1, 2, 3, 5]) {
      const { rows, error } = await readAll(buf, size);
      expect(error).toBeNull();
      expect(rows.at(-1)?.fields).toEqual(['zoë@x.test', 'Zoë 😀 €']);
    }
  });

  it('fails on a sequence broken across a chunk boundary, naming the line of its first byte', async () => {
    // 0xE2 0x82 starts a 3-byte character; the next chunk goes on with a comma instead.
    const buf = Buffer.concat([Buffer.from('email,name\na@x.test,A\nb@x.test,'), Buffer.from([0xe2, 0x82]), Buffer.from(',B\n')]);
    const { rows, error } = await readAll(buf, 32);
    expect(rows.map((r) => r.fields[0])).toEqual(['a@x.test']);
    expect(error?.details).toMatchObject({ line: 3, offset: 31, byte: '0xE2' });
  });

  it('fails on a file that ends inside a multi-byte character', async () => {
    const buf = Buffer.concat([Buffer.from('email\r\na@x.test\r\nb@x.test\r\nc'), Buffer.from([0xf0, 0x9f, 0x98])]);
    const { rows, error } = await readAll(buf, 5);
    expect(rows.map((r) => r.fields[0])).toEqual(['a@x.test', 'b@x.test']);
    expect(error?.code).toBe('CSV_NOT_TEXT');
    expect(error?.details).toMatchObject({ line: 4, offset: buf.length - 3, byte: '0xF0' });
  });

  it('counts the byte-order mark in offsets and CRLF, LF and a CR alone as one line break each', async () => {
    const buf = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('email\r\na@x.test\rb@x.test\nc@x.test,"x\r\ny"\n\xff\n', 'latin1')]);
    const { error } = await readAll(buf, 4);
    expect(error?.details).toMatchObject({ line: 6, offset: buf.length - 2, byte: '0xFF' });
  });
});

describe('TextGuard', () => {
  it('reports the index in the chunk of the first bad byte, and nothing after it', () => {
    const g = new TextGuard();
    expect(g.scan(Buffer.from('abc\n'))).toBe(-1);
    expect(g.scan(Buffer.from([0x61, 0xc3]))).toBe(-1); // é cut in two
    expect(g.scan(Buffer.from([0xa9, 0x62, 0x00, 0x63]))).toBe(2);
    expect(g.error(1).details).toMatchObject({ offset: 8 });
    expect(g.scan(Buffer.from('fine'))).toBe(0);
  });

  it('catches a lead byte cut short by the next lead byte across chunks (found by the property test)', () => {
    const g = new TextGuard();
    const bytes = [0xc3, 0xf0, 0x9f, 0x98, 0x80];
    const found = bytes.map((b) => g.scan(Buffer.from([b])));
    expect(found[1]).toBe(0);
    expect(g.error(1).details).toMatchObject({ offset: 0, byte: '0xC3' });
  });

  it('says a bug when asked for an error without a bad byte', () => {
    expect(() => new TextGuard().error(1)).toThrow(/without a bad byte/);
  });
});
