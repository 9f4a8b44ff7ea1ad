/**
 * Peer benchmark (`npm run bench:peers`): listwash vs deep-email-validator, the most used npm email verifier, on
 * the same list against the same simulated mail world (scripts/bench/peer-world.ts: the demo world's behaviours
 * at scale, the truth per address from the spec's `expect`).
 *
 * - The world runs in a child process; every host allows per client the same limits as listwash's throttle
 *   settings (`--conn` connections, `--rate` RCPT/s) and records what breaks them.
 * - listwash: `listwash clean` as a process (`tsx src/cli/main.ts clean`), its real pipeline: Redis at REDIS_URL
 *   under a private prefix (removed afterwards), BullMQ, in-process workers, the fleet-wide throttle.
 * - The peer: deep-email-validator in a process of its own (scripts/bench/peer-child.ts: its DNS pointed at the
 *   world's DNS server with `dns.setServers`, its port-25 connections sent to the world's SMTP port),
 *   `--peer-concurrency` validate() calls in flight. It has no throttle: the hosts refuse what exceeds their
 *   limits, and count it.
 * - The world's counters and state (greylisting triplets, rate windows, bans) are reset between the two runs.
 *
 * Reported per tool: accuracy per category (the peer's answers mapped to our vocabulary as documented in
 * scripts/bench/peer-answer.ts), wall time (process spawn → exit), SMTP connections the hosts accepted, RCPTs,
 * refusals, politeness violations (`politenessReport` at the same limits), DATA commands.
 * Targets: listwash at least as accurate as the peer in every category; 0 politeness violations and 0 DATA by
 * listwash. Exit 1 on a FAIL.
 *
 * Options: --addresses 3000 --rate 10 --conn 2 --peer-concurrency 16 --greylist 2 --delay-ms 10 --seed 42
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { createRedis } from '../src/redis/connect.js';
import { dropPrefix } from '../src/cli/demo.js';
import { REASON_STATUS, type Reason } from '../src/verdict.js';
import type { PolitenessViolation } from '../src/world/index.js';
import { argInt, fmt, loadLine, machineLine, runToExit, verdictLine } from './bench/common.js';
import { judge, mapPeerAnswer } from './bench/peer-answer.js';
import type { PeerRequest } from './bench/peer-child.js';
import { runPeerProcess } from './bench/peer-process.js';
import { hostTotals, score, total, truthsOf, worseCategories, type HostTotals, type Judged, type Scores } from './bench/peer-score.js';
import { CATEGORIES, peerWorld, type PeerWorld } from './bench/peer-world.js';
import { WorldProcess } from './bench/world-process.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const SENDER = 'probe@listwash.test';
const RUN_TIMEOUT_MS = 10 * 60_000;

const out = (s: string) => process.stdout.write(s + '\n');

interface Settings {
  addresses: number;
  rate: number;
  conn: number;
  peerConcurrency: number;
  greylist: number;
  delayMs: number;
  seed: number;
}

/** What one tool's run left: its judged answers, wall time and what the hosts saw. */
interface ToolRun {
  seconds: number;
  judged: Judged[];
  hosts: HostTotals;
  violations: PolitenessViolation[];
  /** Answer labels by category (listwash: status/reason; peer: its level and reply). */
  labels: Map<string, Map<string, number>>;
  /**
   * Rate violations again with a 950 ms window (absorbing 50 ms of delivery jitter on a loaded machine), when the
   * 1000 ms report found any; null otherwise.
   */
  jitterTolerant: PolitenessViolation[] | null;
}

/** The hosts' counters and politeness report at the run's limits (and at a 950 ms window if that found any). */
async function hostView(world: WorldProcess, s: Settings): Promise<Pick<ToolRun, 'hosts' | 'violations' | 'jitterTolerant'>> {
  const st = await world.stats({ maxConnections: s.conn, rcptPerSecond: s.rate });
  const jitterTolerant = st.violations.length > 0 ? (await world.stats({ maxConnections: s.conn, rcptPerSecond: s.rate, windowMs: 950 })).violations : null;
  return { hosts: hostTotals(st.hosts), violations: st.violations, jitterTolerant };
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function countLabel(labels: Map<string, Map<string, number>>, category: string, label: string): void {
  const m = labels.get(category) ?? new Map<string, number>();
  m.set(label, (m.get(label) ?? 0) + 1);
  labels.set(category, m);
}

/** listwash's settings for the run: the hosts' limits, short greylisting retries and timeouts, a private prefix. */
function listwashEnv(world: WorldProcess, s: Settings, prefix: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...world.env,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    LISTWASH_QUEUE_PREFIX: prefix,
    LISTWASH_MX_MAX_CONNECTIONS: String(s.conn),
    LISTWASH_MX_RCPT_PER_SECOND: String(s.rate),
    LISTWASH_HELO_NAME: 'probe.listwash.test',
    LISTWASH_MAIL_FROM: SENDER,
    LISTWASH_GREYLIST_RETRY_DELAYS: `${s.greylist + 1},${s.greylist + 2},${s.greylist + 4}`,
    LISTWASH_BLOCKED_PATIENCE_SEC: '20',
    LISTWASH_MX_COOLDOWN_MS: '2000',
    LISTWASH_CONNECT_TIMEOUT_MS: '2000',
    LISTWASH_BANNER_TIMEOUT_MS: '3000',
    LISTWASH_COMMAND_TIMEOUT_MS: '3000',
    LISTWASH_DNS_TIMEOUT_MS: '500',
    LISTWASH_JOB_TTL: '600',
  };
}

/** Run `listwash clean` on the list; judge report.csv row by row against the truth. */
async function runListwash(world: WorldProcess, w: PeerWorld, s: Settings, dir: string): Promise<ToolRun> {
  const prefix = `{lwpeers-${randomBytes(4).toString('hex')}}`;
  const env = listwashEnv(world, s, prefix);
  const input = join(dir, 'list.csv');
  const output = join(dir, 'out') + '/';
  await writeFile(input, 'id,email\n' + w.addresses.map((a, i) => `${i + 1},${csvField(a)}`).join('\n') + '\n');
  out(`  listwash: tsx src/cli/main.ts clean list.csv --out out/ (Redis prefix ${prefix}; LISTWASH_MX_MAX_CONNECTIONS=${s.conn}, LISTWASH_MX_RCPT_PER_SECOND=${s.rate}, LISTWASH_GREYLIST_RETRY_DELAYS=${env.LISTWASH_GREYLIST_RETRY_DELAYS})`);
  try {
    const run = await runToExit(process.execPath, ['--import', 'tsx', CLI, 'clean', input, '--out', output, '--id', 'peers', '--quiet'], { cwd: REPO_ROOT, env, timeoutMs: RUN_TIMEOUT_MS });
    if (run.code !== 0) throw new Error(`listwash clean exited with ${run.code ?? run.signal}: ${run.stderr.trim().split('\n').slice(-5).join(' | ')}`);
    const report = parse(await readFile(join(output, 'report.csv')), { columns: true }) as Record<string, string>[];
    if (report.length !== w.addresses.length) throw new Error(`report.csv has ${report.length} rows, the list ${w.addresses.length}`);
    const labels = new Map<string, Map<string, number>>();
    const judged = report.map((row, i): Judged => {
      const address = w.addresses[i]!;
      if (row.email !== address) throw new Error(`report.csv row ${i + 1} is ${JSON.stringify(row.email)}, expected ${JSON.stringify(address)}`);
      const want = w.truth.get(address)!;
      countLabel(labels, w.category.get(address)!, `${row.status}/${row.reason}`);
      return { reason: row.reason === want, status: row.status === REASON_STATUS[want] };
    });
    const summary = JSON.parse(await readFile(join(output, 'summary.json'), 'utf8')) as { timings?: Record<string, number | null> };
    const t = summary.timings ?? {};
    const sec = (k: string) => (typeof t[k] === 'number' ? fmt(t[k], 1) : '-');
    out(`  listwash done: exit 0 after ${fmt(run.seconds, 1)} s; summary.json timings: split ${sec('splitSec')} s, probe ${sec('probeSec')} s, aggregate ${sec('aggregateSec')} s, total ${sec('totalSec')} s`);
    return { seconds: run.seconds, judged, labels, ...(await hostView(world, s)) };
  } finally {
    const r = createRedis({ redisUrl: env.REDIS_URL! });
    await dropPrefix(r, prefix);
    r.disconnect();
  }
}

/** Run deep-email-validator on the list; map and judge its answers. */
async function runPeer(world: WorldProcess, w: PeerWorld, s: Settings): Promise<ToolRun> {
  out(`  peer: deep-email-validator 0.1.27, ${s.peerConcurrency} validate() calls in flight, sender ${SENDER}, additionalTopLevelDomains test, example`);
  const req: PeerRequest = {
    addresses: w.addresses,
    dnsServer: world.env.LISTWASH_DNS_SERVERS,
    smtpPort: Number(world.env.LISTWASH_SMTP_PORT),
    concurrency: s.peerConcurrency,
    sender: SENDER,
    tlds: ['test', 'example'],
  };
  const r = await runPeerProcess(req, RUN_TIMEOUT_MS);
  out(`  peer done after ${fmt(r.seconds, 1)} s (its validate() calls: ${fmt(r.ms / 1000, 1)} s)`);
  if (r.outputs.length !== w.addresses.length) throw new Error(`the peer answered ${r.outputs.length} of ${w.addresses.length} addresses`);
  const labels = new Map<string, Map<string, number>>();
  const judged = r.outputs.map((o, i): Judged => {
    const address = w.addresses[i]!;
    const a = mapPeerAnswer(o);
    countLabel(labels, w.category.get(address)!, a.label);
    return judge(a, w.truth.get(address) as Reason);
  });
  return { seconds: r.seconds, judged, labels, ...(await hostView(world, s)) };
}

function pct(n: number, of: number): string {
  return of === 0 ? '-' : `${fmt((100 * n) / of, 1)}%`;
}

/** The two or three most frequent answers of a category, e.g. `valid 98, smtp 421 12`. */
function topLabels(m: Map<string, number> | undefined): string {
  return [...(m ?? new Map<string, number>())]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([l, n]) => `${l} ${n}`)
    .join(', ');
}

function printAccuracy(w: PeerWorld, lw: ToolRun, peer: ToolRun, lwScores: Scores, peerScores: Scores): void {
  out('');
  out('accuracy per category (reason right / status right), against the world\'s truth:');
  out(`  ${'category'.padEnd(25)}${'n'.padStart(5)}  ${'truth'.padEnd(30)}${'listwash'.padEnd(16)}${'peer'.padEnd(16)}peer's answers`);
  for (const c of CATEGORIES) {
    const a = lwScores.get(c)!;
    const b = peerScores.get(c)!;
    if (a.n === 0) continue;
    out(`  ${c.padEnd(25)}${String(a.n).padStart(5)}  ${truthsOf(c, w.addresses, w.category, w.truth).padEnd(30)}${`${pct(a.reason, a.n)} / ${pct(a.status, a.n)}`.padEnd(16)}${`${pct(b.reason, b.n)} / ${pct(b.status, b.n)}`.padEnd(16)}${topLabels(peer.labels.get(c))}`);
  }
  const ta = total(lwScores);
  const tb = total(peerScores);
  out(`  ${'all'.padEnd(25)}${String(ta.n).padStart(5)}  ${''.padEnd(30)}${`${pct(ta.reason, ta.n)} / ${pct(ta.status, ta.n)}`.padEnd(16)}${pct(tb.reason, tb.n)} / ${pct(tb.status, tb.n)}`);
  const wrong = CATEGORIES.filter((c) => lwScores.get(c)!.reason < lwScores.get(c)!.n);
  for (const c of wrong) out(`  listwash answers in "${c}": ${topLabels(lw.labels.get(c))}`);
}

function printTraffic(lw: ToolRun, peer: ToolRun, s: Settings): void {
  const row = (what: string, a: string, b: string, ratio = '') => out(`  ${what.padEnd(44)}${a.padStart(12)}${b.padStart(12)}  ${ratio}`);
  const ratio = (x: number, y: number) => (y === 0 ? '-' : fmt(x / y, 2));
  out('');
  out(`what the hosts saw (limits per host: ${s.conn} connections, ${s.rate} RCPT/s):`);
  row('', 'listwash', 'peer');
  row('wall time, process spawn → exit (s)', fmt(lw.seconds, 1), fmt(peer.seconds, 1), `listwash ÷ peer ${ratio(lw.seconds, peer.seconds)}`);
  row('SMTP connections accepted by the hosts', String(lw.hosts.connections), String(peer.hosts.connections), `peer ÷ listwash ${ratio(peer.hosts.connections, lw.hosts.connections)}`);
  row('RCPT TO commands', String(lw.hosts.rcpts), String(peer.hosts.rcpts));
  row('QUIT commands', String(lw.hosts.quits), String(peer.hosts.quits));
  row('most connections open at once on one host', String(lw.hosts.peakConnections), String(peer.hosts.peakConnections));
  row('refused by host limits (421, 450 rate, 554 ban)', String(lw.hosts.refused), String(peer.hosts.refused));
  row('greylisting 450s', String(lw.hosts.greylisted), String(peer.hosts.greylisted));
  row('politeness violations (host × kind)', String(lw.violations.length), String(peer.violations.length));
  row('DATA commands', String(lw.hosts.data), String(peer.hosts.data));
  row('busiest host RCPTs ÷ rate = politeness bound (s)', fmt(lw.hosts.busiest.rcpts / s.rate, 1), fmt(peer.hosts.busiest.rcpts / s.rate, 1));
  const kinds = (v: PolitenessViolation[]) => v.map((x) => `${x.host} ${x.kind} ${x.observed}>${x.limit}`).slice(0, 6).join(', ');
  if (lw.violations.length > 0) out(`  listwash violations: ${kinds(lw.violations)}; with a 950 ms window (50 ms of delivery jitter absorbed): ${lw.jitterTolerant?.length ?? 0}`);
  if (peer.violations.length > 0) out(`  peer violations (first 6): ${kinds(peer.violations)}`);
}

function settings(args: readonly string[]): Settings {
  return {
    addresses: argInt(args, 'addresses', 3000),
    rate: argInt(args, 'rate', 10),
    conn: argInt(args, 'conn', 2),
    peerConcurrency: argInt(args, 'peer-concurrency', 16),
    greylist: argInt(args, 'greylist', 2),
    delayMs: argInt(args, 'delay-ms', 10),
    seed: argInt(args, 'seed', 42),
  };
}

async function main(): Promise<number> {
  const s = settings(process.argv.slice(2));
  const w = peerWorld({ total: s.addresses, seed: s.seed, maxConnections: s.conn, rcptPerSecond: s.rate, greylistSeconds: s.greylist, replyDelayMs: s.delayMs });
  out(`bench:peers — listwash vs deep-email-validator: ${w.addresses.length} addresses, ${Object.keys(w.spec.domains).length} domains, ${Object.keys(w.spec.hosts ?? {}).length} MX hosts; every host ${s.conn} connections and ${s.rate} RCPT/s per client, ${s.delayMs} ms per reply, greylisting ${s.greylist} s`);
  out(machineLine());
  const world = await WorldProcess.start(w.spec);
  const dir = await mkdtemp(join(tmpdir(), 'lw-peers-'));
  try {
    out(`  world in child process pid ${world.pid}, DNS ${world.env.LISTWASH_DNS_SERVERS}, SMTP port ${world.env.LISTWASH_SMTP_PORT}`);
    const lw = await runListwash(world, w, s, dir);
    await world.reset();
    const peer = await runPeer(world, w, s);
    const lwScores = score(w.addresses, w.category, lw.judged);
    const peerScores = score(w.addresses, w.category, peer.judged);
    printAccuracy(w, lw, peer, lwScores, peerScores);
    printTraffic(lw, peer, s);
    out(`  load average at the end: ${loadLine()}`);
    out('');
    const worse = worseCategories(lwScores, peerScores);
    const checks: [boolean, string][] = [
      [worse.length === 0, `listwash accuracy ≥ peer's on every category (${CATEGORIES.length - worse.length}/${CATEGORIES.length}${worse.length ? `; worse in: ${worse.join(', ')}` : ''})`],
      [lw.violations.length === 0, `politeness violations by listwash ${lw.violations.length} = 0`],
      [lw.hosts.data === 0, `DATA commands by listwash ${lw.hosts.data} = 0`],
    ];
    for (const [ok, what] of checks) out(verdictLine(ok, what));
    return checks.every(([ok]) => ok) ? 0 : 1;
  } finally {
    await world.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:peers failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
