/**
 * Aggregate: once every batch of a list is done, stream the original CSV again and write, under the
 * output prefix, `report.csv` (every input row, in input order, with its verdict columns),
 * `clean.csv` (original columns) / `risky.csv` / `invalid.csv` / `unknown.csv` (original columns plus
 * status, reason, bounce risk and suggestion), by status, `report.html` and `summary.json`; the caller
 * marks the list done (`ListLifecycle.done`). Rows are looked up in the results hash a batch at a time
 * (the lookup of the next batch overlaps writing the current one); nothing holds the list.
 *
 * The files appear all together or not at all (a `ResultSet`): they are staged while written and put
 * in place at the end, `summary.json` last — a list's files are complete when `summary.json` exists.
 * A failure (or the list cancelled meanwhile) removes what was written and fails the aggregate with
 * the store's typed error. Of two runs that overlap (a worker that lost its job's lock still at work
 * while the job runs again elsewhere) the later one writes the files and finishes the list; the earlier
 * one stops with `LIST_ENDED`, removing only its own temporary data.
 */
import { randomUUID } from 'node:crypto';
import { parseAddress, type AddressResult } from '../address/index.js';
import type { Config } from '../config.js';
import type { CsvDialect } from '../csv/index.js';
import { canonicalShare, readCsvBatches, readSample, type CsvRow } from '../csv/reader.js';
import { recordFields } from '../csv/record-parser.js';
import { splitEgressStats } from '../egress/stats.js';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import { renderReportHtml, ReportTally } from '../report/index.js';
import { parseLocation, ResultSet, storeFor, type ResultFile } from '../storage/index.js';
import { applyFlags, verdict, type Status, type Verdict } from '../verdict.js';
import { ERROR_FILE, RESULT_FILES } from './list-files.js';
import type { DomainRecord, ListMeta, ListState } from './list-state.js';
import { decodeVerdict, splitStored } from './result-codec.js';

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
  'verified_at',
] as const;

/** The per-status files and the status each holds. */
export const STATUS_FILES: Readonly<Record<Status, string>> = {
  deliverable: 'clean.csv',
  risky: 'risky.csv',
  undeliverable: 'invalid.csv',
  unknown: 'unknown.csv',
};

/**
 * Columns `risky.csv`, `invalid.csv` and `unknown.csv` add after the original columns, so a reader sees why a row is
 * there. `clean.csv` has the original columns only (import-ready).
 */
export const STATUS_FILE_COLUMNS = ['status', 'reason', 'bounce_risk', 'suggestion'] as const;

/** Written last: a list's files are complete when it exists. */
export const SUMMARY_FILE = 'summary.json';

/** The other files of a list's results; they appear together with {@link SUMMARY_FILE}, which is written last. */
export const OUTPUT_FILES: readonly string[] = RESULT_FILES.filter((f) => f !== SUMMARY_FILE);

/** A cell a spreadsheet would run as a formula: it starts with `=`, `+`, `-`, `@`, tab or CR (OWASP, CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** OWASP's escaping of spreadsheet formulas: a cell that starts like a formula gets a leading `'`. */
export function escapeFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

function keepAsRead(value: string): string {
  return value;
}

export interface AggregateDeps {
  cfg: Config;
  state: ListState;
  /** Extra summary fields (settings used, throttle stats). */
  summaryExtras?: () => Promise<Record<string, unknown>>;
  /** This run's claim on the list (see `ListState.claimAggregation`); pass it on to `ListLifecycle.done`. Default: a new one. */
  run?: string;
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

/** `"`: only a quoted local part can put a comma or a quote into a normalised address (a dot-atom and a domain cannot). */
const DQUOTE = 0x22;

/** Bytes an output file collects before they are written (one write per this much, not per row). */
const OUT_CHUNK = 256 * 1024;

/**
 * One output file. Each row arrives as one string (fields quoted, record delimiter included) and is encoded straight
 * into a buffer — one encoding call per row, not per field — that is written a chunk at a time, with backpressure.
 */
class CsvOut {
  private buf = Buffer.allocUnsafe(OUT_CHUNK);
  private pos = 0;
  private readonly ready: Buffer[] = [];

  private constructor(private readonly file: ResultFile) {}

  static async open(set: ResultSet, name: string, header: readonly string[] | null, eol: string): Promise<CsvOut> {
    const out = new CsvOut(await set.open(name, { contentType: 'text/csv; charset=utf-8' }));
    if (header) out.add(csvLine(header) + eol);
    return out;
  }

  /** One or more whole rows, encoded already as CSV text. */
  add(rows: string): void {
    // At most 3 UTF-8 bytes per UTF-16 unit.
    this.room(rows.length * 3);
    this.pos += this.buf.write(rows, this.pos, 'utf8');
  }

  /** Bytes that are CSV text already (a canonical input record: `CsvRow.canonical`). */
  addBytes(bytes: Buffer): void {
    this.room(bytes.length);
    this.pos += bytes.copy(this.buf, this.pos);
  }

  /** Make room for `bytes` more bytes: a full buffer becomes a chunk to write first. */
  private room(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    this.seal();
    if (bytes > this.buf.length) this.buf = Buffer.allocUnsafe(bytes);
  }

  /** The collected bytes become a chunk to write; a fresh buffer takes the next rows. */
  private seal(): void {
    if (this.pos === 0) return;
    this.ready.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(OUT_CHUNK);
    this.pos = 0;
  }

  /** Write the full chunks (all of them when `all`); resolves when the file can take more. */
  async flush(all = false): Promise<void> {
    if (all) this.seal();
    while (this.ready.length > 0) await this.file.write(this.ready.shift() as Buffer);
  }
}

function b(x: boolean | undefined): string {
  return x === undefined ? '' : x ? 'true' : 'false';
}

/**
 * A verdict as output columns: `head` is status, reason and bounce risk (report.csv's and the status files' columns
 * after the address); `tail` is is_catch_all, mx_host, smtp_code, smtp_reply and verified_at, with the record
 * delimiter.
 */
interface VerdictText {
  v: Verdict;
  verifiedAt: string;
  head: string;
  tail: string;
}

/**
 * Stored verdicts repeat a lot: every address of a dead domain shares one, a batch's verdicts share their
 * verification time and mostly their reply. Each distinct stored verdict is decoded and encoded as columns once
 * (within a bound); the decoding of a verdict verified at different times is shared too.
 */
class VerdictTexts {
  private readonly byStored = new Map<string, VerdictText>();
  private readonly byBody = new Map<string, Verdict>();
  private readonly missing: VerdictText;

  constructor(
    /** `escapeFormula` or `keepAsRead`, for the reply and MX host (remote data). */
    private readonly cell: (value: string) => string,
    private readonly eol: string,
    private readonly max = 10_000,
  ) {
    this.missing = this.text(verdict('temporary_failure', { smtpReply: 'no result was recorded for this address' }), '');
  }

  /** The columns of a stored verdict (null: no result was recorded for the address). */
  of(stored: string | null): VerdictText {
    if (stored === null) return this.missing;
    let t = this.byStored.get(stored);
    if (t === undefined) {
      const { verifiedAt, body } = splitStored(stored);
      let v = this.byBody.get(body);
      if (v === undefined) {
        v = decodeVerdict(body);
        if (this.byBody.size >= this.max) this.byBody.clear();
        this.byBody.set(body, v);
      }
      t = this.text(v, verifiedAt === null ? '' : new Date(verifiedAt).toISOString());
      if (this.byStored.size >= this.max) this.byStored.clear();
      this.byStored.set(stored, t);
    }
    return t;
  }

  /** The columns of `v`, verified at `verifiedAt` (ISO 8601; empty when not probed). */
  text(v: Verdict, verifiedAt: string): VerdictText {
    const { cell } = this;
    // Status, reason, risk and the flags are plain words: only free text needs quoting (and escaping).
    return {
      v,
      verifiedAt,
      head: `${v.status},${v.reason},${v.bounceRisk}`,
      tail: `${b(v.catchAll)},${csvField(cell(v.mxHost ?? ''))},${v.smtpCode ? String(v.smtpCode) : ''},${csvField(cell(v.smtpReply ?? ''))},${verifiedAt}${this.eol}`,
    };
  }
}

/** A row's verdict as columns: the stored verdict with the address's flags applied; invalid syntax from the address. */
function rowVerdict(addr: AddressResult, stored: string | null, texts: VerdictTexts): VerdictText {
  if (!addr.ok) return texts.text(verdict('invalid_syntax', { smtpReply: addr.message }), '');
  const t = texts.of(stored);
  const v = applyFlags(t.v, addr.flags);
  return v === t.v ? t : texts.text(v, t.verifiedAt);
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

/** Share of canonical records (in the file's first 64 KiB) from which copying records as read pays. */
const COPY_WORTH = 0.5;

/** Batches whose lookups may be in flight at once. */
const LOOKAHEAD = 3;
/** Domains' records (verdict, probed: see `ListState.verdictsOf`) kept while the rows are written; past this many they are read again. */
const DOMAIN_RECORDS_KEPT = 10_000;

/** Rows written, by status, reason and bounce risk. */
interface Counts {
  rows: number;
  byStatus: Record<string, number>;
  byReason: Record<string, number>;
  byBounceRisk: Record<string, number>;
}

function inc(m: Record<string, number>, k: string): void {
  m[k] = (m[k] ?? 0) + 1;
}

/** Encodes rows with their verdicts into report.csv and the file of their status. */
class RowWriter {
  readonly counts: Counts = { rows: 0, byStatus: {}, byReason: {}, byBounceRisk: {} };
  /** What report.html and summary.json show beyond the counts (domains, typo suggestions). */
  readonly tally = new ReportTally();
  private readonly texts: VerdictTexts;
  private readonly outs: CsvOut[];

  private constructor(
    private readonly report: CsvOut,
    private readonly byStatus: Record<Status, CsvOut>,
    private readonly dialect: CsvDialect,
    private readonly eol: string,
    /** `escapeFormula` or `keepAsRead`, for every cell of user or remote data. */
    private readonly cell: (value: string) => string,
  ) {
    this.texts = new VerdictTexts(cell, eol);
    this.outs = [report, ...Object.values(byStatus)];
  }

  /** Open report.csv and the four status files of `set`, with their headers. */
  static async open(set: ResultSet, dialect: CsvDialect, escapeFormulas: boolean): Promise<RowWriter> {
    const cell = escapeFormulas ? escapeFormula : keepAsRead;
    const eol = dialect.recordDelimiter === '\r\n' ? '\r\n' : '\n';
    const original = dialect.headers.map(cell);
    const report = await CsvOut.open(set, 'report.csv', [...original, ...REPORT_COLUMNS], eol);
    const byStatus = {} as Record<Status, CsvOut>;
    for (const [status, file] of Object.entries(STATUS_FILES) as [Status, string][]) {
      const columns = status === 'deliverable' ? original : [...original, ...STATUS_FILE_COLUMNS];
      byStatus[status] = await CsvOut.open(set, file, dialect.hasHeader ? columns : null, eol);
    }
    return new RowWriter(report, byStatus, dialect, eol, cell);
  }

  /** Encode one batch, then write what filled up (with backpressure). */
  async write(batch: PendingBatch): Promise<void> {
    const stored = await batch.stored;
    for (let i = 0; i < batch.rows.length; i++) {
      const a = batch.addrs[i] as AddressResult;
      this.row(batch.rows[i] as CsvRow, a, rowVerdict(a, stored[i] ?? null, this.texts));
    }
    this.counts.rows += batch.rows.length;
    await Promise.all(this.outs.map((o) => o.flush()));
  }

  /** Write what is left. */
  async flush(): Promise<void> {
    await Promise.all(this.outs.map((o) => o.flush(true)));
  }

  /** A record's original columns as a CSV line: as wide as the header, cells escaped if asked. */
  private originalColumns(r: CsvRow): string {
    const { cell, dialect } = this;
    // Read with only the address column decoded: the other fields come from the record's bytes.
    const input = r.raw !== undefined ? recordFields(r.raw, { delimiter: dialect.delimiter, relaxQuotes: true }) : r.fields;
    const fields = normaliseWidth(input, dialect.columnCount, dialect.delimiter);
    return csvLine(cell === keepAsRead ? fields : fields.map(cell));
  }

  private row(r: CsvRow, a: AddressResult, t: VerdictText): void {
    const { cell, eol } = this;
    const { v } = t;
    const suggestion = a.suggestion === null ? '' : csvField(cell(a.suggestion));
    // The columns report.csv adds after the original ones, and those the status file adds (none for clean.csv).
    const added = a.ok
      ? `,${cell === keepAsRead && a.normalized.charCodeAt(0) !== DQUOTE ? a.normalized : csvField(cell(a.normalized))},${t.head},${suggestion},${b(a.flags.role)},${b(a.flags.disposable)},${b(a.flags.free)},${t.tail}`
      : `,,${t.head},${suggestion},,,,${t.tail}`;
    const why = v.status === 'deliverable' ? eol : `,${t.head},${suggestion}${eol}`;
    const file = this.byStatus[v.status];
    if (r.canonical === true && r.raw !== undefined && r.fields.length === this.dialect.columnCount) {
      // The record as read is the record as we would write it: its bytes are copied, not decoded and encoded.
      this.report.addBytes(r.raw);
      this.report.add(added);
      file.addBytes(r.raw);
      file.add(why);
    } else {
      const line = this.originalColumns(r);
      this.report.add(line + added);
      file.add(line + why);
    }
    inc(this.counts.byStatus, v.status);
    inc(this.counts.byReason, v.reason);
    inc(this.counts.byBounceRisk, v.bounceRisk);
    this.tally.add(a, v.status);
  }
}

/** The list's metadata and dialect; the list must exist and have been split. */
async function splitList(listId: string, state: ListState): Promise<{ meta: ListMeta; dialect: CsvDialect }> {
  const meta = await state.meta();
  if (!meta) throw new ListwashError(ErrorCodes.JOB_NOT_FOUND, `list ${listId} has no state (expired or never split)`);
  if (!meta.dialect) throw new ListwashError(ErrorCodes.JOB_FAILED, `list ${listId} was not split`);
  return { meta, dialect: JSON.parse(meta.dialect) as CsvDialect };
}

/**
 * Read the input again and write every row into `set`, looking up verdicts a few batches ahead. Looks every
 * {@link STOP_CHECK_ROWS} rows whether the list was cancelled meanwhile, or another aggregation run `run` has taken
 * over (`LIST_ENDED`: nothing is written).
 */
async function writeRows(set: ResultSet, meta: ListMeta, dialect: CsvDialect, deps: AggregateDeps, run: string): Promise<RowWriter> {
  const writer = await RowWriter.open(set, dialect, meta.escapeFormulas === 'true');
  // What is known of each domain so far: its verdict if it has no mail route (one per domain, not per address), and
  // whether it was probed (if not, its addresses need no lookup of their own).
  const domains = new Map<string, DomainRecord>();
  const lookup = (addrs: AddressResult[]): Promise<(string | null)[]> => {
    const valid: { normalized: string; domain: string }[] = [];
    for (const a of addrs) if (a.ok) valid.push(a);
    if (domains.size > DOMAIN_RECORDS_KEPT) domains.clear();
    return deps.state.verdictsOf(valid, domains).then((found) => {
      let k = 0;
      return addrs.map((a) => (a.ok ? (found[k++] ?? null) : null));
    });
  };
  const inLoc = parseLocation(meta.input);
  const store = storeFor(inLoc, deps.cfg);
  // Comma-delimited input without formula escaping, most of whose records are already as we write them (judged on
  // the first 64 KiB): records are read with their bytes and only the address decoded, and a canonical record's bytes
  // are copied into the output as they are (see `CsvRow.canonical`). Otherwise (a "quote all" export, say) copying
  // would only read each record twice: every field is decoded and written anew.
  const copyRecords = dialect.delimiter === ',' && meta.escapeFormulas !== 'true' && canonicalShare(await readSample(store, inLoc), dialect) >= COPY_WORTH;
  const input = await store.openRead(inLoc);
  const inFlight: PendingBatch[] = [];
  let sinceCheck = 0;
  const write = async (batch: PendingBatch) => {
    await writer.write(batch);
    if ((sinceCheck += batch.rows.length) >= STOP_CHECK_ROWS) {
      sinceCheck = 0;
      await deps.state.assertAggregation(run);
    }
  };
  for await (const rows of readCsvBatches(input, dialect, copyRecords ? { onlyColumn: dialect.emailColumn, keepRaw: true } : {})) {
    const addrs = rows.map((r) => parseAddress(r.fields[dialect.emailColumn] ?? ''));
    const stored = lookup(addrs);
    // Handled when written; a rejection before then must not count as unhandled.
    stored.catch(() => undefined);
    inFlight.push({ rows, addrs, stored });
    if (inFlight.length > LOOKAHEAD) await write(inFlight.shift() as PendingBatch);
  }
  while (inFlight.length > 0) await write(inFlight.shift() as PendingBatch);
  await writer.flush();
  return writer;
}

/** summary.json's content. */
async function buildSummary(listId: string, meta: ListMeta, dialect: CsvDialect, writer: RowWriter, deps: AggregateDeps): Promise<Summary> {
  const { counts } = writer;
  const m = (await deps.state.meta()) ?? meta;
  const t = (k: string) => (m[k] ? Number(m[k]) : null);
  const span = (a: string, z: string) => (t(a) !== null && t(z) !== null ? (t(z)! - t(a)!) / 1000 : null);
  return {
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
    verdictCache: verdictCacheSummary(m),
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
    ...splitEgressStats(await deps.state.mxStats()),
    ...writer.tally.summary(),
    emailColumn: dialect.headers[dialect.emailColumn] ?? dialect.emailColumn,
    escapeFormulas: meta.escapeFormulas === 'true',
    ...(deps.summaryExtras ? await deps.summaryExtras() : {}),
  };
}

/**
 * After a failure: remove the partial results. The error to report is the failure itself — with a note when the
 * partial results could not all be removed (they are still incomplete: there is no summary.json).
 */
async function discardAfter(set: ResultSet, err: unknown): Promise<unknown> {
  try {
    await set.discard();
    return err;
  } catch (cleanup) {
    const note = `; ${errorMessage(cleanup)}`;
    if (err instanceof ListwashError) return new ListwashError(err.code, err.message + note, { ...err.details, cleanup: errorMessage(cleanup) }, { cause: err });
    return new Error(errorMessage(err) + note, { cause: err });
  }
}

/** report.html (the summary as charts), one more file of the set. */
async function writeReportPage(set: ResultSet, summary: Summary): Promise<void> {
  const page = await set.open('report.html', { contentType: 'text/html; charset=utf-8' });
  await page.write(Buffer.from(renderReportHtml(summary), 'utf8'));
}

export async function runAggregate(listId: string, deps: AggregateDeps): Promise<Summary> {
  const { cfg, state } = deps;
  const run = deps.run ?? randomUUID();
  const { meta, dialect } = await splitList(listId, state);
  await state.claimAggregation(run);
  await state.mark('aggregateStartedAt');

  const outLoc = parseLocation(meta.output);
  // An error.json of a failed earlier run goes too: these files are the list's result from now on.
  const set = await ResultSet.begin(storeFor(outLoc, cfg), outLoc, OUTPUT_FILES, SUMMARY_FILE, { alsoRemove: [ERROR_FILE] });
  try {
    const writer = await writeRows(set, meta, dialect, deps, run);
    await state.mark('aggregateDoneAt');
    const summary = await buildSummary(listId, meta, dialect, writer, deps);
    await writeReportPage(set, summary);
    await set.finish();
    // A list cancelled meanwhile writes nothing; nor does a run that another run has taken over.
    await state.assertAggregation(run);
    await set.commit(JSON.stringify(summary, null, 2) + '\n', { contentType: 'application/json' });
    return summary;
  } catch (err) {
    // Taken over (the newer run may have removed this one's temp files, hence any error): the files at the
    // locations are the newer run's, so only this run's own temp data goes.
    if (await takenOver(state, run)) {
      await set.cancel();
      throw new ListwashError(ErrorCodes.LIST_ENDED, `the aggregation of list ${listId} was taken over by a newer run (this worker lost the job's lock); this run stops here`, {
        listId,
        takenOver: true,
        cause: errorMessage(err),
      });
    }
    throw await discardAfter(set, err);
  }
}

/** Whether another aggregation run has claimed the list since `run` did. */
async function takenOver(state: ListState, run: string): Promise<boolean> {
  try {
    await state.assertAggregation(run);
    return false;
  } catch (e) {
    // Any other answer (cancelled, state lost, Redis not answering) leaves the run in charge of its own mess: the
    // caller reports the run's failure, which is what went wrong first.
    return e instanceof ListwashError && e.details.takenOver === true;
  }
}

/**
 * What the fleet-wide verdict cache did for the list: `hits` unique addresses answered from it (no SMTP),
 * of `lookups` asked about; `maxAge` the list's own limit in seconds (null: the class maxima only).
 */
function verdictCacheSummary(m: Record<string, string>): { hits: number; lookups: number; maxAge: number | null } {
  return { hits: Number(m.cacheHits ?? 0), lookups: Number(m.cacheLookups ?? 0), maxAge: m.maxAge !== undefined ? Number(m.maxAge) : null };
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
