/**
 * The command line as operators run it: the built `bin/listwash.js` in a child process (built once, in
 * `beforeAll`), against real Redis, a simulated mail world on loopback and real worker processes. Help
 * per command, --version, exit codes 0/1/2 (the same through `tsx src/cli/main.ts` and `npm run demo`),
 * bad flags, and a list's life through status, list, download, cancel and delete.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { listKeys } from '../../src/pipeline/names.js';
import { ListwashService } from '../../src/pipeline/service.js';
import { createRedis, type RedisClient } from '../../src/redis/connect.js';
import { MxThrottle, mxThrottleOptionsFromConfig } from '../../src/throttle/index.js';
import { SimWorld } from '../../src/world/index.js';
import { dropKeys, getText, pipelineEnv, putText, testPrefix, waitFor } from '../pipeline/helpers.js';
import { startS3rver, TEST_BUCKET } from '../storage/s3rver-helper.js';
import { QUICK_SLOW_WORLD } from '../helpers/quick-slow-world.js';
import { buildPackage, killWorkerProcesses, REPO_ROOT, runBuiltCli, runProcess, startWorkerProcess, type CliResult, type WorkerProc } from '../helpers/processes.js';

const COMMANDS = ['clean', 'submit', 'worker', 'status', 'list', 'download', 'cancel', 'delete', 'watch', 'verify', 'serve', 'doctor', 'demo'];

const spec = QUICK_SLOW_WORLD;

const prefix = testPrefix();
const run = `cli-${process.pid}-${Date.now()}`;
let world: SimWorld;
let env: Record<string, string>;
let cfg: Config;
let svc: ListwashService;
let redis: RedisClient;
let dir: string;
const workers: WorkerProc[] = [];

beforeAll(async () => {
  buildPackage();
  world = await SimWorld.start(spec);
  env = pipelineEnv(world, prefix, null, { LISTWASH_CATCH_ALL_PROBE: 'false', LISTWASH_MX_RCPT_PER_SECOND: '5' });
  cfg = loadConfig(env);
  // Looks only (views, keys, leases): every action goes through the command.
  svc = new ListwashService(cfg);
  redis = createRedis(cfg);
  dir = await mkdtemp(join(tmpdir(), 'lw-cli-'));
}, 180_000);

afterAll(async () => {
  await killWorkerProcesses(workers);
  await svc?.close();
  redis?.disconnect();
  if (cfg) await dropKeys(cfg.redisUrl, prefix);
  await world?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[], opts: { cwd?: string } = {}) => runBuiltCli(args, env, opts);

async function input(name: string, lines: string[]): Promise<string> {
  const path = join(dir, `${name}.csv`);
  await writeFile(path, ['email', ...lines].join('\n') + '\n');
  return path;
}

/** Every Redis key of a list (its hash tag). */
async function keysOf(listId: string): Promise<string[]> {
  const tag = listKeys(cfg.queuePrefix, listId).meta.replace(/:meta$/, '');
  return redis.keys(`${tag}:*`);
}

/** The process ended with `code`, printing exactly one line on stderr: `listwash: CODE: …`. */
function failedWith(r: CliResult, code: string): void {
  expect(r.status, r.stderr).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`^listwash: ${code}: [^\\n]+\\n$`));
}

describe('help and version', () => {
  it('--version prints the version of package.json', async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await cli(['--version']);
    expect(r).toEqual({ status: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('--help lists every command and the exit codes', async () => {
    const r = await cli(['--help']);
    expect(r.status).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(r.stdout).toContain('Exit codes:\n  0  done\n  1  failed');
  });

  it.each(COMMANDS)('%s --help shows its usage, options and an example; `listwash help <command>` says the same', async (c) => {
    const [own, viaHelp] = await Promise.all([cli([c, '--help']), cli(['help', c])]);
    expect(own.status).toBe(0);
    expect(own.stderr).toBe('');
    expect(own.stdout).toMatch(new RegExp(`^Usage: listwash ${c} `));
    expect(own.stdout).toMatch(new RegExp(`\\nExamples:\\n {2}\\$ (\\S+=\\S+ )*listwash ${c}\\b`));
    expect(viaHelp).toEqual(own);
  });
});

describe('exit codes', () => {
  it.each([
    [['status', 'x', '--concurrency', '3'], "unknown option '--concurrency'", 'listwash status [options] <id>'],
    [['status'], "missing required argument 'id'", 'listwash status [options] <id>'],
    [['cancel', 'a', 'b'], 'listwash cancel takes one argument; got ["a","b"]', 'listwash cancel [options] <id>'],
    [['clean', 'in.csv'], "required option '-o, --out <prefix>' not specified", 'listwash clean [options] <input>'],
    [['download', 'x', '--files'], "unknown option '--files'", 'listwash download [options] <id>'],
    [['delete', 'x', '--dir', 'y'], "unknown option '--dir'", 'listwash delete [options] <id>'],
    [['list', '--limit', 'ten'], '--limit takes a positive integer up to 500', 'listwash list [options]'],
    [['worker', '--only', 'probe,bogus'], '--only takes split, probe, aggregate, webhook; got "bogus"', 'listwash worker [options]'],
    [['demo', 'extra'], 'listwash demo takes no arguments; got ["extra"]', 'listwash demo [options]'],
    [['frobnicate'], "unknown command 'frobnicate'", 'listwash [options] [command]'],
  ])('%j is a usage error: exit 2, what is wrong and the command’s usage, no stack trace', async (args, message, usage) => {
    const r = await cli(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toContain(message);
    expect(lines[0]).toMatch(/^listwash: /);
    expect(lines[1]).toBe(`usage: ${usage}`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('no command: the help on stderr, exit 2', async () => {
    const r = await cli([]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Usage: listwash /);
  });

  it('the same codes through `tsx src/cli/main.ts` and `npm run demo`', async () => {
    const [tsx, npmUsage, npmHelp] = await Promise.all([
      runProcess(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'status', 'x', '--concurrency', '3'], env),
      runProcess('npm', ['run', '--silent', 'demo', '--', '--bogus'], env),
      runProcess('npm', ['run', '--silent', 'demo', '--', '--help'], env),
    ]);
    expect(tsx.status).toBe(2);
    expect(tsx.stderr.split('\n')[0]).toBe("listwash: unknown option '--concurrency'");
    expect(npmUsage.status).toBe(2);
    expect(npmUsage.stderr.split('\n')[0]).toBe("listwash: unknown option '--bogus'");
    expect(npmHelp.status).toBe(0);
    expect(npmHelp.stdout).toMatch(/^Usage: listwash demo /);
  });

  it('a failure: exit 1 and one line with the error code, the same through tsx', async () => {
    failedWith(await cli(['status', `${run}-nothing`]), 'JOB_NOT_FOUND');
    failedWith(await runProcess(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'status', `${run}-nothing`], env), 'JOB_NOT_FOUND');
    // A failed list shows the code of what failed it.
    const r = await cli(['clean', join(dir, 'missing.csv'), '--out', join(dir, 'missing-out') + '/', '--id', `${run}-missing`, '--quiet']);
    failedWith(r, 'STORAGE_NOT_FOUND');
    expect(r.stdout).toBe('');
  });

  it('a Redis that does not answer: exit 1, REDIS_UNAVAILABLE, within seconds', async () => {
    const r = await runBuiltCli(['list'], { ...env, REDIS_URL: 'redis://127.0.0.1:1' });
    failedWith(r, 'REDIS_UNAVAILABLE');
  });
});

describe('a list cleaned by `listwash clean`', () => {
  const listId = `${run}-done`;
  const output = () => join(dir, 'done-out') + '/';
  let clean: CliResult;

  beforeAll(async () => {
    const list = await input('done', ['ann@quick.test', 'ben@quick.test', 'zed@quick.test', 'not an address', 'ann@QUICK.test']);
    clean = await cli(['clean', list, '--out', output(), '--id', listId]);
  }, 60_000);

  it('exits 0; off a terminal its progress is plain lines, then where the files are', () => {
    expect(clean.status, clean.stderr).toBe(0);
    const progress = clean.stderr.trimEnd().split('\n');
    expect(progress.every((l) => /^\[(queued|splitting|probing|aggregating|done)\]/.test(l)), clean.stderr).toBe(true);
    expect(progress.at(-1)).toMatch(/^\[done\] 5 rows, 3 unique, 1\/1 batches done, 100% verified \(deliverable 3, undeliverable 2\)$/);
    expect(clean.stdout).toBe(`list ${listId}: 5 rows (deliverable 3, undeliverable 2) → ${output()}\n  report.csv clean.csv risky.csv invalid.csv unknown.csv report.html summary.json\n`);
  });

  it('status: phase, share verified, counts, batches, timings and output, for people', async () => {
    const r = await cli(['status', listId]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`list ${listId}: done, 100% verified (3 of 3 unique addresses)`);
    expect(lines).toContain(`  output    ${output()} (written: report.csv clean.csv risky.csv invalid.csv unknown.csv report.html summary.json)`);
    expect(lines).toContain('  rows      5 (3 unique, 1 duplicates, 1 invalid), 1 domain');
    expect(lines).toContain('  batches   1/1 done');
    expect(lines).toContain('  rows by   deliverable 3, undeliverable 2');
    expect(lines.find((l) => l.startsWith('  timings'))).toMatch(/created \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, .*took /);
  });

  it('status --json: the typed view (numbers are numbers)', async () => {
    const r = await cli(['status', listId, '--json']);
    expect(r.status).toBe(0);
    const v = JSON.parse(r.stdout) as Record<string, unknown> & { batches: Record<string, unknown>; counts: { byStatus: Record<string, unknown> }; timings: Record<string, unknown> };
    expect(v).toMatchObject({ id: listId, state: 'done', percent: 100, rows: 5, unique: 3, duplicates: 1, invalid: 1, domains: 1, verified: 3, error: null });
    expect(v.batches).toEqual({ total: 1, done: 1, failed: 0 });
    expect(v.counts.byStatus).toEqual({ deliverable: 3, undeliverable: 2 });
    for (const t of ['createdAt', 'splitStartedAt', 'finishedAt', 'elapsedSec']) expect(typeof v.timings[t], t).toBe('number');
  });

  it('list: newest first, with state and share; --json typed', async () => {
    const [text, json] = await Promise.all([cli(['list', '--limit', '50']), cli(['list', '--json'])]);
    expect(text.status).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(/^ID +STATE +VERIFIED +ROWS +CREATED +OUTPUT$/);
    expect(text.stdout).toMatch(new RegExp(`^${listId} +done +100% +5 +\\S+ \\S+ +${output()}$`, 'm'));
    const page = JSON.parse(json.stdout) as { lists: { id: string; state: string; percent: number; createdAt: unknown; timings: { createdAt: number } }[]; nextCursor: string | null };
    const times = page.lists.map((l) => l.timings.createdAt);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(page.lists.find((l) => l.id === listId)).toMatchObject({ state: 'done', percent: 100 });
  });

  it('Redis keeps no per-address results once the files are written: only the list’s metadata', async () => {
    expect(await keysOf(listId)).toEqual([listKeys(cfg.queuePrefix, listId).meta]);
  });

  it('download: the files, byte for byte, into --dir or ./<id>/', async () => {
    const into = join(dir, 'fetched');
    const r = await cli(['download', listId, '--dir', into]);
    expect(r.status, r.stderr).toBe(0);
    const names = (await readdir(output())).filter((n) => !n.startsWith('.')).sort();
    expect(names).toEqual(['clean.csv', 'invalid.csv', 'report.csv', 'report.html', 'risky.csv', 'summary.json', 'unknown.csv']);
    expect((await readdir(into)).sort()).toEqual(names);
    for (const n of names) expect(await readFile(join(into, n)), n).toEqual(await readFile(join(output(), n)));
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(names.length);
    const cwd = await mkdtemp(join(dir, 'cwd-'));
    expect((await cli(['download', listId], { cwd })).status).toBe(0);
    expect((await readdir(join(cwd, listId))).sort()).toEqual(names);
  });

  it('delete --files: no Redis key of the list left, its output files gone', async () => {
    const r = await cli(['delete', listId, '--files']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^list ${listId} deleted; files deleted: .*summary\\.json`));
    expect(await keysOf(listId)).toEqual([]);
    expect(await readdir(output())).toEqual([]);
    failedWith(await cli(['status', listId]), 'JOB_NOT_FOUND');
  });
});

describe('a list written to S3', () => {
  it('download fetches its files from the bucket, byte for byte', async () => {
    const s3 = await startS3rver();
    try {
      const s3env = pipelineEnv(world, prefix, s3, { LISTWASH_CATCH_ALL_PROBE: 'false' });
      const listId = `${run}-s3`;
      const list = await putText(s3, `in/${listId}.csv`, 'email\nann@quick.test\nzed@quick.test\n');
      const out = `s3://${TEST_BUCKET}/out/${listId}/`;
      const clean = await runBuiltCli(['clean', list, '--out', out, '--id', listId, '--quiet'], s3env);
      expect(clean.status, clean.stderr).toBe(0);
      const into = join(dir, 's3-fetched');
      const r = await runBuiltCli(['download', listId, '--dir', into], s3env);
      expect(r.status, r.stderr).toBe(0);
      const names = (await readdir(into)).sort();
      expect(names).toEqual(['clean.csv', 'invalid.csv', 'report.csv', 'report.html', 'risky.csv', 'summary.json', 'unknown.csv']);
      for (const n of names) expect(await readFile(join(into, n), 'utf8'), n).toBe(await getText(s3, `out/${listId}/${n}`));
    } finally {
      await s3.close();
    }
  });
});

describe('a list in progress on a worker process', () => {
  const slow = (name: string, n: number) => input(name, Array.from({ length: n }, (_, i) => `u${i}.${name}.${run}@slow.test`));

  beforeAll(async () => {
    workers.push(await startWorkerProcess(env));
  }, 60_000);

  it('submit prints its id; download before it is done is LIST_NOT_DONE; cancel stops it: no files, leases released', async () => {
    const output = join(dir, 'cancel-out') + '/';
    const listId = `${run}-cancel`;
    // 120 addresses at 5 RCPTs a second: still probing for a while after its first verdicts, however loaded the machine.
    const sub = await cli(['submit', await slow('cancel', 120), '--out', output, '--id', listId]);
    expect(sub).toMatchObject({ status: 0, stdout: `${listId}\n` });
    await waitFor(async () => ((await svc.view(listId))?.verified ?? 0) > 0, 30_000, 'the first verdicts');
    const early = await cli(['download', listId, '--dir', join(dir, 'early')]);
    failedWith(early, 'LIST_NOT_DONE');
    await expect(readdir(join(dir, 'early'))).rejects.toThrow(/ENOENT/);

    const r = await cli(['cancel', listId]);
    expect(r).toMatchObject({ status: 0, stdout: `list ${listId} cancelled\n` });
    const throttle = new MxThrottle(redis, mxThrottleOptionsFromConfig(cfg, {}));
    await waitFor(async () => (await throttle.state(throttle.groupFor('mx.slow.test'))).activeLeases === 0, 30_000, 'the leases to be released');
    const status = JSON.parse((await cli(['status', listId, '--json'])).stdout) as { state: string; verified: number; unique: number };
    expect(status.state).toBe('cancelled');
    expect(status.verified).toBeLessThan(status.unique);
    // Nothing is written, not even later.
    await new Promise((r) => setTimeout(r, 1500));
    await expect(readdir(output)).rejects.toThrow(/ENOENT/);
    expect(await cli(['cancel', listId])).toMatchObject({ status: 0, stdout: `list ${listId} had already ended (cancelled); nothing to cancel\n` });
    failedWith(await cli(['download', listId]), 'LIST_NOT_DONE');
    // The worker's log (stderr, not a terminal: JSON lines) says what it did with the list, by list id.
    const logged = workers[0]!.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; listId?: string; rows?: number });
    expect(logged).toContainEqual(expect.objectContaining({ msg: 'list split', listId, rows: 120 }));
  });

  it('delete of a running list: cancelled, then no Redis key of it left', async () => {
    const listId = `${run}-delete`;
    expect((await cli(['submit', await slow('delete', 30), '--out', join(dir, 'delete-out') + '/', '--id', listId])).status).toBe(0);
    await waitFor(async () => (await svc.view(listId))?.state === 'probing', 20_000, 'probing');
    const r = await cli(['delete', listId]);
    expect(r).toMatchObject({ status: 0, stdout: `list ${listId} deleted\n` });
    // Batches running when it was deleted stop within a second and write nothing.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await keysOf(listId)).toEqual([]);
    failedWith(await cli(['delete', listId]), 'JOB_NOT_FOUND');
  });
});
