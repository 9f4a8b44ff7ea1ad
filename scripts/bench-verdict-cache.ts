/**
 * bench:verdict-cache — Redis memory per address kept by the verdict cache. Fills the cache with
 * `--addresses` verdicts (a realistic mix: accepted, mailbox_not_found with the usual long Postfix reply
 * naming the address, catch_all, mailbox_disabled; addresses and MX names of typical lengths) through
 * `VerdictCache.store`, as the probe stage does, then reports:
 * - `MEMORY USAGE … SAMPLES 0` of every shard key (exact, whatever else the server holds), and
 * - the change of `INFO memory` `used_memory` (exact only on a Redis nobody else uses meanwhile),
 * each divided by the number of addresses kept, and the overhead: that figure ÷ the bytes of the data itself
 * (address twice, stored verdict, time). Target: ≤ 512 bytes per address (the README's sizing). Then it
 * deletes its keys.
 *
 *   npm run bench:verdict-cache -- [--addresses 100000] [--shards 16]
 *
 * Redis is `REDIS_URL` (default 127.0.0.1:6379); use a private `redis-server` for the `used_memory` figure.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config.js';
import { encodeVerdict } from '../src/pipeline/result-codec.js';
import { createRedis } from '../src/redis/connect.js';
import { deleteMatching, keyServers } from '../src/redis/scan.js';
import { parseMaxAges } from '../src/verdict-cache/policy.js';
import { VerdictCache, type VerifiedVerdict } from '../src/verdict-cache/verdict-cache.js';
import { verdict } from '../src/verdict.js';
import { argInt, machineLine, seededRandom, verdictLine } from './bench/common.js';

const args = process.argv.slice(2);
const n = argInt(args, 'addresses', 100_000);
const shards = argInt(args, 'shards', 16);
/** Bytes of Redis memory per kept address the README's sizing assumes at most. */
const BUDGET = 512;

const FIRST = ['anna', 'ben', 'carla', 'dmitri', 'eve', 'farid', 'grace', 'hiro', 'ines', 'jonas', 'kemal', 'lena'];
const LAST = ['smith', 'mueller', 'garcia', 'rossi', 'tanaka', 'novak', 'dubois', 'silva', 'kowalski', 'jensen'];

/** A verdict as the engine would have found it for `address` at `host`. */
function verdictFor(address: string, host: string, r: number): VerifiedVerdict['verdict'] {
  if (r < 0.6) return verdict('accepted', { mxHost: host, smtpCode: 250, enhancedCode: '2.1.5', smtpReply: '250 2.1.5 Ok', catchAll: false });
  if (r < 0.85) return verdict('mailbox_not_found', { mxHost: host, smtpCode: 550, enhancedCode: '5.1.1', smtpReply: `550 5.1.1 <${address}>: Recipient address rejected: User unknown in virtual mailbox table`, catchAll: false });
  if (r < 0.95) return verdict('catch_all', { mxHost: host, smtpCode: 250, enhancedCode: '2.1.5', smtpReply: '250 2.1.5 Recipient OK', catchAll: true });
  return verdict('mailbox_disabled', { mxHost: host, smtpCode: 550, enhancedCode: '5.2.1', smtpReply: '550 5.2.1 The email account that you tried to reach is disabled.', catchAll: false });
}

function num(x: number, digits = 0): string {
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
    const memory = async () => Promise.all(servers.map(async (s) => usedMemory(await s.info('memory'))));
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const random = seededRandom(42);
    const before = await memory();
    const now = Date.now();
    let bytesAddresses = 0;
    let bytesData = 0;
    for (let start = 0; start < n; start += 5000) {
      const chunk: VerifiedVerdict[] = [];
      for (let i = start; i < Math.min(n, start + 5000); i++) {
        const domain = `${LAST[i % LAST.length]}-${Math.floor(random() * 20000)}.example.com`;
        const address = `${FIRST[Math.floor(random() * FIRST.length)]}.${LAST[Math.floor(random() * LAST.length)]}${i}@${domain}`;
        const item = { address, verdict: verdictFor(address, `mx1.${domain}`, random()), verifiedAt: now - Math.floor(random() * 86_400_000) };
        bytesAddresses += address.length;
        // The address (hash field and sorted-set member), the stored verdict, the time (a double).
        bytesData += 2 * Buffer.byteLength(address) + Buffer.byteLength(encodeVerdict(item.verdict, item.verifiedAt)) + 8;
        chunk.push(item);
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
    const perAddress = usage / kept;
    const ok = kept === n && perAddress <= BUDGET;
    process.stdout.write(
      [
        machineLine(),
        `bench:verdict-cache — ${num(kept)} addresses kept in ${shards} shards on ${servers.length} Redis server(s) (mean address ${num(bytesAddresses / n, 1)} chars; 60% accepted, 25% mailbox_not_found with the Postfix reply naming the address, 10% catch_all, 5% mailbox_disabled)`,
        `  MEMORY USAGE of the shard keys: ${num(usage)} bytes = ${num(perAddress, 1)} bytes per address (encodings: verdicts ${encodings[0]}, times ${encodings[1]})`,
        `  the data itself: ${num(bytesData / kept, 1)} bytes per address (address twice, stored verdict, time) → Redis overhead ×${num(usage / bytesData, 2)}`,
        `  INFO used_memory grew by ${num(sum(after) - sum(before))} bytes = ${num((sum(after) - sum(before)) / kept, 1)} bytes per address (exact only on a Redis nobody else uses)${servers.length > 1 ? `; per master: ${after.map((a, i) => `${num((a - before[i]!) / 2 ** 20, 1)} MiB`).join(' / ')}` : ''}`,
        `  → 1,000,000 addresses ≈ ${num((perAddress * 1e6) / 2 ** 20)} MiB`,
        verdictLine(ok, `${num(perAddress, 1)} bytes per address kept (target ≤ ${BUDGET}); ${num(kept)} of ${num(n)} kept`),
        '',
      ].join('\n'),
    );
    return ok ? 0 : 1;
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
