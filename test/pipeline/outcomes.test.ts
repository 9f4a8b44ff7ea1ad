/**
 * Pipeline outcomes that need their own world: greylisting that never clears, a banning host (circuit
 * opens fleet-wide, addresses end `unknown/blocked` after the patience), idempotent submission, and
 * malformed input that fails the list with a message naming the cause.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { ErrorCodes } from '../../src/errors.js';
import { ListwashService } from '../../src/pipeline/service.js';
import { MxThrottle, mxThrottleOptionsFromConfig } from '../../src/throttle/index.js';
import { SimWorld, type SimWorldSpec } from '../../src/world/index.js';
import { dropKeys, pipelineConfig, reportRows, testPrefix } from './helpers.js';
import { rejection } from '../helpers/rejection.js';

const BAN_BANNER = '554 5.7.1 Service unavailable; client host [127.0.0.1] blocked using zen.spamhaus.org';
const GREYLIST_DELAYS = [1, 1];
const PATIENCE_SEC = 2;

const spec: SimWorldSpec = {
  domains: {
    'slowgrey.test': { mx: [{ host: 'mx.slowgrey.test', preference: 10 }] },
    'banned.test': { mx: [{ host: 'mx.banned.test', preference: 10 }] },
    'banned2.test': { mx: [{ host: 'mx.banned.test', preference: 10 }] },
    'idem.test': { mx: [{ host: 'mx.idem.test', preference: 10 }] },
  },
  hosts: {
    // Greylists far longer than the whole retry schedule (1 s + 1 s).
    'mx.slowgrey.test': { mailboxes: ['amy', 'bea'], greylistSeconds: 600 },
    'mx.banned.test': { connectReply: BAN_BANNER, mailboxes: ['x'] },
    'mx.idem.test': { mailboxes: ['ann', 'ben'] },
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
  dir = await mkdtemp(join(tmpdir(), 'lw-pipeline-'));
  cfg = pipelineConfig(world, prefix, null, {
    LISTWASH_GREYLIST_RETRY_DELAYS: GREYLIST_DELAYS.join(','),
    LISTWASH_BLOCKED_PATIENCE_SEC: String(PATIENCE_SEC),
    // Exact RCPT counts: no catch-all probe RCPTs.
    LISTWASH_CATCH_ALL_PROBE: 'false',
  });
  svc = new ListwashService(cfg);
  await svc.startWorkers({ split: true, probe: true, aggregate: true, probeConcurrency: 4 });
});

afterAll(async () => {
  await svc?.close();
  await dropKeys(cfg.redisUrl, prefix);
  await world?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function writeInput(name: string, body: string | Buffer): Promise<string> {
  const p = join(dir, `${name}.csv`);
  await writeFile(p, body);
  return p;
}

async function cleanLocal(name: string, body: string, timeoutMs = 30_000) {
  const input = await writeInput(name, body);
  const output = join(dir, `${name}-out`) + '/';
  const { listId, created } = await svc.submit({ input, output, listId: `${run}-${name}` });
  expect(created).toBe(true);
  await svc.waitUntilDone(listId, { timeoutMs, pollMs: 100 });
  const { rows } = reportRows(await readFile(join(output, 'report.csv'), 'utf8'));
  return { listId, input, output, rows };
}


describe('greylisting that never clears', () => {
  it('ends unknown/greylisted after exactly the configured retries', async () => {
    const host = world.host('mx.slowgrey.test');
    const { rows } = await cleanLocal('slowgrey', 'email\namy@slowgrey.test\nbea@slowgrey.test\n');
    expect(rows.map((r) => [r.email, r.status, r.reason])).toEqual([
      ['amy@slowgrey.test', 'unknown', 'greylisted'],
      ['bea@slowgrey.test', 'unknown', 'greylisted'],
    ]);
    expect(rows[0]!.smtp_code).toBe('450');
    // The first try plus one per delay of the schedule, for each address; never more.
    expect(host.stats.rcptCount).toBe(2 * (1 + GREYLIST_DELAYS.length));
    expect(host.stats.greylisted).toBe(2 * (1 + GREYLIST_DELAYS.length));
  });
});

describe('a host that bans the prober', () => {
  it('opens the circuit fleet-wide and ends its addresses unknown/blocked after the patience', async () => {
    const host = world.host('mx.banned.test');
    const addresses = ['a@banned.test', 'b@banned.test', 'c@banned.test', 'd@banned2.test', 'e@banned2.test', 'f@banned2.test', 'g@banned2.test'];
    const { rows } = await cleanLocal('banned', ['email', ...addresses].join('\n') + '\n', 30_000);
    expect(rows.map((r) => [r.email, r.status, r.reason])).toEqual(addresses.map((a) => [a, 'unknown', 'blocked']));
    // Batches of both domains share the host's circuit: once it opened, nobody connected again.
    expect(host.stats.connections).toBeLessThanOrEqual(cfg.mxMaxConnections);
    expect(host.stats.rcptCount).toBe(0);

    const redis = new Redis(cfg.redisUrl);
    try {
      const throttle = new MxThrottle(redis, mxThrottleOptionsFromConfig(cfg));
      const circuit = await throttle.circuitState(throttle.groupFor('mx.banned.test'));
      expect(circuit.open).toBe(true);
    } finally {
      redis.disconnect();
    }
  });
});

describe('idempotent submission', () => {
  it('processes a list id once, however often it is submitted', async () => {
    const host = world.host('mx.idem.test');
    const input = await writeInput('idem', 'email\nann@idem.test\nben@idem.test\ncid@idem.test\n');
    const output = join(dir, 'idem-out') + '/';
    const listId = `${run}-idem`;
    const first = await Promise.all([1, 2, 3].map(() => svc.submit({ input, output, listId })));
    expect(first.filter((r) => r.created)).toHaveLength(1);
    await svc.waitUntilDone(listId, { timeoutMs: 30_000, pollMs: 100 });
    const rcpts = host.stats.rcptCount;
    const sessions = host.stats.connections;
    expect(rcpts).toBe(3);

    const again = await svc.submit({ input, output, listId });
    expect(again).toEqual({ listId, created: false });
    const meta = await svc.waitUntilDone(listId, { timeoutMs: 5_000 });
    expect(meta.state).toBe('done');
    // Give a wrongly queued second run time to show itself.
    await new Promise((r) => setTimeout(r, 1500));
    expect(host.stats.rcptCount).toBe(rcpts);
    expect(host.stats.connections).toBe(sessions);
    const { rows } = reportRows(await readFile(join(output, 'report.csv'), 'utf8'));
    expect(rows.map((r) => r.reason)).toEqual(['accepted', 'accepted', 'mailbox_not_found']);
  });
});

describe('submit', () => {
  it('rejects a bad list id or location before anything is queued', async () => {
    const input = await writeInput('valid', 'email\nann@idem.test\n');
    expect((await rejection(svc.submit({ input, output: dir, listId: 'no spaces allowed' }))).code).toBe(ErrorCodes.JOB_INVALID);
    expect((await rejection(svc.submit({ input: 's3://', output: dir }))).code).toBe(ErrorCodes.STORAGE_BAD_URL);
    expect((await rejection(svc.waitUntilDone(`${run}-never-submitted`))).code).toBe(ErrorCodes.JOB_NOT_FOUND);
  });

  it('re-queues a list whose submitter died between recording it and queueing its split', async () => {
    const input = await writeInput('orphan', 'email,backup\nann@idem.test,cid@idem.test\n');
    const output = join(dir, 'orphan-out') + '/';
    const listId = `${run}-orphan`;
    // What a submitter leaves behind when it dies right after recording the list.
    await svc.state(listId).create({ input, output, emailColumn: JSON.stringify('backup'), settings: '{}' });
    await new Promise((r) => setTimeout(r, 300));
    expect((await svc.view(listId))?.state).toBe('queued');
    expect(await svc.submit({ input, output, listId })).toEqual({ listId, created: false });
    await svc.waitUntilDone(listId, { timeoutMs: 20_000, pollMs: 100 });
    const { rows } = reportRows(await readFile(join(output, 'report.csv'), 'utf8'));
    // The recorded email column (not the detected `email`) was used.
    expect(rows.map((r) => [r.email_normalized, r.reason])).toEqual([['cid@idem.test', 'mailbox_not_found']]);
  });
});

describe('malformed input fails the list with the cause', () => {
  const cases: { name: string; body: string | Buffer; code: string; message: RegExp }[] = [
    { name: 'unterminated-quote', body: 'name,email\nAnn,ann@idem.test\nBen,ben@idem.test\n"Cid,cid@idem.test\nDan,dan@idem.test\n', code: ErrorCodes.CSV_UNTERMINATED_QUOTE, message: /line 4/ },
    // A gzip stream: magic bytes, then compressed data.
    { name: 'binary', body: Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03, 0x4b, 0xcd, 0x4d, 0xcc, 0xcc, 0xd1, 0xe1, 0x02, 0x00, 0xa1, 0x6b, 0x05, 0x9e]), code: ErrorCodes.CSV_NOT_TEXT, message: /gzip-compressed/ },
    { name: 'no-email-column', body: 'name,city\nAnn,Paris\nBen,Oslo\n', code: ErrorCodes.CSV_NO_EMAIL_COLUMN, message: /email column|no column/i },
  ];
  for (const c of cases) {
    it(`${c.name} → failed, waitUntilDone rejects JOB_FAILED naming the cause`, async () => {
      const input = await writeInput(c.name, c.body);
      const { listId } = await svc.submit({ input, output: join(dir, `${c.name}-out`) + '/', listId: `${run}-${c.name}` });
      const err = await rejection(svc.waitUntilDone(listId, { timeoutMs: 20_000, pollMs: 100 }));
      expect(err.code).toBe(ErrorCodes.JOB_FAILED);
      expect(err.details.cause).toBe(c.code);
      expect(err.message).toMatch(c.message);
      const view = await svc.view(listId);
      expect(view?.state).toBe('failed');
      expect(view?.error).toEqual({ code: c.code, message: expect.stringMatching(c.message) as unknown });
    });
  }

  it('a missing input file fails the list as well', async () => {
    const { listId } = await svc.submit({ input: join(dir, 'does-not-exist.csv'), output: join(dir, 'missing-out') + '/', listId: `${run}-missing` });
    const err = await rejection(svc.waitUntilDone(listId, { timeoutMs: 20_000, pollMs: 100 }));
    expect(err.code).toBe(ErrorCodes.JOB_FAILED);
    expect(err.details.cause).toBe(ErrorCodes.STORAGE_NOT_FOUND);
    expect(err.message).toMatch(/does-not-exist\.csv|not found|no such/i);
  });
});
