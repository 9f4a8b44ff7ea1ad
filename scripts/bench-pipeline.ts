/**
 * Pipeline benchmark (`npm run bench:pipeline [split|farm|whole]`, default all three).
 *
 * split — a 1,000,000-row CSV (seeded) is (a) passed through bare csv-parse → csv-stringify, (b) split
 *   (`runSplit`: real Redis, BullMQ probe queue; batches are enqueued, not probed) and, after every unique
 *   address gets a fake verdict (not timed), (c) aggregated (`runAggregate`). Each of the three runs in a
 *   process of its own. Targets: split + aggregate ≤ 3× bare; every process under 512 MB peak RSS.
 *
 * farm — 50 simulated MX hosts with per-host limits equal to listwash's throttle settings, 20,000
 *   addresses spread unevenly, 4 worker processes (`workers/all.ts`). Wall time from submit to done vs the
 *   politeness bound max over hosts (RCPTs at the host ÷ its RCPT rate). Targets: ≤ 1.1× the bound, no
 *   politeness violation, no DATA. Prints the busiest host's timeline (where the time beyond the bound went).
 *
 * whole — `listwash clean` (built, its own process) of a 500,000-row list whose domains all answer NXDOMAIN vs a
 *   bare csv-parse → csv-stringify pass over the same file. Targets: ≤ 2× bare; peak RSS < 350 MB.
 *
 * Redis keys and queues are removed afterwards. Options: --rows N (split: default 1,000,000; whole: 500,000),
 * --seed N, --cpu-prof DIR (a V8 CPU profile per stage process), farm and whole options in their files.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { createRedis, type RedisClient } from '../src/redis/connect.js';
import { dropPrefix } from '../src/cli/demo.js';
import { loadConfig } from '../src/config.js';
import type { ProbeJobData } from '../src/pipeline/jobs.js';
import { listKeys, QUEUES } from '../src/pipeline/names.js';
import { encodeVerdict } from '../src/pipeline/result-codec.js';
import { verdict, type Reason } from '../src/verdict.js';
import { MB, argInt, argValue, fmt, loadLine, machineLine, rssSampler, verdictLine } from './bench/common.js';
import { writeList } from './bench/csv-gen.js';
import { runFarm } from './bench/farm.js';
import { runWhole } from './bench/whole.js';
import { runStage } from './bench/stage.js';

const RATIO_TARGET = 3;
const RSS_LIMIT = 512 * MB;

const out = (s: string) => process.stdout.write(s + '\n');

/** `--cpu-prof DIR`: each stage process writes a V8 CPU profile there. */
let cpuProfDir: string | null = null;

/** Give every address of every enqueued batch a verdict, as probing would (a fake, fast probe). */
async function fakeProbe(redis: RedisClient, queue: Queue<ProbeJobData>, resultsKey: string): Promise<number> {
  const reasons: Reason[] = ['accepted', 'accepted', 'accepted', 'mailbox_not_found', 'catch_all', 'role_account', 'greylisted', 'mailbox_full'];
  const encoded = reasons.map((r) =>
    encodeVerdict(verdict(r, { mxHost: 'mx.bench.test', smtpCode: r === 'mailbox_not_found' ? 550 : r === 'greylisted' || r === 'mailbox_full' ? 452 : 250, smtpReply: r === 'mailbox_not_found' ? '550 5.1.1 User unknown' : '250 2.1.5 OK' })),
  );
  let n = 0;
  const page = 100;
  for (let start = 0; ; start += page) {
    const jobs = await queue.getWaiting(start, start + page - 1);
    if (jobs.length === 0) break;
    const p = redis.pipeline();
    for (const job of jobs) {
      const fields: string[] = [];
      for (const a of job.data.addresses) {
        fields.push(a, encoded[(a.length * 31 + a.charCodeAt(0)) % encoded.length]!);
        n++;
      }
      p.hset(resultsKey, ...fields);
    }
    await p.exec();
  }
  return n;
}

async function splitPart(rows: number, seed: number): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), 'lw-bench-'));
  const prefix = `{lwbench-${randomBytes(4).toString('hex')}}`;
  const listId = `bench-${randomBytes(4).toString('hex')}`;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const env = { REDIS_URL: redisUrl, LISTWASH_QUEUE_PREFIX: prefix, LISTWASH_HELO_NAME: 'probe.listwash.test', LISTWASH_MAIL_FROM: 'probe@listwash.test' };
  const cfg = loadConfig(env);
  const redis = createRedis({ redisUrl });
  const queue = new Queue<ProbeJobData>(QUEUES.probe, { connection: redis, prefix });
  const rss = rssSampler(50);
  try {
    const input = join(dir, 'list.csv');
    const tg = Date.now();
    const facts = await writeList(input, { rows, seed });
    out(`bench:pipeline split — ${rows} rows, ${fmt(facts.bytes / MB, 1)} MB, ${facts.domains} domains (largest ${facts.topDomainRows} rows), ${facts.duplicates} duplicate rows, ${facts.invalid} invalid; generated in ${fmt((Date.now() - tg) / 1000, 1)} s`);
    out(machineLine());
    out(`  file ${input}; Redis prefix ${prefix}; batch size ${cfg.batchSize}; bench process peak RSS after generating ${fmt(rss.peak() / MB, 0)} MB`);

    const bare = await runStage({ stage: 'bare', env, listId, input, output: join(dir, 'bare.csv') }, cpuProfDir);
    out(`  (a) bare csv-parse → csv-stringify: ${fmt(bare.ms / 1000, 2)} s (CPU ${fmt(bare.cpuMs / 1000, 2)} s), peak RSS ${fmt(bare.peakRss / MB, 0)} MB`);

    const split = await runStage({ stage: 'split', env, listId, input, output: join(dir, 'out') + '/' }, cpuProfDir);
    const ss = split.summary;
    out(`  (b) split:     ${fmt(split.ms / 1000, 2)} s (CPU ${fmt(split.cpuMs / 1000, 2)} s), peak RSS ${fmt(split.peakRss / MB, 0)} MB — rows ${ss.rows}, unique ${ss.unique}, duplicates ${ss.duplicates}, invalid ${ss.invalid}, domains ${ss.domains}, batches ${ss.batches}`);

    const tf = Date.now();
    const filled = await fakeProbe(redis, queue, listKeys(prefix, listId).results);
    out(`      fake probe (not timed): ${filled} verdicts written in ${fmt((Date.now() - tf) / 1000, 1)} s; bench process peak RSS so far ${fmt(rss.peak() / MB, 0)} MB`);

    const agg = await runStage({ stage: 'aggregate', env, listId, input, output: join(dir, 'out') + '/' }, cpuProfDir);
    out(`  (c) aggregate: ${fmt(agg.ms / 1000, 2)} s (CPU ${fmt(agg.cpuMs / 1000, 2)} s), peak RSS ${fmt(agg.peakRss / MB, 0)} MB — rows ${agg.summary.rows}, by status ${JSON.stringify(agg.summary.byStatus)}`);
    const files = await readdir(join(dir, 'out'));
    const sizes = await Promise.all(files.filter((f) => !f.startsWith('.')).sort().map(async (f) => `${f} ${fmt((await stat(join(dir, 'out', f))).size / MB, 1)} MB`));
    out(`      output: ${sizes.join(', ')}`);

    const ratio = (split.ms + agg.ms) / bare.ms;
    const parentPeak = rss.stop();
    out(`  split + aggregate = ${fmt((split.ms + agg.ms) / 1000, 2)} s = ${fmt(ratio)}× bare; bench process peak RSS ${fmt(parentPeak / MB, 0)} MB`);
    out(`  load average at the end: ${loadLine()}`);
    out('');
    const peaks: [string, number][] = [['bare', bare.peakRss], ['split', split.peakRss], ['aggregate', agg.peakRss], ['bench', parentPeak]];
    const worst = peaks.reduce((a, b) => (b[1] > a[1] ? b : a));
    const checks: [boolean, string][] = [
      [ratio <= RATIO_TARGET, `split + aggregate ${fmt(ratio)}× bare ≤ ${RATIO_TARGET}×`],
      [worst[1] < RSS_LIMIT, `peak RSS per process < 512 MB (worst: ${worst[0]} ${fmt(worst[1] / MB, 0)} MB)`],
      [ss.rows === rows && agg.summary.rows === rows, `every row read and written (${ss.rows} split, ${String(agg.summary.rows)} aggregated, of ${rows})`],
      [ss.unique === filled, `every unique address was in a batch (${String(ss.unique)} unique, ${filled} in batches)`],
    ];
    for (const [ok, what] of checks) out(verdictLine(ok, what));
    return checks.every(([ok]) => ok);
  } finally {
    rss.stop();
    await queue.obliterate({ force: true });
    await queue.close();
    await dropPrefix(redis, prefix);
    redis.disconnect();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const parts = args.filter((a) => a === 'split' || a === 'farm' || a === 'whole');
  const which = parts.length === 0 ? ['split', 'farm', 'whole'] : parts;
  const rows = argInt(args, 'rows', 1_000_000);
  const seed = argInt(args, 'seed', 42);
  const prof = argValue(args, 'cpu-prof', '');
  if (prof !== '') cpuProfDir = prof;
  let ok = true;
  if (which.includes('split')) ok = (await splitPart(rows, seed)) && ok;
  if (which.includes('farm')) {
    if (which.includes('split')) out('');
    ok = (await runFarm(args)) && ok;
  }
  if (which.includes('whole')) {
    if (which.length > 1) out('');
    ok = (await runWhole(args, cpuProfDir)) && ok;
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:pipeline failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
