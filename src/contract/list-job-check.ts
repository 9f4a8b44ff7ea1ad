/**
 * The check every list job goes through (on the queue, and at `submit`): a plain function that accepts exactly what
 * the TypeBox schema `ListJobV1` (`list-job.ts`, the published contract) accepts, and names the first field it
 * refuses. `test/contract/list-job-check.test.ts` holds the two equal on random payloads. It is kept apart from the
 * schema so that a worker or a command checking jobs does not load TypeBox (≈ 0.4 s of start-up).
 */
import { ErrorCodes, ListwashError } from '../errors.js';
import { LIST_ID_RE } from '../pipeline/names.js';

/** The payload version this code writes and reads. */
export const LIST_JOB_VERSION = 1;

/** Longest callback URL accepted (in characters, as JSON Schema counts them: code points). */
export const CALLBACK_URL_MAX = 2048;

/**
 * `http(s)://`, an authority without `@` (no credentials) and no white space. The full check (a URL that parses, a
 * host) is {@link callbackUrlProblem}.
 */
export const CALLBACK_URL_PATTERN = '^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/?#@]+([/?#]\\S*)?$';
const CALLBACK_URL_RE = new RegExp(CALLBACK_URL_PATTERN);

/** A version 1 list job. The schema's static type (`ListJob` in `list-job.ts`) is this type. */
export interface ListJobPayload {
  version: 1;
  listId: string;
  input: string;
  output: string;
  emailColumn?: string | number;
  escapeFormulas?: boolean;
  callbackUrl?: string;
  maxAge?: number;
}

const REQUIRED = ['version', 'listId', 'input', 'output'] as const;

/** What each field must be, as the schema says it; the rule of a field also names it in error messages. */
const FIELD_RULES: Record<keyof ListJobPayload, { rule: string; ok: (v: unknown) => boolean }> = {
  version: { rule: `must be ${LIST_JOB_VERSION}`, ok: (v) => v === LIST_JOB_VERSION },
  listId: { rule: `must match ${LIST_ID_RE}`, ok: (v) => typeof v === 'string' && LIST_ID_RE.test(v) },
  input: { rule: 'must be a non-empty location string', ok: (v) => typeof v === 'string' && v.length > 0 },
  output: { rule: 'must be a non-empty location string', ok: (v) => typeof v === 'string' && v.length > 0 },
  emailColumn: { rule: 'must be a header name or a 0-based column index', ok: (v) => (typeof v === 'string' && v.length > 0) || wholeNumber(v) },
  escapeFormulas: { rule: 'must be true or false', ok: (v) => typeof v === 'boolean' },
  callbackUrl: {
    rule: `must be an http:// or https:// URL without credentials, at most ${CALLBACK_URL_MAX} characters`,
    ok: (v) => typeof v === 'string' && codePoints(v) <= CALLBACK_URL_MAX && CALLBACK_URL_RE.test(v),
  },
  maxAge: { rule: 'must be a whole number of seconds ≥ 0', ok: wholeNumber },
};

function wholeNumber(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** The schema's part of the check: the first field it refuses (and the rule to name), or null. */
export function listJobSchemaProblem(o: Record<string, unknown>): { field: string; rule: string } | null {
  for (const key of Object.getOwnPropertyNames(o)) {
    if (!Object.hasOwn(FIELD_RULES, key)) return { field: key, rule: 'is not a field of the version 1 list job' };
  }
  for (const field of REQUIRED) if (!(field in o)) return { field, rule: FIELD_RULES[field].rule };
  for (const [field, { rule, ok }] of Object.entries(FIELD_RULES)) {
    const v = o[field];
    // An optional field may be absent or undefined; a required one that is present must pass.
    if (v === undefined && !(REQUIRED as readonly string[]).includes(field)) continue;
    if (!ok(v)) return { field, rule };
  }
  return null;
}

function shown(v: unknown): string {
  const s = v === undefined ? 'nothing' : JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Fields whose value is never repeated in a message (a callback URL may carry a token in its query). */
const UNSHOWN = new Set(['callbackUrl']);

function invalid(field: string, got: unknown, rule: string): ListwashError {
  const value = UNSHOWN.has(field) ? '' : ` (got ${shown(got)})`;
  return new ListwashError(ErrorCodes.JOB_INVALID, `list job: ${field} ${rule}${value}`, { field });
}

/** What is wrong with a callback URL beyond its pattern (it must parse, have a host, carry no credentials), or null. */
export function callbackUrlProblem(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must be http:// or https://';
  if (u.username !== '' || u.password !== '') return 'must not carry credentials (user:password@)';
  if (u.hostname === '') return 'has no host';
  return null;
}

/**
 * Validate a list job payload (from the queue or from `submit`).
 * @throws ListwashError `JOB_INVALID` naming the first offending field (`details.field`).
 */
export function checkListJob(value: unknown): ListJobPayload {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ListwashError(ErrorCodes.JOB_INVALID, 'list job: the payload must be a JSON object', { field: '' });
  }
  const o = value as Record<string, unknown>;
  const problem = listJobSchemaProblem(o);
  if (problem) throw invalid(problem.field, o[problem.field], problem.rule);
  const job = o as unknown as ListJobPayload;
  if (job.input.trim() === '') throw invalid('input', job.input, FIELD_RULES.input.rule);
  if (job.output.trim() === '') throw invalid('output', job.output, FIELD_RULES.output.rule);
  if (job.callbackUrl !== undefined) {
    const why = callbackUrlProblem(job.callbackUrl);
    if (why) throw new ListwashError(ErrorCodes.JOB_INVALID, `list job: callbackUrl ${why}`, { field: 'callbackUrl' });
  }
  return {
    version: job.version,
    listId: job.listId,
    input: job.input,
    output: job.output,
    ...(job.emailColumn !== undefined ? { emailColumn: job.emailColumn } : {}),
    ...(job.escapeFormulas === true ? { escapeFormulas: true } : {}),
    ...(job.callbackUrl !== undefined ? { callbackUrl: job.callbackUrl } : {}),
    ...(job.maxAge !== undefined ? { maxAge: job.maxAge } : {}),
  };
}
