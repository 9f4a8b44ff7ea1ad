/**
 * API keys from the settings: `LISTWASH_API_KEYS` (`name:token,…`), `LISTWASH_API_KEYS_FILE` (JSON
 * with per-key restrictions) and `LISTWASH_ADMIN_KEY` (the key named `admin`). Only SHA-256 digests of
 * the tokens are kept; a presented token is hashed and compared with every key's digest in constant
 * time, so neither the token's length nor how much of it matches shows in the timing. Tokens never
 * appear in errors or logs (an error names the key, not its token).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config } from '../config.js';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import { canonicalPrefix } from './locations.js';

export interface ApiKey {
  /** The key's name: the owner of the lists it submits. */
  name: string;
  /** Opens the queue dashboard and `/metrics`. */
  admin: boolean;
  /** Location prefixes (`s3://bucket/prefix/`, `file:///dir/`, canonical: see `canonicalPrefix`) the key may read lists from; null = any. */
  inputPrefixes: string[] | null;
  /** Location prefixes the key may write results under; null = any. */
  outputPrefixes: string[] | null;
}

interface StoredKey extends ApiKey {
  digest: Buffer;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MIN_TOKEN = 16;

function digestOf(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function invalid(env: string, message: string): ListwashError {
  return new ListwashError(ErrorCodes.CONFIG_INVALID, `${env}: ${message}`, { env });
}

/** `name:token` pairs. */
export function keysFromList(pairs: readonly string[], env = 'LISTWASH_API_KEYS'): StoredKey[] {
  return pairs.map((pair, i) => {
    const cut = pair.indexOf(':');
    const name = cut > 0 ? pair.slice(0, cut) : '';
    const token = cut > 0 ? pair.slice(cut + 1) : '';
    if (!NAME_RE.test(name)) throw invalid(env, `entry ${i + 1} is not name:token with a name of letters, digits, . _ - (1–64)`);
    if (token.length < MIN_TOKEN) throw invalid(env, `the token of key ${name} is shorter than ${MIN_TOKEN} characters`);
    return { name, admin: false, inputPrefixes: null, outputPrefixes: null, digest: digestOf(token) };
  });
}

function prefixList(env: string, name: string, field: string, v: unknown): string[] | null {
  if (v === undefined) return null;
  if (!Array.isArray(v) || v.some((p) => typeof p !== 'string' || !/^(s3|file):\/\//i.test(p))) {
    throw invalid(env, `key ${name}: ${field} must be a list of s3:// or file:// prefixes`);
  }
  try {
    return (v as string[]).map(canonicalPrefix);
  } catch (err) {
    throw invalid(env, `key ${name}: ${field}: ${errorMessage(err)}`);
  }
}

/** The keys file: `{ "keys": [{ name, token | tokenSha256, admin?, inputPrefixes?, outputPrefixes? }] }`. */
export function keysFromFile(path: string, env = 'LISTWASH_API_KEYS_FILE'): StoredKey[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ListwashError(ErrorCodes.CONFIG_FILE, `${env}: cannot read ${path}: ${errorMessage(err)}`, { env, path });
  }
  const list = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) throw invalid(env, `${path} must hold {"keys": [...]}`);
  return list.map((k: unknown, i) => {
    const o = (k ?? {}) as Record<string, unknown>;
    const name = typeof o.name === 'string' ? o.name : '';
    if (!NAME_RE.test(name)) throw invalid(env, `key ${i + 1} has no valid name (letters, digits, . _ -, 1–64)`);
    let digest: Buffer;
    if (typeof o.token === 'string') {
      if (o.token.length < MIN_TOKEN) throw invalid(env, `the token of key ${name} is shorter than ${MIN_TOKEN} characters`);
      digest = digestOf(o.token);
    } else if (typeof o.tokenSha256 === 'string' && /^[0-9a-f]{64}$/i.test(o.tokenSha256)) {
      digest = Buffer.from(o.tokenSha256, 'hex');
    } else {
      throw invalid(env, `key ${name} needs "token" or "tokenSha256" (64 hex digits)`);
    }
    if (o.admin !== undefined && typeof o.admin !== 'boolean') throw invalid(env, `key ${name}: admin must be true or false`);
    return {
      name,
      admin: o.admin === true,
      inputPrefixes: prefixList(env, name, 'inputPrefixes', o.inputPrefixes),
      outputPrefixes: prefixList(env, name, 'outputPrefixes', o.outputPrefixes),
      digest,
    };
  });
}

/** The keys a server accepts; looks a token up in constant time. */
export class KeyRing {
  private constructor(private readonly keys: readonly StoredKey[]) {}

  /** All keys of the settings. Fails with `CONFIG_INVALID` on a bad entry, a duplicate, or no key at all. */
  static fromConfig(cfg: Pick<Config, 'apiKeys' | 'apiKeysFile' | 'adminKey'>): KeyRing {
    const keys = [...keysFromList(cfg.apiKeys), ...(cfg.apiKeysFile ? keysFromFile(cfg.apiKeysFile) : [])];
    if (cfg.adminKey) {
      if (cfg.adminKey.length < MIN_TOKEN) throw invalid('LISTWASH_ADMIN_KEY', `the admin token is shorter than ${MIN_TOKEN} characters`);
      keys.push({ name: 'admin', admin: true, inputPrefixes: null, outputPrefixes: null, digest: digestOf(cfg.adminKey) });
    }
    return KeyRing.of(keys);
  }

  static of(keys: readonly StoredKey[]): KeyRing {
    if (keys.length === 0) throw invalid('LISTWASH_API_KEYS', 'no API key is configured (set LISTWASH_API_KEYS, LISTWASH_API_KEYS_FILE or LISTWASH_ADMIN_KEY)');
    const names = new Set<string>();
    const digests = new Set<string>();
    for (const k of keys) {
      if (names.has(k.name)) throw invalid('LISTWASH_API_KEYS', `key name ${k.name} is used twice`);
      const d = k.digest.toString('hex');
      if (digests.has(d)) throw invalid('LISTWASH_API_KEYS', `key ${k.name} has the same token as another key`);
      names.add(k.name);
      digests.add(d);
    }
    return new KeyRing(keys);
  }

  /** The key whose token this is, or null. Compares with every key (no early exit). */
  find(token: string): ApiKey | null {
    const d = digestOf(token);
    let found: StoredKey | null = null;
    for (const k of this.keys) if (timingSafeEqual(d, k.digest) && found === null) found = k;
    if (!found) return null;
    const { digest: _digest, ...key } = found;
    return key;
  }

  get size(): number {
    return this.keys.length;
  }
}

/** The token of an `Authorization` header: `Bearer <token>`, or the password of `Basic` (for browsers on the dashboard). */
export function tokenOf(header: string | undefined): string | null {
  if (!header) return null;
  const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (bearer) return bearer[1]!;
  const basic = /^Basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(header);
  if (basic) {
    const text = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const cut = text.indexOf(':');
    return cut >= 0 && cut < text.length - 1 ? text.slice(cut + 1) : null;
  }
  return null;
}
