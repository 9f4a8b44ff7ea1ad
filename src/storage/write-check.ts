/**
 * Is an output location writable? Checked before a list is probed (at submit and when its split starts), so that a
 * typo or a read-only folder fails in seconds instead of after hours of SMTP: a small probe file is written under the
 * prefix and deleted again — the same operations the results need (local: create the folder, write a temp file,
 * rename, delete, and remove the folders it created; S3: PutObject, HeadObject, DeleteObject).
 */
import { ListwashError } from '../errors.js';
import { parseLocation, type Location } from './location.js';
import type { S3Settings } from './s3.js';
import { displayLocation } from './store-common.js';
import { storeFor, type Store } from './store.js';

/**
 * Write and delete a probe file under the prefix `output`.
 * @throws the store's typed error (`STORAGE_READ_ONLY`, `STORAGE_ACCESS_DENIED`, `STORAGE_NO_SPACE`,
 *   `STORAGE_NOT_FOUND` for a missing bucket, `STORAGE_IO`, …) with the message `output <where> is not writable: <why>`.
 */
export async function checkWritable(store: Store, output: Location): Promise<void> {
  try {
    await store.probeWrite(output);
  } catch (err) {
    if (!(err instanceof ListwashError)) throw err;
    const why = typeof err.details.reason === 'string' ? err.details.reason : err.message;
    throw new ListwashError(err.code, `output ${displayLocation(output)} is not writable: ${why}`, { ...err.details, output: output.url }, { cause: err });
  }
}

/** {@link checkWritable} for an output location string, with the store the pipeline would use. */
export async function checkOutputWritable(output: string, cfg: S3Settings): Promise<void> {
  const loc = parseLocation(output);
  await checkWritable(storeFor(loc, cfg), loc);
}
