/**
 * The CSV corpus: malformed and odd input files, each run through `listwash clean` end to end against a simulated
 * mail world on loopback, each with its expected outcome in `test/fixtures/csv-corpus/expected.json` — the rows that
 * come out (every input row once, in order, with its verdict), or the error code and the line it names, and then
 * no SMTP session at all. Files over ~200 KB are generated here at run time (`generate` in the manifest).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SNIFF_SAMPLE_BYTES, readCsvRows, sniffCsv } from '../../src/csv/index.js';
import { REPORT_COLUMNS } from '../../src/pipeline/aggregate.js';
import { CleanHarness, type CleanRun } from './clean-harness.js';

const CORPUS = fileURLToPath(new URL('../fixtures/csv-corpus/', import.meta.url));

/** One file of the corpus and what `listwash clean` must make of it. */
interface Entry {
  /** A file of the corpus folder, or… */
  file?: string;
  /** …the name of a generator below (for files too big to commit). */
  generate?: string;
  /** What the file is about. */
  about: string;
  /** The list is cleaned: this many rows in report.csv. */
  rows?: number;
  /** The original columns of report.csv (before the verdict columns). */
  columns?: string[];
  /** The reason of every row, in order. */
  reasons?: string[];
  /** How many rows end with each reason. */
  reasonCounts?: Record<string, number>;
  /** Single cells of report.csv: row (0-based), column name, value. */
  cells?: { row: number; column: string; value: string }[];
  /** The list fails: its error code, and the line the message names (null: a whole-file error without a line). */
  error?: { code: string; line: number | null; message?: string };
}

interface Manifest {
  files: Entry[];
}

const FILLER_DOMAIN = 'gone.test';

/** `email,name` then rows `f<i>@gone.test,F<i>` (a domain that does not exist: DNS only, no SMTP). */
function filler(count: number, from = 0): string {
  let s = '';
  for (let i = from; i < from + count; i++) s += `f${i}@${FILLER_DOMAIN},F${i}\n`;
  return s;
}

/**
 * A list whose byte at `offset` is `bad[0]` (the rest of `bad` follows): filler rows up to it, the bad bytes inside
 * the name field of row `last@gone.test`, then `after` more filler rows.
 */
function byteAt(offset: number, bad: Buffer, after = 20): Buffer {
  let head = 'email,name\n';
  let i = 0;
  while (head.length < offset - 60) head += `f${i}@${FILLER_DOMAIN},F${i++}\n`;
  const start = `last@${FILLER_DOMAIN},`;
  head += start + 'x'.repeat(offset - head.length - start.length);
  return Buffer.concat([Buffer.from(head), bad, Buffer.from(`\n${filler(after, i)}`)]);
}

/** Generators of the files too big to commit, by name. */
const GENERATORS: Record<string, () => Buffer> = {
  'nul-at-row-100k': () => {
    let s = 'email,name\n';
    for (let i = 0; i < 100_000; i++) s += `u${i}@ok.test,User ${i}\n`;
    return Buffer.concat([Buffer.from(s), Buffer.from('nul@ok.test,a\0b\n'), Buffer.from(filler(10))]);
  },
  'latin1-byte-last-in-sample': () => byteAt(SNIFF_SAMPLE_BYTES - 1, Buffer.from([0xe9])),
  'latin1-byte-first-after-sample': () => byteAt(SNIFF_SAMPLE_BYTES, Buffer.from([0xe9])),
  'nul-first-after-sample': () => byteAt(SNIFF_SAMPLE_BYTES, Buffer.from([0x00])),
  'multibyte-char-across-sample-end': () => byteAt(SNIFF_SAMPLE_BYTES - 1, Buffer.from('€')),
  'truncated-char-at-end-of-file': () => Buffer.concat([Buffer.from(`email,name\n${filler(4000)}last@${FILLER_DOMAIN},`), Buffer.from('€').subarray(0, 2)]),
  'surplus-fields-inside-and-past-sample': () =>
    Buffer.from(`name,email\nAnn,ann@ok.test,extra,more\n${filler(4000).replace(/^(f\d+)@gone\.test,(F\d+)$/gm, '$2,$1@gone.test')}Bob,bob@ok.test,z1\n`),
  'lone-cr-past-sample': () => Buffer.from(`email,name\r\n${filler(4000).replaceAll('\n', '\r\n')}ann@ok.test,Ann\rbob@ok.test,Bob\r\nzed@ok.test,Zed\r\n`),
  'unterminated-quote-past-sample': () => Buffer.from(`email,name\n${filler(4000)}ann@ok.test,"Ann\n${filler(50, 4000)}`),
  'very-long-field': () => Buffer.from(`email,note\nann@ok.test,${'n'.repeat(300_000)}\nbob@ok.test,"${'q, '.repeat(100_000)}"\n`),
  'record-over-1mib': () => Buffer.from(`email,note\nann@ok.test,short\nbob@ok.test,${'n'.repeat(1_100_000)}\nzed@ok.test,after\n`),
};

let h: CleanHarness;
let manifest: Manifest;

beforeAll(async () => {
  manifest = JSON.parse(await readFile(join(CORPUS, 'expected.json'), 'utf8')) as Manifest;
  h = await CleanHarness.start({
    domains: {
      'ok.test': { mx: [{ host: 'mx.ok.test', preference: 10 }] },
      'xn--bcher-kva.test': { mx: [{ host: 'mx.ok.test', preference: 10 }] },
      [FILLER_DOMAIN]: { nxdomain: true },
    },
    hosts: { 'mx.ok.test': { mailboxes: ['ann', 'bob', 'di'] } },
  });
});

afterAll(async () => {
  await h?.stop();
});

/** The input file of an entry: the committed one, or generated into the harness's folder. */
async function inputOf(e: Entry): Promise<string> {
  if (e.file !== undefined) return join(CORPUS, e.file);
  const make = GENERATORS[e.generate ?? ''];
  if (!make) throw new Error(`no generator ${JSON.stringify(e.generate)}`);
  const path = join(h.dir, `${e.generate}.csv`);
  await writeFile(path, make());
  return path;
}

/** The line a failed list's message names (`… failed: line N: …`), or null. */
function lineOf(message: string): number | null {
  const m = /failed: line (\d+):/.exec(message);
  return m ? Number(m[1]) : null;
}

/** Rows listwash itself reads back from a report.csv (sniffed and read as any input). */
async function readBack(report: Buffer): Promise<number> {
  let n = 0;
  for await (const _ of readCsvRows(Readable.from([report]), sniffCsv(report.subarray(0, SNIFF_SAMPLE_BYTES), { emailColumn: 'email_normalized' }))) n++;
  return n;
}

/** What an entry expects, in the shape {@link outcomeOf} reports. */
function expectedOf(e: Entry): Record<string, unknown> {
  if (e.error) return { error: { code: e.error.code, line: e.error.line, ...(e.error.message !== undefined ? { message: e.error.message } : {}) }, smtpConnections: 0 };
  const { rows, columns, reasons, reasonCounts, cells } = e;
  return { rows, readBack: rows, ...(columns ? { columns } : {}), ...(reasons ? { reasons } : {}), ...(reasonCounts ? { reasonCounts } : {}), ...(cells ? { cells } : {}) };
}

/** What a run gave, in the shape of {@link expectedOf}: only what the entry asks about. */
async function outcomeOf(e: Entry, run: CleanRun): Promise<Record<string, unknown>> {
  if (run.error) {
    const message = e.error?.message !== undefined && run.error.message.includes(e.error.message) ? e.error.message : run.error.message;
    return { error: { code: run.error.details.cause, line: lineOf(run.error.message), ...(e.error?.message !== undefined ? { message } : {}) }, smtpConnections: run.smtpConnections };
  }
  if (run.exitCode !== 0) return { exitCode: run.exitCode };
  const report = await h.report(run);
  const counts: Record<string, number> = {};
  for (const r of report.rows) counts[r.reason!] = (counts[r.reason!] ?? 0) + 1;
  return {
    rows: report.rows.length,
    // listwash reads its own output back, row for row.
    readBack: await readBack(await readFile(join(run.out, 'report.csv'))),
    ...(e.columns ? { columns: report.header.slice(0, report.header.length - REPORT_COLUMNS.length) } : {}),
    ...(e.reasons ? { reasons: report.rows.map((r) => r.reason) } : {}),
    ...(e.reasonCounts ? { reasonCounts: counts } : {}),
    ...(e.cells ? { cells: e.cells.map((c) => ({ ...c, value: report.rows[c.row]?.[c.column] })) } : {}),
  };
}

describe('the CSV corpus', () => {
  it('has at least 40 files, and every committed file has an expected outcome', async () => {
    const committed = (await readdir(CORPUS)).filter((f) => f !== 'expected.json' && !f.startsWith('.')).sort();
    const listed = manifest.files.flatMap((e) => (e.file !== undefined ? [e.file] : [])).sort();
    expect(listed).toEqual(committed);
    expect(manifest.files.length).toBeGreaterThanOrEqual(40);
    for (const e of manifest.files) expect(e.error !== undefined || e.rows !== undefined, e.file ?? e.generate).toBe(true);
  });

  it('gives every file its expected outcome through listwash clean', { timeout: 300_000 }, async () => {
    for (const e of manifest.files) {
      const name = e.file ?? `generated ${e.generate}`;
      const run = await h.clean(await inputOf(e));
      // Every file is compared in full (soft: one run reports every file that differs).
      expect.soft(await outcomeOf(e, run), name).toEqual(expectedOf(e));
    }
  });
});
