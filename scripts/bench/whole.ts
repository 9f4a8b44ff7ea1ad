/**
 * The whole-command part of bench:pipeline: `listwash clean` of a list whose domains all answer NXDOMAIN (no SMTP
 * at all: the cost of the pipeline itself — split (which ends dead-domain batches itself), aggregate) against a bare
 * csv-parse → csv-stringify pass over the same file. Each runs in its own process: the bare pass in
 * stage-child.ts, the command as `node bin/listwash.js clean` from a fresh build (`npm run build`, not timed),
 * timed from spawn to exit, its peak RSS taken from getrusage at exit. DNS is the simulated world's (a child
 * process on loopback) that knows no domain.
 *
 * Options: --rows 500000 --domains 2000 --seed 42 --no-build (use dist/ as it is); --cpu-prof DIR.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { dropPrefix } from '../../src/cli/demo.js';
import { createRedis } from '../../src/redis/connect.js';
import { MB, argInt, fmt, loadLine, machineLine, runToExit, verdictLine } from './common.js';
import { writeList } from './csv-gen.js';
import { runStage } from './stage.js';
import { WorldProcess } from './world-process.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RSS_AT_EXIT = fileURLToPath(new URL('./rss-at-exit.mjs', import.meta.url));
const RATIO_TARGET = 2;
const RSS_LIMIT = 350 * MB;

interface Summary {
  rows: number;
  unique: number;
  batches: number;
  byReason: Record<string, number>;
  timings: { splitSec: number | null; probeSec: number | null; aggregateSec: number | null; totalSec: number | null };
}

/** `npm run build` (tsc + assets into dist/), so the command runs as installed: plain Node, no transpiler. */
async function build(): Promise<void> {
  const r = await runToExit('npm', ['run', 'build'], { cwd: REPO_ROOT, env: process.env, timeoutMs: 10 * 60_000 });
  if (r.code !== 0) throw new Error(`npm run build failed (${r.code}): ${r.stderr}${r.stdout}`);
}

/** Run `listwash clean` in its own process; wall time spawn → exit and peak RSS. */
async function runClean(input: string, output: string, env: NodeJS.ProcessEnv, cpuProfDir: string | null, rssFile: string): Promise<{ seconds: number; peakRss: number; cpuMs: number; stderr: string }> {
  const args = ['--import', RSS_AT_EXIT, ...(cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : []), join(REPO_ROOT, 'bin', 'listwash.js'), 'clean', input, '--out', output];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...env, LW_BENCH_RSS_FILE: rssFile }, stdio: ['ignore', 'pipe', 'pipe'] });
  const t0 = performance.now();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdout.resume();
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`listwash clean exited ${code}: ${stderr}`);
  const usage = JSON.parse(await readFile(rssFile, 'utf8')) as { peakRss: number; cpuMs: number };
  return { seconds, peakRss: usage.peakRss, cpuMs: usage.cpuMs, stderr };
}

export async function runWhole(args: readonly string[], cpuProfDir: string | null): Promise<boolean> {
  const rows = argInt(args, 'rows', 500_000);
  const domains = argInt(args, 'domains', 2_000);
  const seed = argInt(args, 'seed', 42);
  const out = (s: string) => process.stdout.write(s + '\n');
  const dir = await mkdtemp(join(tmpdir(), 'lw-whole-'));
  const prefix = `{lwwhole-${randomBytes(4).toString('hex')}}`;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const world = await WorldProcess.start({ domains: {}, hosts: {} });
  try {
    if (!args.includes('--no-build')) await build();
    const input = join(dir, 'list.csv');
    const facts = await writeList(input, { rows, seed, domains });
    out(`bench:pipeline whole — listwash clean of ${rows} rows (${fmt(facts.bytes / MB, 1)} MB, ${facts.domains} domains, every one NXDOMAIN: no SMTP), ${facts.duplicates} duplicate rows, ${facts.invalid} invalid`);
    out(machineLine());
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...world.env,
      REDIS_URL: redisUrl,
      LISTWASH_QUEUE_PREFIX: prefix,
      LISTWASH_HELO_NAME: 'probe.listwash.test',
      LISTWASH_MAIL_FROM: 'probe@listwash.test',
      LISTWASH_DOCTOR_AT_START: 'false',
    };
    const bare = await runStage({ stage: 'bare', env: {}, listId: 'bare', input, output: join(dir, 'bare.csv') }, cpuProfDir);
    out(`  (a) bare csv-parse → csv-stringify: ${fmt(bare.ms / 1000, 2)} s (CPU ${fmt(bare.cpuMs / 1000, 2)} s), peak RSS ${fmt(bare.peakRss / MB, 0)} MB`);
    const outDir = join(dir, 'out') + '/';
    const clean = await runClean(input, outDir, env, cpuProfDir, join(dir, 'rss'));
    const summary = JSON.parse(await readFile(join(dir, 'out', 'summary.json'), 'utf8')) as Summary;
    const t = summary.timings;
    out(`  (b) listwash clean: ${fmt(clean.seconds, 2)} s spawn → exit (split ${fmt(t.splitSec ?? 0, 2)} s, probe ${fmt(t.probeSec ?? 0, 2)} s, aggregate ${fmt(t.aggregateSec ?? 0, 2)} s; list created → done ${fmt(t.totalSec ?? 0, 2)} s; CPU ${fmt(clean.cpuMs / 1000, 2)} s), peak RSS ${fmt(clean.peakRss / MB, 0)} MB`);
    out(`      rows ${summary.rows}, unique ${summary.unique}, batches ${summary.batches} (dead-domain batches are ended by the split: no probe job), by reason ${JSON.stringify(summary.byReason)}`);
    const ratio = clean.seconds / (bare.ms / 1000);
    out(`  listwash clean = ${fmt(ratio)}× bare (CPU time: ${fmt(clean.cpuMs / bare.cpuMs)}× bare's; Redis's own CPU not counted)`);
    out(`  load average at the end: ${loadLine()}`);
    out('');
    const noDomain = summary.byReason.no_domain ?? 0;
    const invalid = summary.byReason.invalid_syntax ?? 0;
    const checks: [boolean, string][] = [
      [ratio <= RATIO_TARGET, `listwash clean ${fmt(ratio)}× bare ≤ ${RATIO_TARGET}×`],
      [clean.peakRss < RSS_LIMIT, `peak RSS of listwash clean ${fmt(clean.peakRss / MB, 0)} MB < ${RSS_LIMIT / MB} MB`],
      [summary.rows === rows, `every row in the report (${summary.rows} of ${rows})`],
      [noDomain + invalid === rows, `every row with a valid address no_domain (${noDomain} + ${invalid} invalid of ${rows})`],
    ];
    for (const [ok, what] of checks) out(verdictLine(ok, what));
    return checks.every(([ok]) => ok);
  } finally {
    const r = createRedis({ redisUrl });
    await dropPrefix(r, prefix);
    r.disconnect();
    await world.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
