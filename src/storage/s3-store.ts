/**
 * The S3 store: GetObject (optionally a Range GET) for reads, lib-storage `Upload` (multipart, bounded memory)
 * for writes, HeadObject for exists/size. SDK errors become `STORAGE_NOT_FOUND` / `STORAGE_IO`.
 */
import { Readable, PassThrough } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import type { Location, S3Location } from './location.js';
import { abortedError, assertObjectLocation, checkMaxBytes, reportedThroughDone, settleAborted } from './store-common.js';
import type { ReadOptions, Store, WriteHandle, WriteOptions } from './store.js';

const MiB = 1024 * 1024;

export interface S3StoreOptions {
  /** Multipart part size in bytes (S3 minimum 5 MiB). Default 8 MiB — objects up to ~78 GiB (10,000 parts). */
  partSize?: number;
  /** Parts uploaded concurrently. Default 4. Memory held by one write is at most about `partSize × queueSize`. */
  queueSize?: number;
}

/** S3 error names that mean "no such object/bucket". */
const NOT_FOUND_NAMES = new Set(['NoSuchKey', 'NoSuchBucket', 'NotFound']);

function httpStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('$metadata' in err)) return undefined;
  const meta: unknown = err.$metadata;
  if (typeof meta !== 'object' || meta === null || !('httpStatusCode' in meta)) return undefined;
  return typeof meta.httpStatusCode === 'number' ? meta.httpStatusCode : undefined;
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : '';
}

function notFound(loc: S3Location, s3ErrorName: string, status: number | undefined, cause?: unknown): ListwashError {
  const what = s3ErrorName === 'NoSuchBucket' ? `bucket ${loc.bucket}` : loc.url;
  const details = { url: loc.url, bucket: loc.bucket, key: loc.key, s3Error: s3ErrorName, httpStatus: status };
  return new ListwashError(ErrorCodes.STORAGE_NOT_FOUND, `${what} does not exist`, details, cause === undefined ? undefined : { cause });
}

/** Map an SDK error to a typed error (a `ListwashError` passes through). */
export function s3Error(op: string, loc: S3Location, err: unknown): ListwashError {
  if (err instanceof ListwashError) return err;
  const name = errorName(err);
  const status = httpStatus(err);
  if (NOT_FOUND_NAMES.has(name) || status === 404) return notFound(loc, name, status, err);
  const details = { url: loc.url, bucket: loc.bucket, key: loc.key, s3Error: name, httpStatus: status };
  return new ListwashError(ErrorCodes.STORAGE_IO, `cannot ${op} ${loc.url}: ${name ? `${name}: ` : ''}${errorMessage(err)}`, details, { cause: err });
}

function asS3(loc: Location): S3Location {
  if (loc.kind !== 's3') {
    throw new ListwashError(ErrorCodes.STORAGE_BAD_URL, `the S3 store cannot serve ${loc.url}`, { url: loc.url });
  }
  return loc;
}

export class S3Store implements Store {
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(
    private readonly client: S3Client,
    opts: S3StoreOptions = {},
  ) {
    this.partSize = opts.partSize ?? 8 * MiB;
    this.queueSize = opts.queueSize ?? 4;
    if (!Number.isSafeInteger(this.partSize) || this.partSize < 5 * MiB) throw new RangeError(`partSize must be ≥ 5 MiB, got ${this.partSize}`);
    if (!Number.isSafeInteger(this.queueSize) || this.queueSize < 1) throw new RangeError(`queueSize must be ≥ 1, got ${this.queueSize}`);
  }

  async openRead(loc: Location, opts: ReadOptions = {}): Promise<Readable> {
    const s3 = asS3(loc);
    assertObjectLocation(s3, 'read');
    checkMaxBytes(opts.maxBytes);
    let range: string | undefined;
    let ifMatch: string | undefined;
    if (opts.maxBytes !== undefined) {
      // Size first: a Range GET on an empty object is an error on S3 (416) and broken on some emulators (s3rver
      // answers 206 with a body that never comes). The ETag pins the GET to the object we measured.
      const head = await this.head(s3);
      if (head === null) throw notFound(s3, 'NotFound', 404);
      if (head.size === 0) return Readable.from([]);
      range = `bytes=0-${Math.min(opts.maxBytes, head.size) - 1}`;
      ifMatch = head.etag;
    }
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: s3.key, Range: range, IfMatch: ifMatch }));
      if (!(res.Body instanceof Readable)) {
        throw new ListwashError(ErrorCodes.STORAGE_IO, `cannot read ${s3.url}: the response body is not a Node stream`, { url: s3.url });
      }
      return res.Body;
    } catch (err) {
      // The object shrank to nothing since the HEAD: "416 InvalidRange".
      if (range !== undefined && (errorName(err) === 'InvalidRange' || httpStatus(err) === 416)) return Readable.from([]);
      throw s3Error('read', s3, err);
    }
  }

  async openWrite(loc: Location, opts: WriteOptions = {}): Promise<WriteHandle> {
    const s3 = asS3(loc);
    assertObjectLocation(s3, 'write');
    // Upload reads this in parts; its buffer fills and `write()` returns false while parts are in flight.
    const body = new PassThrough();
    const upload = new Upload({
      client: this.client,
      params: { Bucket: s3.bucket, Key: s3.key, Body: body, ContentType: opts.contentType },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    // The failure is reported by `done` (and to `pipeline` through `body.errored`); without a listener an 'error'
    // emitted before the caller has attached one would crash the process.
    body.on('error', reportedThroughDone);
    let aborted = false;
    const done = upload.done().then(
      () => undefined,
      (err: unknown) => {
        const mapped = aborted ? abortedError(s3) : s3Error('write', s3, err);
        // Unblock a writer still waiting on backpressure: nobody will read the rest.
        if (!body.writableFinished) body.destroy(aborted ? undefined : mapped);
        throw mapped;
      },
    );
    return {
      stream: body,
      done,
      abort: async () => {
        aborted = true;
        await upload.abort();
        await settleAborted(done);
      },
    };
  }

  async exists(loc: Location): Promise<boolean> {
    return (await this.size(loc)) !== null;
  }

  async size(loc: Location): Promise<number | null> {
    return (await this.head(asS3(loc)))?.size ?? null;
  }

  async delete(loc: Location): Promise<boolean> {
    const s3 = asS3(loc);
    assertObjectLocation(s3, 'delete');
    if ((await this.head(s3)) === null) return false;
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: s3.key }));
      return true;
    } catch (err) {
      throw s3Error('delete', s3, err);
    }
  }

  /** HeadObject: size and ETag, or `null` when the object (or bucket) does not exist or `loc` is a prefix. */
  private async head(s3: S3Location): Promise<{ size: number; etag: string | undefined } | null> {
    if (s3.key === '' || s3.key.endsWith('/')) return null;
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: s3.key }));
      return { size: res.ContentLength ?? 0, etag: res.ETag };
    } catch (err) {
      const mapped = s3Error('stat', s3, err);
      if (mapped.code === ErrorCodes.STORAGE_NOT_FOUND) return null;
      throw mapped;
    }
  }
}
