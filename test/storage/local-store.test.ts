import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { LocalStore, S3Store, parseLocation, storeFor, type Location } from '../../src/storage/index.js';
import { generateCsv, sha256Of } from './big-csv.js';
import { rejection } from '../helpers/rejection.js';

let dir: string;
const store = new LocalStore();
const loc = (name: string): Location => parseLocation(join(dir, name));


beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-local-store-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('LocalStore', () => {
  it('streams a multi-megabyte CSV to disk and reads back the same bytes', async () => {
    const csv = generateCsv(6 * 1024 * 1024);
    const target = loc('big/list.csv');
    const h = await store.openWrite(target);
    await pipeline(csv.stream(), h.stream);
    await h.done;
    expect(await sha256Of(await store.openRead(target))).toEqual({ sha256: csv.sha256, size: csv.size });
    expect(await store.size(target)).toBe(csv.size);
    expect(await store.exists(target)).toBe(true);
    expect(await readdir(join(dir, 'big'))).toEqual(['list.csv']);
  });

  it('replaces a file atomically: the old content stays until done', async () => {
    const target = loc('atomic.csv');
    await writeFile(join(dir, 'atomic.csv'), 'old\n');
    const h = await store.openWrite(target);
    await new Promise<void>((resolve, reject) => h.stream.write('new content\n', (err) => (err ? reject(err) : resolve())));
    expect(await readFile(join(dir, 'atomic.csv'), 'utf8')).toBe('old\n');
    h.stream.end();
    await h.done;
    expect(await readFile(join(dir, 'atomic.csv'), 'utf8')).toBe('new content\n');
    expect((await readdir(dir)).filter((n) => n.includes('atomic'))).toEqual(['atomic.csv']);
  });

  it('abort leaves nothing behind and rejects done as aborted', async () => {
    const target = loc('aborted/x.csv');
    const h = await store.openWrite(target);
    h.stream.write('partial');
    await h.abort();
    const err = await rejection(h.done);
    expect(err.code).toBe('STORAGE_IO');
    expect(err.details.aborted).toBe(true);
    expect(await store.exists(target)).toBe(false);
    expect(await readdir(join(dir, 'aborted'))).toEqual([]);
  });

  it('a failing source fails the write without creating the file', async () => {
    const target = loc('failed/x.csv');
    const h = await store.openWrite(target);
    async function* source(): AsyncGenerator<Buffer> {
      yield Buffer.from('email\na@example.org\n');
      throw new Error('source broke');
    }
    await expect(pipeline(Readable.from(source()), h.stream)).rejects.toThrow('source broke');
    const err = await rejection(h.done);
    expect(err.code).toBe('STORAGE_IO');
    expect(await store.exists(target)).toBe(false);
    expect(await readdir(join(dir, 'failed'))).toEqual([]);
  });

  it('reads only the first maxBytes bytes', async () => {
    await writeFile(join(dir, 'sample.csv'), 'email\nann@example.org\n');
    expect(await text(await store.openRead(loc('sample.csv'), { maxBytes: 9 }))).toBe('email\nann');
    expect(await text(await store.openRead(loc('sample.csv'), { maxBytes: 1000 }))).toBe('email\nann@example.org\n');
  });

  it('missing files: STORAGE_NOT_FOUND on read, false/null for exists/size', async () => {
    const err = await rejection(store.openRead(loc('nope.csv')));
    expect(err.code).toBe('STORAGE_NOT_FOUND');
    expect(err.details.path).toBe(join(dir, 'nope.csv'));
    expect(await store.exists(loc('nope.csv'))).toBe(false);
    expect(await store.size(loc('nope.csv'))).toBeNull();
    expect(await store.size(loc('nope-dir/nope.csv'))).toBeNull();
  });

  it('a directory is not a readable file', async () => {
    await mkdir(join(dir, 'adir'), { recursive: true });
    expect((await rejection(store.openRead(loc('adir')))).code).toBe('STORAGE_IO');
    expect(await store.exists(loc('adir'))).toBe(false);
    expect((await rejection(store.openRead(loc('adir/')))).code).toBe('STORAGE_BAD_URL');
    expect((await rejection(store.openWrite(loc('adir/')))).code).toBe('STORAGE_BAD_URL');
  });

  it('refuses an S3 location', async () => {
    expect((await rejection(store.openRead(parseLocation('s3://lw-test/x.csv')))).code).toBe('STORAGE_BAD_URL');
  });
});

describe('storeFor', () => {
  it('picks the store by location kind', () => {
    const cfg = loadConfig({});
    expect(storeFor(parseLocation('/tmp/x.csv'), cfg)).toBeInstanceOf(LocalStore);
    expect(storeFor(parseLocation('s3://lw-test/x.csv'), { ...cfg, s3Endpoint: 'http://127.0.0.1:9' })).toBeInstanceOf(S3Store);
  });
});
