/**
 * Webhooks of lists that end, delivered by the webhook worker over real HTTP to receivers on loopback,
 * with real Redis, the simulated mail world and s3rver: signed so that the `standardwebhooks` library
 * verifies them, retried until a 2xx and never after it, every attempt recorded on the list, refused
 * for addresses outside the allowed targets.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { ErrorCodes } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { ListwashService } from '../../src/pipeline/service.js';
import { FileLinks, WebhookDelivery, type WebhookBody } from '../../src/webhooks/index.js';
import { SimWorld } from '../../src/world/index.js';
import { rejection } from '../helpers/rejection.js';
import { dropKeys, getText, pipelineConfig, putText, testPrefix, TEST_BUCKET, useS3rverCredentials, waitFor } from '../pipeline/helpers.js';
import { startS3rver, type RunningS3rver } from '../storage/s3rver-helper.js';
import { attemptsOf, QUICK_ROWS, slowRows, WEBHOOK_WORLD, webhookEnv, writeList } from './helpers.js';
import { HookReceiver, newSecret, verified, type Answer } from './receiver.js';

const secret = newSecret();
const run = `wh-${process.pid}-${Date.now()}`;
const prefix = testPrefix();
/** A second fleet with the default LISTWASH_WEBHOOK_ALLOWED_TARGETS (`public`). */
const strictPrefix = testPrefix();
let world: SimWorld;
let s3: RunningS3rver;
let cfg: Config;
let svc: ListwashService;
let strict: ListwashService;
let dir: string;
const receivers: HookReceiver[] = [];

async function receiver(script: Answer[] = [], fallback: Answer = 200): Promise<HookReceiver> {
  const rx = await HookReceiver.start(script, fallback);
  receivers.push(rx);
  return rx;
}

beforeAll(async () => {
  useS3rverCredentials();
  [world, s3] = await Promise.all([SimWorld.start(WEBHOOK_WORLD), startS3rver()]);
  dir = await mkdtemp(join(tmpdir(), 'lw-webhooks-'));
  cfg = pipelineConfig(world, prefix, s3, webhookEnv(secret));
  svc = new ListwashService(cfg);
  strict = new ListwashService(pipelineConfig(world, strictPrefix, null, { LISTWASH_WEBHOOK_SECRET: secret, LISTWASH_CATCH_ALL_PROBE: 'false' }));
  await svc.startWorkers({ split: true, probe: true, aggregate: true, webhook: true, probeConcurrency: 4 });
  await strict.startWorkers({ split: true, probe: true, aggregate: true, webhook: true, probeConcurrency: 2 });
});

afterAll(async () => {
  await Promise.all([svc?.close(), strict?.close()]);
  await Promise.all(receivers.map((r) => r.close()));
  await Promise.all([dropKeys(cfg.redisUrl, prefix), dropKeys(cfg.redisUrl, strictPrefix)]);
  await Promise.all([world?.stop(), s3?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Wait until the list's webhook job has finished (completed, or failed for good). */
async function webhookSettled(service: ListwashService, listId: string): Promise<string> {
  let state = '';
  await waitFor(async () => ['completed', 'failed'].includes((state = String(await service.webhookQueue.getJobState(`${listId}.webhook`)))), 30_000, `the webhook job of ${listId}`);
  return state;
}

describe('the webhook of a finished list', () => {
  it('is one POST that verifies with standardwebhooks: { id, state, counts, files, output }, recorded as delivered', async () => {
    const rx = await receiver();
    const output = join(dir, 'done-out') + '/';
    const { listId } = await svc.submit({ input: await writeList(dir, 'done', QUICK_ROWS), output, listId: `${run}-done`, callbackUrl: rx.url('/hooks?token=abc') });
    await svc.waitUntilDone(listId, { timeoutMs: 30_000, pollMs: 100 });
    expect(await webhookSettled(svc, listId)).toBe('completed');
    expect(rx.received).toHaveLength(1);
    const hook = rx.received[0]!;
    expect(hook.path).toBe('/hooks?token=abc');
    const body = verified(secret, hook) as WebhookBody;
    expect(body).toMatchObject({ id: listId, state: 'done', output, counts: { byStatus: { deliverable: 2, undeliverable: 2 } } });
    expect(body.error).toBeUndefined();
    expect(body.files.map((f) => f.name)).toEqual(['report.csv', 'clean.csv', 'risky.csv', 'invalid.csv', 'unknown.csv', 'report.html', 'summary.json']);
    for (const f of body.files) expect((await readFile(fileURLToPath(f.url))).length, f.name).toBe(f.size);
    expect(hook.headers['webhook-id']).toMatch(new RegExp(`^lw_${listId}_\\d+_done$`));
    const attempts = attemptsOf(await svc.view(listId));
    expect(attempts).toEqual([expect.objectContaining({ attempt: 1, state: 'done', status: 200, error: null, outcome: 'delivered', nextAttemptAt: null })]);
    expect(attempts[0]!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('on S3 carries pre-signed URLs that download the files', async () => {
    const rx = await receiver();
    const input = await putText(s3, `in/${run}.csv`, ['email', ...QUICK_ROWS].join('\n') + '\n');
    const output = `s3://${TEST_BUCKET}/out/${run}/`;
    const { listId } = await svc.submit({ input, output, listId: `${run}-s3`, callbackUrl: rx.url() });
    await svc.waitUntilDone(listId, { timeoutMs: 30_000, pollMs: 100 });
    await rx.waitForRequests(1);
    const body = verified(secret, rx.received[0]!) as WebhookBody;
    const report = body.files.find((f) => f.name === 'report.csv')!;
    expect(report.url).toMatch(new RegExp(`^${s3.settings.s3Endpoint}/${TEST_BUCKET}/out/${run}/report\\.csv\\?.*X-Amz-Signature=`));
    const res = await fetch(report.url);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toBe(await getText(s3, `out/${run}/report.csv`));
    expect(Buffer.byteLength(text)).toBe(report.size);
  });

  it('is retried after failures: a receiver that fails twice then succeeds gets exactly one successful delivery, three attempts recorded', async () => {
    const rx = await receiver([500, 503], 200);
    const { listId } = await svc.submit({ input: await writeList(dir, 'retry', QUICK_ROWS), output: join(dir, 'retry-out') + '/', listId: `${run}-retry`, callbackUrl: rx.url() });
    await svc.waitUntilDone(listId, { timeoutMs: 30_000, pollMs: 100 });
    expect(await webhookSettled(svc, listId)).toBe('completed');
    // Long enough for two more retries at the schedule's pace, had there been any.
    await new Promise((r) => setTimeout(r, 1000));
    expect(rx.received.map((h) => h.answered)).toEqual([500, 503, 200]);
    expect(rx.delivered()).toHaveLength(1);
    // Every attempt is the same message (receivers dedupe on webhook-id), signed afresh.
    expect(new Set(rx.received.map((h) => h.headers['webhook-id'])).size).toBe(1);
    for (const h of rx.received) expect(verified(secret, h)).toMatchObject({ id: listId, state: 'done' });
    const attempts = attemptsOf(await svc.view(listId));
    expect(attempts.map((a) => [a.attempt, a.status, a.outcome])).toEqual([
      [1, 500, 'retrying'],
      [2, 503, 'retrying'],
      [3, 200, 'delivered'],
    ]);
    expect(attempts[0]!.error).toMatchObject({ code: ErrorCodes.WEBHOOK_DELIVERY });
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(200);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(400);
  });
});

describe('the webhook of a list that did not finish', () => {
  it('announces a failed list with its error and error.json', async () => {
    const rx = await receiver();
    const input = join(dir, 'broken.csv');
    await writeFile(input, 'email\n"ann@quick.test\n');
    const { listId } = await svc.submit({ input, output: join(dir, 'broken-out') + '/', listId: `${run}-failed`, callbackUrl: rx.url() });
    await rx.waitForRequests(1);
    const body = verified(secret, rx.received[0]!) as WebhookBody;
    expect(body).toMatchObject({ id: listId, state: 'failed', error: { code: ErrorCodes.CSV_UNTERMINATED_QUOTE } });
    expect(body.files.map((f) => f.name)).toEqual(['error.json']);
    expect(rx.received[0]!.headers['webhook-id']).toMatch(/_failed$/);
  });

  it('announces a cancelled list, with no files', async () => {
    const rx = await receiver();
    const { listId } = await svc.submit({ input: await writeList(dir, 'cancel', slowRows(40)), output: join(dir, 'cancel-out') + '/', listId: `${run}-cancel`, callbackUrl: rx.url() });
    await waitFor(async () => (await svc.view(listId))?.state === 'probing', 20_000, 'probing');
    await svc.cancel(listId);
    await rx.waitForRequests(1);
    expect(verified(secret, rx.received[0]!)).toMatchObject({ id: listId, state: 'cancelled', files: [] });
  });
});

describe('a callback to a refused address', () => {
  it('with the default allowed targets, a loopback URL is refused without a request, recorded, and not retried', async () => {
    const rx = await receiver();
    const { listId } = await strict.submit({ input: await writeList(dir, 'strict', QUICK_ROWS), output: join(dir, 'strict-out') + '/', listId: `${run}-strict`, callbackUrl: rx.url() });
    await strict.waitUntilDone(listId, { timeoutMs: 30_000, pollMs: 100 });
    expect(await webhookSettled(strict, listId)).toBe('failed');
    const attempts = attemptsOf(await strict.view(listId));
    expect(attempts).toEqual([expect.objectContaining({ attempt: 1, status: null, outcome: 'refused', nextAttemptAt: null, error: expect.objectContaining({ code: ErrorCodes.WEBHOOK_TARGET_NOT_ALLOWED }) })]);
    expect(rx.received).toEqual([]);
  });
});

describe('one delivery attempt', () => {
  /** A list that has ended with a callback, and no webhook job (the test drives the attempts). */
  async function endedList(name: string, callbackUrl: string): Promise<string> {
    const listId = `${run}-${name}`;
    const state = svc.state(listId);
    await state.create({ input: join(dir, 'none.csv'), output: join(dir, `${name}-out`) + '/', callbackUrl });
    await state.transition('failed', ['queued'], { finishedAt: Date.now(), error: 'test', errorCode: ErrorCodes.CSV_EMPTY });
    return listId;
  }

  const delivery = (over: Partial<Config>, log = silentLogger) => new WebhookDelivery({ cfg: { ...cfg, ...over }, log, state: (id) => svc.state(id), links: new FileLinks(cfg) });

  it('gives up once the next attempt would start after the retry window', async () => {
    const rx = await receiver([], 500);
    const listId = await endedList('give-up', rx.url());
    const d = delivery({ webhookRetryWindowSec: 2, webhookRetryDelayMs: 600 });
    expect(await d.attempt({ listId, state: 'failed' })).toMatchObject({ kind: 'retry', attempt: 1 });
    expect(await d.attempt({ listId, state: 'failed' })).toMatchObject({ kind: 'retry', attempt: 2 });
    expect(await d.attempt({ listId, state: 'failed' })).toEqual({ kind: 'gave_up', attempt: 3 });
    expect(attemptsOf(await svc.view(listId)).map((a) => a.outcome)).toEqual(['retrying', 'retrying', 'gave_up']);
  });

  it('is never made again once one was delivered', async () => {
    const rx = await receiver();
    const listId = await endedList('once', rx.url());
    const d = delivery({});
    expect(await d.attempt({ listId, state: 'failed' })).toEqual({ kind: 'delivered', attempt: 1 });
    expect(await d.attempt({ listId, state: 'failed' })).toEqual({ kind: 'skipped', why: 'already delivered (failed)' });
    expect(rx.received).toHaveLength(1);
  });

  it('is not sent unsigned by a worker without a secret: recorded as WEBHOOK_SECRET_MISSING and retried', async () => {
    const rx = await receiver();
    const listId = await endedList('unsigned', rx.url());
    expect(await delivery({ webhookSecret: [] }).attempt({ listId, state: 'failed' })).toMatchObject({ kind: 'retry', attempt: 1 });
    expect(rx.received).toEqual([]);
    expect(attemptsOf(await svc.view(listId))[0]!.error).toMatchObject({ code: ErrorCodes.WEBHOOK_SECRET_MISSING });
  });

  it('records and logs a timeout, never with the secret, the URL path or its query', async () => {
    const rx = await receiver([], 'hang');
    const listId = await endedList('timeout', rx.url('/private/path?token=hunter2'));
    const lines: string[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    expect(await delivery({ webhookTimeoutMs: 300 }, log).attempt({ listId, state: 'failed' })).toMatchObject({ kind: 'retry' });
    const [a] = attemptsOf(await svc.view(listId));
    expect(a!.error).toMatchObject({ code: ErrorCodes.WEBHOOK_TIMEOUT });
    expect(lines.join('')).toContain(`http://127.0.0.1:${rx.port}`);
    for (const hidden of ['hunter2', '/private/path', secret.slice(6)]) {
      expect(JSON.stringify(a)).not.toContain(hidden);
      expect(lines.join('')).not.toContain(hidden);
    }
  });
});

describe('submitting a list with a callback URL', () => {
  it('validates the URL: http or https, no credentials', async () => {
    const input = await writeList(dir, 'v', QUICK_ROWS);
    for (const callbackUrl of ['ftp://hooks.example.org/', 'https://user:pw@hooks.example.org/', 'not a url']) {
      const err = await rejection(svc.submit({ input, output: join(dir, 'v-out') + '/', callbackUrl }));
      expect(err.code, callbackUrl).toBe(ErrorCodes.JOB_INVALID);
      expect(err.details.field).toBe('callbackUrl');
    }
  });

  // Also: a service closed right after a refused submit, before its queues are ready, raises no
  // unhandled rejection (vitest fails the run on one).
  it('is refused when no webhook secret is configured (webhooks are always signed)', async () => {
    const unsigned = new ListwashService({ ...cfg, webhookSecret: [] });
    try {
      const err = await rejection(unsigned.submit({ input: await writeList(dir, 'u', QUICK_ROWS), output: join(dir, 'u-out') + '/', callbackUrl: 'https://hooks.example.org/' }));
      expect(err.code).toBe(ErrorCodes.WEBHOOK_SECRET_MISSING);
    } finally {
      await unsigned.close();
    }
  });
});
