/**
 * A private `redis-server` for one run of the command line: on a free loopback port, with a temporary
 * directory, no persistence (`--save "" --appendonly no`). It never outlives the process that started it.
 *
 * It runs under a small `sh` watchdog that holds the read end of a pipe from this process: whenever this
 * process goes — a normal end, a failure, Ctrl-C, SIGTERM, even SIGKILL — the pipe closes, and the
 * watchdog stops redis-server and removes the directory. The watchdog is its own process group, so a
 * Ctrl-C at the terminal reaches this process only (which then stops the server itself), never the
 * server in the middle of a command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import { assertRedis } from './connect.js';

/** Where `name` is on `PATH` (an executable file), or null. */
export function findOnPath(name: string, path: string | undefined): string | null {
  for (const dir of (path ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not in this directory (or not executable): the next one.
      continue;
    }
  }
  return null;
}

/** A free TCP port on 127.0.0.1 (free when asked: the server's start retries on a port taken meanwhile). */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The watchdog: `sh -c WATCHDOG watchdog <dir> <redis-server> <args…>`. It prints `pid <n>` once the
 * server is started and `exit <code>` when the server ends (whoever ended it). When its stdin reaches its
 * end — this process closed the pipe, or died — it stops the server (SIGTERM), waits for it, removes
 * `<dir>` and exits.
 */
const WATCHDOG = [
  // Output to a reader that is gone (this process died) must not end the watchdog before its clean-up.
  "trap '' PIPE",
  'dir=$1; shift',
  'exec 3<&0',
  '"$@" </dev/null >/dev/null 2>&1 &',
  'pid=$!',
  'echo "pid $pid"',
  // Stops the server when stdin ends, unless it has exited already (its pid may be someone else's by then).
  '{ while read -r _; do :; done; [ -e "$dir/.exited" ] || kill -TERM "$pid" 2>/dev/null; } <&3 &',
  'watcher=$!',
  'exec 3<&-',
  'wait "$pid"',
  'code=$?',
  'touch "$dir/.exited"',
  'echo "exit $code"',
  // The directory (and the server's log) stay until this process is done with them.
  'wait "$watcher"',
  'rm -rf "$dir"',
].join('\n');

export interface EmbeddedRedis {
  /** `redis://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** The redis-server process id. */
  pid: number;
  /** Its temporary directory (removed when it stops). */
  dir: string;
  /**
   * Settles when the server has ended: resolves after `stop()`, rejects with `REDIS_UNAVAILABLE` when it
   * ended by itself (killed, crashed). Never rejects unhandled.
   */
  ended: Promise<void>;
  /** Stop the server and remove its directory; waits until it has exited. Safe to call more than once. */
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** The redis-server binary. */
  binary: string;
  /** How long the server may take to answer. Default 10 s. */
  startTimeoutMs?: number;
}

/**
 * Start a private redis-server. Throws `REDIS_UNAVAILABLE` (with the end of the server's log) when it does
 * not answer within the start timeout.
 */
export async function startEmbeddedRedis(opts: EmbeddedOptions): Promise<EmbeddedRedis> {
  // A port taken between asking and binding: the server exits at once; try another.
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(opts, await freeLoopbackPort());
    } catch (err) {
      last = err;
      if (!(err instanceof PortTaken)) throw err;
    }
  }
  throw new ListwashError(ErrorCodes.REDIS_UNAVAILABLE, `could not start a private redis-server: ${errorMessage(last)}`, {}, { cause: last });
}

class PortTaken extends Error {}

async function startOnce(opts: EmbeddedOptions, port: number): Promise<EmbeddedRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'listwash-redis-'));
  const log = join(dir, 'redis.log');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', log, '--daemonize', 'no', '--protected-mode', 'yes'];
  const child = spawn('sh', ['-c', WATCHDOG, 'listwash-redis-watchdog', dir, opts.binary, ...args], { detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
  const watch = watchChild(child, dir);
  let pid: number;
  try {
    pid = await watch.pid;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new ListwashError(ErrorCodes.REDIS_UNAVAILABLE, `could not start a private redis-server (${opts.binary}): ${errorMessage(err)}`, {}, { cause: err });
  }
  const url = `redis://127.0.0.1:${port}`;
  let stopping = false;
  const stopSync = () => {
    stopping = true;
    // Whatever this process does next, the server goes: SIGTERM now, and the watchdog's stdin closes.
    kill(pid, 'SIGTERM');
    child.stdin?.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stopSync);
  const stop = async () => {
    process.off('exit', stopSync);
    if (!stopping) {
      stopping = true;
      child.stdin?.end();
    }
    // The watchdog stops the server when its stdin ends; a server that does not stop is killed.
    const timer = setTimeout(() => {
      kill(pid, 'SIGKILL');
      kill(-child.pid!, 'SIGKILL');
    }, 5000);
    try {
      await watch.exited;
    } finally {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const ended = watch.serverExit.then((code) => {
    if (stopping) return;
    throw new ListwashError(ErrorCodes.REDIS_UNAVAILABLE, `the private redis-server (pid ${pid}, ${url}) ended by itself (${exitText(code)})`);
  });
  ended.catch(() => undefined);
  try {
    await waitUntilAnswers(url, watch.serverExit, opts.startTimeoutMs ?? 10_000, log);
  } catch (err) {
    await stop();
    throw err;
  }
  // From here on the child keeps nothing alive: this process may end whenever it is done (the pipe closes).
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  return { url, port, pid, dir, ended, stop };
}

/** How the watchdog's `wait` reported the server's end: a status above 128 is a signal. */
function exitText(code: number): string {
  return code > 128 ? `killed by signal ${code - 128}` : `exit status ${code}`;
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    // Gone already: nothing to stop.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** What the watchdog says: the server's pid, its exit code, and the watchdog's own exit. */
function watchChild(child: ChildProcess, dir: string) {
  let out = '';
  let onPid: (pid: number) => void = () => undefined;
  let onServerExit: (code: number) => void = () => undefined;
  const pid = new Promise<number>((resolve, reject) => {
    onPid = resolve;
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`the watchdog exited before the server started (${signal ?? `exit ${code}`}) in ${dir}`)));
  });
  pid.catch(() => undefined);
  const serverExit = new Promise<number>((resolve) => {
    onServerExit = resolve;
    child.once('exit', () => resolve(-1));
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
    for (;;) {
      const nl = out.indexOf('\n');
      if (nl < 0) break;
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      const m = /^(pid|exit) (\d+)$/.exec(line);
      if (m?.[1] === 'pid') onPid(Number(m[2]));
      else if (m?.[1] === 'exit') onServerExit(Number(m[2]));
    }
  });
  return { pid, serverExit, exited };
}

/** Poll until the server answers PING; fails when it exits first (the port was taken: `PortTaken`) or the time is up. */
async function waitUntilAnswers(url: string, serverExit: Promise<number>, timeoutMs: number, log: string): Promise<void> {
  let exited: number | null = null;
  void serverExit.then((code) => (exited = code));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertRedis({ redisUrl: url }, 500);
      return;
    } catch (err) {
      if (exited !== null) {
        const tail = readTail(log);
        if (/address already in use/i.test(tail)) throw new PortTaken(tail);
        throw new ListwashError(ErrorCodes.REDIS_UNAVAILABLE, `the private redis-server exited at start (${exitText(exited)})${tail ? `: ${tail}` : ''}`);
      }
      if (Date.now() > deadline) throw new ListwashError(ErrorCodes.REDIS_UNAVAILABLE, `the private redis-server did not answer at ${url} within ${timeoutMs} ms: ${errorMessage(err)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The last lines of the server's log on one line ('' when it wrote none). */
function readTail(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return `(its log ${file} could not be read: ${errorMessage(err)})`;
  }
  return text.trim().split('\n').slice(-3).join(' | ');
}
