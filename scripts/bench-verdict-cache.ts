/**
 * bench:verdict-cache — Redis memory per address kept by the verdict cache. Fills the cache with
 * `--addresses` verdicts (a realistic mix: accepted, mailbox_not_found with the usual long Postfix reply
 * naming the address, catch_all, mailbox_disabled; addresses and MX names of typical lengths) through
 * `VerdictCache.store`, as the probe stage does, then reports:
 * - `MEMORY USAGE … SAMPLES 0` of every shard key (exact, whatever else the server holds), and
 * - the change of `INFO memory` `used_memory` (exact only on a Redis nobody else uses meanwhile),
 * each divided by the number of addresses kept. Then it deletes its keys.
 *
 *   npx tsx scripts/bench-verdict-cache.ts [--addresses 100000] [--shards 16]
 *
 * Redis is `REDIS_URL` (default 127.0.0.1:6379); use a private `redis-server` for the `used_memory` figure.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { createRedis } from '../src/redis/connect.js';
import { deleteMatching, keyServers } from '../src/redis/scan.js';
import { parseMaxAges } from '../src/verdict-cache/policy.js';
import { VerdictCache, type VerifiedVerdict } from '../src/verdict-cache/verdict-cache.js';
import { verdict } from '../src/verdict.js';

const { values: args } = parseArgs({ options: { addresses: { type: 'string', default: '100000' }, shards: { type: 'string', default: '16' } } });
const n = Number(args.addresses);
const shards = Number(args.shards);

/** A seeded generator, so runs compare. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32);
}

const FIRST = ['anna', 'ben', 'carla', 'dmitri', 'eve', 'farid', 'grace', 'hiro', 'ines', 'jonas', 'kemal', 'lena'];
const LAST = ['smith', 'mueller', 'garcia', 'rossi', 'tanaka', 'novak', 'dubois', 'silva', 'kowalski', 'jensen'];

/** A verdict as the engine would have found it for `address` at `host`. */
function verdictFor(address: string, host: string, r: number): VerifiedVerdict['verdict'] {
  if (r < 0.6) return verdict('accepted', { mxHost: host, smtpCode: 250, enhancedCode: '2.1.5', smtpReply: '250 2.1.5 Ok', catchAll: false });
  if (r < 0.85) return verdict('mailbox_not_found', { mxHost: host, smtpCode: 550, enhancedCode: '5.1.1', smtpReply: `550 5.1.1 <${address}>: Recipient address rejected: User unknown in virtual mailbox table`, catchAll: false });
  if (r < 0.95) return verdict('catch_all', { mxHost: host, smtpCode: 250, enhancedCode: '2.1.5', smtpReply: '250 2.1.5 Recipient OK', catchAll: true });
  return verdict('mailbox_disabled', { mxHost: host, smtpCode: 550, enhancedCode: '5.2.1', smtpReply: '550 5.2.1 The email account that you tried to reach is disabled.', catchAll: false });
}

function fmt(x: number, digits = 0): string {
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function usedMemory(info: string): number {
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN);
}

async function main(): Promise<number> {
  const cfg = loadConfig({ ...process.env, LISTWASH_QUEUE_PREFIX: `{lwbench-${randomBytes(4).toString('hex')}}` });
  const redis = createRedis(cfg);
  const keyPrefix = `${cfg.queuePrefix.replace(/[{}]/g, '')}:vcache:`;
  const cache = new VerdictCache(redis, { keyPrefix, shards, maxEntries: n * 2, maxAges: parseMaxAges(cfg.verdictCacheMaxAge) });
  try {
    const servers = await keyServers(redis);
    const memory = async () => (await Promise.all(servers.map(async (s) => usedMemory(await s.info('memory'))))).reduce((a, b) => a + b, 0);
    const random = rng(42);
    const before = await memory();
    const now = Date.now();
    let bytesAddresses = 0;
    for (let start = 0; start < n; start += 5000) {
      const chunk: VerifiedVerdict[] = [];
      for (let i = start; i < Math.min(n, start + 5000); i++) {
        const domain = `${LAST[i % LAST.length]}-${Math.floor(random() * 20000)}.example.com`;
        const address = `${FIRST[Math.floor(random() * FIRST.length)]}.${LAST[Math.floor(random() * LAST.length)]}${i}@${domain}`;
        bytesAddresses += address.length;
        chunk.push({ address, verdict: verdictFor(address, `mx1.${domain}`, random()), verifiedAt: now - Math.floor(random() * 86_400_000) });
      }
      await cache.store(chunk, now);
    }
    const after = await memory();
    const kept = await cache.size();
    let usage = 0;
    for (let s = 0; s < shards; s++) {
      for (const key of Object.values(cache.keys(s))) usage += Number((await redis.memory('USAGE', key, 'SAMPLES', 0)) ?? 0);
    }
    const encodings = await Promise.all(Object.values(cache.keys(0)).map((k) => redis.object('ENCODING', k)));
    process.stdout.write(
      [
        `bench:verdict-cache — ${fmt(kept)} addresses kept in ${shards} shards (mean address ${fmt(bytesAddresses / n, 1)} chars; 60% accepted, 25% mailbox_not_found with a ${'550 5.1.1 <…>: Recipient address rejected: User unknown in virtual mailbox table'.length - 3}-char reply plus the address, 10% catch_all, 5% mailbox_disabled)`,
        `  MEMORY USAGE of the shard keys: ${fmt(usage)} bytes = ${fmt(usage / kept, 1)} bytes per address (encodings: verdicts ${encodings[0]}, times ${encodings[1]})`,
        `  INFO used_memory grew by ${fmt(after - before)} bytes = ${fmt((after - before) / kept, 1)} bytes per address${servers.length > 1 ? ` (over ${servers.length} masters)` : ''}`,
        `  → 1,000,000 addresses ≈ ${fmt((usage / kept) * 1e6 / 2 ** 20)} MiB`,
        '',
      ].join('\n'),
    );
    return kept === n ? 0 : 1;
  } finally {
    await deleteMatching(redis, [`${keyPrefix}*`]);
    redis.disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:verdict-cache: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
