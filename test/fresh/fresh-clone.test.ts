/**
 * A newcomer's first commands, on a fresh clone, exactly as the README's quick start says: `npm ci`, then
 * `npx listwash --help` and `npx listwash demo` — on a machine where nothing answers at the default Redis
 * address and REDIS_URL is unset (a network namespace of its own: `unshare -n`, loopback only, so nothing
 * here can reach the internet either). The demo runs on a private redis-server and leaves no process
 * behind; without a redis-server binary it fails at once with the message naming the fixes.
 *
 * What is cloned is the working tree's HEAD: commit first. `npm ci --offline` installs from the npm cache
 * only (warm wherever `npm ci` ran before, as in .ci/run); its `prepare` script builds dist/.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runningProcesses } from '../helpers/processes.js';

/** Whether this machine can make a network namespace (root, or unprivileged user namespaces). */
const unshareWorks = spawnSync('unshare', ['-n', 'true']).status === 0;

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run `command` with `sh` in `cwd`, inside a network namespace with only loopback up. Killed after `killAfterMs` (a hang fails the test). */
function isolated(command: string, cwd: string, env: NodeJS.ProcessEnv, killAfterMs = 300_000): Promise<Run> {
  const child = spawn('unshare', ['-n', 'sh', '-c', `ip link set lo up && ${command}`], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return new Promise((resolve) =>
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    }),
  );
}


let work: string;
let clone: string;
let install: Run;
/** The environment of a fresh machine: no REDIS_URL, no listwash settings; temporary files in a folder of the test. */
let env: NodeJS.ProcessEnv;
let runTmp: string;

describe.skipIf(!unshareWorks)('a fresh clone, as the README says (skipped: `unshare -n` is not available here — needs root or user namespaces)', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'lw-fresh-'));
    clone = join(work, 'listwash');
    runTmp = join(work, 'tmp');
    mkdirSync(runTmp);
    const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout.trim();
    expect(spawnSync('git', ['clone', '--quiet', '--no-checkout', REPO_ROOT, clone]).status).toBe(0);
    expect(spawnSync('git', ['checkout', '--quiet', '--detach', head], { cwd: clone }).status).toBe(0);
    env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'REDIS_URL' && !k.startsWith('LISTWASH_') && !k.startsWith('npm_') && !k.startsWith('VITEST')));
    env.TMPDIR = runTmp;
    install = await isolated('npm ci --offline --no-audit --no-fund', clone, env, 540_000);
  }, 600_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('installs with npm ci, which builds the command line (prepare)', () => {
    expect(install.status, install.stderr).toBe(0);
  });

  it('answers `npx listwash --help` right after npm ci', async () => {
    const r = await isolated('npx listwash --help', clone, env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: listwash \[options\] \[command\]\n/);
    expect(r.stdout).toMatch(/^ {2}demo \[options\] +clean a demo list/m);
    expect(r.stdout).toMatch(/^ {2}clean \[options\] <input> /m);
  });

  it('runs `npx listwash demo` on a private redis-server when nothing answers at the default address, and leaves no process behind', async () => {
    const r = await isolated('npx listwash demo', clone, env);
    expect(r.status, r.stderr).toBe(0);
    const notice = /^listwash: no Redis at redis:\/\/127\.0\.0\.1:6379; started a private redis-server on 127\.0\.0\.1:(\d+) for this run$/m.exec(r.stderr);
    expect(notice, r.stderr).not.toBeNull();
    expect(r.stderr.match(/private redis-server/g)).toHaveLength(1);
    expect(r.stdout).toMatch(/0 mismatches; politeness violations: 0; DATA commands seen by the hosts: 0/);
    // Neither the server (its title names its port) nor its watchdog (its arguments name its directory) is left.
    const left = [...runningProcesses()].filter(([, cmd]) => cmd.includes(`127.0.0.1:${notice![1]}`) || cmd.includes(runTmp));
    expect(left).toEqual([]);
    expect(readdirSync(runTmp).filter((f) => f.startsWith('listwash-redis-'))).toEqual([]);
  });

  it('fails at once with the message naming the fixes when there is no redis-server on PATH (node and npm only)', async () => {
    // A PATH with node, npm, npx and sh (npm runs scripts with it), and nothing else.
    const bin = join(work, 'bin-without-redis');
    mkdirSync(bin, { recursive: true });
    const which = (name: string) => realpathSync(spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim());
    symlinkSync(process.execPath, join(bin, 'node'));
    for (const tool of ['npm', 'npx', 'sh']) symlinkSync(which(tool), join(bin, tool));
    const r = await isolated(`PATH=${bin} npx listwash demo`, clone, env, 120_000);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      "listwash: REDIS_SERVER_MISSING: no Redis at redis://127.0.0.1:6379 and no redis-server on PATH to start a private one: install Redis from your OS's packages (apt install redis-server, brew install redis), run one in a container (docker run -p 6379:6379 redis:7), or set REDIS_URL to a Redis that answers",
    );
  });

  it('exits with the same codes through `npm run demo` as through the installed bin (2 for a usage error)', async () => {
    const viaBin = await isolated('npx listwash demo --no-such-flag', clone, env);
    const viaScript = await isolated('npm run -s demo -- --no-such-flag', clone, env);
    expect([viaBin.status, viaScript.status]).toEqual([2, 2]);
  });
});
