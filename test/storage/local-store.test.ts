import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ErrorCodes } from '../../src/errors.js';
import { LocalStore, S3Store, isPermanentStorageError, parseLocation, storeFor, type Location } from '../../src/storage/index.js';
import { fsError } from '../../src/storage/fs-errors.js';
import { generateCsv, sha256Of } from './big-csv.js';
import { rejection } from '../helpers/rejection.js';
import { TMPFS_UNAVAILABLE, mountTmpfs, tmpfsTitle } from '../helpers/tmpfs.js';

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

describe('LocalStore: staged writes, remove, left-overs', () => {
  it('a staged write is a hidden temp file until publish renames it into place; cancel removes it', async () => {
    const target = loc('staged/report.csv');
    const w = await store.openStaged(target);
    w.stream.end('a,b\n');
    await w.stored;
    expect(await store.exists(target)).toBe(false);
    expect(await readdir(join(dir, 'staged'))).toEqual([expect.stringMatching(/^\.report\.csv\.[0-9a-f]{12}\.tmp$/)]);
    await w.publish();
    expect(await readFile(join(dir, 'staged/report.csv'), 'utf8')).toBe('a,b\n');
    expect(await readdir(join(dir, 'staged'))).toEqual(['report.csv']);

    const other = await store.openStaged(loc('staged/clean.csv'));
    other.stream.end('x\n');
    await other.stored;
    await other.cancel();
    expect(await readdir(join(dir, 'staged'))).toEqual(['report.csv']);
  });

  it('delete removes a file and says whether it was there', async () => {
    await writeFile(join(dir, 'gone.csv'), 'x');
    expect(await store.delete(loc('gone.csv'))).toBe(true);
    expect(await store.exists(loc('gone.csv'))).toBe(false);
    expect(await store.delete(loc('gone.csv'))).toBe(false);
    expect(await store.delete(loc('no-such-dir/gone.csv'))).toBe(false);
  });

  it('removeLeftovers removes only the temp files of that name (.<name>.<12 hex>.tmp)', async () => {
    await mkdir(join(dir, 'left'), { recursive: true });
    const names = ['.report.csv.0123456789ab.tmp', '.report.csv.ffffffffffff.tmp', '.report.csv.tmp', '.report.csv.0123456789ab.tmp.bak', '.report-csv.0123456789ab.tmp', '.clean.csv.0123456789ab.tmp', 'report.csv', 'notes.txt'];
    for (const n of names) await writeFile(join(dir, 'left', n), 'x');
    expect(await store.removeLeftovers(loc('left/report.csv'))).toBe(2);
    expect((await readdir(join(dir, 'left'))).sort()).toEqual(names.slice(2).sort());
    expect(await store.removeLeftovers(loc('no-such-dir/report.csv'))).toBe(0);
  });
});

describe('LocalStore errors say what happened, with the errno', () => {
  const sysErr = (code: string, errno: number) => Object.assign(new Error(`${code}: something, open '/x/.report.csv.0123456789ab.tmp'`), { code, errno });
  const out = parseLocation('/out/report.csv');
  if (out.kind !== 'file') throw new Error('expected a file location');

  it.each([
    ['EROFS', -30, ErrorCodes.STORAGE_READ_ONLY, 'read-only file system (EROFS)'],
    ['EACCES', -13, ErrorCodes.STORAGE_ACCESS_DENIED, 'permission denied (EACCES)'],
    ['EPERM', -1, ErrorCodes.STORAGE_ACCESS_DENIED, 'operation not permitted (EPERM)'],
    ['ENOSPC', -28, ErrorCodes.STORAGE_NO_SPACE, 'no space left on device (ENOSPC)'],
    ['EDQUOT', -122, ErrorCodes.STORAGE_NO_SPACE, 'disk quota exceeded (EDQUOT)'],
    ['EIO', -5, ErrorCodes.STORAGE_IO, 'i/o error (EIO)'],
  ])('%s (errno %i) → %s', (code, errno, expected, reason) => {
    const err = fsError('write', out, sysErr(code, errno));
    expect(err.code).toBe(expected);
    expect(err.message).toBe(`cannot write /out/report.csv: ${reason}`);
    expect(err.details).toMatchObject({ errno: code, reason, path: '/out/report.csv' });
    expect(isPermanentStorageError(err)).toBe(expected !== ErrorCodes.STORAGE_IO);
  });

  it('a path through a file is a permanent STORAGE_IO (ENOTDIR)', async () => {
    await writeFile(join(dir, 'a-file'), 'x');
    const err = await rejection(store.openWrite(loc('a-file/report.csv')));
    expect(err.code).toBe('STORAGE_IO');
    expect(err.message).toMatch(/: not a directory \((ENOTDIR|EEXIST)\)$|file already exists \(EEXIST\)$/);
    expect(isPermanentStorageError(err)).toBe(true);
  });
});

describe.skipIf(TMPFS_UNAVAILABLE !== null)(tmpfsTitle('LocalStore on a read-only or full file system'), () => {
  it('a read-only folder: openWrite fails at once with STORAGE_READ_ONLY, not "does not exist"', async () => {
    const fs = await mountTmpfs({ sizeBytes: 64 * 1024, readOnly: true });
    try {
      const target = parseLocation(join(fs.dir, 'report.csv'));
      const err = await rejection(store.openWrite(target));
      expect(err.code).toBe('STORAGE_READ_ONLY');
      expect(err.message).toBe(`cannot write ${join(fs.dir, 'report.csv')}: read-only file system (EROFS)`);
      expect((await rejection(store.delete(target))).code).toBe('STORAGE_READ_ONLY');
    } finally {
      await fs.unmount();
    }
  });

  it('a full disk: the write fails with STORAGE_NO_SPACE, nothing is left behind', async () => {
    const fs = await mountTmpfs({ sizeBytes: 64 * 1024 });
    try {
      const h = await store.openWrite(parseLocation(join(fs.dir, 'big.csv')));
      await expect(pipeline(Readable.from([Buffer.alloc(256 * 1024, 0x61)]), h.stream)).rejects.toThrow();
      const err = await rejection(h.done);
      expect(err.code).toBe('STORAGE_NO_SPACE');
      expect(err.message).toBe(`cannot write ${join(fs.dir, 'big.csv')}: no space left on device (ENOSPC)`);
      expect(await readdir(fs.dir)).toEqual([]);
    } finally {
      await fs.unmount();
    }
  });
});

describe('storeFor', () => {
  it('picks the store by location kind', () => {
    const cfg = loadConfig({});
    expect(storeFor(parseLocation('/tmp/x.csv'), cfg)).toBeInstanceOf(LocalStore);
    expect(storeFor(parseLocation('s3://lw-test/x.csv'), { ...cfg, s3Endpoint: 'http://127.0.0.1:9' })).toBeInstanceOf(S3Store);
  });
});
