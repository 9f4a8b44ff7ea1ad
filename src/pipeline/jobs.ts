/** Job payloads on the three queues, and their validation. Keep them small: BullMQ stores them in Redis. */
import { ErrorCodes, ListwashError } from '../errors.js';
import { LIST_ID_RE } from './names.js';

/** Upload job: clean one list. */
export interface SplitJobData {
  listId: string;
  /** Input CSV location: `s3://bucket/key`, `file://…` or a path. */
  input: string;
  /** Output prefix: the cleaned files are written under it. */
  output: string;
  /** Header name or 0-based index of the email column; default: detected. */
  emailColumn?: string | number;
  /** Escape spreadsheet formulas in every output CSV (OWASP: a leading `'` before `=`, `+`, `-`, `@`, tab, CR). Default: values as read. */
  escapeFormulas?: boolean;
  /** Where to POST the signed callback when the list ends (`http://` or `https://`). */
  callbackUrl?: string;
}

/** Batch job: probe up to `batchSize` unique addresses of one domain. */
export interface ProbeJobData {
  listId: string;
  batchId: string;
  domain: string;
  /** Normalised addresses (unique within the list). */
  addresses: string[];
  /** Indices into `addresses` that need SMTPUTF8. */
  utf8?: number[];
  /** Addresses still to probe (absent on the first run: all). */
  pending?: string[];
  /** Greylist-schedule retries used so far. */
  attempt?: number;
  /** When this batch was first held back by ban signs / rate limits (ms epoch), for the patience. */
  heldSince?: number;
  /** Pending address → the egress identity it was greylisted on: its retries go from there (greylisting keys on the client address). */
  pendingIdentity?: Record<string, string>;
  /** The egress identity whose catch-all probe of this domain was greylisted: the next run probes from it. */
  catchAllIdentity?: string;
  /** Final verdicts of this batch so far (its runs before this one), for the list's progress counters. */
  progress?: { final: number; byStatus: Record<string, number>; byReason: Record<string, number> };
}

export interface AggregateJobData {
  listId: string;
}

function bad(message: string): never {
  throw new ListwashError(ErrorCodes.JOB_INVALID, message);
}

export function validateSplitJob(d: unknown): SplitJobData {
  if (d === null || typeof d !== 'object') bad('job data must be an object');
  const o = d as Record<string, unknown>;
  if (typeof o.listId !== 'string' || !LIST_ID_RE.test(o.listId)) bad(`listId must match ${LIST_ID_RE} (got ${JSON.stringify(o.listId)})`);
  if (typeof o.input !== 'string' || o.input.trim() === '') bad('input must be a non-empty location string');
  if (typeof o.output !== 'string' || o.output.trim() === '') bad('output must be a non-empty location string');
  if (o.emailColumn !== undefined && typeof o.emailColumn !== 'string' && !(typeof o.emailColumn === 'number' && Number.isInteger(o.emailColumn) && o.emailColumn >= 0)) {
    bad('emailColumn must be a header name or a 0-based column index');
  }
  if (o.escapeFormulas !== undefined && typeof o.escapeFormulas !== 'boolean') bad('escapeFormulas must be true or false');
  if (o.callbackUrl !== undefined && (typeof o.callbackUrl !== 'string' || !/^https?:\/\/[^\s]+$/i.test(o.callbackUrl))) bad('callbackUrl must be an http:// or https:// URL');
  return {
    listId: o.listId,
    input: o.input,
    output: o.output,
    ...(o.emailColumn !== undefined ? { emailColumn: o.emailColumn as string | number } : {}),
    ...(o.escapeFormulas === true ? { escapeFormulas: true } : {}),
    ...(o.callbackUrl !== undefined ? { callbackUrl: o.callbackUrl as string } : {}),
  };
}
