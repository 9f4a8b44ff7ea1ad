/**
 * A `multipart/form-data` list upload: the CSV in field `file` is streamed to storage under
 * `LISTWASH_UPLOAD_PREFIX` as it arrives (never held in memory whole); past
 * `LISTWASH_UPLOAD_MAX_BYTES` the write is aborted (nothing stays in storage) and the answer is `413`.
 * The other form fields are collected as text and validated by the caller.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type {} from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { joinLocation, parseLocation, storeFor, type Location } from '../storage/index.js';
import { fieldError } from './errors.js';

export interface ReceivedUpload {
  /** Where the CSV was stored (`s3://…` or `file://…`), the list's input. */
  input: string;
  size: number;
  /** The other form fields, as sent. */
  fields: Record<string, string>;
  /** Delete the stored file (a refused or repeated submission). Failures are logged, not thrown. */
  discard(): Promise<void>;
}

/** Most form fields besides the file, and the longest one. */
const MAX_FIELDS = 16;
const MAX_FIELD_BYTES = 4096;

/** `March list (final).csv` → `March-list-final-.csv`: a safe object/file name. Pure. */
export function safeFileName(name: string | undefined): string {
  const base = (name ?? '').split(/[/\\]/).pop() ?? '';
  const clean = base.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '').slice(0, 100);
  return clean === '' ? 'upload.csv' : clean;
}

/** The location of a new upload: `<prefix><uuid>/<file name>`. */
export function uploadLocation(uploadPrefix: string, fileName: string | undefined): Location {
  return joinLocation(parseLocation(uploadPrefix), `${randomUUID()}/${safeFileName(fileName)}`);
}

function tooLarge(max: number): ListwashError {
  return new ListwashError(ErrorCodes.API_PAYLOAD_TOO_LARGE, `the file is larger than this server accepts (${max} bytes)`, { field: 'file', in: 'body' });
}

export async function receiveUpload(req: FastifyRequest, cfg: Config, log: Logger): Promise<ReceivedUpload> {
  if (cfg.uploadPrefix === '') throw new ListwashError(ErrorCodes.UPLOADS_DISABLED, 'uploads are not enabled on this server (LISTWASH_UPLOAD_PREFIX); submit an s3:// input as JSON instead');
  const fields: Record<string, string> = {};
  let stored: { location: Location; size: number } | null = null;
  const discard = async (): Promise<void> => {
    if (!stored) return;
    const { location } = stored;
    await storeFor(location, cfg)
      .delete(location)
      .then(
        () => undefined,
        (err: unknown) => log.warn({ upload: location.url }, `could not delete an unused upload: ${errorMessage(err)}`),
      );
  };
  try {
    const parts = req.parts({ limits: { fileSize: cfg.uploadMaxBytes, files: 1, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES } });
    for await (const part of parts) {
      if (part.type === 'field') {
        if (part.valueTruncated) throw fieldError(ErrorCodes.API_VALIDATION, `${part.fieldname}: longer than ${MAX_FIELD_BYTES} bytes`, part.fieldname);
        fields[part.fieldname] = String(part.value);
        continue;
      }
      if (part.fieldname !== 'file') {
        part.file.resume();
        throw fieldError(ErrorCodes.API_VALIDATION, `${part.fieldname}: the CSV goes in the form field "file"`, part.fieldname);
      }
      stored = await storeFile(part.file, uploadLocation(cfg.uploadPrefix, part.filename), cfg, log);
    }
  } catch (err) {
    await discard();
    if (err instanceof ListwashError) throw err;
    if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge(cfg.uploadMaxBytes);
    throw err;
  }
  if (!stored) throw fieldError(ErrorCodes.API_VALIDATION, 'file: is required (the CSV in the form field "file")', 'file');
  log.info({ upload: stored.location.url, bytes: stored.size }, 'list uploaded');
  return { input: stored.location.url, size: stored.size, fields, discard };
}

/** Stream one file part to storage; a truncated part (past the size limit) is aborted. */
async function storeFile(file: Readable & { truncated?: boolean }, location: Location, c: Config, log: Logger): Promise<{ location: Location; size: number }> {
  const handle = await storeFor(location, c).openWrite(location, { contentType: 'text/csv; charset=utf-8' });
  let size = 0;
  // Counts the bytes, and fails the copy BEFORE the destination is ended when busboy cut the file at
  // the size limit: an ended write would publish the truncated object.
  const count = async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      size += chunk.length;
      yield chunk;
    }
    if (file.truncated) throw tooLarge(c.uploadMaxBytes);
  };
  try {
    await pipeline(file, count, handle.stream);
    await handle.done;
  } catch (err) {
    await handle.abort().catch((e: unknown) => log.warn({ upload: location.url }, `could not abort an upload: ${errorMessage(e)}`));
    throw err;
  }
  return { location, size };
}
