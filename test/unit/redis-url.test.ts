import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ErrorCodes } from '../../src/errors.js';
import { redactRedisUrl } from '../../src/redis/connect.js';
import { parseRedisUrl, RedisUrlError } from '../../src/redis/url.js';

describe('REDIS_URL', () => {
  it('names one server with redis:// and rediss://, passed on as written', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379/2')).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379/2' });
    expect(parseRedisUrl('rediss://u:p@redis.example:6380')).toEqual({ kind: 'single', url: 'rediss://u:p@redis.example:6380' });
  });

  it('names a Redis Cluster by seed nodes with redis+cluster://', () => {
    expect(parseRedisUrl('redis+cluster://127.0.0.1:7001,127.0.0.1:7002,10.0.0.3')).toEqual({
      kind: 'cluster',
      tls: false,
      seeds: [
        { host: '127.0.0.1', port: 7001 },
        { host: '127.0.0.1', port: 7002 },
        { host: '10.0.0.3', port: 6379 },
      ],
    });
  });

  it('takes TLS, a user and a password (percent-decoded), IPv6 seeds and database 0', () => {
    expect(parseRedisUrl('rediss+cluster://app:p%40ss@[::1]:7001,node-2.example:7002/0')).toEqual({
      kind: 'cluster',
      tls: true,
      username: 'app',
      password: 'p@ss',
      seeds: [
        { host: '::1', port: 7001 },
        { host: 'node-2.example', port: 7002 },
      ],
    });
    expect(parseRedisUrl('redis+cluster://:secret@h:1')).toMatchObject({ password: 'secret' });
    expect(parseRedisUrl('redis+cluster://secret@h:1')).not.toHaveProperty('password');
  });

  it.each([
    ['http://x', /must start with redis:\/\/, rediss:\/\/, redis\+cluster:\/\/, rediss\+cluster:\/\//],
    ['redis+cluster://', /expected redis\+cluster:\/\//],
    ['redis+cluster://h:1,,h:2', /not host:port: ""/],
    ['redis+cluster://h:99999', /not host:port/],
    ['redis+cluster://h:1/3', /only database 0, not 3/],
    ['redis+cluster://u:%zz@h:1', /percent-encoding/],
  ])('refuses %s, saying why', (url, why) => {
    expect(() => parseRedisUrl(url)).toThrow(RedisUrlError);
    expect(() => parseRedisUrl(url)).toThrow(why);
  });

  it('is checked with the other settings: a bad one is CONFIG_INVALID naming REDIS_URL', () => {
    expect(loadConfig({ REDIS_URL: 'redis+cluster://a:1,b:2' }).redisUrl).toBe('redis+cluster://a:1,b:2');
    expect(() => loadConfig({ REDIS_URL: 'redis+cluster://h:1/3' })).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG_INVALID, message: expect.stringContaining('REDIS_URL: a Redis Cluster has only database 0') }));
  });

  it('on a cluster, requires a hash tag in LISTWASH_QUEUE_PREFIX (BullMQ keeps each queue in one slot)', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis+cluster://a:1', LISTWASH_QUEUE_PREFIX: 'listwash' })).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG_INVALID, message: expect.stringContaining('LISTWASH_QUEUE_PREFIX: must hold a {…} hash tag') }));
    expect(loadConfig({ REDIS_URL: 'redis+cluster://a:1', LISTWASH_QUEUE_PREFIX: '{lw}' }).queuePrefix).toBe('{lw}');
    expect(loadConfig({ REDIS_URL: 'redis://a:1', LISTWASH_QUEUE_PREFIX: 'listwash' }).queuePrefix).toBe('listwash');
  });

  it('is shown without its password', () => {
    expect(redactRedisUrl('redis+cluster://app:secret@h:1,h:2')).toBe('redis+cluster://app:***@h:1,h:2');
  });
});
