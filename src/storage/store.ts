/**
 * One small storage interface with a local-filesystem and an S3 implementation, chosen by location.
 */
import type { Readable, Writable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Location } from './location.js';
import { LocalStore } from './local-store.js';
import { S3Store } from './s3-store.js';
import { createS3Client, type S3Settings } from './s3.js';

export interface ReadOptions {
  /** Read at most this many bytes from the start (S3: a Range GET). Default: the whole object. */
  maxBytes?: number;
}

export interface WriteOptions {
  /** Content-Type stored with an S3 object. Default: none (S3 says `binary/octet-stream`). Ignored locally. */
  contentType?: string;
}

/**
 * A streaming write in progress. Write to `stream` (e.g. with `stream/promises` `pipeline`) and `end()` it, then
 * await `done`: only then is the object/file visible, complete, at its location. Await `done` or call `abort()`; a
 * failed write rejects `done` (marked handled: a write nobody awaits any more cannot crash the process).
 */
export interface WriteHandle {
  stream: Writable;
  /** Resolves once the object/file is in place. Rejects with a typed storage error (after `abort()`: `STORAGE_IO`, `details.aborted`). */
  done: Promise<void>;
  /**
   * Cancel the write: nothing appears at the location, partial data (temp file, multipart parts) is removed.
   * After `done` has resolved it is too late: the object stays.
   */
  abort(): Promise<void>;
}

/**
 * A write whose data is stored first and put in place later, so that several files can appear together (see
 * `ResultSet`). Locally the data goes to a hidden temp file beside the target (`.<name>.<12 hex>.tmp`) and `publish()`
 * renames it into place. S3 has no rename: the object is written at its key, `publish()` does nothing, and a marker
 * object written last tells a complete set from a partial one.
 */
export interface StagedWrite {
  stream: Writable;
  /**
   * Resolves once the data is stored in full: flushed to disk (local), or uploaded and its stored size checked against
   * the bytes written (S3 — a truncated object is an error). Rejects with a typed storage error; marked handled.
   */
  stored: Promise<void>;
  /** Put the stored data at its location (local: rename the temp file). Call after `stored` resolved. */
  publish(): Promise<void>;
  /**
   * Stop the write if it is still running and remove its temp data (local temp file, S3 multipart parts). Never touches
   * the location itself (an S3 object already written stays: remove it with `Store.delete`). Resolves when done; throws
   * only when the temp data cannot be removed. The write's own failure is reported by `stored`.
   */
  cancel(): Promise<void>;
}

export interface Store {
  /** Stream an object/file. Missing → ListwashError `STORAGE_NOT_FOUND`; a prefix → `STORAGE_BAD_URL`. */
  openRead(loc: Location, opts?: ReadOptions): Promise<Readable>;
  /**
   * Streaming write. S3 uses `@aws-sdk/lib-storage` `Upload` (multipart, bounded queue/part size) and never buffers
   * the whole object. Local writes go to a temp file beside the target, then are renamed into place (atomic).
   */
  openWrite(loc: Location, opts?: WriteOptions): Promise<WriteHandle>;
  /** A staged streaming write (see {@link StagedWrite}). */
  openStaged(loc: Location, opts?: WriteOptions): Promise<StagedWrite>;
  /**
   * Remove what a killed writer of `loc` left behind: locally the hidden temp files of this name
   * (`.<name>.<12 hex>.tmp`, never anything else); S3 has nothing to remove (parts of an unfinished multipart upload
   * are invisible; a bucket lifecycle rule `AbortIncompleteMultipartUpload` expires them). Returns how many were removed.
   */
  removeLeftovers(loc: Location): Promise<number>;
  /**
   * Write a small probe file under the prefix `output` and delete it again: the operations results need. Leaves
   * nothing behind (locally, folders it had to create are removed again).
   * @throws the store's typed error.
   */
  probeWrite(output: Location): Promise<void>;
  /** Whether the object/file exists. */
  exists(loc: Location): Promise<boolean>;
  /** Size in bytes, or `null` when it does not exist. */
  size(loc: Location): Promise<number | null>;
  /** Remove an object/file. One that does not exist is not an error (returns false). */
  delete(loc: Location): Promise<boolean>;
}

export interface StoreForOptions {
  /** Use this client instead of the shared one made from `cfg` (tests, custom credentials). */
  s3Client?: S3Client;
}

/** One client per distinct endpoint/region/path-style, shared for the process (connection reuse). */
const sharedClients = new Map<string, S3Client>();

function sharedS3Client(cfg: S3Settings): S3Client {
  const key = JSON.stringify([cfg.s3Endpoint, cfg.s3Region, cfg.s3ForcePathStyle]);
  let client = sharedClients.get(key);
  if (client === undefined) {
    client = createS3Client(cfg);
    sharedClients.set(key, client);
  }
  return client;
}

/** The store that serves `loc`: an `S3Store` for `s3://`, else a `LocalStore`. */
export function storeFor(loc: Location, cfg: S3Settings, opts: StoreForOptions = {}): Store {
  if (loc.kind === 's3') return new S3Store(opts.s3Client ?? sharedS3Client(cfg));
  return new LocalStore();
}
