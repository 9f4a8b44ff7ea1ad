/**
 * The S3 store: GetObject (optionally a Range GET) for reads — resumed with a Range GET when a connection breaks
 * (`s3-resume.ts`) —, lib-storage `Upload` (multipart, bounded memory) for writes, each checked afterwards with a
 * HeadObject (the stored size must be the bytes written), HeadObject for exists/size, DeleteObject for delete. SDK
 * errors become typed errors: `STORAGE_NOT_FOUND`, `STORAGE_ACCESS_DENIED`, else `STORAGE_IO`. The SDK itself retries
 * failed requests (5xx, `SlowDown`, resets; `AWS_MAX_ATTEMPTS`, default 3 attempts).
 */
import { Readable, Transform } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import type { Location, S3Location } from './location.js';
import { DEFAULT_RESUME, gaveUpReason, resumingBody, type BodyPart, type ResumeOptions } from './s3-resume.js';
import { abortedError, assertObjectLocation, checkMaxBytes, handled, reportedThroughDone, settleAborted, settled, writeAndDeleteProbe } from './store-common.js';
import type { ReadOptions, StagedWrite, Store, WriteHandle, WriteOptions } from './store.js';

const MiB = 1024 * 1024;

export interface S3StoreOptions {
  /** Multipart part size in bytes (S3 minimum 5 MiB). Default 8 MiB — objects up to ~78 GiB (10,000 parts). */
  partSize?: number;
  /** Parts uploaded concurrently. Default 4. Memory held by one write is at most about `partSize × queueSize`. */
  queueSize?: number;
  /** How reads resume after broken connections. Default {@link DEFAULT_RESUME}. */
  resume?: ResumeOptions;
}

/** S3 error names that mean "no such object/bucket". */
const NOT_FOUND_NAMES = new Set(['NoSuchKey', 'NoSuchBucket', 'NotFound']);
/** S3 error names that mean "you may not": permissions or credentials. */
const ACCESS_DENIED_NAMES = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'AllAccessDisabled', 'AccountProblem']);

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
  const details = { url: loc.url, bucket: loc.bucket, key: loc.key, s3Error: s3ErrorName, httpStatus: status, reason: `${what} does not exist` };
  return new ListwashError(ErrorCodes.STORAGE_NOT_FOUND, `${what} does not exist`, details, cause === undefined ? undefined : { cause });
}

/** ` (AccessDenied, HTTP 403)`: the S3 error name and status, as far as known. */
function s3Tag(name: string, status: number | undefined): string {
  const parts = [name, status !== undefined ? `HTTP ${status}` : ''].filter((p) => p !== '');
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/** Map an SDK error to a typed error (a `ListwashError` passes through). */
export function s3Error(op: string, loc: S3Location, err: unknown): ListwashError {
  if (err instanceof ListwashError) return err;
  const name = errorName(err);
  const status = httpStatus(err);
  if (NOT_FOUND_NAMES.has(name) || status === 404) return notFound(loc, name, status, err);
  const details = { url: loc.url, bucket: loc.bucket, key: loc.key, s3Error: name, httpStatus: status };
  if (ACCESS_DENIED_NAMES.has(name) || status === 403) {
    const reason = `access denied${s3Tag(name, status)}`;
    return new ListwashError(ErrorCodes.STORAGE_ACCESS_DENIED, `cannot ${op} ${loc.url}: ${reason}`, { ...details, reason }, { cause: err });
  }
  const reason = `${name && name !== 'Error' ? `${name}: ` : ''}${errorMessage(err)}`;
  return new ListwashError(ErrorCodes.STORAGE_IO, `cannot ${op} ${loc.url}: ${reason}`, { ...details, reason }, { cause: err });
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
  private readonly resume: ResumeOptions;

  constructor(
    private readonly client: S3Client,
    opts: S3StoreOptions = {},
  ) {
    this.partSize = opts.partSize ?? 8 * MiB;
    this.queueSize = opts.queueSize ?? 4;
    this.resume = opts.resume ?? DEFAULT_RESUME;
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
    let first: BodyPart;
    try {
      first = await this.get(s3, 0, range, ifMatch);
    } catch (err) {
      // The object shrank to nothing since the HEAD: "416 InvalidRange".
      if (range !== undefined && (errorName(err) === 'InvalidRange' || httpStatus(err) === 416)) return Readable.from([]);
      throw s3Error('read', s3, err);
    }
    const refetch = async (from: number, end: number | undefined, etag: string | undefined): Promise<BodyPart> => {
      try {
        return await this.get(s3, from, `bytes=${from}-${end !== undefined ? end - 1 : ''}`, etag);
      } catch (err) {
        throw s3Error('read (resuming)', s3, err);
      }
    };
    const giveUp = (err: unknown, why: string) =>
      new ListwashError(ErrorCodes.STORAGE_IO, `cannot read ${s3.url}: ${gaveUpReason(err, why)}`, { url: s3.url, bucket: s3.bucket, key: s3.key, reason: gaveUpReason(err, why) }, { cause: err });
    const out = Readable.from(resumingBody(first, refetch, giveUp, this.resume), { objectMode: false });
    // A reader that stops before the first read never starts the generator, which would close the body.
    out.once('close', () => first.body.destroy());
    return out;
  }

  /** One GetObject: its body and the bytes it covers (`from` is the range's first byte). */
  private async get(s3: S3Location, from: number, range: string | undefined, ifMatch: string | undefined): Promise<BodyPart> {
    const res = await this.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: s3.key, Range: range, IfMatch: ifMatch }));
    if (!(res.Body instanceof Readable)) {
      throw new ListwashError(ErrorCodes.STORAGE_IO, `cannot read ${s3.url}: the response body is not a Node stream`, { url: s3.url });
    }
    return { body: res.Body, start: from, end: res.ContentLength !== undefined ? from + res.ContentLength : undefined, etag: res.ETag };
  }

  async openStaged(loc: Location, opts: WriteOptions = {}): Promise<StagedWrite> {
    const s3 = asS3(loc);
    assertObjectLocation(s3, 'write');
    let bytes = 0;
    // Upload reads this in parts; its buffer fills and `write()` returns false while parts are in flight. It counts
    // the bytes, for the check of the stored object.
    const body = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    const upload = new Upload({
      client: this.client,
      params: { Bucket: s3.bucket, Key: s3.key, Body: body, ContentType: opts.contentType },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    // The failure is reported by `stored` (and to `pipeline` through `body.errored`); without a listener an 'error'
    // emitted before the caller has attached one would crash the process.
    body.on('error', reportedThroughDone);
    let cancelled = false;
    const stored = handled(
      (async () => {
        try {
          await upload.done();
        } catch (err) {
          const mapped = cancelled ? abortedError(s3) : s3Error('write', s3, err);
          // Unblock a writer still waiting on backpressure: nobody will read the rest.
          if (!body.writableFinished) body.destroy(cancelled ? undefined : mapped);
          throw mapped;
        }
        if (cancelled) throw abortedError(s3);
        await this.checkStored(s3, bytes);
      })(),
    );
    return {
      stream: body,
      stored,
      publish: async () => {
        await stored;
      },
      cancel: async () => {
        cancelled = true;
        await upload.abort();
        await settled(stored);
      },
    };
  }

  /** The object at `s3` must hold exactly the `bytes` written: a body cut short in transit must not pass as whole. */
  private async checkStored(s3: S3Location, bytes: number): Promise<void> {
    let head;
    try {
      head = await this.head(s3);
    } catch (err) {
      throw s3Error('check the written object', s3, err);
    }
    if (head?.size === bytes) return;
    const reason = head === null ? `the object is missing after the upload` : `the stored object has ${head.size} bytes, ${bytes} were written`;
    throw new ListwashError(ErrorCodes.STORAGE_IO, `cannot write ${s3.url}: ${reason}`, { url: s3.url, bucket: s3.bucket, key: s3.key, reason, written: bytes, stored: head?.size ?? null });
  }

  async openWrite(loc: Location, opts: WriteOptions = {}): Promise<WriteHandle> {
    const staged = await this.openStaged(loc, opts);
    return {
      stream: staged.stream,
      done: staged.stored,
      abort: async () => {
        await staged.cancel();
        await settleAborted(staged.stored);
      },
    };
  }

  async removeLeftovers(loc: Location): Promise<number> {
    assertObjectLocation(asS3(loc), 'clean up after');
    // Nothing visible is left by a killed upload: see `Store.removeLeftovers`.
    return 0;
  }

  async probeWrite(output: Location): Promise<void> {
    await writeAndDeleteProbe(this, asS3(output));
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
