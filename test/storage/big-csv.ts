/**
 * Test helper: a deterministic generated CSV of at least `minBytes`, streamed in chunks, with its sha256.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

export interface GeneratedCsv {
  /** A fresh stream of the content (call again for another copy). */
  stream(): Readable;
  sha256: string;
  size: number;
  /** Data records (after the header `id,email,name,note,flag`); record i is `i, user<i>@example.org, …` and spans 2 lines. */
  rows: number;
}

function* chunks(minBytes: number): Generator<Buffer> {
  let written = 0;
  let i = 0;
  while (written < minBytes) {
    const lines: string[] = [];
    for (let j = 0; j < 500; j++, i++) {
      lines.push(`${i},user${i}@example.org,"Name ${i}, Jr.","note ""${i % 7}""\n${'x'.repeat(i % 53)}",é${i % 10}\n`);
    }
    const buf = Buffer.from(i === 500 ? `id,email,name,note,flag\n${lines.join('')}` : lines.join(''), 'utf8');
    written += buf.length;
    yield buf;
  }
}

export function generateCsv(minBytes: number): GeneratedCsv {
  const hash = createHash('sha256');
  let size = 0;
  let rows = 0;
  for (const c of chunks(minBytes)) {
    hash.update(c);
    size += c.length;
    rows += 500;
  }
  return { stream: () => Readable.from(chunks(minBytes)), sha256: hash.digest('hex'), size, rows };
}

export async function sha256Of(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const c of stream as AsyncIterable<Buffer>) {
    hash.update(c);
    size += c.length;
  }
  return { sha256: hash.digest('hex'), size };
}
