/** What the verdict cache keeps, for how long, and where. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ErrorCodes } from '../../src/errors.js';
import { formatDuration, isFresh, isKept, parseDuration, parseMaxAges, shardOf } from '../../src/verdict-cache/index.js';

const DAY = 86_400_000;

describe('durations', () => {
  it('read s, m, h, d, w or plain seconds', () => {
    expect([parseDuration('30d'), parseDuration('12h'), parseDuration('90m'), parseDuration('45s'), parseDuration('2w'), parseDuration('3600'), parseDuration('0'), parseDuration(' 7D ')]).toEqual([
      2_592_000, 43_200, 5400, 45, 1_209_600, 3600, 0, 604_800,
    ]);
  });

  it('refuse anything else, saying what a duration looks like', () => {
    for (const bad of ['', 'soon', '-1d', '1.5d', '30 days', '1y']) expect(() => parseDuration(bad)).toThrow(/not a duration \(e\.g\. 30d, 12h, 90m, 3600\)/);
  });

  it('print as the largest whole unit', () => {
    expect([formatDuration(2_592_000), formatDuration(5400), formatDuration(61), formatDuration(0)]).toEqual(['30d', '90m', '61s', '0']);
  });
});

describe('max age per verdict class', () => {
  it('is read from reason=duration entries; a class given 0 or not given is not kept', () => {
    const m = parseMaxAges(['accepted=30d', 'catch_all=7d', 'mailbox_full=0', 'no_domain=1d']);
    expect([...m]).toEqual([
      ['accepted', 2_592_000],
      ['catch_all', 604_800],
      ['no_domain', 86_400],
    ]);
    expect(isKept('accepted', m)).toBe(true);
    expect(isKept('mailbox_full', m)).toBe(false);
    expect(isKept('mailbox_not_found', m)).toBe(false);
  });

  it('refuses unknown verdicts (never cached), flag-only classes, unknown names, repeats and bad entries', () => {
    expect(() => parseMaxAges(['greylisted=1d'])).toThrow('greylisted is an unknown verdict: unknown verdicts are never cached');
    expect(() => parseMaxAges(['blocked=1d'])).toThrow(/never cached/);
    expect(() => parseMaxAges(['role_account=1d'])).toThrow(/not a probe result/);
    expect(() => parseMaxAges(['invalid_syntax=1d'])).toThrow(/not a probe result/);
    expect(() => parseMaxAges(['acepted=1d'])).toThrow('unknown verdict reason "acepted"');
    expect(() => parseMaxAges(['accepted=1d', 'accepted=2d'])).toThrow('accepted is given twice');
    expect(() => parseMaxAges(['accepted'])).toThrow('expected reason=duration, got "accepted"');
    expect(() => parseMaxAges(['accepted=a while'])).toThrow(/not a duration/);
  });

  it('is a setting checked at start (CONFIG_INVALID naming LISTWASH_VERDICT_CACHE_MAX_AGE), with a documented default', () => {
    expect(() => loadConfig({ LISTWASH_VERDICT_CACHE_MAX_AGE: 'timeout=1d' })).toThrow(
      expect.objectContaining({ code: ErrorCodes.CONFIG_INVALID, message: expect.stringContaining('LISTWASH_VERDICT_CACHE_MAX_AGE: timeout is an unknown verdict') }),
    );
    const m = parseMaxAges(loadConfig({}).verdictCacheMaxAge);
    expect(Object.fromEntries([...m].map(([r, s]) => [r, formatDuration(s)]))).toEqual({ accepted: '30d', mailbox_not_found: '30d', mailbox_disabled: '30d', rejected: '30d', catch_all: '7d', mailbox_full: '1d' });
  });
});

describe('freshness', () => {
  const m = parseMaxAges(['accepted=30d', 'catch_all=7d']);
  const now = Date.UTC(2026, 11, 1);

  it('a kept verdict answers while younger than its class max age', () => {
    expect(isFresh('accepted', now - 29 * DAY, now, m)).toBe(true);
    expect(isFresh('accepted', now - 30 * DAY, now, m)).toBe(false);
    expect(isFresh('catch_all', now - 6 * DAY, now, m)).toBe(true);
    expect(isFresh('catch_all', now - 8 * DAY, now, m)).toBe(false);
  });

  it('and younger than the list’s maxAge; 0 takes nothing', () => {
    expect(isFresh('accepted', now - 2 * 3600_000, now, m, 3600)).toBe(false);
    expect(isFresh('accepted', now - 1800_000, now, m, 3600)).toBe(true);
    expect(isFresh('accepted', now - 1, now, m, 0)).toBe(false);
    expect(isFresh('catch_all', now - 8 * DAY, now, m, 30 * 86_400)).toBe(false);
  });

  it('never for a class that is not kept, nor an unknown one', () => {
    expect(isFresh('mailbox_not_found', now, now, m)).toBe(false);
    expect(isFresh('greylisted', now, now, new Map([['greylisted', 86_400]]))).toBe(false);
  });
});

describe('shards', () => {
  it('an address always has the same shard, and addresses spread over all of them', () => {
    expect(shardOf('ann@example.com', 16)).toBe(shardOf('ann@example.com', 16));
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[shardOf(`user${i}@domain${i % 97}.example`, 16)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
    expect(shardOf('x@y', 1)).toBe(0);
  });
});
