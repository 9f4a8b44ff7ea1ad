import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SNIFF_SAMPLE_BYTES, readCsvRows, readSample, sniffCsv } from '../../src/csv/index.js';
import { ListwashError } from '../../src/errors.js';
import { LocalStore, S3Store, parseLocation, type Location, type Store } from '../../src/storage/index.js';
import { generateCsv } from '../storage/big-csv.js';
import { TEST_BUCKET, startS3rver, type RunningS3rver } from '../storage/s3rver-helper.js';

let s3: RunningS3rver;
let dir: string;
const csv = generateCsv(6 * 1024 * 1024);

interface Backend {
  name: string;
  store: () => Store;
  loc: (name: string) => Location;
}

const backends: Backend[] = [
  { name: 'local', store: () => new LocalStore(), loc: (name) => parseLocation(join(dir, name)) },
  { name: 's3', store: () => new S3Store(s3.client), loc: (name) => parseLocation(`s3://${TEST_BUCKET}/sample-${process.pid}/${name}`) },
];

beforeAll(async () => {
  s3 = await startS3rver();
  dir = await mkdtemp(join(tmpdir(), 'lw-sample-'));
  for (const b of backends) {
    const h = await b.store().openWrite(b.loc('big.csv'));
    await pipeline(csv.stream(), h.stream);
    await h.done;
    const e = await b.store().openWrite(b.loc('empty.csv'));
    e.stream.end();
    await e.done;
  }
});

afterAll(async () => {
  await s3?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.each(backends)('readSample + sniff + read ($name)', (b) => {
  it('samples the first 64 KiB only, sniffs it, then reads every record with its line', async () => {
    const store = b.store();
    const sample = await readSample(store, b.loc('big.csv'));
    expect(sample.length).toBe(SNIFF_SAMPLE_BYTES);
    const dialect = sniffCsv(sample);
    expect(dialect).toMatchObject({ delimiter: ',', recordDelimiter: '\n', hasHeader: true, headers: ['id', 'email', 'name', 'note', 'flag'], emailColumn: 1 });

    let n = 0;
    for await (const row of readCsvRows(await store.openRead(b.loc('big.csv')), dialect)) {
      if (row.index !== n || row.line !== 2 + 2 * n || row.fields[0] !== String(n) || row.fields[1] !== `user${n}@example.org` || row.fields.length !== 5) {
        throw new Error(`unexpected row ${JSON.stringify(row)} at ${n}`);
      }
      n++;
    }
    expect(n).toBe(csv.rows);
  });

  it('a short sample request returns exactly that many bytes', async () => {
    const sample = await readSample(b.store(), b.loc('big.csv'), 10);
    expect(sample.toString()).toBe('id,email,n');
  });

  it('an empty object gives an empty sample, which sniffs as CSV_EMPTY', async () => {
    const sample = await readSample(b.store(), b.loc('empty.csv'));
    expect(sample.length).toBe(0);
    expect(() => sniffCsv(sample)).toThrow(expect.objectContaining({ code: 'CSV_EMPTY' }));
  });

  it('a missing object is STORAGE_NOT_FOUND', async () => {
    const err = await readSample(b.store(), b.loc('missing.csv')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ListwashError);
    expect((err as ListwashError).code).toBe('STORAGE_NOT_FOUND');
  });
});
