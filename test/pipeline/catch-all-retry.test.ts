/**
 * A greylisting domain's retry must not wait for its own catch-all claim. The first run claims the
 * domain's catch-all probe (held 60 s) and the probe RCPT is greylisted too, so no answer is
 * published; the retry run must probe again rather than wait for an answer nobody is producing.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { ListwashService } from '../../src/pipeline/service.js';
import { SimWorld } from '../../src/world/index.js';
import { dropKeys, pipelineConfig, reportRows, testPrefix } from './helpers.js';

let world: SimWorld;
let cfg: Config;
let svc: ListwashService;
let dir: string;
const prefix = testPrefix();

beforeAll(async () => {
  world = await SimWorld.start({
    domains: { 'grey.test': { mx: [{ host: 'mx.grey.test', preference: 10 }] } },
    hosts: { 'mx.grey.test': { mailboxes: ['amy'], greylistSeconds: 1 } },
  });
  dir = await mkdtemp(join(tmpdir(), 'lw-catchall-'));
  cfg = pipelineConfig(world, prefix, null, { LISTWASH_GREYLIST_RETRY_DELAYS: '2,2', LISTWASH_CATCH_ALL_PROBE: 'true' });
  svc = new ListwashService(cfg);
  await svc.startWorkers({ split: true, probe: true, aggregate: true, probeConcurrency: 2 });
});

afterAll(async () => {
  await svc?.close();
  await dropKeys(cfg.redisUrl, prefix);
  await world?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('greylisting with the catch-all probe on', () => {
  it('the retry clears on the greylist schedule (bounded wait: 12 s for a 2 s schedule step)', async () => {
    const input = join(dir, 'grey.csv');
    await writeFile(input, 'email\namy@grey.test\nzoe@grey.test\n');
    const output = join(dir, 'out') + '/';
    const { listId } = await svc.submit({ input, output });
    // Without the bug: first try, 2 s, retry → done in ~3 s. With it, the retry first waits 20 s
    // (CATCH_ALL_WAIT_MS) for the catch-all answer of its own earlier, still-claimed probe.
    await svc.waitUntilDone(listId, { timeoutMs: 12_000, pollMs: 100 });
    const { rows } = reportRows(await readFile(join(output, 'report.csv'), 'utf8'));
    expect(rows.map((r) => [r.email, r.reason, r.is_catch_all])).toEqual([
      ['amy@grey.test', 'accepted', 'false'],
      ['zoe@grey.test', 'mailbox_not_found', 'false'],
    ]);
  });
});
