/**
 * The pure pieces of webhooks: Standard Webhooks signatures (checked with the `standardwebhooks`
 * library), secrets, the body and its stable id, the retry schedule, the attempt record.
 */
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ErrorCodes, ListwashError } from '../../src/errors.js';
import { KEPT_ATTEMPTS, MAX_RETRY_DELAY_MS, nextAttemptAt, parseAttempts, parseWebhookSecrets, retryDelayMs, signedHeaders, webhookBody, webhookMessageId, withAttempt, type WebhookAttempt } from '../../src/webhooks/index.js';
import { newSecret } from './receiver.js';

const keyOf = (secret: string) => parseWebhookSecrets([secret]);

describe('webhook signatures', () => {
  it('verify with the standardwebhooks library', () => {
    const secret = newSecret();
    const body = JSON.stringify({ id: 'l1', state: 'done' });
    const headers = signedHeaders(keyOf(secret), 'lw_l1_1_done', Math.floor(Date.now() / 1000), body);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual({ id: 'l1', state: 'done' });
  });

  it('do not verify for another body, id, timestamp or secret', () => {
    const secret = newSecret();
    const now = Math.floor(Date.now() / 1000);
    const headers = signedHeaders(keyOf(secret), 'lw_l1_1_done', now, '{"a":1}');
    expect(() => new Webhook(secret).verify('{"a":2}', { ...headers })).toThrow();
    expect(() => new Webhook(secret).verify('{"a":1}', { ...headers, 'webhook-id': 'lw_l1_1_failed' })).toThrow();
    expect(() => new Webhook(secret).verify('{"a":1}', { ...headers, 'webhook-timestamp': String(now + 1) })).toThrow();
    expect(() => new Webhook(newSecret()).verify('{"a":1}', { ...headers })).toThrow();
  });

  it('carry one signature per secret while secrets rotate: receivers holding either one verify', () => {
    const [oldSecret, newer] = [newSecret(), newSecret()];
    const headers = signedHeaders(parseWebhookSecrets([newer, oldSecret]), 'id1', Math.floor(Date.now() / 1000), '{}');
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(oldSecret).verify('{}', { ...headers })).toEqual({});
    expect(new Webhook(newer).verify('{}', { ...headers })).toEqual({});
  });
});

describe('LISTWASH_WEBHOOK_SECRET', () => {
  const refusal = (value: string): ListwashError => {
    try {
      loadConfig({ LISTWASH_WEBHOOK_SECRET: value });
    } catch (err) {
      if (err instanceof ListwashError) return err;
      throw err;
    }
    throw new Error('accepted');
  };

  it.each([
    ['without the whsec_ prefix', 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0'],
    ['not base64', 'whsec_not*base64!hunter2hunter2hunter2hunter2'],
    ['too short a key', `whsec_${Buffer.from('hunter2').toString('base64')}`],
  ])('is refused at start %s, and the message never shows it', (_, value) => {
    const err = refusal(value);
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.message).toContain('LISTWASH_WEBHOOK_SECRET');
    expect(err.message).not.toContain(value.slice(6, 20));
    expect(JSON.stringify(err.details)).not.toContain(value.slice(6, 20));
  });

  it('takes several comma-separated secrets, and names the bad one by position', () => {
    expect(loadConfig({ LISTWASH_WEBHOOK_SECRET: `${newSecret()},${newSecret()}` }).webhookSecret).toHaveLength(2);
    expect(refusal(`${newSecret()},whsec_AAAA`).message).toContain('secret 2 of 2');
  });

  it('LISTWASH_WEBHOOK_ALLOWED_TARGETS has the syntax of LISTWASH_ALLOWED_TARGETS, checked at start', () => {
    expect(loadConfig({}).webhookAllowedTargets).toEqual(['public']);
    expect(loadConfig({ LISTWASH_WEBHOOK_ALLOWED_TARGETS: 'loopback,10.0.0.0/8' }).webhookAllowedTargets).toEqual(['loopback', '10.0.0.0/8']);
    try {
      loadConfig({ LISTWASH_WEBHOOK_ALLOWED_TARGETS: 'everywhere' });
      expect.unreachable();
    } catch (err) {
      expect((err as ListwashError).code).toBe(ErrorCodes.CONFIG_INVALID);
      expect((err as ListwashError).message).toMatch(/^LISTWASH_WEBHOOK_ALLOWED_TARGETS: /);
    }
  });
});

describe('the webhook body and id', () => {
  const view = { id: 'l1', counts: { byStatus: { deliverable: 2 }, byReason: { accepted: 2 }, byBounceRisk: { low: 2 } }, output: 's3://b/out/', error: null };

  it('is { id, state, counts, files, output } for a finished list', () => {
    const files = [{ name: 'report.csv', size: 10, url: 'https://s3/x' }];
    expect(webhookBody(view, 'done', files)).toEqual({ id: 'l1', state: 'done', counts: view.counts, files, output: 's3://b/out/' });
  });

  it('carries the error of a failed list', () => {
    const error = { code: 'CSV_NO_EMAIL_COLUMN', message: 'no email column' };
    expect(webhookBody({ ...view, error }, 'failed', [])).toMatchObject({ state: 'failed', error });
  });

  it('has an id stable per list, end and submission', () => {
    expect(webhookMessageId('l1', '1700000000000', 'done')).toBe(webhookMessageId('l1', '1700000000000', 'done'));
    const ids = new Set([webhookMessageId('l1', '1', 'done'), webhookMessageId('l1', '1', 'failed'), webhookMessageId('l1', '2', 'done'), webhookMessageId('l2', '1', 'done')]);
    expect(ids.size).toBe(4);
  });
});

describe('the retry schedule', () => {
  it('doubles the wait from the first retry delay, up to an hour', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 5000))).toEqual([5000, 10_000, 20_000, 40_000]);
    expect(retryDelayMs(30, 5000)).toBe(MAX_RETRY_DELAY_MS);
    expect(retryDelayMs(1000, 5000)).toBe(MAX_RETRY_DELAY_MS);
  });

  it('stops when the next attempt would start after the retry window', () => {
    const s = { webhookRetryDelayMs: 1000, webhookRetryWindowSec: 10 };
    expect(nextAttemptAt(1, 0, 0, s)).toBe(1000);
    expect(nextAttemptAt(4, 0, 2000, s)).toBe(10_000);
    expect(nextAttemptAt(4, 0, 2001, s)).toBeNull();
    expect(nextAttemptAt(1, 0, 0, { ...s, webhookRetryWindowSec: 0 })).toBeNull();
  });
});

describe('the attempt record', () => {
  const attempt = (n: number): WebhookAttempt => ({ attempt: n, at: n, state: 'done', status: 500, error: null, durationMs: 1, outcome: 'retrying', nextAttemptAt: null });

  it(`keeps the newest ${KEPT_ATTEMPTS} attempts, oldest first`, () => {
    let record: WebhookAttempt[] = [];
    for (let n = 1; n <= KEPT_ATTEMPTS + 5; n++) record = withAttempt(record, attempt(n));
    expect(record).toHaveLength(KEPT_ATTEMPTS);
    expect(record[0]!.attempt).toBe(6);
    expect(record.at(-1)!.attempt).toBe(KEPT_ATTEMPTS + 5);
  });

  it('reads an absent or unreadable record as none', () => {
    expect(parseAttempts(undefined)).toEqual([]);
    expect(parseAttempts('{"not":"an array"}')).toEqual([]);
    expect(parseAttempts('nonsense')).toEqual([]);
    expect(parseAttempts(JSON.stringify([attempt(1)]))).toEqual([attempt(1)]);
  });
});
