/**
 * The output writability check: a writable prefix passes and keeps nothing; an unwritable one fails with a typed
 * error that says what is wrong with the output.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStore, S3Store, checkWritable, createS3Client, isPermanentStorageError, parseLocation } from '../../src/storage/index.js';
import { rejection } from '../helpers/rejection.js';
import { TMPFS_UNAVAILABLE, mountTmpfs, tmpfsTitle } from '../helpers/tmpfs.js';
import { TEST_BUCKET, startS3rver, type RunningS3rver } from './s3rver-helper.js';

let dir: string;
let s3: RunningS3rver;
const local = new LocalStore();
const run = `wc-${process.pid}-${Date.now()}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-write-check-'));
  s3 = await startS3rver();
});

afterAll(async () => {
  await s3?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('checkWritable, local', () => {
  it('a writable folder passes and keeps no probe file', async () => {
    const out = join(dir, 'existing');
    await mkdir(out);
    await checkWritable(local, parseLocation(out + '/'));
    expect(await readdir(out)).toEqual([]);
  });

  it('a folder that does not exist yet passes, and the folders made for the check are removed again', async () => {
    await checkWritable(local, parseLocation(join(dir, 'new', 'deeper', 'out') + '/'));
    expect(await readdir(dir)).not.toContain('new');
  });

  it('a folder path through a file fails, permanently, naming the output', async () => {
    await writeFile(join(dir, 'plain-file'), 'x');
    const err = await rejection(checkWritable(local, parseLocation(join(dir, 'plain-file', 'out') + '/')));
    expect(err.code).toBe('STORAGE_IO');
    expect(err.message).toMatch(new RegExp(`^output ${join(dir, 'plain-file', 'out')}/ is not writable: .*\\((ENOTDIR|EEXIST)\\)$`));
    expect(isPermanentStorageError(err)).toBe(true);
  });
});

describe.skipIf(TMPFS_UNAVAILABLE !== null)(tmpfsTitle('checkWritable on read-only and full file systems'), () => {
  it('a read-only folder: STORAGE_READ_ONLY, "read-only file system (EROFS)"', async () => {
    const fs = await mountTmpfs({ sizeBytes: 64 * 1024, readOnly: true });
    try {
      const err = await rejection(checkWritable(local, parseLocation(fs.dir)));
      expect(err.code).toBe('STORAGE_READ_ONLY');
      expect(err.message).toBe(`output ${fs.dir} is not writable: read-only file system (EROFS)`);
    } finally {
      await fs.unmount();
    }
  });

  it('a full disk: STORAGE_NO_SPACE', async () => {
    const fs = await mountTmpfs({ sizeBytes: 64 * 1024 });
    try {
      await writeFile(join(fs.dir, 'filler'), Buffer.alloc(64 * 1024)).catch((err: unknown) => {
        if (!String(err).includes('ENOSPC')) throw err;
      });
      const err = await rejection(checkWritable(local, parseLocation(join(fs.dir, 'out') + '/')));
      expect(err.code).toBe('STORAGE_NO_SPACE');
      expect(err.message).toMatch(/is not writable: no space left on device \(ENOSPC\)$/);
    } finally {
      await fs.unmount();
    }
  });
});

describe('checkWritable, S3', () => {
  it('a writable prefix passes and keeps no probe object', async () => {
    await checkWritable(new S3Store(s3.client), parseLocation(`s3://${TEST_BUCKET}/${run}/out/`));
    const res = await s3.client.send(new ListObjectsV2Command({ Bucket: TEST_BUCKET, Prefix: `${run}/` }));
    expect(res.Contents ?? []).toEqual([]);
  });

  it('a missing bucket: STORAGE_NOT_FOUND naming the bucket', async () => {
    const err = await rejection(checkWritable(new S3Store(s3.client), parseLocation('s3://lw-no-such-bucket/out/')));
    expect(err.code).toBe('STORAGE_NOT_FOUND');
    expect(err.message).toBe('output s3://lw-no-such-bucket/out/ is not writable: bucket lw-no-such-bucket does not exist');
  });

  it('credentials the store refuses: STORAGE_ACCESS_DENIED', async () => {
    const denied = new S3Store(createS3Client(s3.settings, { credentials: { accessKeyId: 'NOT-S3RVER', secretAccessKey: 'x' }, maxAttempts: 1 }));
    const err = await rejection(checkWritable(denied, parseLocation(`s3://${TEST_BUCKET}/${run}/denied/`)));
    expect(err.code).toBe('STORAGE_ACCESS_DENIED');
    expect(err.message).toBe(`output s3://${TEST_BUCKET}/${run}/denied/ is not writable: access denied (InvalidAccessKeyId, HTTP 403)`);
  });
});
