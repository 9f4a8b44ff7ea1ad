/**
 * Webhook delivery survives the death of its worker: worker processes (`workers/all.ts`, as
 * `listwash worker` runs) deliver from the queue; one is SIGKILLed in the middle of an attempt, the job
 * comes back as stalled, and another worker finishes the delivery — once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { ListwashService } from '../../src/pipeline/service.js';
import type { WebhookBody } from '../../src/webhooks/index.js';
import { SimWorld } from '../../src/world/index.js';
import { killWorkerProcesses, startWorkerProcess, type WorkerProc } from '../helpers/processes.js';
import { dropKeys, pipelineConfig, pipelineEnv, testPrefix, waitFor } from '../pipeline/helpers.js';
import { attemptsOf, QUICK_ROWS, WEBHOOK_WORLD, webhookEnv, writeList } from './helpers.js';
import { HookReceiver, newSecret, verified } from './receiver.js';

const secret = newSecret();
const prefix = testPrefix();
const EXTRA = {
  ...webhookEnv(secret, { LISTWASH_WEBHOOK_RETRY_DELAY_MS: '300', LISTWASH_WEBHOOK_TIMEOUT_MS: '120000' }),
  LISTWASH_LOCK_DURATION_MS: '2000',
  LISTWASH_STALLED_INTERVAL_MS: '1000',
};
let world: SimWorld;
let cfg: Config;
let svc: ListwashService;
let rx: HookReceiver;
let dir: string;
const procs: WorkerProc[] = [];

beforeAll(async () => {
  world = await SimWorld.start(WEBHOOK_WORLD);
  dir = await mkdtemp(join(tmpdir(), 'lw-webhook-restart-'));
  cfg = pipelineConfig(world, prefix, null, EXTRA);
  // This process only submits and looks: the workers are other processes.
  svc = new ListwashService(cfg);
  // First attempt: 500. Second: no answer (its worker is killed meanwhile). Then 200.
  rx = await HookReceiver.start([500, 'hang'], 200);
});

afterAll(async () => {
  await killWorkerProcesses(procs);
  await svc?.close();
  await rx?.close();
  await dropKeys(cfg.redisUrl, prefix);
  await world?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a webhook worker killed in the middle of a retry', () => {
  it('does not lose the delivery: another worker delivers it, exactly once', async () => {
    const env = pipelineEnv(world, prefix, null, EXTRA);
    const first = await startWorkerProcess(env, ['--concurrency', '2']);
    procs.push(first);
    const { listId } = await svc.submit({ input: await writeList(dir, 'restart', QUICK_ROWS), output: join(dir, 'restart-out') + '/', listId: `restart-${process.pid}`, callbackUrl: rx.url() });

    await rx.waitForRequests(2);
    expect(await svc.webhookQueue.getJobState(`${listId}.webhook`)).toBe('active');
    first.child.kill('SIGKILL');
    await first.exit;

    procs.push(await startWorkerProcess(env, ['--concurrency', '2']));
    await rx.waitForRequests(3, 30_000);
    await waitFor(async () => (await svc.webhookQueue.getJobState(`${listId}.webhook`)) === 'completed', 20_000, 'the webhook job to complete');

    expect(rx.received.map((h) => h.answered)).toEqual([500, null, 200]);
    expect(rx.delivered()).toHaveLength(1);
    expect(verified(secret, rx.delivered()[0]!) as WebhookBody).toMatchObject({ id: listId, state: 'done', counts: { byStatus: { deliverable: 2, undeliverable: 2 } } });
    expect(new Set(rx.received.map((h) => h.headers['webhook-id'])).size).toBe(1);
    expect(attemptsOf(await svc.view(listId)).map((a) => [a.attempt, a.status, a.outcome])).toEqual([
      [1, 500, 'retrying'],
      [2, null, 'interrupted'],
      [3, 200, 'delivered'],
    ]);
  });
});
