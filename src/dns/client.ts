/**
 * A small stub DNS client over UDP with TCP fallback on truncation, built on `dns-packet`.
 * We do not use `node:dns`: it hides MX TTLs and folds rcodes together, and both matter here
 * (cache by TTL; tell NXDOMAIN from SERVFAIL — a slow DNS must never make an address "invalid").
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as tcpConnect } from 'node:net';
import { randomInt } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import type { DnsEndpoint } from './servers.js';

/** The record types listwash asks for: mail routes (MX, A, AAAA) and the doctor's PTR and TXT (SPF, DNSBL reasons). */
export type QueryType = 'MX' | 'A' | 'AAAA' | 'PTR' | 'TXT';

export interface DnsRecord {
  type: string;
  name: string;
  ttl: number;
  data: unknown;
}

/** The outcome of one query. `timeout` means no server answered within the tries. */
export interface DnsResponse {
  rcode: string;
  answers: DnsRecord[];
  /** SOA minimum / TTL from the authority section (negative caching, RFC 2308), if any. */
  negativeTtl: number | null;
}

export class DnsTimeoutError extends Error {
  constructor(name: string, type: string) {
    super(`DNS ${type} ${name}: no answer (timeout)`);
    this.name = 'DnsTimeoutError';
  }
}

export interface DnsClientOptions {
  servers: DnsEndpoint[];
  /** Per-attempt timeout in ms. Default 3000. */
  timeoutMs?: number;
  /** Attempts, rotating over the servers. Default 2. */
  tries?: number;
  /** Queries awaiting an answer at once, at most; the others wait their turn. Default {@link MAX_IN_FLIGHT}. */
  maxInFlight?: number;
}

/**
 * Queries in flight at once by default. A burst of UDP datagrams larger than a resolver's receive buffer
 * (about 256 small ones with Linux's default 208 KiB) is partly dropped: those queries time out, and their
 * retries, sent in a burst again, can be dropped too — a domain then reads as `temporary_failure` for nothing.
 */
export const MAX_IN_FLIGHT = 100;

interface Pending {
  resolve(res: dnsPacket.DecodedPacket): void;
  timer: NodeJS.Timeout;
}

/**
 * Stub resolver client. One UDP socket per address family, shared by all queries; responses are
 * matched by id and question. Any number of callers may ask at once: at most `maxInFlight` queries are
 * on the wire, the others wait in order.
 */
export class DnsClient {
  private readonly servers: DnsEndpoint[];
  private readonly timeoutMs: number;
  private readonly tries: number;
  private readonly sockets = new Map<4 | 6, UdpSocket>();
  private readonly pending = new Map<number, Pending>();
  private rr = 0;
  private readonly maxInFlight: number;
  private inFlight = 0;
  private readonly turns: (() => void)[] = [];

  constructor(opts: DnsClientOptions) {
    this.servers = opts.servers;
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.tries = opts.tries ?? 2;
    this.maxInFlight = opts.maxInFlight ?? MAX_IN_FLIGHT;
  }

  /**
   * Ask the servers in turn. A timeout, SERVFAIL or REFUSED moves on to the next attempt; the last
   * such answer is returned when the tries run out, and a timeout error when nobody answered at all.
   */
  async query(name: string, type: QueryType): Promise<DnsResponse> {
    // A query that ends hands its place to the first one waiting.
    if (this.inFlight < this.maxInFlight) this.inFlight++;
    else await new Promise<void>((resolve) => this.turns.push(resolve));
    try {
      return await this.attempts(name, type);
    } finally {
      const next = this.turns.shift();
      if (next) next();
      else this.inFlight--;
    }
  }

  private async attempts(name: string, type: QueryType): Promise<DnsResponse> {
    let lastFailure: DnsResponse | null = null;
    for (let attempt = 0; attempt < this.tries; attempt++) {
      const server = this.servers[(this.rr++ + attempt) % this.servers.length] as DnsEndpoint;
      let packet = await this.queryUdp(server, name, type);
      if (packet?.flag_tc) packet = await this.queryTcp(server, name, type);
      if (!packet) continue;
      const res = toResponse(packet);
      if (res.rcode === 'SERVFAIL' || res.rcode === 'REFUSED') {
        lastFailure = res;
        continue;
      }
      return res;
    }
    if (lastFailure) return lastFailure;
    throw new DnsTimeoutError(name, type);
  }

  close(): void {
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }

  private socket(family: 4 | 6): UdpSocket {
    let s = this.sockets.get(family);
    if (!s) {
      s = createSocket(family === 4 ? 'udp4' : 'udp6');
      s.on('message', (msg) => this.onMessage(msg));
      // A UDP socket error (e.g. ICMP unreachable surfaced by the OS) affects one query at most;
      // the query's own timeout reports it, so the error is recorded there, not here.
      s.on('error', () => undefined);
      s.unref();
      this.sockets.set(family, s);
    }
    return s;
  }

  private onMessage(msg: Buffer): void {
    let packet: dnsPacket.DecodedPacket;
    try {
      packet = dnsPacket.decode(msg);
    } catch {
      return; // garbage datagram: not an answer to anything we asked; the query times out.
    }
    const id = packet.id ?? -1;
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(packet);
  }

  private nextId(): number {
    for (;;) {
      const id = randomInt(0, 65536);
      if (!this.pending.has(id)) return id;
    }
  }

  private queryUdp(server: DnsEndpoint, name: string, type: QueryType): Promise<dnsPacket.DecodedPacket | null> {
    return new Promise((resolve) => {
      const id = this.nextId();
      const buf = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(null);
      }, this.timeoutMs);
      this.pending.set(id, {
        timer,
        resolve: (packet) => {
          const q = packet.questions?.[0];
          // Only accept an answer to the question we asked (cheap spoofing/mix-up guard).
          if (q && (q.name.toLowerCase() !== name.toLowerCase() || q.type !== type)) resolve(null);
          else resolve(packet);
        },
      });
      this.socket(server.family).send(buf, server.port, server.host, (err) => {
        if (err) {
          clearTimeout(timer);
          this.pending.delete(id);
          resolve(null);
        }
      });
    });
  }

  private queryTcp(server: DnsEndpoint, name: string, type: QueryType): Promise<dnsPacket.DecodedPacket | null> {
    return new Promise((resolve) => {
      const sock = tcpConnect({ host: server.host, port: server.port });
      const chunks: Buffer[] = [];
      let done = false;
      const finish = (p: dnsPacket.DecodedPacket | null) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.destroy();
        resolve(p);
      };
      const timer = setTimeout(() => finish(null), this.timeoutMs);
      sock.on('connect', () => {
        sock.write(dnsPacket.streamEncode({ type: 'query', id: this.nextId(), flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] }));
      });
      sock.on('data', (d) => {
        chunks.push(d);
        const all = Buffer.concat(chunks);
        if (all.length >= 2 && all.length >= 2 + all.readUInt16BE(0)) {
          try {
            finish(dnsPacket.decode(all.subarray(2, 2 + all.readUInt16BE(0))));
          } catch {
            finish(null);
          }
        }
      });
      sock.on('error', () => finish(null));
      sock.on('close', () => finish(null));
    });
  }
}

function toResponse(p: dnsPacket.DecodedPacket): DnsResponse {
  const rcode = (p as unknown as { rcode?: string }).rcode ?? 'NOERROR';
  const answers = (p.answers ?? []).map((a) => ({
    type: a.type,
    name: a.name,
    ttl: 'ttl' in a && typeof a.ttl === 'number' ? a.ttl : 0,
    data: 'data' in a ? a.data : undefined,
  }));
  let negativeTtl: number | null = null;
  for (const a of p.authorities ?? []) {
    if (a.type === 'SOA') {
      const min = (a.data as { minimum?: number }).minimum ?? 0;
      negativeTtl = Math.min(min, a.ttl ?? min);
    }
  }
  return { rcode, answers, negativeTtl };
}
