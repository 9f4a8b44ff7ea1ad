/**
 * Pure answer logic of the simulated DNS server: zone data in, DNS response packet out. No I/O.
 */
import type * as dnsPacket from 'dns-packet';

/** Zone data for one DNS name (case-insensitive). */
export interface SimZone {
  /** MX records. An exchange `'.'` with preference 0 is an RFC 7505 null MX. */
  mx?: { preference: number; exchange: string }[];
  /** IPv4 addresses (A records). */
  a?: string[];
  /** IPv6 addresses (AAAA records). */
  aaaa?: string[];
  /** PTR records (host names), for a reverse name such as `4.3.2.1.in-addr.arpa`. */
  ptr?: string[];
  /**
   * TXT records (SPF policies, DNSBL reasons). A string longer than 255 bytes is sent as several
   * character-strings of one record (RFC 7208 §3.3); an array gives the record's strings explicitly.
   */
  txt?: (string | string[])[];
  /** TTL of every record of this name, in seconds. Default 300. */
  ttl?: number;
  /** Answer NXDOMAIN (with an SOA in the authority section, minimum 60). Default false. */
  nxdomain?: boolean;
  /** Answer SERVFAIL. Default false. */
  servfail?: boolean;
  /** Answer after this many ms (slow DNS); `Infinity` = never answer (the client times out). Default 0. */
  delayMs?: number;
  /** UDP answers have TC set and no records (the client must retry over TCP). Default false. */
  truncate?: boolean;
}

/** How names outside every configured zone are answered. */
export type UnknownNamePolicy = 'nxdomain' | 'refused';

/** DNS rcodes used by the simulator (RFC 1035 §4.1.1). */
export const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** SOA minimum (negative-caching TTL, RFC 2308) of every synthesized SOA. */
export const SOA_MINIMUM = 60;
const DEFAULT_TTL = 300;

/** Lower-case, without the trailing dot. */
export function normalizeName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/** What the server should do with one query. */
export interface ZoneDecision {
  /** The response packet (flags already carry the rcode; TC is added by the transport if needed). */
  response: dnsPacket.Packet;
  /** Delay before answering, ms; `Infinity` = never answer. */
  delayMs: number;
  /** Whether UDP answers must be truncated (TC set, no records). */
  truncateUdp: boolean;
}

/** The zone table: exact names plus closest-ancestor lookup for names under a configured zone. */
export class ZoneTable {
  private readonly zones = new Map<string, SimZone>();

  constructor(private readonly unknownNames: UnknownNamePolicy = 'nxdomain') {}

  set(name: string, zone: SimZone): void {
    this.zones.set(normalizeName(name), zone);
  }

  delete(name: string): boolean {
    return this.zones.delete(normalizeName(name));
  }

  get(name: string): SimZone | undefined {
    return this.zones.get(normalizeName(name));
  }

  names(): string[] {
    return [...this.zones.keys()];
  }

  /**
   * The closest configured ancestor of `name` (excluding `name` itself), with its name. A wildcard
   * `*.<ancestor>` at that level takes precedence (RFC 4592: it answers for every name below it that is
   * not configured itself) and is returned as `[apex, zone, true]`.
   */
  private ancestor(name: string): [string, SimZone, boolean] | undefined {
    let rest = name;
    for (let dot = rest.indexOf('.'); dot >= 0; dot = rest.indexOf('.')) {
      rest = rest.slice(dot + 1);
      const wildcard = this.zones.get(`*.${rest}`);
      if (wildcard) return [rest, wildcard, true];
      const z = this.zones.get(rest);
      if (z) return [rest, z, false];
    }
    return undefined;
  }

  /**
   * Which zone data answers `name`: `zone` governs the answer (flags, delay) under `apex`; `records` are the
   * name's own or its wildcard's records, or undefined when the name does not exist under `apex`.
   */
  private match(name: string): { apex: string; zone: SimZone; records: SimZone | undefined } | undefined {
    const own = this.zones.get(name);
    if (own) return { apex: name, zone: own, records: own };
    const anc = this.ancestor(name);
    if (!anc) return undefined;
    const [apex, zone, wildcard] = anc;
    return { apex, zone, records: wildcard ? zone : undefined };
  }

  /**
   * Decide the answer to a query.
   * - configured name: its records of the asked type (NOERROR), or NODATA + SOA, or its nxdomain/servfail flag;
   * - unknown name under a configured zone: NXDOMAIN + SOA of that zone (the zone's servfail/delay/truncate apply);
   * - unknown name under a wildcard `*.<zone>`: the wildcard's records, owned by the asked name;
   * - name outside every zone: NXDOMAIN (or REFUSED, per the constructor's policy).
   */
  decide(query: dnsPacket.DecodedPacket): ZoneDecision {
    const q = query.questions?.[0];
    const rd = query.flag_rd ? RECURSION_DESIRED : 0;
    const baseFlags = AUTHORITATIVE_ANSWER | RECURSION_AVAILABLE | rd;
    const response: dnsPacket.Packet = {
      type: 'response',
      id: query.id ?? 0,
      flags: baseFlags,
      questions: q ? [q] : [],
      answers: [],
      authorities: [],
    };
    if (!q) return { response: withRcode(response, RCODE.NOTIMP), delayMs: 0, truncateUdp: false };

    const match = this.match(normalizeName(q.name));
    if (!match) {
      const rcode = this.unknownNames === 'refused' ? RCODE.REFUSED : RCODE.NXDOMAIN;
      return { response: withRcode(response, rcode), delayMs: 0, truncateUdp: false };
    }
    const { apex, zone, records: exact } = match;
    const delayMs = zone.delayMs ?? 0;
    const truncateUdp = zone.truncate === true;
    if (zone.servfail) return { response: withRcode(response, RCODE.SERVFAIL), delayMs, truncateUdp };
    if (zone.nxdomain || !exact) {
      response.authorities = [soaRecord(apex)];
      return { response: withRcode(response, RCODE.NXDOMAIN), delayMs, truncateUdp };
    }
    const answers = recordsFor(q.name, q.type, exact);
    if (answers.length === 0) response.authorities = [soaRecord(apex)];
    else response.answers = answers;
    return { response, delayMs, truncateUdp };
  }
}

// dns-packet's flag constants, repeated as literals so this module stays type-only on dns-packet.
const AUTHORITATIVE_ANSWER = 1 << 10;
const RECURSION_DESIRED = 1 << 8;
const RECURSION_AVAILABLE = 1 << 7;
/** TC flag (dns-packet `TRUNCATED_RESPONSE`). */
export const TRUNCATED_RESPONSE = 1 << 9;

function withRcode(p: dnsPacket.Packet, rcode: number): dnsPacket.Packet {
  p.flags = ((p.flags ?? 0) & ~0xf) | rcode;
  return p;
}

function soaRecord(apex: string): dnsPacket.Answer {
  return {
    type: 'SOA',
    name: apex,
    ttl: SOA_MINIMUM,
    data: {
      mname: `ns.${apex}`,
      rname: `hostmaster.${apex}`,
      serial: 1,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: SOA_MINIMUM,
    },
  };
}

/** Records of `type` for a configured name (`ANY` = all). The owner name echoes the question's case. */
function recordsFor(owner: string, type: string, zone: SimZone): dnsPacket.Answer[] {
  const ttl = zone.ttl ?? DEFAULT_TTL;
  const out: dnsPacket.Answer[] = [];
  const any = type === 'ANY';
  if ((any || type === 'MX') && zone.mx) {
    for (const m of zone.mx) out.push({ type: 'MX', name: owner, ttl, data: { preference: m.preference, exchange: m.exchange } });
  }
  if ((any || type === 'A') && zone.a) for (const ip of zone.a) out.push({ type: 'A', name: owner, ttl, data: ip });
  if ((any || type === 'AAAA') && zone.aaaa) for (const ip of zone.aaaa) out.push({ type: 'AAAA', name: owner, ttl, data: ip });
  if ((any || type === 'PTR') && zone.ptr) for (const host of zone.ptr) out.push({ type: 'PTR', name: owner, ttl, data: host });
  if ((any || type === 'TXT') && zone.txt) for (const t of zone.txt) out.push({ type: 'TXT', name: owner, ttl, data: txtStrings(t) });
  return out;
}

/** Largest character-string in a TXT record (RFC 1035 §3.3). */
const TXT_STRING_MAX = 255;

/** A TXT record's character-strings: as given, or one text cut into ≤ 255-byte pieces. */
function txtStrings(t: string | string[]): Buffer[] {
  if (Array.isArray(t)) return t.map((s) => Buffer.from(s, 'utf8'));
  const bytes = Buffer.from(t, 'utf8');
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += TXT_STRING_MAX) out.push(bytes.subarray(i, i + TXT_STRING_MAX));
  return out.length > 0 ? out : [Buffer.alloc(0)];
}
