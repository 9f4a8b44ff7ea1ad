/**
 * Local file-system errors as typed storage errors that say what happened, with the errno:
 * `cannot write /out/report.csv: read-only file system (EROFS)`.
 */
import { getSystemErrorMap } from 'node:util';
import { ErrorCodes, ListwashError, errorMessage, type ErrorCode } from '../errors.js';
import type { FileLocation } from './location.js';

/** Errnos with a code of their own; the rest are `STORAGE_IO`. */
const CODE_BY_ERRNO: Readonly<Record<string, ErrorCode>> = {
  EROFS: ErrorCodes.STORAGE_READ_ONLY,
  EACCES: ErrorCodes.STORAGE_ACCESS_DENIED,
  EPERM: ErrorCodes.STORAGE_ACCESS_DENIED,
  ENOSPC: ErrorCodes.STORAGE_NO_SPACE,
  EDQUOT: ErrorCodes.STORAGE_NO_SPACE,
  ENOENT: ErrorCodes.STORAGE_NOT_FOUND,
};

/** Words for errnos that libuv's table may lack. */
const WORDS_FALLBACK: Readonly<Record<string, string>> = { EDQUOT: 'disk quota exceeded' };

/** `STORAGE_IO` errnos that trying again will not change: the path itself is wrong. */
const PERMANENT_ERRNOS = new Set(['ENOTDIR', 'EISDIR', 'EEXIST', 'ENAMETOOLONG', 'ELOOP', 'EFBIG']);

/** The errno name of a Node system error (`EROFS`), if it is one. */
export function errnoCode(err: unknown): string | undefined {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** What a system error says in words, with its errno: `read-only file system (EROFS)`. */
export function errnoText(err: unknown): string {
  const code = errnoCode(err);
  const errno = err instanceof Error && 'errno' in err && typeof err.errno === 'number' ? err.errno : undefined;
  const words = (errno === undefined ? undefined : getSystemErrorMap().get(errno)?.[1]) ?? (code !== undefined ? WORDS_FALLBACK[code] : undefined);
  if (code !== undefined && words !== undefined) return `${words} (${code})`;
  return errorMessage(err);
}

/**
 * A typed error for a failed file-system operation on `loc`.
 * @param op what was being done: `read`, `write`, `stat`, …
 * @param extra more to say after the reason (e.g. a temp file that could not be removed).
 */
export function fsError(op: string, loc: FileLocation, err: unknown, extra?: { note: string; details: Record<string, unknown> }): ListwashError {
  if (err instanceof ListwashError && extra === undefined) return err;
  const cause = err instanceof ListwashError && err.cause !== undefined ? err.cause : err;
  const errno = errnoCode(cause);
  const code = (errno !== undefined ? CODE_BY_ERRNO[errno] : undefined) ?? ErrorCodes.STORAGE_IO;
  const reason = code === ErrorCodes.STORAGE_NOT_FOUND && op === 'read' ? 'does not exist' : errnoText(cause);
  const details = { url: loc.url, path: loc.path, errno, reason, ...(errno !== undefined && PERMANENT_ERRNOS.has(errno) ? { permanent: true } : {}), ...extra?.details };
  const head = reason === 'does not exist' ? `${loc.path} does not exist` : `cannot ${op} ${loc.path}: ${reason}`;
  return new ListwashError(code, extra ? `${head}; ${extra.note}` : head, details, { cause });
}
