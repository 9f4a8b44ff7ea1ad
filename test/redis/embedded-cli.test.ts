/**
 * The command line and Redis, end to end (`listwash` run as a process): no command waits for a Redis that
 * does not answer, and a private redis-server never outlives `listwash demo` however the demo ends.
 *
 * The private-server cases run `listwash` inside a network namespace of its own (`unshare -n`, loopback only),
 * where nothing answers at 127.0.0.1:6379; the demo's simulated world runs in there too.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../src/redis/embedded.js';
import { REPO_ROOT, runCli, runningProcesses } from '../helpers/processes.js';
import { waitFor } from '../pipeline/helpers.js';

const unshareWorks = spawnSync('unshare', ['-n', 'true']).status === 0;
let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'lw-embedded-cli-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));


/** The pid of the redis-server listening on `port` (its title names it), or null. */
function redisServerOn(port: string): number | null {
  for (const [pid, cmd] of runningProcesses()) if (/redis-server/.test(cmd) && cmd.includes(`127.0.0.1:${port}`)) return pid;
  return null;
}

/** `listwash <args>` (through tsx) in a network namespace of its own, REDIS_URL unset, temporary files under `tmp`. */
function isolated(tmp: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv, TMPDIR: tmp };
  delete env.REDIS_URL;
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('unshare', ['-n', 'sh', '-c', `ip link set lo up && exec "${process.execPath}" --import tsx src/cli/main.ts ${quoted}`], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run = { stdout: '', stderr: '' };
  child.stdout.on('data', (b: Buffer) => (run.stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (run.stderr += b.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const port = async () => {
    await waitFor(() => /private redis-server on 127\.0\.0\.1:\d+/.test(run.stderr) || child.exitCode !== null, 60_000, `the demo to start its redis-server (${run.stderr})`);
    return /private redis-server on 127\.0\.0\.1:(\d+)/.exec(run.stderr)![1]!;
  };
  return { child, run, exit, port };
}

const isolatedDemo = (tmp: string) => isolated(tmp, ['demo', '--out', join(tmp, 'demo')]);

describe('a command-line run without a Redis that answers', () => {
  for (const command of [['demo'], ['clean', 'list.csv', '--out', 'out/']]) {
    it(`\`listwash ${command[0]}\` with REDIS_URL set fails with one line naming the URL, exit 1`, async () => {
      const url = `redis://probe:s3cret@127.0.0.1:${await freeLoopbackPort()}`;
      const { result } = runCli(command, { REDIS_URL: url, LISTWASH_HELO_NAME: 'probe.listwash.test', LISTWASH_MAIL_FROM: 'probe@listwash.test' });
      const r = await result;
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^listwash: REDIS_UNAVAILABLE: Redis does not answer at redis:\/\/probe:\*\*\*@127\.0\.0\.1:\d+: connect ECONNREFUSED [^\n]*\(set REDIS_URL\)\n$/);
    });
  }
});

describe.skipIf(!unshareWorks)('`listwash demo` on a private redis-server (skipped: `unshare -n` is not available here)', () => {
  it('ends at once with one line when its redis-server dies under it, and leaves nothing behind', async () => {
    const tmp = mkdtempSync(join(work, 'killed-'));
    const demo = isolatedDemo(tmp);
    const port = await demo.port();
    await waitFor(() => /probing/.test(demo.run.stdout) || demo.child.exitCode !== null, 60_000, 'the demo to probe');
    const pid = redisServerOn(port);
    expect(pid).not.toBeNull();
    process.kill(pid!, 'SIGKILL');
    expect(await demo.exit).toEqual({ code: 1, signal: null });
    const lines = demo.run.stderr.trim().split('\n');
    expect(lines).toEqual([
      `listwash: no Redis at redis://127.0.0.1:6379; started a private redis-server on 127.0.0.1:${port} for this run`,
      `listwash: REDIS_UNAVAILABLE: the private redis-server (pid ${pid}, redis://127.0.0.1:${port}) ended by itself (killed by signal 9)`,
    ]);
    expect([...runningProcesses().values()].filter((cmd) => cmd.includes(tmp))).toEqual([]);
    expect(readdirSync(tmp).filter((f) => f.startsWith('listwash-redis-'))).toEqual([]);
  });

  it('`listwash clean` runs on one too, exits 0 when the files are written, and leaves nothing behind', async () => {
    const tmp = mkdtempSync(join(work, 'clean-'));
    const input = join(tmp, 'list.csv');
    // Rows that need no network: the namespace has no DNS.
    writeFileSync(input, 'email,name\nnot-an-address,A\n@missing-local.test,B\n');
    const clean = isolated(tmp, ['clean', input, '--out', join(tmp, 'out') + '/', '--quiet'], { LISTWASH_HELO_NAME: 'probe.listwash.test', LISTWASH_MAIL_FROM: 'probe@listwash.test' });
    const port = await clean.port();
    expect(await clean.exit, clean.run.stderr).toEqual({ code: 0, signal: null });
    expect(clean.run.stderr.trim()).toBe(`listwash: no Redis at redis://127.0.0.1:6379; started a private redis-server on 127.0.0.1:${port} for this run`);
    expect(readFileSync(join(tmp, 'out', 'report.csv'), 'utf8')).toMatch(/^email,name,email_normalized,status/);
    expect(redisServerOn(port)).toBeNull();
    expect([...runningProcesses().values()].filter((cmd) => cmd.includes(tmp))).toEqual([]);
    expect(readdirSync(tmp).filter((f) => f.startsWith('listwash-redis-'))).toEqual([]);
  });

  it('stops its redis-server on Ctrl-C (SIGINT) and dies of the signal', async () => {
    const tmp = mkdtempSync(join(work, 'interrupted-'));
    const demo = isolatedDemo(tmp);
    const port = await demo.port();
    const pid = redisServerOn(port);
    expect(pid).not.toBeNull();
    // The demo's node process (unshare's sh exec'd it): Ctrl-C at a terminal reaches it the same way.
    demo.child.kill('SIGINT');
    const exit = await demo.exit;
    expect(exit.code === 130 || exit.signal === 'SIGINT').toBe(true);
    await waitFor(() => redisServerOn(port) === null, 10_000, `redis-server ${pid} to stop`);
    expect([...runningProcesses().values()].filter((cmd) => cmd.includes(tmp))).toEqual([]);
    expect(readdirSync(tmp).filter((f) => f.startsWith('listwash-redis-'))).toEqual([]);
  });
});
