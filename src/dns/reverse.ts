/**
 * Reverse-DNS names of IP addresses (RFC 1035 §3.5 `in-addr.arpa`, RFC 3596 §2.5 `ip6.arpa`), also the
 * query form of DNS blocklists (RFC 5782: the reversed address under the list's zone). Pure.
 */
import { isIP } from 'node:net';
import { ErrorCodes, ListwashError } from '../errors.js';

/** The 32 hex nibbles of an IPv6 address, most significant first. */
function ipv6Nibbles(ip: string): string[] {
  let text = ip.toLowerCase();
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const o = v4[1]!.split('.').map(Number);
    text = text.slice(0, -v4[1]!.length) + `${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].flatMap((g) => g.padStart(4, '0').split(''));
}

/**
 * The address's labels reversed, without a suffix: `1.2.3.4` → `4.3.2.1`; an IPv6 address → its 32
 * nibbles reversed, dot-separated. Throws `CONFIG_INVALID` for something that is not an IP address.
 */
export function reversedLabels(ip: string): string {
  const family = isIP(ip);
  if (family === 4) return ip.split('.').reverse().join('.');
  if (family === 6) return ipv6Nibbles(ip).reverse().join('.');
  throw new ListwashError(ErrorCodes.CONFIG_INVALID, `not an IP address: ${JSON.stringify(ip)}`, { ip });
}

/** The PTR owner name of an address: `4.3.2.1.in-addr.arpa` or `….ip6.arpa`. */
export function reverseName(ip: string): string {
  return `${reversedLabels(ip)}.${isIP(ip) === 6 ? 'ip6.arpa' : 'in-addr.arpa'}`;
}

/** Whether two textual IP addresses are the same address (IPv6 compared in full form). */
export function sameAddress(a: string, b: string): boolean {
  const fa = isIP(a);
  if (fa === 0 || fa !== isIP(b)) return false;
  return fa === 4 ? a === b : ipv6Nibbles(a).join('') === ipv6Nibbles(b).join('');
}
