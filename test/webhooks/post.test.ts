/**
 * One webhook POST over real HTTP on loopback, and its SSRF guard: the address checked is the address
 * connected to; literal IP hosts are checked before any connection; redirects are not followed; a
 * receiver that does not answer times out. Refused targets are loopback receivers run by the test and
 * allowed-list policies that exclude loopback: a guard that failed would reach the receiver, and the
 * test would see it.
 */
import { connect } from 'node:net';
import { createServer, type Server } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, ListwashError } from '../../src/errors.js';
import { TargetPolicy } from '../../src/net/targets.js';
import { postJson, type PostOptions } from '../../src/webhooks/post.js';
import { guardSocket, type ResolveAll } from '../../src/webhooks/target-guard.js';
import { rejection } from '../helpers/rejection.js';
import { waitFor } from '../pipeline/helpers.js';
import { HookReceiver } from './receiver.js';

const PUBLIC = new TargetPolicy(['public']);
const LOOPBACK = new TargetPolicy(['loopback']);

/** A resolver answering every name with these addresses (in this order). */
const resolvingTo = (...addresses: string[]): ResolveAll => (_host, _opts, cb) => cb(null, addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));

const opts = (policy: TargetPolicy, extra: Partial<PostOptions> = {}): PostOptions => ({ policy, timeoutMs: 2000, headers: { 'webhook-id': 'x' }, ...extra });

let rx: HookReceiver;

beforeAll(async () => {
  rx = await HookReceiver.start();
});

afterAll(async () => {
  await rx?.close();
});

afterEach(() => {
  rx.received.length = 0;
});

describe('a webhook POST', () => {
  it('sends the JSON body with its headers and resolves with the status', async () => {
    const r = await postJson(rx.url('/a?token=t'), '{"id":"l1"}', opts(LOOPBACK));
    expect(r.status).toBe(200);
    expect(rx.received).toHaveLength(1);
    expect(rx.received[0]).toMatchObject({ path: '/a?token=t', body: '{"id":"l1"}' });
    expect(rx.received[0]!.headers).toMatchObject({ 'content-type': 'application/json', 'webhook-id': 'x' });
  });

  it('connects to an allowed address of a name (names resolving to several: only allowed ones are used)', async () => {
    const r = await postJson(`http://hooks.test:${rx.port}/b`, '{}', opts(LOOPBACK, { resolveAll: resolvingTo('10.1.2.3', '127.0.0.1') }));
    expect(r.status).toBe(200);
    expect(rx.received.map((h) => h.path)).toEqual(['/b']);
  });

  it('refuses a name that resolves to loopback under the default policy, without connecting', async () => {
    const err = await rejection(postJson(`http://hooks.test:${rx.port}/c`, '{}', opts(PUBLIC, { resolveAll: resolvingTo('127.0.0.1') })));
    expect(err.code).toBe(ErrorCodes.WEBHOOK_TARGET_NOT_ALLOWED);
    expect(err.message).toContain('127.0.0.1');
    expect(rx.received).toEqual([]);
  });

  it('refuses localhost under the default policy (the system resolver)', async () => {
    const err = await rejection(postJson(`http://localhost:${rx.port}/d`, '{}', opts(PUBLIC)));
    expect(err.code).toBe(ErrorCodes.WEBHOOK_TARGET_NOT_ALLOWED);
    expect(rx.received).toEqual([]);
  });

  it.each([
    ['an IPv4 loopback literal', (port: number) => `http://127.0.0.1:${port}/e`],
    ['an IPv6 loopback literal', (port: number) => `http://[::1]:${port}/e`],
    ['an IPv4-mapped IPv6 literal', (port: number) => `http://[::ffff:127.0.0.1]:${port}/e`],
  ])('refuses %s under the default policy before connecting', async (_, url) => {
    const err = await rejection(postJson(url(rx.port), '{}', opts(PUBLIC)));
    expect(err.code).toBe(ErrorCodes.WEBHOOK_TARGET_NOT_ALLOWED);
    expect(rx.received).toEqual([]);
  });

  it('refuses metadata and private addresses named by a resolver (checked without traffic: the policy refuses them all)', async () => {
    for (const ip of ['169.254.169.254', '10.0.0.5', '192.168.1.1', 'fd00:ec2::254', '100.100.100.200']) {
      const err = await rejection(postJson('http://metadata.test/latest', '{}', opts(PUBLIC, { resolveAll: resolvingTo(ip) })));
      expect(err.code, ip).toBe(ErrorCodes.WEBHOOK_TARGET_NOT_ALLOWED);
    }
  });

  it('does not follow a redirect: the status is the answer', async () => {
    const redirecting = await HookReceiver.start([302]);
    try {
      const r = await postJson(redirecting.url('/f'), '{}', opts(LOOPBACK));
      expect(r.status).toBe(302);
      expect(redirecting.received.map((h) => h.path)).toEqual(['/f']);
    } finally {
      await redirecting.close();
    }
  });

  it('times out when the receiver does not answer', async () => {
    const silent = await HookReceiver.start([], 'hang');
    try {
      const err = await rejection(postJson(silent.url('/g?token=secret-token'), '{}', opts(LOOPBACK, { timeoutMs: 300 })));
      expect(err.code).toBe(ErrorCodes.WEBHOOK_TIMEOUT);
      expect(err.message).not.toContain('secret-token');
    } finally {
      await silent.close();
    }
  });

  it('fails with WEBHOOK_DELIVERY when nothing listens, naming the origin only', async () => {
    const closed = await HookReceiver.start();
    const url = closed.url('/h?token=secret-token');
    await closed.close();
    const err = await rejection(postJson(url, '{}', opts(LOOPBACK)));
    expect(err.code).toBe(ErrorCodes.WEBHOOK_DELIVERY);
    expect(err.message).toContain(`http://127.0.0.1:${closed.port}`);
    expect(err.message).not.toContain('secret-token');
  });
});

describe('the socket guard', () => {
  let server: Server;
  const bytes: number[] = [];

  beforeAll(async () => {
    server = createServer((s) => {
      let n = 0;
      s.on('data', (b) => (n += b.length));
      s.on('close', () => bytes.push(n));
      s.on('error', () => s.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('destroys a socket connected to a refused address before anything is written', async () => {
    const port = (server.address() as { port: number }).port;
    const socket = connect(port, '127.0.0.1');
    let refused: ListwashError | null = null;
    guardSocket(socket, PUBLIC, '127.0.0.1', (err) => (refused = err));
    socket.write('POST / HTTP/1.1\r\n\r\n');
    socket.on('error', () => undefined);
    await waitFor(() => socket.destroyed && bytes.length === 1, 5000, 'the guarded socket to close');
    expect(refused).toBeInstanceOf(ListwashError);
    expect(bytes).toEqual([0]);
  });
});
