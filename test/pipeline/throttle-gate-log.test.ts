/**
 * The pipeline's throttle gate says what hosts told it, one structured line per throttle signal (issue 9:
 * "one per throttle signal (rate-limited, circuit opened/closed) … with MX host"), against the real Redis.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createRedis } from '../../src/redis/connect.js';
import { createThrottleGate } from '../../src/pipeline/throttle-gate.js';
import { dropKeys, testPrefix } from './helpers.js';

const prefix = testPrefix();
const cfg = loadConfig({ REDIS_URL: process.env.REDIS_URL, LISTWASH_QUEUE_PREFIX: prefix, LISTWASH_HELO_NAME: 'probe.listwash.test', LISTWASH_MAIL_FROM: 'probe@listwash.test' });
const redis = createRedis(cfg);

afterAll(async () => {
  redis.disconnect();
  await dropKeys(cfg.redisUrl, prefix);
});

async function gateWithLines() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const gate = await createThrottleGate(cfg, redis, 'test-worker', { log });
  return { gate, lines };
}

describe('throttle signals in the worker log', () => {
  it('logs a rate limit with the host, its group, the identity and the new limits', async () => {
    const { gate, lines } = await gateWithLines();
    await gate.report('mx1.slow.test', 'rate_limited');
    await gate.close();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, msg: 'throttle: rate limited by the host', mxHost: 'mx1.slow.test', identity: 'default', halved: true });
    expect(lines[0]!.group).toEqual(expect.stringContaining('mx1.slow.test'));
    const cooldownUntil = Date.parse(lines[0]!.cooldownUntil as string);
    expect(cooldownUntil).toBeGreaterThan(Date.now());
    expect(cooldownUntil).toBeLessThanOrEqual(Date.now() + cfg.mxCooldownMs);
  });

  it('logs a circuit opened by a permanent refusal with the deciding reply and when it closes', async () => {
    const { gate, lines } = await gateWithLines();
    const reply = '554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.dnsbl.test';
    await gate.report('mx1.strict.test', 'blocked', { refusal: { mxHost: 'mx1.strict.test', reply } });
    await gate.close();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'throttle: circuit opened (ban signs)', mxHost: 'mx1.strict.test', permanent: true, reply });
    const until = Date.parse(lines[0]!.until as string);
    expect(until).toBeGreaterThan(Date.now());
    expect(until).toBeLessThan(Date.now() + 24 * 3600_000);
  });

  it('says nothing for a good session that changes no limit, and nothing for a refused connection without an earlier good one', async () => {
    const { gate, lines } = await gateWithLines();
    await gate.report('mx1.quiet.test', 'ok');
    await gate.report('mx1.down.test', 'connect_failed');
    await gate.close();
    expect(lines).toEqual([]);
  });

  it('opens the circuit, and says so, when connections are refused soon after a good session', async () => {
    const { gate, lines } = await gateWithLines();
    await gate.report('mx1.flaky.test', 'ok');
    await gate.report('mx1.flaky.test', 'connect_failed');
    await gate.close();
    expect(lines.map((l) => l.msg)).toEqual(['throttle: circuit opened (connections refused after a good session)']);
    expect(lines[0]).toMatchObject({ mxHost: 'mx1.flaky.test', permanent: false });
  });
});
