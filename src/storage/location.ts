/**
 * Storage locations: where an input list is read from and where results are written to.
 * Pure parsing and joining; no I/O.
 *
 * Accepted forms:
 * - `s3://bucket/key` — an object; `s3://bucket/prefix/` (trailing `/`) or `s3://bucket` — a prefix.
 * - `file:///abs/path` — a local file (percent-decoded); a trailing `/` makes it a directory prefix.
 * - a plain path — relative paths are resolved against the working directory; trailing `/` → prefix.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ErrorCodes, ListwashError } from '../errors.js';

export interface S3Location {
  kind: 's3';
  bucket: string;
  /** Object key, or a prefix (`''` or ending in `/`). Taken literally, never percent-decoded. */
  key: string;
  /** Canonical form, `s3://bucket/key`. */
  url: string;
}

export interface FileLocation {
  kind: 'file';
  /** Absolute path; ends in `/` when it names a directory prefix. */
  path: string;
  /** Canonical form, a `file://` URL. */
  url: string;
}

export type Location = S3Location | FileLocation;

/** Bucket names: current S3 rules plus legacy upper-case/underscore names (us-east-1). */
const BUCKET_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$/;
/** A URL scheme of two or more characters (one letter would be a Windows drive). */
const SCHEME_RE = /^([A-Za-z][A-Za-z0-9+.-]+):/;

function badUrl(input: string, why: string): ListwashError {
  return new ListwashError(ErrorCodes.STORAGE_BAD_URL, `bad storage location ${JSON.stringify(input)}: ${why}`, { url: input });
}

/** What is wrong with an S3 bucket/key pair, or `null`. */
function s3Problem(bucket: string, key: string): string | null {
  if (bucket === '') return 'missing bucket name (expected s3://bucket/key)';
  if (!BUCKET_RE.test(bucket)) return `invalid bucket name ${JSON.stringify(bucket)}`;
  if (key.includes('\0')) return 'key contains a NUL character';
  return null;
}

/** Build an S3 location, validating the bucket name. */
export function s3Location(bucket: string, key: string): S3Location {
  const url = `s3://${bucket}/${key}`;
  const problem = s3Problem(bucket, key);
  if (problem !== null) throw badUrl(url, problem);
  return { kind: 's3', bucket, key, url };
}

/** Build a local location from an absolute path (a trailing `/` marks a directory prefix). */
export function fileLocation(absPath: string): FileLocation {
  if (!isAbsolute(absPath)) throw badUrl(absPath, 'local path must be absolute');
  if (absPath.includes('\0')) throw badUrl(absPath, 'path contains a NUL character');
  const dir = absPath.endsWith('/');
  const normal = resolve(absPath) + (dir && absPath !== '/' ? '/' : '');
  return { kind: 'file', path: normal, url: pathToFileURL(normal).href };
}

/**
 * Parse a location string.
 * @param input `s3://…`, `file://…` or a path.
 * @param cwd directory that relative paths are resolved against (default: `process.cwd()`).
 * @throws ListwashError `STORAGE_BAD_URL` for empty input, `s3://` without a bucket, or any other scheme.
 */
export function parseLocation(input: string, cwd: string = process.cwd()): Location {
  if (input.trim() === '') throw badUrl(input, 'empty');
  const scheme = SCHEME_RE.exec(input)?.[1]?.toLowerCase();
  if (scheme === undefined) return fileLocation(resolvePlainPath(input, cwd));
  if (scheme === 's3') {
    if (!input.slice(0, 5).toLowerCase().startsWith('s3://')) throw badUrl(input, 'expected s3://bucket/key');
    const rest = input.slice(5);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const key = slash === -1 ? '' : rest.slice(slash + 1);
    const problem = s3Problem(bucket, key);
    if (problem !== null) throw badUrl(input, problem);
    return s3Location(bucket, key);
  }
  if (scheme === 'file') {
    if (!input.toLowerCase().startsWith('file://')) throw badUrl(input, 'expected file:///absolute/path');
    let path: string;
    try {
      path = fileURLToPath(input);
    } catch (err) {
      throw new ListwashError(ErrorCodes.STORAGE_BAD_URL, `bad storage location ${JSON.stringify(input)}: ${(err as Error).message}`, { url: input }, { cause: err });
    }
    return fileLocation(path);
  }
  throw badUrl(input, `unsupported scheme "${scheme}:" (use s3://bucket/key, file:///path or a local path)`);
}

function resolvePlainPath(input: string, cwd: string): string {
  const abs = resolve(cwd, input);
  return input.endsWith('/') && abs !== '/' ? `${abs}/` : abs;
}

/** True when the location names a prefix/directory rather than one object or file. */
export function isPrefix(loc: Location): boolean {
  return loc.kind === 's3' ? loc.key === '' || loc.key.endsWith('/') : loc.path.endsWith('/');
}

/**
 * A location for `name` under `prefix` (`s3://b/out/` + `report.csv` → `s3://b/out/report.csv`). A prefix without a
 * trailing `/` is treated as a directory all the same (`s3://b/out` + `x.csv` → `s3://b/out/x.csv`).
 * @param name a relative name, may contain `/`; no empty, `.` or `..` segments, not absolute.
 * @throws ListwashError `STORAGE_BAD_URL` for an unsafe name.
 */
export function joinLocation(prefix: Location, name: string): Location {
  const segments = name.replace(/\/$/, '').split('/');
  if (name === '' || name.startsWith('/') || name.includes('\0') || name.includes('\\') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw badUrl(name, `not a safe relative name to put under ${prefix.url}`);
  }
  if (prefix.kind === 's3') {
    const base = prefix.key === '' || prefix.key.endsWith('/') ? prefix.key : `${prefix.key}/`;
    return s3Location(prefix.bucket, base + name);
  }
  return fileLocation(join(prefix.path, name));
}
