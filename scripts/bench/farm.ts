/**
 * The farm part of bench:pipeline: a simulated farm of MX hosts with per-host limits equal to listwash's throttle
 * settings, a list whose addresses are spread unevenly over them, and worker processes cleaning it. The question:
 * how close does the fleet get to the politeness bound — the busiest host's RCPTs at its allowed rate — without
 * ever breaking a host's limits?
 *
 * Options: --hosts 50 --addresses 20000 --rate 5 --conn 2 --workers 4 --seed 42; --timeline-out FILE writes every
 * host's RCPT arrival times (epoch ms) as JSON.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { createRedis } from '../../src/redis/connect.js';
import { dropPrefix } from '../../src/cli/demo.js';
import { loadConfig } from '../../src/config.js';
import { ListwashService } from '../../src/pipeline/service.js';
import type { Reason } from '../../src/verdict.js';
import type { SimWorldSpec } from '../../src/world/index.js';
import { argInt, argValue, fmt, loadLine, machineLine, seededRandom, verdictLine } from './common.js';
import { hostTimeline } from './timeline.js';
import { WorldProcess } from './world-process.js';

const WORKER_ENTRY = fileURLToPath(new URL('../../workers/all.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RATIO_TARGET = 1.1;

interface FarmPlan {
  spec: SimWorldSpec;
  /** Address → the reason the world will give. */
  truth: Map<string, Reason>;
  /** The list, in file order. */
  addresses: string[];
}

/**
 * Hosts `mx<i>.farm.test`; host i takes a share of the addresses growing with i² (the busiest about 3× the
 * quietest, in shuffled order). The last fifth of the hosts serve two domains each; every tenth host is catch-all.
 */
function plan(hosts: number, total: number, rate: number, conn: number, seed: number): FarmPlan {
  const rnd = seededRandom(seed);
  const order = Array.from({ length: hosts }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const weights = order.map((rank) => 1 + 2 * Math.pow(rank / Math.max(1, hosts - 1), 2));
  const wsum = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => Math.floor((total * w) / wsum));
  for (let k = 0; total - counts.reduce((a, b) => a + b, 0) > 0; k++) counts[k % hosts]! += 1;

  const spec: SimWorldSpec = { domains: {}, hosts: {} };
  const truth = new Map<string, Reason>();
  const addresses: string[] = [];
  for (let h = 0; h < hosts; h++) {
    const host = `mx${h}.farm.test`;
    const catchAll = h % 10 === 9;
    const shared = h >= hosts - Math.floor(hosts / 5);
    const domains = shared ? [`d${h}a.farm.test`, `d${h}b.farm.test`] : [`d${h}.farm.test`];
    const mailboxes: string[] = [];
    for (const d of domains) spec.domains[d] = { mx: [{ host, preference: 10 }] };
    for (let k = 0; k < (counts[h] as number); k++) {
      const domain = domains[k % domains.length] as string;
      const local = `user${k}.${Math.floor(rnd() * 1e6).toString(36)}`;
      const exists = rnd() < 0.7;
      if (exists) mailboxes.push(local);
      const address = `${local}@${domain}`;
      addresses.push(address);
      truth.set(address, catchAll ? 'catch_all' : exists ? 'accepted' : 'mailbox_not_found');
    }
    spec.hosts![host] = { ...(catchAll ? { catchAll: true } : { mailboxes }), maxConnectionsPerClient: conn, maxRcptPerSecond: rate };
  }
  for (let i = addresses.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [addresses[i], addresses[j]] = [addresses[j] as string, addresses[i] as string];
  }
  return { spec, truth, addresses };
}

/** Start a worker process; resolves once it says it is running. */
function startWorker(env: NodeJS.ProcessEnv, log: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_ENTRY], { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let seen = '';
    const onExit = (code: number | null) => reject(new Error(`worker exited early (code ${code}): ${seen}`));
    child.once('exit', onExit);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      seen += s;
      for (const line of s.split('\n')) if (line.trim() !== '' && !line.includes('running')) log.push(`[worker ${child.pid}] ${line}`);
      if (seen.includes('running')) {
        child.off('exit', onExit);
        resolve(child);
      }
    });
  });
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

export async function runFarm(args: readonly string[]): Promise<boolean> {
  const hosts = argInt(args, 'hosts', 50);
  const total = argInt(args, 'addresses', 20_000);
  const rate = argInt(args, 'rate', 10);
  const conn = argInt(args, 'conn', 2);
  const workers = argInt(args, 'workers', 4);
  const seed = argInt(args, 'seed', 42);
  const out = (s: string) => process.stdout.write(s + '\n');

  const { spec, truth, addresses } = plan(hosts, total, rate, conn, seed);
  const dir = await mkdtemp(join(tmpdir(), 'lw-farm-'));
  const prefix = `{lwfarm-${randomBytes(4).toString('hex')}}`;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const world = await WorldProcess.start(spec);
  const children: ChildProcess[] = [];
  const workerLog: string[] = [];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...world.env,
    REDIS_URL: redisUrl,
    LISTWASH_QUEUE_PREFIX: prefix,
    LISTWASH_MX_MAX_CONNECTIONS: String(conn),
    LISTWASH_MX_RCPT_PER_SECOND: String(rate),
    LISTWASH_HELO_NAME: 'probe.listwash.test',
    LISTWASH_MAIL_FROM: 'probe@listwash.test',
  };
  const cfg = loadConfig(env);
  const svc = new ListwashService(cfg);
  try {
    const input = join(dir, 'list.csv');
    await writeFile(input, 'id,email,name\n' + addresses.map((a, i) => `${i + 1},${a},Person ${i + 1}`).join('\n') + '\n');
    out(`bench:pipeline farm — ${hosts} MX hosts (${Object.keys(spec.domains).length} domains), ${addresses.length} addresses, per host ≤ ${conn} connections and ≤ ${rate} RCPT/s (listwash LISTWASH_MX_MAX_CONNECTIONS=${conn}, LISTWASH_MX_RCPT_PER_SECOND=${rate}), ${workers} worker processes × concurrency ${cfg.workerConcurrency}, batch size ${cfg.batchSize}`);
    out(machineLine());
    out(`  world in child process pid ${world.pid}; Redis prefix ${prefix}`);
    children.push(...(await Promise.all(Array.from({ length: workers }, () => startWorker(env, workerLog)))));

    const t0 = Date.now();
    const { listId } = await svc.submit({ input, output: join(dir, 'out') + '/' });
    await svc.waitUntilDone(listId, { pollMs: 100, timeoutMs: 30 * 60_000 });
    const t1 = Date.now();
    const wall = (t1 - t0) / 1000;

    const { hosts: st, violations } = await world.stats({ maxConnections: conn, rcptPerSecond: rate });
    let busiest = '';
    let rcpts = 0;
    let connections = 0;
    let data = 0;
    let rejected = 0;
    for (const [name, h] of Object.entries(st)) {
      rcpts += h.rcptCount;
      connections += h.connections;
      data += h.dataCommands;
      rejected += h.rateViolations + h.connectionLimitViolations;
      if (busiest === '' || h.rcptCount > (st[busiest]?.rcptCount ?? 0)) busiest = name;
    }
    const b = st[busiest]!;
    const bound = b.rcptCount / rate;
    const ratio = wall / bound;
    const span = b.firstRcptMs !== null && b.lastRcptMs !== null ? (b.lastRcptMs - b.firstRcptMs) / 1000 : 0;
    const times = await world.rcptTimes(Object.keys(st));
    const tl = hostTimeline(times[busiest] ?? [], rate, t0, t1);
    const dump = argValue(args, 'timeline-out', '');
    if (dump !== '') await writeFile(dump, JSON.stringify({ submitMs: t0, doneMs: t1, rate, hosts: times }));
    let tightest = { host: '', ms: Infinity };
    for (const [name, ts] of Object.entries(times)) {
      const w = hostTimeline(ts, rate, t0, t1).tightestWindowMs;
      if (w < tightest.ms) tightest = { host: name, ms: w };
    }

    const report = parse(await readFile(join(dir, 'out', 'report.csv')), { columns: true }) as Record<string, string>[];
    let wrong = 0;
    const samples: string[] = [];
    for (const row of report) {
      const want = truth.get(row.email ?? '');
      if (want !== row.reason) {
        wrong++;
        if (samples.length < 5) samples.push(`${row.email}: expected ${want}, got ${row.status}/${row.reason} (${row.smtp_reply})`);
      }
    }
    const summary = JSON.parse(await readFile(join(dir, 'out', 'summary.json'), 'utf8')) as { timings?: Record<string, number | null>; throttle?: Record<string, Record<string, number>> | null };
    const throttle = Object.values(summary.throttle ?? {}).reduce<Record<string, number>>((acc, c) => {
      for (const [k, v] of Object.entries(c)) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {});

    out(`  wall time submit → done: ${fmt(wall, 1)} s (split ${fmt(summary.timings?.splitSec ?? 0, 1)} s, aggregate ${fmt(summary.timings?.aggregateSec ?? 0, 1)} s)`);
    out(`  politeness bound: ${fmt(bound, 1)} s = ${b.rcptCount} RCPTs at ${busiest} ÷ ${rate}/s; its RCPTs spanned ${fmt(span, 1)} s`);
    out(`  wall / bound: ${fmt(ratio, 3)}`);
    out(`  ${busiest} timeline: first RCPT ${fmt(tl.firstDelayMs / 1000, 2)} s after submit; span ${fmt(tl.spanMs / 1000, 2)} s = ${fmt(tl.idealSpanMs / 1000, 2)} s at ${rate}/s + spacing ${fmt(tl.spacingLossMs / 1000, 2)} s (median interval ${fmt(tl.medianIntervalMs, 1)} ms) + ${tl.gaps} gaps ${fmt(tl.gapLossMs / 1000, 2)} s (longest ${fmt(tl.longestGapMs, 0)} ms); last RCPT → done ${fmt(tl.tailMs / 1000, 2)} s`);
    out(`  tightest ${Math.floor(rate) + 1} consecutive RCPTs at any host: ${fmt(tightest.ms, 1)} ms at ${tightest.host} (< 1000 ms would be a violation)`);
    out(`  RCPTs at all hosts: ${rcpts} (addresses ${addresses.length}, + catch-all probes); connections: ${connections}; RCPTs refused by host limits: ${rejected}`);
    out(`  throttle (this aggregate worker's view): ${JSON.stringify(throttle)}`);
    out(`  politeness violations: ${violations.length}${violations.length ? ' — ' + violations.slice(0, 5).map((v) => `${v.host} ${v.kind} ${v.observed}>${v.limit}`).join(', ') : ''}`);
    out(`  DATA commands: ${data}`);
    out(`  correctness: ${report.length - wrong}/${report.length} rows equal the world's truth`);
    for (const s of samples) out(`    wrong: ${s}`);
    for (const l of workerLog.slice(0, 10)) out(`  ${l}`);
    out(`  load average at the end: ${loadLine()}`);
    out('');
    const checks: [boolean, string][] = [
      [ratio <= RATIO_TARGET, `wall ${fmt(wall, 1)} s ≤ ${RATIO_TARGET}× the politeness bound ${fmt(bound, 1)} s (${fmt(ratio, 3)}×)`],
      [violations.length === 0, `politeness violations ${violations.length} = 0`],
      [data === 0, `DATA commands ${data} = 0`],
      [wrong === 0 && report.length === addresses.length, `verdicts correct ${report.length - wrong}/${addresses.length}`],
    ];
    for (const [ok, what] of checks) out(verdictLine(ok, what));
    return checks.every(([ok]) => ok);
  } finally {
    await Promise.all(children.map(stopWorker));
    await Promise.all([svc.splitQueue, svc.probeQueue, svc.aggregateQueue].map((q) => q.obliterate({ force: true })));
    await svc.close();
    const r = createRedis({ redisUrl });
    await dropPrefix(r, prefix);
    r.disconnect();
    await world.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
