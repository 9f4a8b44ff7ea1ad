/**
 * End to end: real Redis + BullMQ, in-process s3rver, the demo mail world. A CSV goes into the bucket,
 * the service cleans it from `s3://` to `s3://`, and every output file is read back and checked
 * against the world's truth.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { ListwashService } from '../../src/pipeline/service.js';
import { REASON_STATUS, type Reason } from '../../src/verdict.js';
import { SimWorld, demoWorld, expectedVerdicts } from '../../src/world/index.js';
import { startS3rver, type RunningS3rver } from '../storage/s3rver-helper.js';
import { EXTRA_COLUMNS, STATUS_FILE_COLUMNS, dropKeys, getText, parseCsv, pipelineConfig, putText, reportRows, testPrefix, useS3rverCredentials } from './helpers.js';

const STATUS_FILES: Record<string, string> = { deliverable: 'clean.csv', risky: 'risky.csv', undeliverable: 'invalid.csv', unknown: 'unknown.csv' };

let world: SimWorld;
let s3: RunningS3rver;
let cfg: Config;
let svc: ListwashService;
const prefix = testPrefix();
const truth = expectedVerdicts();
const run = `e2e-${process.pid}-${Date.now()}`;

beforeAll(async () => {
  useS3rverCredentials();
  [world, s3] = await Promise.all([SimWorld.start(demoWorld()), startS3rver()]);
  cfg = pipelineConfig(world, prefix, s3);
  svc = new ListwashService(cfg);
  await svc.startWorkers({ split: true, probe: true, aggregate: true, probeConcurrency: 8 });
});

afterAll(async () => {
  await svc?.close();
  await dropKeys(cfg.redisUrl, prefix);
  await Promise.all([world?.stop(), s3?.close()]);
});

/** An input row and what its report row must say. */
interface Case {
  fields: string[];
  status: string;
  reason: string;
  normalized: string;
}

function quote(f: string, delimiter: string): string {
  return /["\r\n]/.test(f) || f.includes(delimiter) || f.includes(',') ? `"${f.replace(/"/g, '""')}"` : f;
}

function csvText(header: string[], cases: Case[], delimiter: string, eol: string): string {
  return [header, ...cases.map((c) => c.fields)].map((r) => r.map((f) => quote(f, delimiter)).join(delimiter)).join(eol) + eol;
}

function truthCase(address: string, i: number): Case {
  const t = truth.get(address)!;
  return { fields: [`Person ${i}`, address, `Company ${i}, Inc.`, ''], status: t.status, reason: t.reason, normalized: address };
}

const EXTRA_CASES: Case[] = [
  { fields: ['Dup Bob', 'bob@ACME.test', 'Company 2, Inc.', 'same mailbox as bob@acme.test'], status: 'deliverable', reason: 'accepted', normalized: 'bob@acme.test' },
  { fields: ['Dup Alice', 'alice@acme.test', '', 'exact duplicate'], status: 'deliverable', reason: 'accepted', normalized: 'alice@acme.test' },
  { fields: ['No At', 'not-an-address', '', 'invalid syntax'], status: 'undeliverable', reason: 'invalid_syntax', normalized: '' },
  { fields: ['Injection', 'evil@acme.test\r\nDATA', '', 'CR/LF must never reach SMTP'], status: 'undeliverable', reason: 'invalid_syntax', normalized: '' },
  { fields: ['Empty', '', '', 'empty email cell'], status: 'undeliverable', reason: 'invalid_syntax', normalized: '' },
  { fields: ['Typo', 'someone@gmial.com', '', 'gmial.com does not exist in the world'], status: 'undeliverable', reason: 'no_domain', normalized: 'someone@gmial.com' },
];
const HEADER = ['Full Name', 'Email', 'Company', 'Notes'];

/** Submit `text` as `name`, wait, and return every output file. */
async function clean(name: string, text: string) {
  const input = await putText(s3, `${run}/${name}/input.csv`, text);
  const output = `s3://lw-test/${run}/${name}/out/`;
  const { listId, created } = await svc.submit({ input, output, listId: `${run}-${name}` });
  expect(created).toBe(true);
  const meta = await svc.waitUntilDone(listId, { timeoutMs: 60_000, pollMs: 100 });
  expect(meta.state).toBe('done');
  const files: Record<string, string> = {};
  for (const f of ['report.csv', 'clean.csv', 'risky.csv', 'invalid.csv', 'unknown.csv', 'summary.json']) files[f] = await getText(s3, `${run}/${name}/out/${f}`);
  return { listId, files };
}

function checkReport(files: Record<string, string>, cases: Case[], delimiter: string): void {
  const { header, rows, raw } = reportRows(files['report.csv']!, delimiter);
  expect(header).toEqual([...HEADER, ...EXTRA_COLUMNS]);
  // Every input row exactly once, in input order, original columns untouched.
  expect(raw.map((r) => r.slice(0, HEADER.length))).toEqual(cases.map((c) => c.fields));
  const wrong: string[] = [];
  rows.forEach((r, i) => {
    const c = cases[i]!;
    if (r.status !== c.status || r.reason !== c.reason || r.email_normalized !== c.normalized) {
      wrong.push(`${JSON.stringify(c.fields[1])}: got ${r.status}/${r.reason} (${r.email_normalized}), want ${c.status}/${c.reason} (${c.normalized})`);
    }
    expect(REASON_STATUS[r.reason as Reason]).toBe(r.status);
  });
  expect(wrong).toEqual([]);

  // Each category file holds exactly the rows of its status, in order: clean.csv the original columns only,
  // the others also why the row is there (status, reason, bounce risk, suggestion).
  for (const [status, file] of Object.entries(STATUS_FILES)) {
    const [h, ...body] = parseCsv(files[file]!, delimiter);
    const why = status === 'deliverable' ? [] : STATUS_FILE_COLUMNS;
    expect(h, file).toEqual([...HEADER, ...why]);
    const expected = raw
      .map((r, i) => [...r.slice(0, HEADER.length), ...why.map((c) => rows[i]![c]!)])
      .filter((_, i) => rows[i]!.status === status);
    expect(body, file).toEqual(expected);
  }
}

describe('pipeline end to end: s3:// in and out, demo world', () => {
  it('cleans a comma/CRLF list: every row once, in order, with the world’s verdict; polite; summary adds up', async () => {
    const cases = [...[...truth.keys()].map(truthCase), ...EXTRA_CASES];
    const { listId, files } = await clean('comma', csvText(HEADER, cases, ',', '\r\n'));
    checkReport(files, cases, ',');
    const { rows } = reportRows(files['report.csv']!);

    // Evidence columns of a few well-known rows.
    const byAddr = new Map(rows.map((r) => [r.Email, r]));
    expect(byAddr.get('anyone@catchall.test')).toMatchObject({ is_catch_all: 'true', mx_host: 'mx.catchall.test', smtp_code: '250' });
    expect(byAddr.get('heidi@backup.test')).toMatchObject({ mx_host: 'mx2.backup.test', smtp_code: '250' });
    expect(byAddr.get('frank@mailboxes.example')).toMatchObject({ smtp_code: '452' });
    expect(byAddr.get('grace@mailboxes.example')).toMatchObject({ smtp_code: '550' });
    expect(byAddr.get('dave@greylist.test')).toMatchObject({ status: 'deliverable', smtp_code: '250' });
    expect(byAddr.get('info@acme.test')).toMatchObject({ is_role: 'true' });
    expect(byAddr.get('someone@gmial.com')).toMatchObject({ suggestion: 'someone@gmail.com' });

    // The greylisted addresses really were greylisted first, then cleared on retry.
    expect(world.host('mx.greylist.test').stats.greylisted).toBeGreaterThan(0);
    // No host saw DATA or a politeness violation; the CR/LF row never reached any host.
    // 950 ms windows: hosts time RCPTs on arrival; allow 50 ms of delivery jitter on a loaded CI machine.
    expect(world.politenessReport({ maxConnections: cfg.mxMaxConnections, rcptPerSecond: cfg.mxRcptPerSecond, windowMs: 950 })).toEqual([]);
    for (const h of world.hostNames) expect(world.host(h).stats.dataCommands, h).toBe(0);
    expect(world.host('mx1.acme.test').stats.commands.OTHER ?? 0).toBe(0);

    const summary = JSON.parse(files['summary.json']!) as Record<string, unknown> & { byStatus: Record<string, number>; mxHosts: Record<string, Record<string, number>> };
    expect(summary).toMatchObject({ listId, rows: cases.length, duplicates: 2, invalid: 3, unique: cases.length - 2 - 3 });
    const byStatus: Record<string, number> = {};
    for (const c of cases) byStatus[c.status] = (byStatus[c.status] ?? 0) + 1;
    expect(summary.byStatus).toEqual(byStatus);
    expect(Object.values(summary.byStatus).reduce((a, b) => a + b, 0)).toBe(cases.length);
    expect(summary.mxHosts['mx1.acme.test']?.sessions).toBeGreaterThan(0);
    expect(summary.mxHosts['mx1.acme.test']?.rcpts).toBeGreaterThan(0);
    expect(summary.mxHosts['mx.greylist.test']?.replies4xx).toBeGreaterThan(0);
    expect(summary.mxHosts['mx1.backup.test']?.connectFailures).toBeGreaterThan(0);
  });

  it('cleans a semicolon/LF list the same way', async () => {
    const picked = ['alice@acme.test', 'nobody@acme.test', 'anyone@catchall.test', 'anyone@nxdomain.test', 'anyone@nullmx.test', 'ivan@implicit.example', 'erin@mailboxes.example'];
    const cases = [...picked.map(truthCase), ...EXTRA_CASES];
    const { files } = await clean('semicolon', csvText(HEADER, cases, ';', '\n'));
    const delimiter = files['report.csv']!.split('\n')[0]!.includes(';') ? ';' : ',';
    checkReport(files, cases, delimiter);
    expect(world.politenessReport({ maxConnections: cfg.mxMaxConnections, rcptPerSecond: cfg.mxRcptPerSecond, windowMs: 950 })).toEqual([]);
  });
});
