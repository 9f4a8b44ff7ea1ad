/**
 * Test helper: listwash processes started the way operators start them — worker processes (`node --import tsx
 * workers/all.ts`, see `listwash worker`) and CLI runs (`src/cli/main.ts`).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../pipeline/helpers.js';

export const REPO_ROOT = join(import.meta.dirname, '../..');

export interface WorkerProc {
  child: ChildProcess;
  /** BullMQ `processedBy` of its jobs, and its throttle lease holder id. */
  name: string;
  /** Everything it wrote to stderr so far. */
  stderr: string;
  /** Its exit code (null when killed by a signal). */
  exit: Promise<number | null>;
  /** Still running? */
  alive(): boolean;
}

/**
 * Start `workers/all.ts` with `env` (over this process's environment) and `args`; resolves once it says it is running.
 * @throws when it exits during its start.
 */
export async function startWorkerProcess(env: Record<string, string>, args: string[] = []): Promise<WorkerProc> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/all.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const w: WorkerProc = {
    child,
    name: `${hostname()}:${child.pid}`,
    stderr: '',
    exit: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    alive: () => child.exitCode === null && child.signalCode === null,
  };
  child.stderr!.on('data', (b: Buffer) => (w.stderr += b.toString()));
  try {
    // Generous: several processes starting at once on a loaded 2-core machine take a while to load.
    await waitFor(() => w.stderr.includes(' running ') || !w.alive(), 60_000, `worker ${child.pid} to start`);
  } catch (err) {
    child.kill('SIGKILL');
    await w.exit;
    throw err;
  }
  if (!w.alive()) throw new Error(`worker exited at start: ${w.stderr}`);
  return w;
}

/** SIGKILL the workers still running and wait until every one has exited. */
export async function killWorkerProcesses(procs: readonly WorkerProc[]): Promise<void> {
  for (const p of procs) if (p.alive()) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exit));
}

/**
 * A fleet of `workers/all.ts` processes sharing one environment: start some, SIGKILL one and start its
 * replacement, stop them all. Remembers every process it started (killed ones too) with its stderr.
 */
export class WorkerFleet {
  /** Every process started so far, in start order. */
  readonly procs: WorkerProc[] = [];
  /** The processes this fleet SIGKILLed on purpose. */
  readonly killed = new Set<WorkerProc>();

  constructor(
    private readonly env: Record<string, string>,
    private readonly args: string[] = [],
  ) {}

  /** Start `n` more workers (in parallel); resolves once each says it is running. */
  async start(n: number): Promise<WorkerProc[]> {
    const settled = await Promise.allSettled(Array.from({ length: n }, () => startWorkerProcess(this.env, this.args)));
    const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    // Those that started are the fleet's (stopped by `stop()`) even when another one failed.
    this.procs.push(...started);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    return started;
  }

  /** The workers running now. */
  alive(): WorkerProc[] {
    return this.procs.filter((p) => p.alive());
  }

  /** SIGKILL `victim` and wait until it has exited. */
  async kill(victim: WorkerProc): Promise<void> {
    this.killed.add(victim);
    victim.child.kill('SIGKILL');
    await victim.exit;
  }

  /** Workers that exited without being killed by this fleet or stopped by `stop()`: crashes. */
  crashed(): WorkerProc[] {
    return this.procs.filter((p) => !p.alive() && !this.killed.has(p));
  }

  /** Everything the workers wrote to stderr, each line prefixed with its worker's name. */
  stderr(): string {
    return this.procs.map((p) => p.stderr.replace(/^(?=.)/gm, `[${p.name}] `)).join('');
  }

  /** SIGKILL every worker still running. */
  async stop(): Promise<void> {
    for (const p of this.alive()) this.killed.add(p);
    await killWorkerProcesses(this.procs);
  }
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run `listwash <args>` (through tsx) with `env` over this process's environment; resolves when it exits. */
export function runCli(args: string[], env: Record<string, string>): { child: ChildProcess; result: Promise<CliResult> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const result = new Promise<CliResult>((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
  return { child, result };
}

/** The newest modification time (ms) of the files under `dir`. */
function newestUnder(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

/**
 * Build the package (`npm run build`: dist/, what `bin/listwash.js` runs) unless dist/ is newer than every
 * source: CI has built it already, and test files running at the same time may be reading it. For test
 * files that run the installed command; call it in `beforeAll`.
 */
export function buildPackage(): void {
  const entry = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
  const sources = Math.max(...['src', 'workers'].map((d) => newestUnder(join(REPO_ROOT, d))), statSync(join(REPO_ROOT, 'package.json')).mtimeMs);
  if (existsSync(entry) && statSync(entry).mtimeMs >= sources) return;
  execFileSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: 'pipe' });
}

/**
 * Run the built command `node bin/listwash.js <args>` as an operator does, with `env` over this process's
 * environment (`cwd`: where it runs); resolves when it exits.
 */
export function runBuiltCli(args: string[], env: Record<string, string> = {}, opts: { cwd?: string } = {}): Promise<CliResult> {
  return runProcess(process.execPath, [join(REPO_ROOT, 'bin', 'listwash.js'), ...args], env, opts.cwd ?? REPO_ROOT);
}

/** Run `command args` with `env` over this process's environment; resolves with its exit code and output. */
export function runProcess(command: string, args: string[], env: Record<string, string>, cwd: string = REPO_ROOT): Promise<CliResult> {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Command lines of the processes running now, by pid (arguments joined by spaces), from /proc. */
export function runningProcesses(): Map<number, string> {
  const out = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      out.set(Number(entry), readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim());
    } catch (err) {
      // Ended between the listing and the read.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ESRCH') throw err;
    }
  }
  return out;
}
