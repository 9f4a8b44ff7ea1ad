/**
 * `SimDnsServer`: a real DNS server for tests and the demo, on a loopback address, over UDP and TCP on the
 * same port. Answers come from {@link ZoneTable} (pure); this module does only the sockets, delays and
 * counting. Loopback only: {@link SimDnsServer.start} refuses any other address.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type Server as TcpServer, type Socket as TcpSocket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import { assertLoopback, formatHostPort } from './loopback.js';
import { TRUNCATED_RESPONSE, ZoneTable, normalizeName, type SimZone, type UnknownNamePolicy } from './dns-zone.js';

export type { SimZone, UnknownNamePolicy } from './dns-zone.js';

export interface SimDnsServerOptions {
  /** Loopback address to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port for both UDP and TCP; 0 = an ephemeral port free on both. Default 0. */
  port?: number;
  /** Initial zones, by name. */
  zones?: Record<string, SimZone>;
  /** Answer to names outside every configured zone. Default `'nxdomain'`. */
  unknownNames?: UnknownNamePolicy;
}

/** Largest UDP answer without EDNS (RFC 1035 §4.2.1). */
const UDP_PLAIN_MAX = 512;
/** Attempts to find a port free for both UDP and TCP when binding port 0. */
const BIND_TRIES = 8;

export class SimDnsServer {
  private readonly zones: ZoneTable;
  private readonly host: string;
  private readonly requestedPort: number;
  private udp: UdpSocket | undefined;
  private tcp: TcpServer | undefined;
  private readonly tcpClients = new Set<TcpSocket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly counts = new Map<string, number>();
  private boundPort = 0;
  /** Queries that could not be decoded (ignored, as a real server would). */
  malformedQueries = 0;
  /** Socket errors after start (e.g. a TCP client reset), recorded rather than thrown: a test server must not crash the run. */
  readonly socketErrors: Error[] = [];

  constructor(options: SimDnsServerOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.requestedPort = options.port ?? 0;
    this.zones = new ZoneTable(options.unknownNames ?? 'nxdomain');
    for (const [name, zone] of Object.entries(options.zones ?? {})) this.zones.set(name, zone);
  }

  /** Add or replace the zone data of `name` (case-insensitive; takes effect for the next query). */
  addZone(name: string, zone: SimZone): void {
    this.zones.set(name, zone);
  }

  /** Remove the zone data of `name`; returns whether it existed. */
  removeZone(name: string): boolean {
    return this.zones.delete(name);
  }

  /** The zone data of `name`, if configured. */
  zone(name: string): SimZone | undefined {
    return this.zones.get(name);
  }

  /** The bound port (after {@link start}). */
  get port(): number {
    return this.boundPort;
  }

  /** `ip:port` (`[ip]:port` for IPv6), the value to put in `LISTWASH_DNS_SERVERS`. */
  get address(): string {
    return formatHostPort(this.host, this.boundPort);
  }

  /** How many queries arrived for (name, type), e.g. `('example.test', 'MX')`. */
  queryCount(name: string, type: string): number {
    return this.counts.get(`${normalizeName(name)}/${type.toUpperCase()}`) ?? 0;
  }

  /** All query counts, keyed `name/TYPE` (name lower-case, no trailing dot). */
  queryCounts(): Map<string, number> {
    return new Map(this.counts);
  }

  /** Total queries received (UDP + TCP). */
  get totalQueries(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  resetStats(): void {
    this.counts.clear();
    this.malformedQueries = 0;
  }

  /** Bind UDP and TCP on the same port. Rejects with `SIM_WORLD` for a non-loopback host or a bind failure. */
  async start(): Promise<void> {
    if (this.udp) return;
    assertLoopback(this.host, 'DNS server');
    const tries = this.requestedPort === 0 ? BIND_TRIES : 1;
    let lastErr: unknown;
    for (let i = 0; i < tries; i++) {
      const udp = createSocket(isIP(this.host) === 6 ? 'udp6' : 'udp4');
      try {
        await bindUdp(udp, this.host, this.requestedPort);
        const port = udp.address().port;
        const tcp = createServer((s) => this.onTcpClient(s));
        await listenTcp(tcp, this.host, port);
        udp.on('message', (msg, rinfo) => this.onUdp(msg, rinfo));
        udp.on('error', (err) => this.onSocketError(err));
        tcp.on('error', (err) => this.onSocketError(err));
        this.udp = udp;
        this.tcp = tcp;
        this.boundPort = port;
        return;
      } catch (err) {
        lastErr = err;
        udp.close();
      }
    }
    throw new ListwashError(ErrorCodes.SIM_WORLD, `DNS server cannot bind ${this.host}:${this.requestedPort}: ${errorMessage(lastErr)}`, {
      host: this.host,
      port: this.requestedPort,
      errno: (lastErr as NodeJS.ErrnoException | undefined)?.code,
    }, { cause: lastErr });
  }

  /** Close both sockets, every TCP client and every pending delayed answer. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.tcpClients) s.destroy();
    this.tcpClients.clear();
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    await Promise.all([
      udp ? new Promise<void>((r) => udp.close(() => r())) : undefined,
      tcp ? new Promise<void>((r) => tcp.close(() => r())) : undefined,
    ]);
  }

  private onSocketError(err: Error): void {
    this.socketErrors.push(err);
  }

  private decode(msg: Buffer): dnsPacket.DecodedPacket | undefined {
    try {
      return dnsPacket.decode(msg);
    } catch (err) {
      // Known case: garbage on the port. A real server drops it; we count it.
      if (err instanceof Error) {
        this.malformedQueries++;
        return undefined;
      }
      throw err;
    }
  }

  private count(query: dnsPacket.DecodedPacket): void {
    const q = query.questions?.[0];
    if (!q) return;
    const key = `${normalizeName(q.name)}/${q.type}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Run `fn` now or after `delayMs`; never for `Infinity`. */
  private later(delayMs: number, fn: () => void): void {
    if (delayMs === Infinity) return;
    if (delayMs <= 0) {
      fn();
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, delayMs);
    this.timers.add(t);
  }

  private onUdp(msg: Buffer, rinfo: RemoteInfo): void {
    const query = this.decode(msg);
    if (!query || query.type !== 'query') return;
    this.count(query);
    const { response, delayMs, truncateUdp } = this.zones.decide(query);
    let out = dnsPacket.encode(response);
    if (truncateUdp || out.length > udpLimit(query)) {
      out = dnsPacket.encode({ ...response, flags: (response.flags ?? 0) | TRUNCATED_RESPONSE, answers: [], authorities: [] });
    }
    this.later(delayMs, () => {
      this.udp?.send(out, rinfo.port, rinfo.address);
    });
  }

  private onTcpClient(socket: TcpSocket): void {
    this.tcpClients.add(socket);
    let buf: Buffer = Buffer.alloc(0);
    socket.on('close', () => this.tcpClients.delete(socket));
    socket.on('error', (err) => this.onSocketError(err));
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < len + 2) break;
        const msg = buf.subarray(2, len + 2);
        buf = buf.subarray(len + 2);
        const query = this.decode(msg);
        if (!query || query.type !== 'query') continue;
        this.count(query);
        const { response, delayMs } = this.zones.decide(query);
        const out = dnsPacket.streamEncode(response);
        this.later(delayMs, () => {
          if (!socket.destroyed) socket.write(out);
        });
      }
    });
  }
}

/** The largest UDP answer the client accepts: its EDNS payload size, else 512. */
function udpLimit(query: dnsPacket.DecodedPacket): number {
  for (const add of query.additionals ?? []) {
    if (add.type === 'OPT') return Math.max(UDP_PLAIN_MAX, add.udpPayloadSize);
  }
  return UDP_PLAIN_MAX;
}

function bindUdp(sock: UdpSocket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, host, () => {
      sock.off('error', reject);
      resolve();
    });
  });
}

function listenTcp(server: TcpServer, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
