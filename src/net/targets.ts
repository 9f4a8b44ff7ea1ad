/**
 * Which IP addresses the prober may connect to (`LISTWASH_ALLOWED_TARGETS`). Pure.
 *
 * `public` (the default) allows global unicast addresses only: an MX record pointing at loopback,
 * RFC 1918, link-local, CGNAT or documentation space is a misconfiguration or an attempt to make us
 * probe internal hosts, and gets no traffic. Tests and the demo use `loopback`.
 */
import { BlockList, isIP } from 'node:net';
import { ErrorCodes, ListwashError } from '../errors.js';

const NON_PUBLIC_V4: [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
];
const NON_PUBLIC_V6: [string, number][] = [
  ['::', 127], ['64:ff9b:1::', 48], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
];

export class TargetPolicy {
  private readonly allow = new BlockList();
  private readonly deny = new BlockList();
  private readonly any: boolean;
  private readonly publicOnly: boolean;

  /**
   * @param specs entries of LISTWASH_ALLOWED_TARGETS (or of another setting with its syntax): `public`, `loopback`, `any`, or CIDRs.
   * @param source the setting the specs come from, named in the error for a bad entry.
   */
  constructor(specs: readonly string[], source: { env: string; setting: string } = { env: 'LISTWASH_ALLOWED_TARGETS', setting: 'allowedTargets' }) {
    let any = false;
    let pub = false;
    for (const raw of specs) {
      const s = raw.trim().toLowerCase();
      if (s === 'any') any = true;
      else if (s === 'public') pub = true;
      else if (s === 'loopback') {
        this.allow.addSubnet('127.0.0.0', 8, 'ipv4');
        this.allow.addAddress('::1', 'ipv6');
      } else {
        const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
        const ip = m ? m[1] ?? '' : s;
        const fam = isIP(ip);
        const bits = m ? Number(m[2]) : fam === 4 ? 32 : 128;
        if (fam === 0 || bits > (fam === 4 ? 32 : 128)) {
          throw new ListwashError(ErrorCodes.CONFIG_INVALID, `${source.env}: not public/loopback/any or a CIDR: ${JSON.stringify(raw)}`, { setting: source.setting, env: source.env });
        }
        this.allow.addSubnet(ip, bits, fam === 4 ? 'ipv4' : 'ipv6');
      }
    }
    for (const [ip, bits] of NON_PUBLIC_V4) this.deny.addSubnet(ip, bits, 'ipv4');
    for (const [ip, bits] of NON_PUBLIC_V6) this.deny.addSubnet(ip, bits, 'ipv6');
    this.any = any;
    this.publicOnly = pub;
  }

  /** May we connect to this IP? */
  allows(ip: string): boolean {
    // IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address it carries.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    if (mapped) return this.allows(mapped[1]!);
    const fam = isIP(ip);
    if (fam === 0) return false;
    if (this.any) return true;
    const type = fam === 4 ? 'ipv4' : 'ipv6';
    if (this.allow.check(ip, type)) return true;
    return this.publicOnly && !this.deny.check(ip, type);
  }
}
