/**
 * Redis memory per unique address while a list runs (`npm run bench:redis-memory`).
 *
 * A list of N unique addresses is cleaned end to end (in-process workers, as `listwash clean` does) against a
 * simulated world of D domains in a child process, on a private redis-server (nothing else in it, so its
 * `used_memory` is the run's). `INFO memory` is sampled every 100 ms: the peak while the list runs, and the
 * figure once it is done, each minus the baseline taken before the submit (queues and workers started). The
 * keys left at the end are grouped and sized with `MEMORY USAGE`.
 *
 * Checks: once the files are written the list's per-address results and per-batch bookkeeping are gone
 * from Redis (only its metadata hash stays, until LISTWASH_JOB_TTL).
 *
 * Each size of `--addresses` runs on a fresh server; with two or more, the marginal cost per address (last vs
 * first) leaves out what does not grow with the list (the Lua script cache, queue bookkeeping: about 1 MiB).
 *
 * Options: --addresses N[,N…] (default 5000,20000), --domains D (default 40), --verdict-cache on|off (default on: the
 * fleet-wide verdict cache keeps a verdict per address by design, bounded by
 * LISTWASH_VERDICT_CACHE_MAX_ENTRIES; `off` measures the list's own state alone), --seed S.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import { listKeys, workingKeys } from '../src/pipeline/names.js';
import { ListwashService } from '../src/pipeline/service.js';
import { findOnPath, startEmbeddedRedis } from '../src/redis/embedded.js';
import type { SimWorldSpec } from '../src/world/index.js';
import { argInt, argValue, fmt, loadLine, machineLine, seededRandom, verdictLine } from './bench/common.js';
import { WorldProcess } from './bench/world-process.js';

const out = (s: string) => process.stdout.write(s + '\n');
const KB = 1024;

/** Domains `d<i>.mem.test`, each with its own MX host; 70% of the addresses exist; every tenth host is catch-all. */
function plan(total: number, domains: number, seed: number): { spec: SimWorldSpec; addresses: string[] } {
  const rnd = seededRandom(seed);
  const spec: SimWorldSpec = { domains: {}, hosts: {} };
  const mailboxes: string[][] = Array.from({ length: domains }, () => []);
  const addresses: string[] = [];
  for (let i = 0; i < total; i++) {
    const d = i % domains;
    const local = `person${i}.${Math.floor(rnd() * 1e9).toString(36)}`;
    if (rnd() < 0.7) mailboxes[d]!.push(local);
    addresses.push(`${local}@d${d}.mem.test`);
  }
  for (let d = 0; d < domains; d++) {
    const host = `mx${d}.mem.test`;
    spec.domains[`d${d}.mem.test`] = { mx: [{ host, preference: 10 }] };
    spec.hosts![host] = d % 10 === 9 ? { catchAll: true } : { mailboxes: mailboxes[d]! };
  }
  return { spec, addresses };
}

interface Memory {
  /** `used_memory`: what maxmemory is compared with. */
  used: number;
  /** `used_memory_dataset`: the keys' share of it (without client buffers, the script cache, …). */
  dataset: number;
  /** `used_memory_peak`: the highest `used_memory` since the (private) server started. */
  peak: number;
}

async function memory(redis: Redis): Promise<Memory> {
  const info = await redis.info('memory');
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
  return { used: field('used_memory'), dataset: field('used_memory_dataset'), peak: field('used_memory_peak') };
}

/** Every key, grouped by what it is, with its count and `MEMORY USAGE` total. */
async function keyGroups(redis: Redis, prefix: string, listId: string): Promise<Map<string, { keys: number; bytes: number }>> {
  const base = prefix.replace(/[{}]/g, '');
  const groupOf = (k: string): string => {
    if (k.includes(`:list:{${listId}}:`)) return `list ${k.slice(k.lastIndexOf(':') + 1)}`;
    if (k.includes(':vcache:')) return 'verdict cache';
    if (k.startsWith(`${prefix}:`)) return `BullMQ ${k.slice(prefix.length + 1).split(':')[0]}`;
    if (k.includes(':thr:')) return 'throttle';
    if (k.includes(':cache:')) return 'DNS / catch-all cache';
    if (k.includes(':metrics:')) return 'metrics';
    if (k.startsWith(`${base}:lists`) || k.startsWith(`${base}:events`)) return 'index of lists, events';
    return 'other';
  };
  const groups = new Map<string, { keys: number; bytes: number }>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) {
      const g = groups.get(groupOf(k)) ?? { keys: 0, bytes: 0 };
      g.keys++;
      g.bytes += (await redis.memory('USAGE', k, 'SAMPLES', 0)) ?? 0;
      groups.set(groupOf(k), g);
    }
  } while (cursor !== '0');
  return groups;
}

interface RunFigures {
  total: number;
  ok: boolean;
  /** Growth over the baseline, bytes. */
  peak: number;
  after: number;
}

async function main(args: string[]): Promise<boolean> {
  const sizes = argValue(args, 'addresses', '5000,20000').split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--addresses takes one or more positive integers, comma-separated');
  const domains = argInt(args, 'domains', 40);
  const seed = argInt(args, 'seed', 42);
  const cacheOn = argValue(args, 'verdict-cache', 'on') !== 'off';
  const binary = findOnPath('redis-server', process.env.PATH);
  if (!binary) throw new Error('bench:redis-memory needs redis-server on PATH (a private server, so that its memory is the run\'s alone)');
  const runs: RunFigures[] = [];
  for (const total of sizes) runs.push(await runOnce(binary, total, domains, seed, cacheOn));
  const first = runs[0]!;
  const last = runs.at(-1)!;
  if (runs.length > 1) {
    // The difference between two sizes leaves out what does not grow with the list (Lua script cache, queue bookkeeping).
    const marginal = (a: number, b: number) => fmt((b - a) / (last.total - first.total), 0);
    out(`bench:redis-memory — marginal cost per unique address (${first.total} → ${last.total} addresses, verdict cache ${cacheOn ? 'on' : 'off'}): peak while running ${marginal(first.peak, last.peak)} bytes; after done ${marginal(first.after, last.after)} bytes`);
  }
  return runs.every((r) => r.ok);
}

async function runOnce(binary: string, total: number, domains: number, seed: number, cacheOn: boolean): Promise<RunFigures> {

  const { spec, addresses } = plan(total, domains, seed);
  const dir = await mkdtemp(join(tmpdir(), 'lw-redis-mem-'));
  const server = await startEmbeddedRedis({ binary });
  const world = await WorldProcess.start(spec);
  const prefix = `{lwmem-${randomBytes(4).toString('hex')}}`;
  const cfg = loadConfig({
    ...world.env,
    REDIS_URL: server.url,
    LISTWASH_QUEUE_PREFIX: prefix,
    LISTWASH_HELO_NAME: 'probe.listwash.test',
    LISTWASH_MAIL_FROM: 'probe@listwash.test',
    // The world's hosts have no limits: probing is as fast as the machine allows (memory, not politeness, is measured).
    LISTWASH_MX_MAX_CONNECTIONS: '4',
    LISTWASH_MX_RCPT_PER_SECOND: '2000',
    ...(cacheOn ? {} : { LISTWASH_VERDICT_CACHE_MAX_ENTRIES: '0' }),
  });
  const svc = new ListwashService(cfg);
  const probe = new Redis(server.url);
  let sampler: NodeJS.Timeout | undefined;
  try {
    const input = join(dir, 'list.csv');
    await writeFile(input, 'id,email,name\n' + addresses.map((a, i) => `${i + 1},${a},Person ${i + 1}`).join('\n') + '\n');
    out(`bench:redis-memory — ${total} unique addresses over ${domains} domains, verdict cache ${cacheOn ? `on (up to ${cfg.verdictCacheMaxEntries} entries)` : 'off'}, batch size ${cfg.batchSize}; private ${binary} at ${server.url}`);
    out(machineLine());
    await svc.startWorkers({ split: true, probe: true, aggregate: true, webhook: true });
    const baseline = await memory(probe);

    let state = 'queued';
    // Sampled for the phase at the peak and the dataset's peak; the peak itself is Redis's own used_memory_peak.
    let peak = { used: baseline.used, dataset: baseline.dataset, state, at: 0 };
    const t0 = Date.now();
    sampler = setInterval(() => {
      memory(probe).then(
        (m) => {
          if (m.used > peak.used) peak = { ...peak, used: m.used, state, at: Date.now() - t0 };
          if (m.dataset > peak.dataset) peak = { ...peak, dataset: m.dataset };
        },
        (err: unknown) => out(`  sample failed: ${String(err)}`),
      );
    }, 100);
    const { listId } = await svc.submit({ input, output: join(dir, 'out') + '/' });
    const done = await svc.waitUntilDone(listId, { pollMs: 200, timeoutMs: 30 * 60_000, onProgress: (v) => (state = v.state) });
    clearInterval(sampler);
    // Keys removed with UNLINK are freed by a background thread: measure once it has freed them.
    for (let i = 0; i < 100 && /^lazyfree_pending_objects:[1-9]/m.test(await probe.info('memory')); i++) await new Promise((r) => setTimeout(r, 50));
    const after = await memory(probe);
    const peakUsed = Math.max(after.peak, peak.used);
    const wall = (Date.now() - t0) / 1000;
    const groups = await keyGroups(probe, prefix, listId);
    const working = workingKeys(listKeys(prefix, listId));
    const left = working.length > 0 ? await probe.exists(...working) : 0;
    const listGroups = [...groups.keys()].filter((g) => g.startsWith('list '));
    const cache = groups.get('verdict cache') ?? { keys: 0, bytes: 0 };

    out(`  list ${listId}: ${done.rows} rows done in ${fmt(wall, 1)} s`);
    const mib = (b: number) => `${fmt(b / KB / KB, 2)} MiB`;
    const per = (b: number) => `${fmt(b / total, 0)} bytes`;
    out(`  used_memory: baseline ${mib(baseline.used)} (queues and workers started, before the submit); peak ${mib(peakUsed)} (sampled peak while ${peak.state}, ${fmt(peak.at / 1000, 1)} s in); after done ${mib(after.used)}`);
    out(`  per unique address, used_memory: peak while running ${per(peakUsed - baseline.used)}; after done ${per(after.used - baseline.used)}`);
    out(`  per unique address, used_memory_dataset (the keys alone): peak ${per(peak.dataset - baseline.dataset)}; after done ${per(after.dataset - baseline.dataset)}`);
    out(`    of which after done the fleet-wide verdict cache (kept on purpose, bounded by LISTWASH_VERDICT_CACHE_MAX_ENTRIES): ${per(cache.bytes)} (${cache.keys} keys)`);
    out('  keys after done (MEMORY USAGE):');
    for (const [g, v] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes)) out(`    ${g.padEnd(24)} ${String(v.keys).padStart(6)} keys ${fmt(v.bytes / KB, 1).padStart(10)} KiB`);
    out(`  load average at the end: ${loadLine()}`);
    out('');
    const checks: [boolean, string][] = [
      [left === 0, `the list's per-address results and batch bookkeeping are gone once done (${left} of ${working.length} working keys left)`],
      [listGroups.length === 1 && listGroups[0] === 'list meta', `only the list's metadata stays (${listGroups.join(', ')})`],
    ];
    for (const [ok, what] of checks) out(verdictLine(ok, what));
    out('');
    return { total, ok: checks.every(([ok]) => ok), peak: peakUsed - baseline.used, after: after.used - baseline.used };
  } finally {
    clearInterval(sampler);
    await svc.close();
    probe.disconnect();
    await world.stop();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (ok) => process.exit(ok ? 0 : 1),
  (err: unknown) => {
    process.stderr.write(`bench:redis-memory: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
