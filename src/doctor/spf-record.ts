/**
 * SPF record syntax (RFC 7208 §4.5, §4.6.1, §5, §6): which TXT record is the policy, and its terms.
 * Pure. Domain specs keep their macros; {@link expandMacros} expands them at evaluation time.
 */
import { isIP } from 'node:net';

/** `+` pass, `-` fail, `~` softfail, `?` neutral. */
export type Qualifier = '+' | '-' | '~' | '?';

export type Mechanism =
  | { type: 'all' }
  | { type: 'include'; domain: string }
  | { type: 'a' | 'mx'; domain: string | undefined; cidr4: number; cidr6: number }
  | { type: 'ptr'; domain: string | undefined }
  | { type: 'ip4' | 'ip6'; network: string; prefix: number }
  | { type: 'exists'; domain: string };

export interface Directive {
  qualifier: Qualifier;
  mechanism: Mechanism;
  /** The term as written, for reports. */
  text: string;
}

export interface SpfRecord {
  directives: Directive[];
  /** `redirect=` target (a domain spec), if any. */
  redirect: string | undefined;
}

export type ParsedSpf = { ok: true; record: SpfRecord } | { ok: false; error: string };

/** Whether a TXT string is an SPF policy: `v=spf1` followed by a space or nothing (RFC 7208 §4.5). */
export function isSpfRecord(txt: string): boolean {
  return /^v=spf1( |$)/i.test(txt);
}

const MODIFIER = /^([a-z][a-z0-9_.-]*)=(.*)$/i;
const DIRECTIVE = /^([+\-~?]?)([a-z0-9]+)(.*)$/i;
/** The optional `/cidr4` and `//cidr6` at the end of `a` and `mx` (RFC 7208 §5.6). */
const DUAL_CIDR = /(?:\/(\d{1,2}))?(?:\/\/(\d{1,3}))?$/;

/** Parse a policy (the text of a record for which {@link isSpfRecord} holds). */
export function parseSpf(text: string): ParsedSpf {
  const terms = text.split(' ').filter((t) => t !== '').slice(1);
  const directives: Directive[] = [];
  let redirect: string | undefined;
  let exp = false;
  for (const term of terms) {
    const modifier = MODIFIER.exec(term);
    if (modifier) {
      const name = modifier[1]!.toLowerCase();
      const value = modifier[2]!;
      if ((name === 'redirect' && redirect !== undefined) || (name === 'exp' && exp)) return { ok: false, error: `"${name}=" appears twice` };
      if ((name === 'redirect' || name === 'exp') && value === '') return { ok: false, error: `"${name}=" without a domain` };
      if (name === 'redirect') redirect = value;
      if (name === 'exp') exp = true;
      continue; // other modifiers are ignored (RFC 7208 §6)
    }
    const directive = parseDirective(term);
    if (typeof directive === 'string') return { ok: false, error: directive };
    directives.push(directive);
  }
  return { ok: true, record: { directives, redirect } };
}

/** One directive, or an error message. */
function parseDirective(term: string): Directive | string {
  const m = DIRECTIVE.exec(term);
  if (!m) return `unknown term "${term}"`;
  const qualifier = (m[1] || '+') as Qualifier;
  const name = m[2]!.toLowerCase();
  const rest = m[3]!;
  const mechanism = parseMechanism(name, rest);
  if (typeof mechanism === 'string') return `${mechanism} in "${term}"`;
  return { qualifier, mechanism, text: term };
}

function parseMechanism(name: string, rest: string): Mechanism | string {
  const arg = rest.startsWith(':') ? rest.slice(1) : undefined;
  switch (name) {
    case 'all':
      return rest === '' ? { type: 'all' } : 'unexpected argument';
    case 'include':
    case 'exists':
      return arg ? { type: name, domain: arg } : 'missing domain';
    case 'ptr':
      if (rest !== '' && !arg) return 'unexpected argument';
      return { type: 'ptr', domain: arg };
    case 'a':
    case 'mx':
      return parseAddressMechanism(name, rest);
    case 'ip4':
    case 'ip6':
      return arg ? parseNetwork(name, arg) : 'missing address';
    default:
      return `unknown mechanism "${name}"`;
  }
}

function parseAddressMechanism(type: 'a' | 'mx', rest: string): Mechanism | string {
  const cidr = DUAL_CIDR.exec(rest)!;
  const cidr4 = cidr[1] === undefined ? 32 : Number(cidr[1]);
  const cidr6 = cidr[2] === undefined ? 128 : Number(cidr[2]);
  if (cidr4 > 32 || cidr6 > 128) return 'prefix length out of range';
  const head = rest.slice(0, rest.length - cidr[0].length);
  if (head !== '' && (!head.startsWith(':') || head.length === 1)) return 'bad domain';
  return { type, domain: head === '' ? undefined : head.slice(1), cidr4, cidr6 };
}

function parseNetwork(type: 'ip4' | 'ip6', arg: string): Mechanism | string {
  const [network = '', prefixText, extra] = arg.split('/');
  const family = type === 'ip4' ? 4 : 6;
  if (extra !== undefined || isIP(network) !== family) return `not an IPv${family} network`;
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return 'prefix length out of range';
  return { type, network, prefix };
}
