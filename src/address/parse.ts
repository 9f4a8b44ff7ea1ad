/**
 * The public entry point of the address module: parse, validate and normalise one address.
 */
import { ADDRESS_LIMITS, checkLocalPart, describeChar, findControlChar, splitAddress, type SyntaxDetail } from './syntax.js';
import { normalizeDomain, trimAddressSpace, unwrapAddress } from './normalize.js';
import { isDisposableDomain, isFreeDomain, isRoleLocalPart } from './flags.js';
import { repairDomain, suggestDomain } from './typos.js';
import type { AddressResult, InvalidAddress } from './types.js';

export type { AddressFlags, AddressResult, InvalidAddress, ParsedAddress } from './types.js';

/** Domain problems worth a repair attempt (`gmail,com`, `gmail .com`, `gmail`). */
const REPAIRABLE: ReadonlySet<SyntaxDetail> = new Set<SyntaxDetail>(['bad_domain_label', 'single_label_domain']);

/** Everything about an address that depends on its domain alone, worked out once per distinct domain. */
interface DomainFacts {
  domain: ReturnType<typeof normalizeDomain>;
  suggested: string | null;
  disposable: boolean;
  free: boolean;
}

/**
 * Per-domain memo (lists repeat domains: 1M rows typically hold ~20k): IDN conversion, typo suggestion and the
 * disposable/free lookups are the expensive part of `parseAddress`. Two generations of at most
 * `DOMAIN_MEMO_SIZE / 2` entries each: O(1) per call, bounded memory.
 */
const DOMAIN_MEMO_SIZE = 100_000;
let memo = new Map<string, DomainFacts>();
let memoOld = new Map<string, DomainFacts>();

function domainFacts(raw: string): DomainFacts {
  let f = memo.get(raw);
  if (f !== undefined) return f;
  f = memoOld.get(raw);
  if (f === undefined) {
    const domain = normalizeDomain(raw);
    f = domain.ok
      ? { domain, suggested: suggestDomain(domain.ascii), disposable: isDisposableDomain(domain.ascii), free: isFreeDomain(domain.ascii) }
      : { domain, suggested: null, disposable: false, free: false };
  }
  if (memo.size >= DOMAIN_MEMO_SIZE / 2) {
    memoOld = memo;
    memo = new Map();
  }
  memo.set(raw, f);
  return f;
}

/** The text of what a caller passed (JavaScript callers may pass anything; objects are never stringified). */
function asText(input: unknown): string {
  if (typeof input === 'string') return input;
  if (typeof input === 'number' || typeof input === 'boolean' || typeof input === 'bigint') return String(input);
  return '';
}

function invalid(input: string, detail: SyntaxDetail, message: string, suggestion: string | null = null): InvalidAddress {
  return { ok: false, input, reason: 'invalid_syntax', detail, message, suggestion };
}

/**
 * Parse, validate and normalise one address for use in `RCPT TO:<…>` (RFC 5321 Mailbox syntax).
 *
 * - Unwraps surrounding whitespace, one `<…>` and a `mailto:` prefix (CRM export habits).
 * - Rejects anything that cannot safely go on an SMTP command line: control characters (CR, LF, NUL, … even inside
 *   quotes), `<`, `>` or whitespace outside quotes, address literals (`[1.2.3.4]`), single-label domains; enforces
 *   64 / 255 / 63 / 254 octet limits. Each rejection has a stable `detail` code (see `SyntaxDetail`).
 * - Keeps the local part as given (case and quoting); lower-cases the domain and converts an IDN to punycode
 *   (`user@bücher.de` → `user@xn--bcher-kva.de`).
 * - Flags role accounts, disposable and free-provider domains, and SMTPUTF8 local parts; suggests a fix for
 *   domain typos (`gmial.com` → `gmail.com`) and repairable invalid domains (`gmail,com`).
 *
 * Pure; never throws for any input (a number or boolean is read as its text, any other non-string as empty). The bundled lists are loaded on first call:
 * only a broken package install can make that throw.
 * @param input one address as found in the list
 */
export function parseAddress(input: string): AddressResult {
  const given = asText(input);
  const trimmed = trimAddressSpace(given);
  if (trimmed === '') return invalid(given, 'empty', 'the address is empty');
  const ctl = findControlChar(trimmed);
  if (ctl >= 0) {
    return invalid(given, 'control_char', `control character ${describeChar(trimmed.charCodeAt(ctl))} at position ${ctl}`);
  }
  const s = unwrapAddress(trimmed);
  if (s === '') return invalid(given, 'empty', 'the address is empty');

  const parts = splitAddress(s);
  if (!parts.ok) return invalid(given, parts.detail, parts.message);
  const local = checkLocalPart(parts.local, parts.quoted);
  if (!local.ok) return invalid(given, local.detail, local.message);

  const facts = domainFacts(parts.domain);
  const domain = facts.domain;
  if (!domain.ok) {
    const fixed = REPAIRABLE.has(domain.detail) ? repairDomain(parts.domain) : null;
    const fits = fixed !== null && local.octets + 1 + fixed.length <= ADDRESS_LIMITS.addressOctets;
    return invalid(given, domain.detail, domain.message, fits ? `${parts.local}@${fixed}` : null);
  }
  const octets = local.octets + 1 + domain.ascii.length;
  if (octets > ADDRESS_LIMITS.addressOctets) {
    return invalid(given, 'address_too_long', `the address is ${octets} octets (limit ${ADDRESS_LIMITS.addressOctets})`);
  }

  const suggested = facts.suggested;
  return {
    ok: true,
    input: given,
    local: parts.local,
    domain: domain.ascii,
    domainUnicode: domain.unicode,
    normalized: `${parts.local}@${domain.ascii}`,
    flags: { role: isRoleLocalPart(parts.local), disposable: facts.disposable, free: facts.free, smtputf8: local.smtputf8 },
    suggestion: suggested === null ? null : `${parts.local}@${suggested}`,
  };
}
