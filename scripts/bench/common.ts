/** Small helpers shared by the benchmark scripts. */
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** Deterministic PRNG (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Run `fn` over `items` with at most `limit` running at once; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

/** Peak RSS of this process, sampled every `everyMs` until stopped. */
export function rssSampler(everyMs = 50): { peak(): number; stop(): number } {
  let peak = process.memoryUsage.rss();
  const t = setInterval(() => {
    const r = process.memoryUsage.rss();
    if (r > peak) peak = r;
  }, everyMs);
  t.unref();
  return {
    peak: () => peak,
    stop: () => {
      clearInterval(t);
      const r = process.memoryUsage.rss();
      if (r > peak) peak = r;
      return peak;
    },
  };
}

export const MB = 1024 * 1024;

export function fmt(n: number, digits = 2): string {
  return n.toFixed(digits);
}

/** `PASS` / `FAIL` with the figure and the target. */
export function verdictLine(ok: boolean, what: string): string {
  return `${ok ? 'PASS' : 'FAIL'}  ${what}`;
}

/** A `--name value` option from argv, or the default. */
export function argValue(args: readonly string[], name: string, dflt: string): string {
  const i = args.indexOf(`--${name}`);
  if (i >= 0 && args[i + 1] !== undefined) return args[i + 1] as string;
  const eq = args.find((a) => a.startsWith(`--${name}=`));
  return eq ? eq.slice(name.length + 3) : dflt;
}

export function argInt(args: readonly string[], name: string, dflt: number): number {
  const v = Number(argValue(args, name, String(dflt)));
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

/** `2.10 1.80 1.50`: the 1, 5 and 15 minute load averages (other processes share the cores). */
export function loadLine(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

/**
 * One line naming the machine a benchmark ran on, for BENCHMARKS.md: cores and CPU model, RAM, Node
 * version, OS, the load averages at the moment of the call, and the date.
 */
export function machineLine(): string {
  const c = cpus();
  const model = (c[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim();
  return `machine: ${c.length} cores (${model}), ${fmt(totalmem() / 1024 ** 3, 1)} GB RAM, Node ${process.version}, ${platform()} ${release()}; load average ${loadLine()}; ${new Date().toISOString()}`;
}

/** Exit of a child process run to its end by {@link runToExit}. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Spawn to exit, seconds. */
  seconds: number;
}

/** Run `command args` to its exit (SIGKILL after `timeoutMs`), collecting its output and its wall time. */
export function runToExit(command: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<ChildExit> {
  const t0 = performance.now();
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, seconds: (performance.now() - t0) / 1000 });
    });
  });
}
