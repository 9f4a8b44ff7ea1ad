/**
 * Reading docker-compose.yml the way Docker Compose does, for the static checks (no Docker engine here):
 * YAML with merge keys, then variable interpolation per the Compose Specification — `$VAR`, `${VAR}`,
 * `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`, `$$` for a literal `$`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const COMPOSE_TEXT = readFileSync(`${ROOT}/docker-compose.yml`, 'utf8');

/** A required variable was unset: what `docker compose` refuses to start with. */
export class MissingVariable extends Error {}

const VARIABLE = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])((?:[^}\\]|\\.)*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** One string interpolated from `env`. */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(VARIABLE, (whole, braced?: string, colon?: string, op?: string, arg?: string, bare?: string) => {
    if (whole === '$$') return '$';
    const name = (braced ?? bare) as string;
    const value = env[name];
    const unset = value === undefined || (colon === ':' && value === '');
    if (op === '-') return unset ? (arg ?? '') : (value as string);
    if (op === '?') {
      if (unset) throw new MissingVariable(`required variable ${name} is missing a value: ${arg ?? ''}`);
      return value as string;
    }
    return value ?? '';
  });
}

/** Every string of a parsed document interpolated (keys are left as they are, as Compose does). */
export function interpolateAll(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, env));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, env)]));
  return value;
}

/** The compose file as YAML data (merge keys resolved), before interpolation. */
export function composeDocument(text = COMPOSE_TEXT): Record<string, unknown> {
  return parse(text, { merge: true }) as Record<string, unknown>;
}

/** The parts of a service the checks read. */
export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string> | string[];
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  restart?: string;
  profiles?: string[];
  ports?: unknown[];
  volumes?: unknown[];
  container_name?: string;
  pull_policy?: string;
}

export function services(doc: Record<string, unknown>): Record<string, ComposeService> {
  return doc.services as Record<string, ComposeService>;
}
