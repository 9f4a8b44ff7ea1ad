/**
 * Egress identities: who the prober is to a receiving MX host — the client address its connections
 * come from (a local source address, or a SOCKS5 proxy), the name it greets with and its envelope
 * sender. A pool of them comes from `LISTWASH_EGRESS_FILE` (a JSON array); without the file there is
 * one identity, `default`, from `LISTWASH_HELO_NAME` / `LISTWASH_MAIL_FROM`.
 *
 * Parsing and validation are pure; `loadEgressIdentities` reads the file.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ErrorCodes, ListwashError } from '../errors.js';

/** A SOCKS5 proxy (RFC 1928), with username/password authentication (RFC 1929) when given. */
export interface SocksProxy {
  host: string;
  port: number;
  userId?: string;
  password?: string;
}

export interface EgressIdentity {
  /** Stable name: throttle budgets, circuits, greylist pins and the summary key on it. */
  name: string;
  /** Local source address of the connections (must be an address of this machine). */
  bind?: string;
  /** SOCKS5 proxy the connections go through. */
  socks?: SocksProxy;
  /** Name sent in EHLO/HELO (its A/PTR records should match the identity's public address). */
  helo: string;
  /** Envelope sender for MAIL FROM (`''`: the null sender). */
  mailFrom: string;
}

/** The identity made from today's settings when no egress file is given. */
export const DEFAULT_IDENTITY = 'default';

/** Identity names: lower case, digits, `.`, `_`, `-`; they become parts of Redis keys and summary keys. */
export const IDENTITY_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

const KEYS = new Set(['name', 'bind', 'socks', 'helo', 'mailFrom']);
const BAD_NAME_CHARS = /[\s<>\r\n\0]/;

function invalid(where: string, message: string, details: Record<string, unknown> = {}): ListwashError {
  return new ListwashError(ErrorCodes.CONFIG_INVALID, `${where}: ${message}`, { setting: 'egressFile', env: 'LISTWASH_EGRESS_FILE', ...details });
}

/** The HELO name rule of `LISTWASH_HELO_NAME`. */
export function validHelo(helo: string): boolean {
  return helo !== '' && !BAD_NAME_CHARS.test(helo);
}

/** The MAIL FROM rule of `LISTWASH_MAIL_FROM`: an address with `@`, or `''` for the null sender. */
export function validMailFrom(mailFrom: string): boolean {
  return !BAD_NAME_CHARS.test(mailFrom) && (mailFrom === '' || mailFrom.includes('@'));
}

/** `socks5://[user:pass@]host:port` → the proxy; throws CONFIG_INVALID (the message never shows the password). */
export function parseSocksUrl(url: string, where: string): SocksProxy {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid(where, 'socks must be a URL like socks5://user:pass@host:port');
  }
  if (u.protocol !== 'socks5:') throw invalid(where, `socks must use socks5:// (got ${u.protocol}//)`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw invalid(where, 'socks needs a proxy host');
  if (u.port === '') throw invalid(where, 'socks needs a port (socks5://host:port)');
  if (u.pathname !== '' && u.pathname !== '/') throw invalid(where, 'socks must not have a path');
  if ((u.username === '') !== (u.password === '')) throw invalid(where, 'socks needs both a user and a password, or neither');
  const proxy: SocksProxy = { host, port: Number(u.port) };
  if (u.username !== '') {
    proxy.userId = decodeURIComponent(u.username);
    proxy.password = decodeURIComponent(u.password);
  }
  return proxy;
}

/** Whether `ip` can be a local source address here: an interface address, or any loopback address (127.0.0.0/8 is all local). */
export function isLocalAddress(ip: string): boolean {
  if (isIP(ip) === 4 && ip.startsWith('127.')) return true;
  if (ip === '::1') return true;
  return Object.values(networkInterfaces()).some((list) => (list ?? []).some((a) => a.address === ip));
}

export interface ParseOptions {
  /** Check that every `bind` is an address of this machine. Default true. */
  checkLocal?: boolean;
}

/**
 * Validate the egress file's content: a non-empty JSON array of identities with unique names, each
 * with `helo` and `mailFrom`, at most one of `bind` / `socks`, and no other keys.
 * @throws ListwashError CONFIG_INVALID naming the entry and what is wrong.
 */
export function parseEgressIdentities(json: unknown, where: string, opts: ParseOptions = {}): EgressIdentity[] {
  if (!Array.isArray(json) || json.length === 0) throw invalid(where, 'must be a non-empty JSON array of identities');
  const seen = new Set<string>();
  return json.map((raw: unknown, i) => {
    const at = `${where}[${i}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalid(at, 'must be an object { "name", "bind"?, "socks"?, "helo", "mailFrom" }');
    const o = raw as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!KEYS.has(k)) throw invalid(at, `unknown key ${JSON.stringify(k)} (allowed: name, bind, socks, helo, mailFrom)`);
    if (typeof o.name !== 'string' || !IDENTITY_NAME_RE.test(o.name)) throw invalid(at, `name must match ${IDENTITY_NAME_RE} (got ${JSON.stringify(o.name)})`);
    const name = o.name;
    const here = `${where} identity ${JSON.stringify(name)}`;
    if (seen.has(name)) throw invalid(here, 'the name is used twice');
    seen.add(name);
    if (typeof o.helo !== 'string' || !validHelo(o.helo)) throw invalid(here, 'helo must be a host name without spaces or brackets');
    if (typeof o.mailFrom !== 'string' || !validMailFrom(o.mailFrom)) throw invalid(here, 'mailFrom must be an address like probe@example.org (or "" for the null sender)');
    if (o.bind !== undefined && o.socks !== undefined) throw invalid(here, 'give either bind (a local source address) or socks (a SOCKS5 proxy), not both');
    const id: EgressIdentity = { name, helo: o.helo, mailFrom: o.mailFrom };
    if (o.bind !== undefined) {
      if (typeof o.bind !== 'string' || isIP(o.bind) === 0) throw invalid(here, `bind must be an IP address (got ${JSON.stringify(o.bind)})`);
      if ((opts.checkLocal ?? true) && !isLocalAddress(o.bind)) throw invalid(here, `bind ${o.bind} is not an address of this machine`);
      id.bind = o.bind;
    }
    if (o.socks !== undefined) {
      if (typeof o.socks !== 'string') throw invalid(here, 'socks must be a string like socks5://user:pass@host:port');
      id.socks = parseSocksUrl(o.socks, here);
    }
    return id;
  });
}

/** The settings the identities come from (a subset of `Config`). */
export interface EgressSettings {
  egressFile: string;
  heloName: string;
  mailFrom: string;
}

/**
 * The identities of this process: from `egressFile`, or the single `default` identity from the HELO
 * name and MAIL FROM settings when it is empty.
 * @throws ListwashError CONFIG_FILE (unreadable / not JSON), CONFIG_INVALID (an entry is wrong).
 */
export function loadEgressIdentities(s: EgressSettings, opts: ParseOptions = {}): EgressIdentity[] {
  if (s.egressFile === '') return [{ name: DEFAULT_IDENTITY, helo: s.heloName, mailFrom: s.mailFrom }];
  let text: string;
  try {
    text = readFileSync(s.egressFile, 'utf8');
  } catch (err) {
    throw new ListwashError(ErrorCodes.CONFIG_FILE, `cannot read egress file ${s.egressFile}: ${(err as Error).message}`, { path: s.egressFile }, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ListwashError(ErrorCodes.CONFIG_FILE, `egress file ${s.egressFile} is not valid JSON: ${(err as Error).message}`, { path: s.egressFile }, { cause: err });
  }
  return parseEgressIdentities(json, `LISTWASH_EGRESS_FILE ${s.egressFile}`, opts);
}
