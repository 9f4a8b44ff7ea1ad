/**
 * Aggregate: once every batch of a list is done, stream the original CSV again and write, under the
 * output prefix, `report.csv` (every input row, in input order, with its verdict columns),
 * `clean.csv` / `risky.csv` / `invalid.csv` / `unknown.csv` (original columns, by status) and
 * `summary.json`. Rows are looked up in the results hash a chunk at a time; nothing holds the list.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { stringify, type Stringifier } from 'csv-stringify';
import { parseAddress, type AddressResult } from '../address/index.js';
import type { Config } from '../config.js';
import { readCsvRows, type CsvDialect } from '../csv/index.js';
import { ErrorCodes, ListwashError } from '../errors.js';
import { joinLocation, parseLocation, storeFor, type Store, type WriteHandle } from '../storage/index.js';
import { applyFlags, verdict, type Status, type Verdict } from '../verdict.js';
import type { ListState } from './list-state.js';
import { decodeVerdict } from './result-codec.js';

/** Columns appended to every row of report.csv, in this order. */
export const REPORT_COLUMNS = [
  'email_normalized',
  'status',
  'reason',
  'bounce_risk',
  'suggestion',
  'is_role',
  'is_disposable',
  'is_free',
  'is_catch_all',
  'mx_host',
  'smtp_code',
  'smtp_reply',
] as const;

/** The per-status files and the status each holds. */
export const STATUS_FILES: Readonly<Record<Status, string>> = {
  deliverable: 'clean.csv',
  risky: 'risky.csv',
  undeliverable: 'invalid.csv',
  unknown: 'unknown.csv',
};

export interface AggregateDeps {
  cfg: Config;
  state: ListState;
  /** Extra summary fields (settings used, throttle stats). */
  summaryExtras?: () => Promise<Record<string, unknown>>;
}

export interface Summary {
  listId: string;
  input: string;
  output: string;
  rows: number;
  unique: number;
  duplicates: number;
  invalid: number;
  byStatus: Record<string, number>;
  byReason: Record<string, number>;
  byBounceRisk: Record<string, number>;
  [k: string]: unknown;
}

class CsvOut {
  private constructor(
    readonly csv: Stringifier,
    private readonly handle: WriteHandle,
  ) {}

  static async open(store: Store, output: string, name: string, header: string[] | null, recordDelimiter: string): Promise<CsvOut> {
    const handle = await store.openWrite(joinLocation(parseLocation(output), name), { contentType: 'text/csv; charset=utf-8' });
    const csv = stringify({ record_delimiter: recordDelimiter === '\r\n' ? 'windows' : 'unix' });
    csv.pipe(handle.stream as Writable);
    const out = new CsvOut(csv, handle);
    if (header) await out.write(header);
    return out;
  }

  async write(row: string[]): Promise<void> {
    if (!this.csv.write(row)) await once(this.csv, 'drain');
  }

  async end(): Promise<void> {
    this.csv.end();
    await this.handle.done;
  }

  async abort(): Promise<void> {
    this.csv.destroy();
    await this.handle.abort();
  }
}

function finalVerdict(addr: AddressResult, stored: string | null): Verdict {
  if (!addr.ok) return verdict('invalid_syntax', { smtpReply: addr.message });
  const v = stored ? decodeVerdict(stored) : verdict('temporary_failure', { smtpReply: 'no result was recorded for this address' });
  return applyFlags(v, addr.flags);
}

function b(x: boolean | undefined): string {
  return x === undefined ? '' : x ? 'true' : 'false';
}

export async function runAggregate(listId: string, deps: AggregateDeps): Promise<Summary> {
  const { cfg, state } = deps;
  const meta = await state.meta();
  if (!meta) throw new ListwashError(ErrorCodes.JOB_NOT_FOUND, `list ${listId} has no state (expired or never split)`);
  if (!meta.dialect) throw new ListwashError(ErrorCodes.JOB_FAILED, `list ${listId} was not split`);
  const dialect = JSON.parse(meta.dialect) as CsvDialect;
  await state.set({ status: 'aggregating' });
  await state.mark('aggregateStartedAt');

  const inLoc = parseLocation(meta.input);
  const inStore = storeFor(inLoc, cfg);
  const outStore = storeFor(parseLocation(meta.output), cfg);
  const original = dialect.headers;
  const rd = dialect.recordDelimiter;
  const outs: CsvOut[] = [];
  const report = await CsvOut.open(outStore, meta.output, 'report.csv', [...original, ...REPORT_COLUMNS], rd);
  outs.push(report);
  const byStatus = {} as Record<Status, CsvOut>;
  for (const [status, file] of Object.entries(STATUS_FILES) as [Status, string][]) {
    byStatus[status] = await CsvOut.open(outStore, meta.output, file, dialect.hasHeader ? original : null, rd);
    outs.push(byStatus[status]);
  }

  const counts = { rows: 0, byStatus: {} as Record<string, number>, byReason: {} as Record<string, number>, byBounceRisk: {} as Record<string, number> };
  const inc = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
  const width = dialect.columnCount;
  try {
    let chunk: { fields: string[]; addr: AddressResult }[] = [];
    const flush = async () => {
      const keys = chunk.map((r) => (r.addr.ok ? r.addr.normalized : ''));
      const valid = keys.filter((k) => k !== '');
      const stored = await state.results(valid);
      const lookup = new Map<string, string | null>();
      valid.forEach((k, i) => lookup.set(k, stored[i] ?? null));
      for (const r of chunk) {
        const v = finalVerdict(r.addr, r.addr.ok ? (lookup.get(r.addr.normalized) ?? null) : null);
        const a = r.addr;
        const fields = normaliseWidth(r.fields, width, dialect.delimiter);
        await report.write([
          ...fields,
          a.ok ? a.normalized : '',
          v.status,
          v.reason,
          v.bounceRisk,
          a.suggestion ?? '',
          a.ok ? b(a.flags.role) : '',
          a.ok ? b(a.flags.disposable) : '',
          a.ok ? b(a.flags.free) : '',
          b(v.catchAll),
          v.mxHost ?? '',
          v.smtpCode ? String(v.smtpCode) : '',
          v.smtpReply ?? '',
        ]);
        await byStatus[v.status].write(fields);
        inc(counts.byStatus, v.status);
        inc(counts.byReason, v.reason);
        inc(counts.byBounceRisk, v.bounceRisk);
      }
      chunk = [];
    };
    const input = await inStore.openRead(inLoc);
    for await (const row of readCsvRows(input, dialect)) {
      counts.rows++;
      chunk.push({ fields: row.fields, addr: parseAddress(row.fields[dialect.emailColumn] ?? '') });
      if (chunk.length >= 1000) await flush();
    }
    await flush();
  } catch (err) {
    await Promise.allSettled(outs.map((o) => o.abort()));
    throw err;
  }
  await Promise.all(outs.map((o) => o.end()));

  await state.mark('aggregateDoneAt');
  const m = (await state.meta()) ?? meta;
  const t = (k: string) => (m[k] ? Number(m[k]) : null);
  const span = (a: string, z: string) => (t(a) !== null && t(z) !== null ? (t(z)! - t(a)!) / 1000 : null);
  const summary: Summary = {
    listId,
    input: meta.input,
    output: meta.output,
    rows: counts.rows,
    unique: Number(m.unique ?? 0),
    duplicates: Number(m.duplicates ?? 0),
    invalid: Number(m.invalid ?? 0),
    domains: Number(m.domains ?? 0),
    batches: Number(m.batches ?? 0),
    byStatus: counts.byStatus,
    byReason: counts.byReason,
    byBounceRisk: counts.byBounceRisk,
    timings: {
      splitSec: span('splitStartedAt', 'splitDoneAt'),
      probeSec: span('probeStartedAt', 'aggregateQueuedAt'),
      aggregateSec: span('aggregateStartedAt', 'aggregateDoneAt'),
      totalSec: span('createdAt', 'aggregateDoneAt'),
    },
    mxHosts: await state.mxStats(),
    emailColumn: dialect.headers[dialect.emailColumn] ?? dialect.emailColumn,
    ...(deps.summaryExtras ? await deps.summaryExtras() : {}),
  };
  const handle = await outStore.openWrite(joinLocation(parseLocation(meta.output), 'summary.json'), { contentType: 'application/json' });
  handle.stream.end(JSON.stringify(summary, null, 2) + '\n');
  await handle.done;
  await state.set({ status: 'done', rowsWritten: counts.rows });
  await state.touch();
  return summary;
}

/**
 * Report rows line up with the header: a short row is padded with empty fields; a row with more
 * fields than the header keeps the surplus, joined by the input delimiter into its last column —
 * nothing is dropped.
 */
export function normaliseWidth(fields: string[], width: number, delimiter: string): string[] {
  if (fields.length === width) return fields;
  if (fields.length < width) return [...fields, ...new Array<string>(width - fields.length).fill('')];
  if (width === 0) return fields;
  return [...fields.slice(0, width - 1), fields.slice(width - 1).join(delimiter)];
}
