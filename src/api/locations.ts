/**
 * Which input and output locations a request may use: `s3://` or `file://` only; no `..` segment
 * anywhere; local paths only inside `LISTWASH_LOCAL_ROOT`, checked on the real path (symbolic links
 * resolved), so a link inside the root cannot lead out of it; and the API key's own prefix
 * restrictions. The location handed to the service is the checked one (real path for local files).
 */
import { existsSync, realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorCodes, ListwashError } from '../errors.js';
import { isPrefix, parseLocation, type Location } from '../storage/index.js';
import type { ApiKey } from './keys.js';

export type LocationRole = 'input' | 'output';

export interface LocationPolicy {
  /** Real path of `LISTWASH_LOCAL_ROOT`, or null when local paths are refused. */
  localRoot: string | null;
}

function notAllowed(field: string, message: string): ListwashError {
  return new ListwashError(ErrorCodes.LOCATION_NOT_ALLOWED, `${field}: ${message}`, { field, in: 'body' });
}

function badUrl(field: string, message: string): ListwashError {
  return new ListwashError(ErrorCodes.STORAGE_BAD_URL, `${field}: ${message}`, { field, in: 'body' });
}

/** The policy from the settings; the root must exist. */
export function locationPolicy(localRoot: string): LocationPolicy {
  if (localRoot === '') return { localRoot: null };
  const loc = parseLocation(localRoot);
  if (loc.kind !== 'file') throw new ListwashError(ErrorCodes.CONFIG_INVALID, 'LISTWASH_LOCAL_ROOT: must be a local directory', { env: 'LISTWASH_LOCAL_ROOT' });
  try {
    return { localRoot: realpathSync(loc.path) };
  } catch {
    throw new ListwashError(ErrorCodes.CONFIG_INVALID, `LISTWASH_LOCAL_ROOT: ${loc.path} does not exist`, { env: 'LISTWASH_LOCAL_ROOT' });
  }
}

/** Whether `path` is `root` or below it. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep));
}

/** A `..` segment in the path or key, after percent-decoding. */
function hasDotDot(raw: string): boolean {
  let text = raw;
  try {
    text = decodeURIComponent(raw);
  } catch {
    // Not valid percent-encoding: checked as given (parseLocation refuses it later).
  }
  return text.split(/[/\\]/).some((s) => s === '..');
}

/**
 * The real path of `path` as far as it exists, with the rest appended: symbolic links in the
 * existing part are resolved, the part not yet created is taken as written.
 */
async function realPathSoFar(path: string): Promise<string> {
  let existing = path;
  const rest: string[] = [];
  for (;;) {
    try {
      return join(await realpath(existing), ...rest.reverse());
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(existing) === existing) throw err;
      rest.push(existing.slice(dirname(existing).length).replace(/^[/\\]/, ''));
      existing = dirname(existing);
    }
  }
}

/** Sync variant for prefixes in the settings (checked once at start). */
function realPathSoFarSync(path: string): string {
  let existing = path;
  const rest: string[] = [];
  while (!existsSync(existing) && dirname(existing) !== existing) {
    rest.push(existing.slice(dirname(existing).length).replace(/^[/\\]/, ''));
    existing = dirname(existing);
  }
  return join(realpathSync(existing), ...rest.reverse());
}

/** A location's canonical text for prefix comparisons: `s3://bucket/key` or `file:///real/path` (directories end in `/`). */
function canonical(loc: Location, realPath: string | null): string {
  if (loc.kind === 's3') return loc.url;
  const p = realPath ?? loc.path;
  return pathToFileURL(p).href + (loc.path.endsWith('/') && !p.endsWith('/') ? '/' : '');
}

/** A prefix rule as a folder: `s3://b/crm` → `s3://b/crm/`; local ones by their real path. */
export function canonicalPrefix(prefix: string): string {
  const loc = parseLocation(prefix);
  const text = loc.kind === 's3' ? loc.url : pathToFileURL(realPathSoFarSync(loc.path)).href;
  return text.endsWith('/') ? text : `${text}/`;
}

/**
 * Check a location a request names. Returns the location to hand to the service. Throws
 * `STORAGE_BAD_URL` (not s3:// or file://, malformed, an input that names a folder),
 * `LOCATION_NOT_ALLOWED` (`..`, outside the local root, outside the key's prefixes) or
 * `STORAGE_NOT_FOUND` (a local input that does not exist).
 */
export async function checkLocation(raw: string, role: LocationRole, key: ApiKey, policy: LocationPolicy): Promise<string> {
  if (!/^(s3|file):\/\//i.test(raw)) throw badUrl(role, 'use an s3://bucket/key or file:///path location');
  if (hasDotDot(raw)) throw notAllowed(role, 'a location may not contain ".." segments');
  let loc: Location;
  try {
    loc = parseLocation(raw);
  } catch (err) {
    throw badUrl(role, err instanceof Error ? err.message : String(err));
  }
  if (role === 'input' && isPrefix(loc)) throw badUrl(role, 'the input must name a file, not a folder');
  let real: string | null = null;
  if (loc.kind === 'file') {
    if (policy.localRoot === null) throw notAllowed(role, 'local paths are not enabled on this server (LISTWASH_LOCAL_ROOT)');
    if (!isInside(policy.localRoot, loc.path)) throw notAllowed(role, 'the path is outside the server\'s local root');
    try {
      real = role === 'input' ? await realpath(loc.path) : await realPathSoFar(loc.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ListwashError(ErrorCodes.STORAGE_NOT_FOUND, `${role}: no such file`, { field: role, in: 'body' });
      throw new ListwashError(ErrorCodes.STORAGE_IO, `${role}: cannot resolve the path (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { field: role, in: 'body' });
    }
    if (!isInside(policy.localRoot, real)) throw notAllowed(role, 'the path leads outside the server\'s local root (symbolic link)');
  }
  const text = canonical(loc, real);
  const rules = role === 'input' ? key.inputPrefixes : key.outputPrefixes;
  if (rules !== null && !rules.some((p) => text.startsWith(p))) throw notAllowed(role, `this API key may not use this ${role} location`);
  return text;
}
