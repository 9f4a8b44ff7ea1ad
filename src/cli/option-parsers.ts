/**
 * Parsers of option values for commander: each returns the typed value or throws commander's
 * `InvalidArgumentError` (a usage error, exit code 2) saying what the option takes.
 */
import { isIP } from 'node:net';
import { InvalidArgumentError } from 'commander';
import { errorMessage } from '../errors.js';
import { parseDuration } from '../verdict-cache/policy.js';

/** A whole number from 1 to `max`. */
export function positiveInteger(flag: string, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1 || n > max) throw new InvalidArgumentError(`${flag} takes a positive integer${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}`);
    return n;
  };
}

/** A TCP port, 0–65535 (0: any free port). */
export function portNumber(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new InvalidArgumentError('--port takes a port number (0–65535)');
  return n;
}

/** `--max-age 30d` → seconds. */
export function maxAgeSeconds(v: string): number {
  try {
    return parseDuration(v);
  } catch (err) {
    throw new InvalidArgumentError(`--max-age takes a duration such as 30d, 12h, 90m or 0; ${errorMessage(err)}`);
  }
}

/** A header name, or a 0-based column index. */
export function emailColumn(v: string): string | number {
  return /^\d+$/.test(v) ? Number(v) : v;
}

/** An IPv4 or IPv6 address. */
export function ipAddress(v: string): string {
  if (isIP(v) === 0) throw new InvalidArgumentError(`--ip takes an IP address; got ${JSON.stringify(v)}`);
  return v;
}

export const WORKER_KINDS = ['split', 'probe', 'aggregate', 'webhook'] as const;
export type WorkerKind = (typeof WORKER_KINDS)[number];

/** `split,probe` → the worker kinds named. */
export function workerKinds(v: string): WorkerKind[] {
  const kinds = v.split(',').map((s) => s.trim());
  for (const k of kinds) {
    if (!(WORKER_KINDS as readonly string[]).includes(k)) throw new InvalidArgumentError(`--only takes ${WORKER_KINDS.join(', ')}; got ${JSON.stringify(k)}`);
  }
  return kinds as WorkerKind[];
}
