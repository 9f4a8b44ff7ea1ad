import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListwashError } from '../../src/errors.js';
import { S3Store, createS3Client, isPermanentStorageError, parseLocation, storeFor, type Location } from '../../src/storage/index.js';
import { generateCsv, sha256Of } from './big-csv.js';
import { S3RVER_CREDENTIALS, TEST_BUCKET, startS3rver, type RunningS3rver } from './s3rver-helper.js';
import { rejection } from '../helpers/rejection.js';

let s3: RunningS3rver;
let store: S3Store;
/** SDK command names sent through `s3.client`, in order. */
const sent: string[] = [];
const prefix = `t-${process.pid}-${Date.now()}`;
const loc = (key: string): Location => parseLocation(`s3://${TEST_BUCKET}/${prefix}/${key}`);


async function put(key: string, body: string | Buffer): Promise<void> {
  await s3.client.send(new PutObjectCommand({ Bucket: TEST_BUCKET, Key: `${prefix}/${key}`, Body: body }));
}

beforeAll(async () => {
  s3 = await startS3rver();
  s3.client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  store = new S3Store(s3.client);
});

afterAll(async () => {
  await s3?.close();
});

describe('createS3Client against s3rver', () => {
  it('a streamed PutObject is stored byte-exactly (no aws-chunked framing inside the object)', async () => {
    const body = Buffer.from('email,name\nann@example.org,Ann\n');
    await s3.client.send(
      new PutObjectCommand({ Bucket: TEST_BUCKET, Key: `${prefix}/streamed-put.csv`, Body: Readable.from([body]), ContentLength: body.length }),
    );
    const res = await s3.client.send(new GetObjectCommand({ Bucket: TEST_BUCKET, Key: `${prefix}/streamed-put.csv` }));
    expect(Buffer.from(await res.Body!.transformToByteArray())).toEqual(body);
  });

  it('uses path-style addressing and the WHEN_REQUIRED checksum modes with an endpoint', async () => {
    const client = createS3Client(s3.settings, { credentials: S3RVER_CREDENTIALS });
    expect(client.config.forcePathStyle).toBe(true);
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    client.destroy();
  });
});

describe('S3Store', () => {
  it('streams a >5 MiB CSV as a multipart upload and reads back the same bytes', async () => {
    const csv = generateCsv(12 * 1024 * 1024);
    const target = loc('big/list.csv');
    sent.length = 0;
    const h = await store.openWrite(target, { contentType: 'text/csv; charset=utf-8' });
    await pipeline(csv.stream(), h.stream);
    await h.done;
    expect(sent).toContain('CreateMultipartUploadCommand');
    expect(sent.filter((c) => c === 'UploadPartCommand')).toHaveLength(2);
    expect(sent).toContain('CompleteMultipartUploadCommand');
    expect(sent).not.toContain('PutObjectCommand');

    expect(await sha256Of(await store.openRead(target))).toEqual({ sha256: csv.sha256, size: csv.size });
    expect(await store.size(target)).toBe(csv.size);
    expect(await store.exists(target)).toBe(true);
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: TEST_BUCKET, Key: `${prefix}/big/list.csv` }));
    expect(head.ContentType).toBe('text/csv; charset=utf-8');
  });

  it('a small write is one PutObject, checked with a HeadObject, and reads back the same bytes', async () => {
    const body = 'email;name\r\nzoë@example.org;"Zoë, Z"\r\n';
    const target = loc('small.csv');
    sent.length = 0;
    const h = await store.openWrite(target);
    await pipeline(Readable.from([body]), h.stream);
    await h.done;
    expect(sent).toEqual(['PutObjectCommand', 'HeadObjectCommand']);
    expect(await text(await store.openRead(target))).toBe(body);
    expect(await store.size(target)).toBe(Buffer.byteLength(body));
  });

  it('reads only the first maxBytes bytes with a Range GET, and an empty object as empty', async () => {
    await put('ranged.csv', 'email\nann@example.org\n');
    expect(await text(await store.openRead(loc('ranged.csv'), { maxBytes: 9 }))).toBe('email\nann');
    expect(await text(await store.openRead(loc('ranged.csv'), { maxBytes: 1000 }))).toBe('email\nann@example.org\n');
    await put('empty.csv', Buffer.alloc(0));
    expect(await text(await store.openRead(loc('empty.csv'), { maxBytes: 100 }))).toBe('');
    expect(await store.size(loc('empty.csv'))).toBe(0);
    expect(await store.exists(loc('empty.csv'))).toBe(true);
  });

  it('a missing key or bucket is STORAGE_NOT_FOUND; exists/size say false/null', async () => {
    const missing = await rejection(store.openRead(loc('nope.csv')));
    expect(missing.code).toBe('STORAGE_NOT_FOUND');
    expect(missing.details).toMatchObject({ bucket: TEST_BUCKET, key: `${prefix}/nope.csv`, s3Error: 'NoSuchKey' });
    const noBucket = await rejection(store.openRead(parseLocation('s3://lw-missing-bucket/x.csv')));
    expect(noBucket.code).toBe('STORAGE_NOT_FOUND');
    expect(noBucket.message).toMatch(/bucket lw-missing-bucket/);
    expect(await store.exists(loc('nope.csv'))).toBe(false);
    expect(await store.size(loc('nope.csv'))).toBeNull();
    expect(await store.exists(parseLocation('s3://lw-missing-bucket/x.csv'))).toBe(false);
  });

  it('writing to a missing bucket rejects done, and the writer is not left hanging', async () => {
    const h = await store.openWrite(parseLocation('s3://lw-missing-bucket/x.csv'));
    const csv = generateCsv(12 * 1024 * 1024);
    // Depending on timing the writer either finishes (Upload drained the stream) or is destroyed; it must settle.
    const [, done] = await Promise.allSettled([pipeline(csv.stream(), h.stream), h.done]);
    expect(done.status).toBe('rejected');
    expect(done.status === 'rejected' && done.reason instanceof ListwashError && done.reason.code).toBe('STORAGE_NOT_FOUND');
  });

  it('unknown credentials are STORAGE_ACCESS_DENIED (permanent) with the SDK error as cause', async () => {
    const unknownKey = new S3Store(createS3Client(s3.settings, { credentials: { accessKeyId: 'NOT-S3RVER', secretAccessKey: 'x' }, maxAttempts: 1 }));
    const err = await rejection(unknownKey.openRead(loc('small.csv')));
    expect(err.code).toBe('STORAGE_ACCESS_DENIED');
    expect(err.message).toBe(`cannot read s3://${TEST_BUCKET}/${prefix}/small.csv: access denied (InvalidAccessKeyId, HTTP 403)`);
    expect(err.details).toMatchObject({ s3Error: 'InvalidAccessKeyId', httpStatus: 403 });
    expect(err.cause).toBeInstanceOf(Error);
    expect(isPermanentStorageError(err)).toBe(true);
  });

  it('other failures are STORAGE_IO, transient', async () => {
    const closed = new S3Store(createS3Client({ ...s3.settings, s3Endpoint: 'http://127.0.0.1:9' }, { credentials: S3RVER_CREDENTIALS, maxAttempts: 1 }));
    const err = await rejection(closed.openRead(loc('small.csv')));
    expect(err.code).toBe('STORAGE_IO');
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(isPermanentStorageError(err)).toBe(false);
  });

  it('delete removes an object and says whether it was there; S3 leaves no temp files to clean up', async () => {
    await put('to-remove.csv', 'x\n');
    expect(await store.delete(loc('to-remove.csv'))).toBe(true);
    expect(await store.exists(loc('to-remove.csv'))).toBe(false);
    expect(await store.delete(loc('to-remove.csv'))).toBe(false);
    expect(await store.removeLeftovers(loc('to-remove.csv'))).toBe(0);
  });

  it('a staged write is an object once stored; cancel stops one in flight', async () => {
    const target = loc('staged.csv');
    const w = await store.openStaged(target);
    w.stream.end('email\nann@example.org\n');
    await w.stored;
    await w.publish();
    expect(await text(await store.openRead(target))).toBe('email\nann@example.org\n');
    const inFlight = await store.openStaged(loc('staged-cancelled.csv'));
    inFlight.stream.write('partial');
    await inFlight.cancel();
    expect((await rejection(inFlight.stored)).details.aborted).toBe(true);
    expect(await store.exists(loc('staged-cancelled.csv'))).toBe(false);
  });

  it('abort leaves no object and rejects done as aborted', async () => {
    const target = loc('aborted.csv');
    const h = await store.openWrite(target);
    await new Promise<void>((resolve, reject) => h.stream.write('email\nann@example.org\n', (err) => (err ? reject(err) : resolve())));
    await h.abort();
    const err = await rejection(h.done);
    expect(err.details.aborted).toBe(true);
    expect(await store.exists(target)).toBe(false);
  });

  it('a failing source fails the write without creating the object', async () => {
    const target = loc('failed.csv');
    const h = await store.openWrite(target);
    async function* source(): AsyncGenerator<Buffer> {
      yield Buffer.from('email\na@example.org\n');
      throw new Error('source broke');
    }
    await expect(pipeline(Readable.from(source()), h.stream)).rejects.toThrow('source broke');
    expect((await rejection(h.done)).code).toBe('STORAGE_IO');
    expect(await store.exists(target)).toBe(false);
  });

  it('a prefix is not an object', async () => {
    expect((await rejection(store.openRead(loc('dir/')))).code).toBe('STORAGE_BAD_URL');
    expect((await rejection(store.openWrite(parseLocation(`s3://${TEST_BUCKET}`)))).code).toBe('STORAGE_BAD_URL');
    expect(await store.exists(loc('dir/'))).toBe(false);
  });

  it('storeFor uses an injected client', async () => {
    await put('via-storefor.csv', 'email\n');
    const viaStoreFor = storeFor(loc('via-storefor.csv'), s3.settings, { s3Client: s3.client });
    expect(await viaStoreFor.size(loc('via-storefor.csv'))).toBe(6);
  });
});
