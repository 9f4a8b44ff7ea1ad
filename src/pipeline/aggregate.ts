/**
 * Aggregate: once every batch of a list is done, stream the original CSV again and write, under the
 * output prefix, `report.csv` (every input row, in input order, with its verdict columns),
 * `clean.csv` / `risky.csv` / `invalid.csv` / `unknown.csv` (original columns, by status) and
 * `summary.json`; the caller marks the list done (`ListLifecycle.done`). Rows are looked up in the results hash a batch at a time (the lookup of the next
 * batch overlaps writing the current one); nothing holds the list.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { parseAddress, type AddressResult } from '../address/index.js';
import type { Config } from '../config.js';
import type { CsvDialect } from '../csv/index.js';
import { readCsvBatches, type CsvRow } from '../csv/reader.js';
import { splitEgressStats } from '../egress/stats.js';
import { ErrorCodes, ListwashError } from '../errors.js';
import { renderReportHtml, ReportTally } from '../report/index.js';
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

const NEEDS_QUOTES = /[",\r\n]/;
const QUOTES = /"/g;

/**
 * One CSV field as written to the output files (comma-delimited): quoted when it holds a comma, a quote, CR or LF
 * (quotes doubled), as is otherwise — what csv-stringify writes, except that a lone CR or LF is always quoted
 * (csv-stringify leaves the line break that is not the file's record delimiter unquoted, which breaks the row).
 */
export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(QUOTES, '""')}"` : value;
}

/** Fields joined into one CSV line (without the record delimiter). */
export function csvLine(fields: readonly string[]): string {
  let line = fields.length > 0 ? csvField(fields[0] as string) : '';
  for (let i = 1; i < fields.length; i++) line += ',' + csvField(fields[i] as string);
  return line;
}

/** Bytes an output file collects before they are written (one write per this much, not per row). */
const OUT_CHUNK = 256 * 1024;
const COMMA = 0x2c;
const DQUOTE = 0x22;

/**
 * One output file. Rows are encoded straight into a buffer, field by field (no row strings to build), and
 * written a chunk at a time with backpressure. A caller `reserve`s room for a row, then writes its pieces.
 */
class CsvOut {
  buf = Buffer.allocUnsafe(OUT_CHUNK);
  pos = 0;
  private readonly ready: Buffer[] = [];
  private readonly eolBytes: Buffer;

  private constructor(
    private readonly stream: Writable,
    private readonly handle: WriteHandle,
    eol: string,
  ) {
    this.eolBytes = Buffer.from(eol, 'latin1');
  }

  static async open(store: Store, output: string, name: string, header: readonly string[] | null, eol: string): Promise<CsvOut> {
    const handle = await store.openWrite(joinLocation(parseLocation(output), name), { contentType: 'text/csv; charset=utf-8' });
    const out = new CsvOut(handle.stream, handle, eol);
    if (header) {
      out.reserve(roomFor(header, 0));
      out.fields(header);
      out.eol();
    }
    return out;
  }

  /** Make room for `bytes` more bytes in `buf`. */
  reserve(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    this.seal();
    if (bytes > this.buf.length) this.buf = Buffer.allocUnsafe(bytes);
  }

  /** Text that needs no quoting. */
  text(s: string): void {
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** One field, quoted when needed (see {@link csvField}). */
  field(value: string): void {
    if (!NEEDS_QUOTES.test(value)) {
      this.pos += this.buf.write(value, this.pos, 'utf8');
      return;
    }
    this.buf[this.pos++] = DQUOTE;
    this.pos += this.buf.write(value.replace(QUOTES, '""'), this.pos, 'utf8');
    this.buf[this.pos++] = DQUOTE;
  }

  fields(values: readonly string[]): void {
    for (let i = 0; i < values.length; i++) {
      if (i > 0) this.buf[this.pos++] = COMMA;
      this.field(values[i] as string);
    }
  }

  comma(): void {
    this.buf[this.pos++] = COMMA;
  }

  eol(): void {
    this.pos += this.eolBytes.copy(this.buf, this.pos);
  }

  /** Bytes already encoded elsewhere (the same columns in another file). */
  copy(src: Buffer, start: number, end: number): void {
    this.pos += src.copy(this.buf, this.pos, start, end);
  }

  /** The collected bytes become a chunk to write; a fresh buffer takes the next rows. */
  private seal(): void {
    if (this.pos === 0) return;
    this.ready.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(OUT_CHUNK);
    this.pos = 0;
  }

  /** Write the full chunks (all of them when `all`); resolves when the stream can take more. */
  async flush(all = false): Promise<void> {
    if (all) this.seal();
    while (this.ready.length > 0) {
      if (!this.stream.write(this.ready.shift() as Buffer)) await once(this.stream, 'drain');
    }
  }

  async end(): Promise<void> {
    await this.flush(true);
    this.stream.end();
    await this.handle.done;
  }

  async abort(): Promise<void> {
    this.stream.destroy();
    await this.handle.abort();
  }
}

/** Most bytes `values` can take as CSV fields (3 UTF-8 bytes per UTF-16 unit, quotes doubled, quoting, commas), plus `extra`. */
function roomFor(values: readonly string[], extra: number): number {
  let chars = 0;
  for (let i = 0; i < values.length; i++) chars += (values[i] as string).length;
  return chars * 6 + values.length * 3 + extra + 2;
}

function b(x: boolean | undefined): string {
  return x === undefined ? '' : x ? 'true' : 'false';
}

/** Stored verdicts repeat a lot (same reply text): decode each distinct one once, within a bound. */
class VerdictDecoder {
  private readonly cache = new Map<string, Verdict>();
  private readonly missing = verdict('temporary_failure', { smtpReply: 'no result was recorded for this address' });

  constructor(private readonly max = 10_000) {}

  decode(stored: string | null): Verdict {
    if (stored === null) return this.missing;
    let v = this.cache.get(stored);
    if (v === undefined) {
      v = decodeVerdict(stored);
      if (this.cache.size >= this.max) this.cache.clear();
      this.cache.set(stored, v);
    }
    return v;
  }
}

function finalVerdict(addr: AddressResult, stored: string | null, decoder: VerdictDecoder): Verdict {
  if (!addr.ok) return verdict('invalid_syntax', { smtpReply: addr.message });
  return applyFlags(decoder.decode(stored), addr.flags);
}

/** A batch of input rows with their parsed addresses and the pending lookup of their stored verdicts. */
interface PendingBatch {
  rows: CsvRow[];
  addrs: AddressResult[];
  /** Stored verdict per row (null for invalid addresses and addresses without a result). */
  stored: Promise<(string | null)[]>;
}

/** Rows written between two looks at whether the list was cancelled meanwhile. */
const STOP_CHECK_ROWS = 50_000;

/** Batches whose lookups may be in flight at once. */
const LOOKAHEAD = 3;

export async function runAggregate(listId: string, deps: AggregateDeps): Promise<Summary> {
  const { cfg, state } = deps;
  const meta = await state.meta();
  if (!meta) throw new ListwashError(ErrorCodes.JOB_NOT_FOUND, `list ${listId} has no state (expired or never split)`);
  if (!meta.dialect) throw new ListwashError(ErrorCodes.JOB_FAILED, `list ${listId} was not split`);
  const dialect = JSON.parse(meta.dialect) as CsvDialect;
  await state.transition('aggregating', ['probing', 'aggregating']);
  await state.mark('aggregateStartedAt');

  const inLoc = parseLocation(meta.input);
  const inStore = storeFor(inLoc, cfg);
  const outStore = storeFor(parseLocation(meta.output), cfg);
  const original = dialect.headers;
  const eol = dialect.recordDelimiter === '\r\n' ? '\r\n' : '\n';
  const outs: CsvOut[] = [];
  const report = await CsvOut.open(outStore, meta.output, 'report.csv', [...original, ...REPORT_COLUMNS], eol);
  outs.push(report);
  const byStatus = {} as Record<Status, CsvOut>;
  for (const [status, file] of Object.entries(STATUS_FILES) as [Status, string][]) {
    byStatus[status] = await CsvOut.open(outStore, meta.output, file, dialect.hasHeader ? original : null, eol);
    outs.push(byStatus[status]);
  }

  const counts = { rows: 0, byStatus: {} as Record<string, number>, byReason: {} as Record<string, number>, byBounceRisk: {} as Record<string, number> };
  const inc = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
  const width = dialect.columnCount;
  const emailColumn = dialect.emailColumn;
  const decoder = new VerdictDecoder();
  const tally = new ReportTally();

  const lookup = (addrs: AddressResult[]): Promise<(string | null)[]> => {
    const keys: string[] = [];
    for (const a of addrs) if (a.ok) keys.push(a.normalized);
    return state.results(keys).then((found) => {
      let k = 0;
      return addrs.map((a) => (a.ok ? (found[k++] ?? null) : null));
    });
  };
  const write = async (batch: PendingBatch): Promise<void> => {
    const stored = await batch.stored;
    const { rows, addrs } = batch;
    for (let i = 0; i < rows.length; i++) {
      const a = addrs[i] as AddressResult;
      const v = finalVerdict(a, stored[i] ?? null, decoder);
      const fields = normaliseWidth((rows[i] as CsvRow).fields, width, dialect.delimiter);
      const normalized = a.ok ? a.normalized : '';
      const suggestion = a.suggestion ?? '';
      const mxHost = v.mxHost ?? '';
      const reply = v.smtpReply ?? '';
      // The original columns are encoded once, into report.csv, and copied into the status file.
      const line = csvLine(fields);
      // Status, reason, risk and the flags are plain words: only free text needs quoting.
      const verdictColumns =
        `,${csvField(normalized)},${v.status},${v.reason},${v.bounceRisk},${csvField(suggestion)},` +
        `${a.ok ? b(a.flags.role) : ''},${a.ok ? b(a.flags.disposable) : ''},${a.ok ? b(a.flags.free) : ''},${b(v.catchAll)},` +
        `${csvField(mxHost)},${v.smtpCode ? String(v.smtpCode) : ''},${csvField(reply)}${eol}`;
      report.reserve((line.length + verdictColumns.length) * 3);
      const start = report.pos;
      report.text(line);
      const end = report.pos;
      report.text(verdictColumns);
      const file = byStatus[v.status];
      file.reserve(end - start + 2);
      file.copy(report.buf, start, end);
      file.eol();
      inc(counts.byStatus, v.status);
      inc(counts.byReason, v.reason);
      inc(counts.byBounceRisk, v.bounceRisk);
      tally.add(a, v.status);
    }
    counts.rows += rows.length;
    await Promise.all(outs.map((o) => o.flush()));
    // A list cancelled meanwhile writes nothing (the outputs are aborted below).
    if ((sinceCheck += rows.length) >= STOP_CHECK_ROWS) {
      sinceCheck = 0;
      await state.assertActive();
    }
  };
  let sinceCheck = 0;

  const inFlight: PendingBatch[] = [];
  try {
    const input = await inStore.openRead(inLoc);
    for await (const rows of readCsvBatches(input, dialect)) {
      const addrs = rows.map((r) => parseAddress(r.fields[emailColumn] ?? ''));
      const stored = lookup(addrs);
      // Handled when written; a rejection before then must not count as unhandled.
      stored.catch(() => undefined);
      inFlight.push({ rows, addrs, stored });
      if (inFlight.length > LOOKAHEAD) await write(inFlight.shift() as PendingBatch);
    }
    while (inFlight.length > 0) await write(inFlight.shift() as PendingBatch);
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
    batchesFailed: Number(m.batchesFailed ?? 0),
    byStatus: counts.byStatus,
    byReason: counts.byReason,
    byBounceRisk: counts.byBounceRisk,
    timings: {
      splitSec: span('splitStartedAt', 'splitDoneAt'),
      probeSec: span('probeStartedAt', 'aggregateQueuedAt'),
      aggregateSec: span('aggregateStartedAt', 'aggregateDoneAt'),
      totalSec: span('createdAt', 'aggregateDoneAt'),
    },
    // Per MX host, and per egress identity (sessions, RCPTs, refusals): one counter hash, split here.
    ...splitEgressStats(await state.mxStats()),
    ...tally.summary(),
    emailColumn: dialect.headers[dialect.emailColumn] ?? dialect.emailColumn,
    ...(deps.summaryExtras ? await deps.summaryExtras() : {}),
  };
  await state.assertActive();
  // report.html (the summary as charts) goes right before summary.json, the file that says the list is written.
  const page = await outStore.openWrite(joinLocation(parseLocation(meta.output), 'report.html'), { contentType: 'text/html; charset=utf-8' });
  page.stream.end(renderReportHtml(summary));
  await page.done;
  const handle = await outStore.openWrite(joinLocation(parseLocation(meta.output), 'summary.json'), { contentType: 'application/json' });
  handle.stream.end(JSON.stringify(summary, null, 2) + '\n');
  await handle.done;
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
