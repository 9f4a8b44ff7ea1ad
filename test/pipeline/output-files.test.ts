/**
 * What the output files hold and when they appear: why a row is in risky/invalid/unknown.csv, spreadsheet formulas
 * escaped on request (and carried from the split job through the list's state), a killed aggregation's temp files
 * removed by the re-run, an unwritable output refused at submit, and an output that turns read-only before the
 * aggregate failing the list at once (no retries, nothing left behind).
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { ErrorCodes } from '../../src/errors.js';
import { aggregateJobId } from '../../src/pipeline/names.js';
import { ListwashService } from '../../src/pipeline/service.js';
import { SimWorld, type SimWorldSpec } from '../../src/world/index.js';
import { rejection } from '../helpers/rejection.js';
import { TMPFS_UNAVAILABLE, mountTmpfs, tmpfsTitle } from '../helpers/tmpfs.js';
import { runCli } from '../helpers/processes.js';
import { STATUS_FILE_COLUMNS, dropKeys, parseCsv, pipelineConfig, pipelineEnv, reportRows, testPrefix, waitFor } from './helpers.js';

const spec: SimWorldSpec = {
  domains: {
    'ok.test': { mx: [{ host: 'mx.ok.test', preference: 10 }] },
    'full.test': { mx: [{ host: 'mx.full.test', preference: 10 }] },
  },
  hosts: {
    'mx.ok.test': { mailboxes: ['ann', 'ben', '=cmd', '+one'] },
    'mx.full.test': { mailboxes: ['kim'], full: true },
  },
};

let world: SimWorld;
let cfg: Config;
let svc: ListwashService;
let dir: string;
const prefix = testPrefix();
const run = `out-${process.pid}-${Date.now()}`;

beforeAll(async () => {
  world = await SimWorld.start(spec);
  dir = await mkdtemp(join(tmpdir(), 'lw-output-'));
  cfg = pipelineConfig(world, prefix, null, { LISTWASH_CATCH_ALL_PROBE: 'false' });
  svc = new ListwashService(cfg);
  await svc.startWorkers({ split: true, probe: true, aggregate: true, probeConcurrency: 4 });
});

afterAll(async () => {
  await svc?.close();
  await dropKeys(cfg.redisUrl, prefix);
  await world?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Write `csv` as the input of list `name`, clean it, and return the output folder. */
async function clean(name: string, csv: string, opts: { escapeFormulas?: boolean } = {}): Promise<string> {
  const input = join(dir, `${name}.csv`);
  await writeFile(input, csv);
  const output = join(dir, `${name}-out`) + '/';
  const { listId } = await svc.submit({ input, output, listId: `${run}-${name}`, ...opts });
  await svc.waitUntilDone(listId, { timeoutMs: 30_000, pollMs: 100 });
  return output;
}

async function files(output: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of ['report.csv', 'clean.csv', 'risky.csv', 'invalid.csv', 'unknown.csv', 'summary.json']) out[f] = await readFile(join(output, f), 'utf8');
  return out;
}

describe('the status files say why a row is there', () => {
  it('risky, invalid and unknown rows carry status, reason, bounce_risk and suggestion; clean.csv only the original columns', async () => {
    const output = await clean('why', 'name,email\nAnn,ann@ok.test\nKim,kim@full.test\nZed,zed@ok.test\nTypo,x@gmial.com\nBad,not-an-address\n');
    const f = await files(output);
    expect(parseCsv(f['clean.csv']!)).toEqual([['name', 'email'], ['Ann', 'ann@ok.test']]);
    expect(parseCsv(f['risky.csv']!)).toEqual([['name', 'email', ...STATUS_FILE_COLUMNS], ['Kim', 'kim@full.test', 'risky', 'mailbox_full', 'high', '']]);
    expect(parseCsv(f['invalid.csv']!)).toEqual([
      ['name', 'email', ...STATUS_FILE_COLUMNS],
      ['Zed', 'zed@ok.test', 'undeliverable', 'mailbox_not_found', 'high', ''],
      ['Typo', 'x@gmial.com', 'undeliverable', 'no_domain', 'high', 'x@gmail.com'],
      ['Bad', 'not-an-address', 'undeliverable', 'invalid_syntax', 'high', ''],
    ]);
    expect(parseCsv(f['unknown.csv']!)).toEqual([['name', 'email', ...STATUS_FILE_COLUMNS]]);
  });

  it('a list without a header gets no header in the status files, the same columns all the same', async () => {
    const output = await clean('headerless', 'ann@ok.test,Ann\nzed@ok.test,Zed\n');
    const f = await files(output);
    expect(parseCsv(f['clean.csv']!)).toEqual([['ann@ok.test', 'Ann']]);
    expect(parseCsv(f['invalid.csv']!)).toEqual([['zed@ok.test', 'Zed', 'undeliverable', 'mailbox_not_found', 'high', '']]);
  });
});

/** Cells that a spreadsheet would run as formulas, in the name column, with a header cell among them. */
const FORMULA_CSV =
  '=HEADER,email,phone\n' +
  '=HYPERLINK("http://x.test"),ann@ok.test,+1 555 0100\n' +
  '@SUM(A1),ben@ok.test,-5\n' +
  '"\tTab",zed@ok.test,"\rcr"\n' +
  'plain,=cmd@ok.test,x=1\n' +
  'plus,+one@ok.test,"a,=b"\n';

function allCells(f: Record<string, string>): string[] {
  return ['report.csv', 'clean.csv', 'risky.csv', 'invalid.csv', 'unknown.csv'].flatMap((n) => parseCsv(f[n]!).flat());
}

describe('spreadsheet formulas', () => {
  it('are kept as read by default', async () => {
    const f = await files(await clean('formulas-kept', FORMULA_CSV));
    const { header, rows } = reportRows(f['report.csv']!);
    expect(header[0]).toBe('=HEADER');
    expect(rows.map((r) => r['=HEADER'])).toEqual(['=HYPERLINK("http://x.test")', '@SUM(A1)', '\tTab', 'plain', 'plus']);
    expect(rows.map((r) => r.email_normalized)).toEqual(['ann@ok.test', 'ben@ok.test', 'zed@ok.test', '=cmd@ok.test', '+one@ok.test']);
    expect((JSON.parse(f['summary.json']!) as { escapeFormulas: boolean }).escapeFormulas).toBe(false);
  });

  it('with escapeFormulas, every cell of every output CSV that starts with = + - @ tab or CR gets a leading quote', async () => {
    const f = await files(await clean('formulas-escaped', FORMULA_CSV, { escapeFormulas: true }));
    const { header, rows } = reportRows(f['report.csv']!);
    expect(header[0]).toBe("'=HEADER");
    expect(rows.map((r) => [r["'=HEADER"], r.phone])).toEqual([
      [`'=HYPERLINK("http://x.test")`, "'+1 555 0100"],
      ["'@SUM(A1)", "'-5"],
      ["'\tTab", "'\rcr"],
      ['plain', 'x=1'],
      ['plus', 'a,=b'],
    ]);
    expect(rows.map((r) => [r.email, r.email_normalized, r.status])).toEqual([
      ['ann@ok.test', 'ann@ok.test', 'deliverable'],
      ['ben@ok.test', 'ben@ok.test', 'deliverable'],
      ['zed@ok.test', 'zed@ok.test', 'undeliverable'],
      ["'=cmd@ok.test", "'=cmd@ok.test", 'deliverable'],
      ["'+one@ok.test", "'+one@ok.test", 'deliverable'],
    ]);
    expect(allCells(f).filter((c) => /^[=+\-@\t\r]/.test(c))).toEqual([]);
    expect(parseCsv(f['invalid.csv']!)[1]).toEqual(["'\tTab", 'zed@ok.test', "'\rcr", 'undeliverable', 'mailbox_not_found', 'high', '']);
    expect((JSON.parse(f['summary.json']!) as { escapeFormulas: boolean }).escapeFormulas).toBe(true);
  });

  it('listwash submit --escape-formulas records the option on the list', async () => {
    const input = join(dir, 'formulas-cli.csv');
    await writeFile(input, FORMULA_CSV);
    const listId = `${run}-formulas-cli`;
    const r = await runCli(['submit', input, '--out', join(dir, 'formulas-cli-out') + '/', '--id', listId, '--escape-formulas'], pipelineEnv(world, prefix, null)).result;
    expect(r).toMatchObject({ status: 0, stdout: `${listId}\n` });
    expect((await svc.state(listId).meta())?.escapeFormulas).toBe('true');
    await svc.waitUntilDone(listId, { timeoutMs: 30_000, pollMs: 100 });
  });

  it('the option travels in the split job payload, through the list’s state, to the aggregate', async () => {
    const input = join(dir, 'formulas-job.csv');
    await writeFile(input, FORMULA_CSV);
    const output = join(dir, 'formulas-job-out') + '/';
    const listId = `${run}-formulas-job`;
    // A split job added by another producer, without submit(): the worker creates the list's state from it.
    await svc.splitQueue.add('split', { version: 1, listId, input, output, escapeFormulas: true }, { jobId: listId });
    await waitFor(async () => (await svc.view(listId)) !== null, 10_000, 'the list state');
    await svc.waitUntilDone(listId, { timeoutMs: 30_000, pollMs: 100 });
    expect(allCells(await files(output)).filter((c) => /^[=+\-@\t\r]/.test(c))).toEqual([]);
  });
});

describe('a killed aggregation’s left-overs', () => {
  it('the re-run removes the hidden temp files of the files it writes, and only those', async () => {
    const output = join(dir, 'leftovers-out');
    await mkdir(output, { recursive: true });
    const ours = ['.report.csv.0123456789ab.tmp', '.clean.csv.0123456789ab.tmp', '.unknown.csv.ffffffffffff.tmp', '.summary.json.0123456789ab.tmp'];
    const theirs = ['.notes.csv.0123456789ab.tmp', '.report.csv.tmp', 'mine.txt'];
    for (const n of [...ours, ...theirs]) await writeFile(join(output, n), Buffer.alloc(1000));
    await clean('leftovers', 'email\nann@ok.test\n');
    expect((await readdir(output)).sort()).toEqual([...theirs, 'clean.csv', 'invalid.csv', 'report.csv', 'report.html', 'risky.csv', 'summary.json', 'unknown.csv'].sort());
  });
});

describe('an unwritable output', () => {
  it('is refused at submit, with its storage code, before the list exists', async () => {
    await writeFile(join(dir, 'a-file'), 'x');
    const listId = `${run}-unwritable`;
    const err = await rejection(svc.submit({ input: join(dir, 'why.csv'), output: join(dir, 'a-file', 'out') + '/', listId }));
    expect(err.code).toBe(ErrorCodes.STORAGE_IO);
    expect(err.message).toMatch(/^output .*a-file\/out\/ is not writable: /);
    expect(await svc.view(listId)).toBeNull();
  });
});

describe.skipIf(TMPFS_UNAVAILABLE !== null)(tmpfsTitle('an output that turns read-only before the aggregate'), () => {
  it('fails the list at once with STORAGE_READ_ONLY and the cause, the aggregate is not retried, and the worker goes on', async () => {
    const fs = await mountTmpfs({ sizeBytes: 256 * 1024 });
    // A second service without aggregate workers: the list waits for its aggregate while the folder turns read-only.
    const early = new ListwashService(cfg);
    try {
      await svc.close();
      await early.startWorkers({ split: true, probe: true, probeConcurrency: 4 });
      const input = join(dir, 'ro.csv');
      await writeFile(input, 'email\nann@ok.test\nzed@ok.test\n');
      const listId = `${run}-ro`;
      await early.submit({ input, output: fs.dir, listId });
      await waitFor(async () => (await early.aggregateQueue.getJobState(aggregateJobId(listId))) === 'waiting', 20_000, 'the aggregate job');
      fs.remountReadOnly();
      svc = new ListwashService(cfg);
      await svc.startWorkers({ split: true, probe: true, aggregate: true, probeConcurrency: 4 });
      const err = await rejection(svc.waitUntilDone(listId, { timeoutMs: 20_000, pollMs: 100 }));
      expect(err.details.cause).toBe(ErrorCodes.STORAGE_READ_ONLY);
      expect(err.message).toBe(`list ${listId} failed: cannot delete ${fs.dir}/summary.json: read-only file system (EROFS)`);
      expect(await svc.view(listId)).toMatchObject({ state: 'failed', error: { code: 'STORAGE_READ_ONLY' } });
      // The list is marked failed inside the job, a moment before BullMQ records the job's failure.
      await waitFor(async () => (await svc.aggregateQueue.getJobState(aggregateJobId(listId))) === 'failed', 10_000, 'the aggregate job to be failed');
      expect((await svc.aggregateQueue.getJob(aggregateJobId(listId)))?.attemptsMade).toBe(1);
      // The same worker cleans the next list.
      await clean('after-ro', 'email\nann@ok.test\n');
    } finally {
      await early.close();
      await fs.unmount();
    }
  });
});
