/**
 * A result set's files appear together or not at all, locally and on S3: nothing under the final names before the
 * commit, the marker written last, everything removed after a failure, an earlier run's files and temp files gone.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStore, ResultSet, S3Store, parseLocation, type Location, type Store } from '../../src/storage/index.js';
import { rejection } from '../helpers/rejection.js';
import { TMPFS_UNAVAILABLE, mountTmpfs, tmpfsTitle } from '../helpers/tmpfs.js';
import { TEST_BUCKET, startS3rver, type RunningS3rver } from './s3rver-helper.js';

const NAMES = ['report.csv', 'clean.csv'];
const MARKER = 'summary.json';

let dir: string;
let s3: RunningS3rver;
const local = new LocalStore();
const run = `rs-${process.pid}-${Date.now()}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-result-set-'));
  s3 = await startS3rver();
});

afterAll(async () => {
  await s3?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function s3Keys(prefix: string): Promise<string[]> {
  const res = await s3.client.send(new ListObjectsV2Command({ Bucket: TEST_BUCKET, Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key!.slice(prefix.length)).sort();
}

async function writeSet(store: Store, prefix: Location, rows: string): Promise<ResultSet> {
  const set = await ResultSet.begin(store, prefix, NAMES, MARKER);
  for (const name of NAMES) await (await set.open(name)).write(Buffer.from(`${name}:${rows}`));
  return set;
}

describe('ResultSet on the local file system', () => {
  it('nothing appears under the final names until the commit; the commit publishes every file, then the marker', async () => {
    const out = join(dir, 'commit');
    const set = await writeSet(local, parseLocation(out + '/'), 'new');
    await set.finish();
    expect((await readdir(out)).filter((n) => !n.startsWith('.'))).toEqual([]);
    await set.commit('{"rows":1}\n');
    expect((await readdir(out)).sort()).toEqual(['clean.csv', 'report.csv', 'summary.json']);
    expect(await readFile(join(out, 'report.csv'), 'utf8')).toBe('report.csv:new');
    expect(await readFile(join(out, 'summary.json'), 'utf8')).toBe('{"rows":1}\n');
  });

  it('a new run removes the earlier run’s set and the temp files a killed run left, nothing else', async () => {
    const out = join(dir, 'rerun');
    await mkdir(out, { recursive: true });
    for (const n of ['report.csv', 'clean.csv', 'summary.json', '.report.csv.0123456789ab.tmp', '.summary.json.ba9876543210.tmp', 'mine.txt', '.other.csv.0123456789ab.tmp']) {
      await writeFile(join(out, n), 'old');
    }
    const set = await ResultSet.begin(local, parseLocation(out + '/'), NAMES, MARKER);
    expect((await readdir(out)).sort()).toEqual(['.other.csv.0123456789ab.tmp', 'mine.txt']);
    await set.finish();
    await set.commit('{}');
    expect((await readdir(out)).sort()).toEqual(['.other.csv.0123456789ab.tmp', 'mine.txt', 'summary.json']);
  });

  it('discard after a failure leaves none of the set’s files, published or not', async () => {
    const out = join(dir, 'discard');
    const set = await writeSet(local, parseLocation(out + '/'), 'x');
    await set.finish();
    await set.discard();
    expect(await readdir(out)).toEqual([]);
  });

  it('refuses a name that is not part of the set', async () => {
    const set = await ResultSet.begin(local, parseLocation(join(dir, 'names') + '/'), NAMES, MARKER);
    await expect(set.open('other.csv')).rejects.toThrow(/not a file of this result set/);
  });
});

describe.skipIf(TMPFS_UNAVAILABLE !== null)(tmpfsTitle('ResultSet on a full or read-only disk'), () => {
  it('a disk that fills up: the failing write rejects with STORAGE_NO_SPACE, discard frees everything', async () => {
    const fs = await mountTmpfs({ sizeBytes: 256 * 1024 });
    try {
      const set = await ResultSet.begin(local, parseLocation(fs.dir + '/'), NAMES, MARKER);
      const report = await set.open('report.csv');
      const clean = await set.open('clean.csv');
      const chunk = Buffer.alloc(16 * 1024, 0x61);
      const err = await rejection(
        (async () => {
          for (let i = 0; i < 64; i++) {
            await report.write(chunk);
            await clean.write(chunk);
          }
          await set.finish();
        })(),
      );
      expect(err.code).toBe('STORAGE_NO_SPACE');
      await set.discard();
      expect(await readdir(fs.dir)).toEqual([]);
    } finally {
      await fs.unmount();
    }
  });

  it('a read-only folder: begin fails with STORAGE_READ_ONLY', async () => {
    const fs = await mountTmpfs({ sizeBytes: 64 * 1024, readOnly: true });
    try {
      const err = await rejection(ResultSet.begin(local, parseLocation(fs.dir + '/'), NAMES, MARKER));
      expect(err.code).toBe('STORAGE_READ_ONLY');
      expect(err.message).toMatch(/read-only file system \(EROFS\)$/);
    } finally {
      await fs.unmount();
    }
  });
});

describe('ResultSet on S3', () => {
  it('objects of a set are complete only with the marker, written last; a new run first removes the old marker and files', async () => {
    const store = new S3Store(s3.client);
    const prefix = `${run}/s3-commit/`;
    const loc = parseLocation(`s3://${TEST_BUCKET}/${prefix}`);
    const first = await writeSet(store, loc, 'one');
    await first.finish();
    await first.commit('{"run":1}');
    expect(await s3Keys(prefix)).toEqual(['clean.csv', 'report.csv', 'summary.json']);

    const second = await ResultSet.begin(store, loc, NAMES, MARKER);
    expect(await s3Keys(prefix)).toEqual([]);
    await (await second.open('report.csv')).write(Buffer.from('two'));
    await (await second.open('clean.csv')).write(Buffer.from('two'));
    await second.finish();
    expect(await s3Keys(prefix)).toEqual(['clean.csv', 'report.csv']);
    await second.commit('{"run":2}');
    expect(await s3Keys(prefix)).toEqual(['clean.csv', 'report.csv', 'summary.json']);
  });

  it('discard removes the objects this run wrote', async () => {
    const store = new S3Store(s3.client);
    const prefix = `${run}/s3-discard/`;
    const set = await writeSet(store, parseLocation(`s3://${TEST_BUCKET}/${prefix}`), 'x');
    await set.finish();
    expect(await s3Keys(prefix)).toEqual(['clean.csv', 'report.csv']);
    await set.discard();
    expect(await s3Keys(prefix)).toEqual([]);
  });
});
