/**
 * `GET /metrics` over real HTTP after a list ran end to end: strict Prometheus text, and the fleet's
 * figures as Redis holds them (lists by phase and ended, queue depths, verdicts, report rows, SMTP
 * sessions and RCPTs, throttle figures per group, webhook deliveries), whichever process did the work.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topGroups } from '../../src/api/fleet-snapshot.js';
import { COUNTER_NAMES, type ThrottleCounters } from '../../src/throttle/index.js';
import { waitFor } from '../pipeline/helpers.js';
import { SMALL_WORLD, startApiFixture, type ApiFixture } from './fixture.js';
import { parsePrometheusText, sampleValue, type PromSample } from './prom-text.js';

let f: ApiFixture;
let samples: PromSample[];

let receiver: Server;
let callbacks = 0;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    callbacks++;
    req.resume();
    res.writeHead(204).end();
  }).listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  f = await startApiFixture({
    world: SMALL_WORLD,
    workers: true,
    env: { LISTWASH_WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`, LISTWASH_WEBHOOK_ALLOWED_TARGETS: 'loopback' },
  });
  await writeFile(join(f.root, 'm.csv'), 'email\nbob@acme.test\nalice@acme.test\nnobody@acme.test\nx@gone.test\nbroken\nbob@acme.test\n');
  const alice = f.client('alice');
  const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  await alice.createList({ input: pathToFileURL(join(f.root, 'm.csv')).href, id: 'metered', callbackUrl });
  await alice.waitForList('metered', { pollMs: 100, timeoutMs: 60_000 });
  await waitFor(() => callbacks === 1, 30_000, 'the webhook');
  await waitFor(async () => ((await alice.getList('metered')).webhook ?? []).some((a) => JSON.stringify(a).includes('delivered')), 10_000, 'the delivery to be recorded');
  // A second list that stays queued (no split worker picks it up once the workers are gone).
  await f.workers!.close();
  await alice.createList({ input: pathToFileURL(join(f.root, 'm.csv')).href, id: 'waiting' });
  const res = await f.http('/metrics', { key: 'admin' });
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  samples = parsePrometheusText(await res.text());
});
afterAll(async () => {
  await f?.close();
  receiver?.close();
});

describe('GET /metrics', () => {
  it('is strict Prometheus text', () => {
    expect(samples.length).toBeGreaterThan(20);
    expect(() => parsePrometheusText('listwash_x 1\n')).toThrow(/before its TYPE/);
    expect(() => parsePrometheusText('# TYPE a counter\na{b="c} 1\n')).toThrow(/bad label set/);
  });

  it('counts lists at work by phase and lists ended by state', () => {
    expect(sampleValue(samples, 'listwash_lists', { state: 'queued' })).toBe(1);
    expect(sampleValue(samples, 'listwash_lists', { state: 'probing' })).toBe(0);
    expect(sampleValue(samples, 'listwash_lists_ended_total', { state: 'done' })).toBe(1);
    expect(sampleValue(samples, 'listwash_lists_ended_total', { state: 'failed' })).toBe(0);
  });

  it('shows the queue depths', () => {
    expect(sampleValue(samples, 'listwash_queue_jobs', { queue: 'lw-split', state: 'waiting' })).toBe(1);
    for (const queue of ['lw-split', 'lw-probe', 'lw-aggregate', 'lw-webhook']) expect(sampleValue(samples, 'listwash_queue_jobs', { queue, state: 'active' })).toBe(0);
  });

  it('counts verdicts of the probe stage and report rows by status', () => {
    expect(sampleValue(samples, 'listwash_verdicts_total', { status: 'deliverable', reason: 'accepted' })).toBe(2);
    expect(sampleValue(samples, 'listwash_verdicts_total', { status: 'undeliverable', reason: 'mailbox_not_found' })).toBe(1);
    expect(sampleValue(samples, 'listwash_verdicts_total', { status: 'undeliverable', reason: 'no_domain' })).toBe(1);
    expect(sampleValue(samples, 'listwash_report_rows_total', { status: 'deliverable' })).toBe(3);
    expect(sampleValue(samples, 'listwash_report_rows_total', { status: 'undeliverable' })).toBe(3);
  });

  it('counts SMTP sessions and RCPTs as the simulated host saw them, and the throttle per group', () => {
    const host = f.world!.host('mx.acme.test').stats;
    expect(sampleValue(samples, 'listwash_smtp_rcpts_total')).toBe(host.rcptCount);
    expect(sampleValue(samples, 'listwash_smtp_sessions_total')).toBe(host.connections);
    expect(sampleValue(samples, 'listwash_smtp_replies_total', { class: '5xx' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, 'listwash_throttle_sessions_total', { group: 'mx.acme.test' })).toBe(host.connections);
    expect(sampleValue(samples, 'listwash_throttle_rcpts_total', { group: 'mx.acme.test' })).toBe(host.rcptCount);
    expect(sampleValue(samples, 'listwash_throttle_waits_total', { group: 'mx.acme.test', kind: 'busy' })).toBeDefined();
    expect(sampleValue(samples, 'listwash_throttle_signals_total', { group: 'mx.acme.test', signal: 'success' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, 'listwash_webhook_deliveries_total', { outcome: 'delivered' })).toBe(1);
    expect(sampleValue(samples, 'listwash_webhook_deliveries_total', { outcome: 'failed' })).toBe(0);
  });

  it('counts the requests this API process answered, by route pattern', () => {
    expect(sampleValue(samples, 'listwash_http_requests_total', { method: 'GET', route: '/v1/lists/:id', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, 'listwash_http_requests_total', { method: 'POST', route: '/v1/lists', status: '202' })).toBe(2);
  });
});

describe('throttle groups in metrics', () => {
  it('reports the busiest groups one by one and sums the rest as _other', () => {
    const counters = (acquired: number): ThrottleCounters => ({ ...(Object.fromEntries(COUNTER_NAMES.map((c) => [c, 1])) as ThrottleCounters), acquired });
    const groups = [5, 50, 1, 20].map((n, i) => ({ group: `g${i}`, counters: counters(n) }));
    const top = topGroups(groups, 2);
    expect(top.map((g) => g.group)).toEqual(['g1', 'g3', '_other']);
    expect(top[2]!.counters).toMatchObject({ acquired: 6, rcptTaken: 2 });
    expect(topGroups(groups, 10)).toBe(groups);
  });
});
