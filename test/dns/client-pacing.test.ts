/**
 * The stub DNS client keeps at most `maxInFlight` queries on the wire, whatever the number of callers: a burst
 * of UDP datagrams larger than a resolver's receive buffer is partly dropped, and those queries would time out
 * (a domain read as `temporary_failure` for nothing). Against a UDP server on loopback that answers each query
 * a little later and counts how many it holds at once.
 */
import { createSocket, type Socket } from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsClient, MAX_IN_FLIGHT } from '../../src/dns/client.js';
import { parseDnsServer } from '../../src/dns/servers.js';

let server: Socket;
let port = 0;
let holding = 0;
let mostHeld = 0;
const asked: string[] = [];

beforeAll(async () => {
  server = createSocket('udp4');
  server.on('message', (msg, from) => {
    const q = dnsPacket.decode(msg);
    asked.push(q.questions?.[0]?.name ?? '');
    mostHeld = Math.max(mostHeld, ++holding);
    setTimeout(() => {
      holding--;
      const answer = dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.AUTHORITATIVE_ANSWER | 3 /* NXDOMAIN */, questions: q.questions });
      server.send(answer, from.port, from.address);
    }, 10);
  });
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  port = server.address().port;
});

afterAll(() => server.close());

describe('the DNS client under many callers at once', () => {
  it(`keeps at most ${MAX_IN_FLIGHT} queries in flight by default; every caller gets its answer, each name asked once`, async () => {
    const client = new DnsClient({ servers: [parseDnsServer(`127.0.0.1:${port}`)], timeoutMs: 2000, tries: 1 });
    const names = Array.from({ length: 3 * MAX_IN_FLIGHT }, (_, i) => `d${i}.example.test`);
    mostHeld = 0;
    asked.length = 0;
    const answers = await Promise.all(names.map((n) => client.query(n, 'MX')));
    client.close();
    expect(answers.map((a) => a.rcode)).toEqual(names.map(() => 'NXDOMAIN'));
    expect(asked.sort()).toEqual([...names].sort());
    expect(mostHeld).toBe(MAX_IN_FLIGHT);
  });

  it('takes its limit from maxInFlight', async () => {
    const client = new DnsClient({ servers: [parseDnsServer(`127.0.0.1:${port}`)], timeoutMs: 2000, tries: 1, maxInFlight: 7 });
    mostHeld = 0;
    await Promise.all(Array.from({ length: 50 }, (_, i) => client.query(`m${i}.example.test`, 'MX')));
    client.close();
    expect(mostHeld).toBe(7);
  });
});
