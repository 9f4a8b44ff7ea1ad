/**
 * The main job as users run it: `listwash demo`, and `listwash clean <input> --out <prefix>` with
 * settings from the environment.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemoOnce, dropPrefix } from '../../src/cli/demo.js';
import { main } from '../../src/cli/main.js';
import { SimWorld } from '../../src/world/index.js';

const prefix = `{lwtest-${randomBytes(4).toString('hex')}}`;
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('listwash demo', () => {
  it('cleans the demo list through the pipeline with every verdict equal to the world\'s truth, politely', async () => {
    const out = await mkdtemp(join(tmpdir(), 'lw-demo-'));
    // 950 ms windows: tolerate 50 ms of RCPT delivery jitter when other test files load both cores.
    const r = await runDemoOnce({ out, quiet: true, politenessWindowMs: 950 });
    expect(r.mismatches).toEqual([]);
    expect(r.violations).toEqual([]);
    expect(r.dataCommands).toBe(0);
    expect(r.rows).toBe(36);
    const summary = JSON.parse(await readFile(join(out, 'out', 'summary.json'), 'utf8')) as { rows: number; duplicates: number };
    expect(summary.rows).toBe(36);
    expect(summary.duplicates).toBe(1);
  });
});

describe('listwash clean', () => {
  it('runs the whole pipeline in one process from the environment and exits 0 when the files are written', async () => {
    const world = await SimWorld.start({
      domains: { 'shop.test': { mx: [{ host: 'mx.shop.test', preference: 10 }] }, 'gone.test': { nxdomain: true } },
      hosts: { 'mx.shop.test': { mailboxes: ['ann'] } },
    });
    cleanups.push(() => world.stop());
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    cleanups.push(async () => {
      await dropPrefix(redis, prefix);
      redis.disconnect();
    });
    const dir = await mkdtemp(join(tmpdir(), 'lw-clean-'));
    const input = join(dir, 'list.csv');
    await writeFile(input, 'email;name\nann@shop.test;Ann\nbob@shop.test;Bob\nx@gone.test;X\nnot an address;Y\n');
    const saved = { ...process.env };
    Object.assign(process.env, world.env(), { LISTWASH_QUEUE_PREFIX: prefix, LISTWASH_HELO_NAME: 'probe.listwash.test', LISTWASH_MAIL_FROM: 'probe@listwash.test' });
    let code: number;
    try {
      code = await main(['clean', input, '--out', join(dir, 'out') + '/', '--quiet']);
    } finally {
      process.env = saved;
    }
    expect(code).toBe(0);
    const report = (await readFile(join(dir, 'out', 'report.csv'), 'utf8')).trim().split('\n');
    expect(report[0]).toBe('email,name,email_normalized,status,reason,bounce_risk,suggestion,is_role,is_disposable,is_free,is_catch_all,mx_host,smtp_code,smtp_reply,verified_at');
    expect(report.slice(1).map((l) => l.split(',').slice(0, 5).join(','))).toEqual([
      'ann@shop.test,Ann,ann@shop.test,deliverable,accepted',
      'bob@shop.test,Bob,bob@shop.test,undeliverable,mailbox_not_found',
      'x@gone.test,X,x@gone.test,undeliverable,no_domain',
      'not an address,Y,,undeliverable,invalid_syntax',
    ]);
    expect((await readFile(join(dir, 'out', 'clean.csv'), 'utf8')).trim().split('\n')).toEqual(['email,name', 'ann@shop.test,Ann']);
  });
});
