/**
 * `listwash demo`: start the simulated mail world on loopback, write a demo list that covers every
 * verdict (plus invalid rows, duplicates and a typo), clean it through the real pipeline (Redis,
 * BullMQ, in-process workers), then compare every row with the world's truth and check politeness.
 * Nothing leaves loopback: the world is on 127.x.y.z and LISTWASH_ALLOWED_TARGETS is `loopback`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { loadConfig, type Config } from '../config.js';
import { ListwashService } from '../pipeline/service.js';
import { DEFAULT_REDIS_URL, resolveRedis } from '../redis/availability.js';
import { createRedis, type RedisClient } from '../redis/connect.js';
import { errorMessage } from '../errors.js';
import { closeWithin, redisGone, settlesWithin } from './shutdown.js';
import { deleteMatching } from '../redis/scan.js';
import { DEMO_GREYLIST_SECONDS, SimWorld, demoWorld, expectedVerdicts, type PolitenessViolation } from '../world/index.js';

export interface DemoOptions {
  /** Output directory. Default `./listwash-demo`. */
  out?: string;
  quiet?: boolean;
  /** Window of the RCPT-rate politeness check, ms. Default 1000 (tests on a loaded machine allow for delivery jitter). */
  politenessWindowMs?: number;
  /** The Redis to run on. Default `REDIS_URL`, else redis://127.0.0.1:6379. */
  redisUrl?: string;
  /** Rejects when the Redis of the run goes away for good (a private redis-server that ended): the demo stops. */
  redisLost?: Promise<never>;
}

export interface DemoResult {
  rows: number;
  mismatches: { address: string; expected: string; got: string }[];
  violations: PolitenessViolation[];
  dataCommands: number;
  outDir: string;
}

/** The demo list as CSV text: every address of the world's truth, plus rows that need no network. */
export function demoCsv(truth: Map<string, { reason: string }>): string {
  const names = ['Alex', 'Sam', 'Kim', 'Lee', 'Pat', 'Jo', 'Ray', 'Max'];
  const lines = ['"Full Name",Email,Company,Notes'];
  let i = 0;
  for (const address of truth.keys()) {
    const name = names[i++ % names.length]!;
    lines.push(`"${name} ${i}",${address},"Company ${i}, Inc.",`);
  }
  lines.push('"Dup Alice",ALICE@ACME.TEST,"Company 1, Inc.",upper-cased domain and local part (a different mailbox)');
  lines.push('"Dup Bob",bob@ACME.test,"Company 2, Inc.",duplicate of bob@acme.test');
  lines.push('"No At",not-an-address,,invalid syntax');
  lines.push('"Injection","evil@acme.test\r\nDATA",,CR/LF never reaches SMTP');
  lines.push('"Typo",someone@gmial.com,,typo suggestion gmail.com (the domain does not exist in the demo world)');
  lines.push('"Empty",,,empty email cell');
  return lines.join('\r\n') + '\r\n';
}

/** Config for a demo run against `world`. */
export function demoConfig(world: SimWorld, base: NodeJS.ProcessEnv = process.env, redisUrl: string | undefined = base.REDIS_URL): Config {
  return loadConfig({
    REDIS_URL: redisUrl,
    ...world.env(),
    LISTWASH_QUEUE_PREFIX: `{lwdemo-${randomBytes(4).toString('hex')}}`,
    LISTWASH_HELO_NAME: 'probe.listwash.test',
    LISTWASH_MAIL_FROM: 'probe@listwash.test',
    LISTWASH_GREYLIST_RETRY_DELAYS: `${DEMO_GREYLIST_SECONDS + 1},${DEMO_GREYLIST_SECONDS + 2},5`,
    LISTWASH_BLOCKED_PATIENCE_SEC: '20',
    LISTWASH_MX_COOLDOWN_MS: '2000',
    LISTWASH_CONNECT_TIMEOUT_MS: '2000',
    LISTWASH_BANNER_TIMEOUT_MS: '3000',
    LISTWASH_COMMAND_TIMEOUT_MS: '3000',
    LISTWASH_DNS_TIMEOUT_MS: '500',
    LISTWASH_BATCH_SIZE: '3',
    LISTWASH_JOB_TTL: '600',
  });
}

/** Delete every Redis key under the demo's prefixes (on every master of a Redis Cluster). */
export async function dropPrefix(redis: RedisClient, prefix: string): Promise<number> {
  const base = prefix.replace(/[{}]/g, '');
  return deleteMatching(redis, [`${prefix}:*`, `${base}:*`]);
}

export async function runDemoOnce(opts: DemoOptions = {}): Promise<DemoResult> {
  const say = (s: string) => {
    if (!opts.quiet) process.stdout.write(s + '\n');
  };
  const outDir = resolve(opts.out ?? 'listwash-demo');
  mkdirSync(outDir, { recursive: true });
  const spec = demoWorld();
  const world = await SimWorld.start(spec);
  const truth = expectedVerdicts(spec);
  const cfg = demoConfig(world, process.env, opts.redisUrl ?? process.env.REDIS_URL);
  const svc = new ListwashService(cfg);
  let gone = false;
  try {
    say(`simulated mail world: ${world.hostNames.length} MX hosts on ${world.subnet}.x:${world.smtpPort}, DNS ${world.dns.address}`);
    const input = resolve(outDir, 'input.csv');
    writeFileSync(input, demoCsv(truth));
    const output = resolve(outDir, 'out') + '/';
    say(`input:  ${input}`);
    await svc.startWorkers({ split: true, probe: true, aggregate: true, probeConcurrency: 8 });
    const started = Date.now();
    const { listId } = await svc.submit({ input, output });
    let last = '';
    const done = svc.waitUntilDone(listId, {
      timeoutMs: 180_000,
      onProgress: (m) => {
        if (m.state !== last) say(`  ${((Date.now() - started) / 1000).toFixed(1)}s ${m.state}`);
        last = m.state;
      },
    });
    await (opts.redisLost ? Promise.race([done, opts.redisLost]) : done);
    say(`output: ${output} (report.csv clean.csv risky.csv invalid.csv unknown.csv summary.json)`);

    const report = parse(readFileSync(resolve(output, 'report.csv')), { columns: true }) as Record<string, string>[];
    const mismatches: DemoResult['mismatches'] = [];
    say('');
    say('address'.padEnd(34) + 'status'.padEnd(15) + 'reason'.padEnd(20) + 'risk'.padEnd(9) + 'truth');
    for (const row of report) {
      const address = row.email_normalized || row.Email || '';
      const want = truth.get(address);
      const got = `${row.status}/${row.reason}`;
      const ok = want ? want.reason === row.reason && want.status === row.status : true;
      if (want && !ok) mismatches.push({ address, expected: `${want.status}/${want.reason}`, got });
      say(`${(row.Email ?? '').replace(/\r?\n/g, '⏎').slice(0, 33).padEnd(34)}${(row.status ?? '').padEnd(15)}${(row.reason ?? '').padEnd(20)}${(row.bounce_risk ?? '').padEnd(9)}${want ? (ok ? 'ok' : `expected ${want.reason}`) : '-'}${row.suggestion ? `  (did you mean ${row.suggestion}?)` : ''}`);
    }
    const violations = world.politenessReport({ maxConnections: cfg.mxMaxConnections, rcptPerSecond: cfg.mxRcptPerSecond, windowMs: opts.politenessWindowMs ?? 1000 });
    const dataCommands = world.hostNames.reduce((n, h) => n + world.host(h).stats.dataCommands, 0);
    say('');
    for (const v of violations) say(`violation: ${v.host} ${v.kind} observed ${v.observed} > limit ${v.limit}`);
    say(`${report.length} rows, ${truth.size} with a known truth, ${mismatches.length} mismatches; politeness violations: ${violations.length}; DATA commands seen by the hosts: ${dataCommands}`);
    return { rows: report.length, mismatches, violations, dataCommands, outDir };
  } catch (err) {
    gone = redisGone(err);
    throw err;
  } finally {
    const warn = (line: string) => process.stderr.write(`${line}\n`);
    // Against a Redis that went away, the run's error says it all: no waiting for it here.
    await closeWithin(svc, gone ? 1000 : 10_000, warn);
    if (!gone) await dropDemoKeys(cfg, warn);
    await world.stop();
  }
}

/** Remove the demo's keys; a Redis that does not answer within 5 s is left as it is (one line says so). */
async function dropDemoKeys(cfg: Config, say: (line: string) => void): Promise<void> {
  const r = createRedis(cfg);
  let failure: unknown = null;
  r.on('error', (err: unknown) => (failure = err));
  try {
    if (!(await settlesWithin(dropPrefix(r, cfg.queuePrefix), 5000))) {
      say(`listwash: the demo's Redis keys (${cfg.queuePrefix}) were not removed: Redis does not answer${failure ? ` (${errorMessage(failure)})` : ''}`);
    }
  } finally {
    r.disconnect();
  }
}

/**
 * `listwash demo`: with nothing answering at the default Redis address and `REDIS_URL` unset, it runs on a
 * private redis-server that it stops when it ends (see `resolveRedis`). Exit code 0 when every verdict
 * matches the world's truth, politely, with no `DATA`; else 1.
 */
export async function runDemo(opts: DemoOptions = {}): Promise<number> {
  const redis = await resolveRedis({ redisUrl: opts.redisUrl ?? process.env.REDIS_URL ?? DEFAULT_REDIS_URL }, process.env, {
    allowEmbedded: true,
    say: (line) => process.stderr.write(`listwash: ${line}\n`),
  });
  try {
    const r = await runDemoOnce({ ...opts, redisUrl: redis.cfg.redisUrl, redisLost: redis.lost });
    return r.mismatches.length === 0 && r.violations.length === 0 && r.dataCommands === 0 ? 0 : 1;
  } finally {
    await redis.stop();
  }
}
