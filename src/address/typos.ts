/**
 * Domain typo suggestions (`gmial.com` → `gmail.com`) on top of `@zootools/email-spell-checker`, with guards
 * against its false positives on real domains: popular and free-provider domains are never "corrected", a real TLD
 * is never replaced unless the result is a popular provider domain, and the edit must be small (Damerau distance 1,
 * or 2 for domains of 9+ characters; 1 for disposable domains; short first labels like `ibm` are never rewritten).
 * Disposable domains are not exempt: many are typo-squats of big providers (`gmai.com`, `hotmil.com`).
 */
import { run as spellCheck, POPULAR_TLDS } from '@zootools/email-spell-checker';
import { checkAsciiDomain } from './syntax.js';
import { isDisposableDomain, isFreeDomain } from './flags.js';
import { KNOWN_TLDS } from './tlds.js';

/** Special-use TLDs (RFC 2606, 6761, 6762, 7686): real names, never "typos" of a delegated TLD. */
const RESERVED_TLDS: ReadonlySet<string> = new Set(['test', 'example', 'invalid', 'localhost', 'local', 'onion']);

function isRealTld(tld: string): boolean {
  return KNOWN_TLDS.has(tld) || RESERVED_TLDS.has(tld);
}

/**
 * Popular mailbox domains a suggestion may point to. Curated instead of the library's list (which has oddities
 * such as `mailw.com`); deliberately without very generic names (`live.com`, `mail.com`) whose near neighbours
 * (`love.com`, `mall.com`) are real, unrelated domains.
 */
export const POPULAR_MAIL_DOMAINS: readonly string[] = Object.freeze([
  'gmail.com', 'googlemail.com', 'yahoo.com', 'ymail.com', 'rocketmail.com', 'hotmail.com', 'outlook.com',
  'msn.com', 'aol.com', 'aim.com', 'icloud.com', 'me.com', 'mac.com', 'protonmail.com', 'proton.me', 'zoho.com',
  'yandex.com', 'yandex.ru', 'mail.ru', 'gmx.com', 'gmx.de', 'gmx.net', 'web.de', 't-online.de', 'comcast.net',
  'verizon.net', 'att.net', 'sbcglobal.net', 'bellsouth.net', 'cox.net', 'charter.net', 'earthlink.net',
  'optonline.net', 'btinternet.com', 'sky.com', 'qq.com', '163.com', '126.com', 'naver.com', 'hotmail.co.uk',
  'yahoo.co.uk', 'hotmail.fr', 'yahoo.fr', 'orange.fr', 'wanadoo.fr', 'free.fr', 'libero.it', 'shaw.ca',
  'rogers.com', 'sympatico.ca', 'telus.net', 'optusnet.com.au', 'bigpond.com', 'xtra.co.nz', 'hey.com',
  'fastmail.com', 'tutanota.com', 'protonmail.ch', 'pm.me',
]);

/** First labels whose misspelling is fixed while keeping the rest of the domain (`yaho.co.uk` → `yahoo.co.uk`). */
export const POPULAR_MAIL_SLDS: readonly string[] = Object.freeze(['yahoo', 'hotmail', 'outlook']);

/**
 * Entries of the free-provider list that are really typos of a big provider (typo-squats kept in that list):
 * they get a suggestion although they are "known".
 */
export const FREE_LIST_TYPOS: ReadonlySet<string> = new Set(['yaho.com', 'vahoo.com', 'comast.net']);

/** Options of {@link createDomainSuggester}. */
export interface DomainSuggesterOptions {
  /** Domains a suggestion may point to, and that are never corrected. Default {@link POPULAR_MAIL_DOMAINS}. */
  popularDomains?: readonly string[];
  /** First labels corrected in place, keeping the TLD. Default {@link POPULAR_MAIL_SLDS}. */
  secondLevelDomains?: readonly string[];
  /**
   * Suffixes the library compares a misspelt TLD against (`con` → `com`). Default: the library's `POPULAR_TLDS`
   * plus a few common two-level suffixes. Whatever this list says, a TLD that exists in the root zone is never
   * replaced except to reach a popular domain.
   */
  topLevelDomains?: readonly string[];
  /**
   * Domains that are real and must never be corrected, beyond `popularDomains`.
   * Default: free-provider domains (`isFreeDomain`) except {@link FREE_LIST_TYPOS}.
   */
  isKnownDomain?: (domain: string) => boolean;
  /**
   * Domains that only get a suggestion one edit away (`gmai.com` → `gmail.com`, but not `yopmail.com` → `ymail.com`).
   * Default: disposable domains (`isDisposableDomain`).
   */
  isStrictDomain?: (domain: string) => boolean;
  /**
   * Most per-domain answers kept in the cache (least recently used dropped first, half at a time).
   * Default 10 000; 0 disables caching.
   */
  cacheSize?: number;
}

/** A domain-typo suggester: lower-case ASCII domain in, suggested domain or null out. */
export type DomainSuggester = (domain: string) => string | null;

const EXTRA_TLDS = ['com.br', 'com.mx', 'com.ar', 'co.za', 'co.in', 'com.tr', 'com.cn', 'ne.jp', 'org.uk', 'ac.uk'];

/** Characters of a lower-case ASCII domain (validity is checked separately). */
const ASCII_DOMAIN = /^[a-z0-9.-]+$/;

/** Reused DP rows for {@link editDistance} (grown on demand). */
let rows: [Int32Array, Int32Array, Int32Array] = [new Int32Array(64), new Int32Array(64), new Int32Array(64)];

/**
 * Optimal-string-alignment (restricted Damerau–Levenshtein) distance: insertions, deletions, substitutions and
 * transpositions of adjacent characters each count as one edit. Stops early: any result above `max` is returned
 * as `max + 1`.
 */
export function editDistance(a: string, b: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = a.length;
  const m = b.length;
  if (Math.abs(n - m) > max) return max + 1;
  if (n === 0 || m === 0) return Math.min(Math.max(n, m), max + 1);
  if (rows[0].length <= m) rows = [new Int32Array(m + 1), new Int32Array(m + 1), new Int32Array(m + 1)];
  let [prev2, prev, cur] = rows;
  for (let j = 0; j <= m; j++) prev[j] = j;
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    let rowMin = i;
    const ai = a.charCodeAt(i - 1);
    for (let j = 1; j <= m; j++) {
      const bj = b.charCodeAt(j - 1);
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (ai === bj ? 0 : 1));
      if (i > 1 && j > 1 && ai === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === bj) v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return Math.min(prev[m]!, max + 1);
}

/** Distance the spell checker ranks candidates with: OSA, capped just above its thresholds (2). */
function rankDistance(a: string, b: string): number {
  return editDistance(a, b, 2);
}

/** First label of a domain. */
function firstLabel(domain: string): string {
  const dot = domain.indexOf('.');
  return dot < 0 ? domain : domain.slice(0, dot);
}

/** Everything after the first label ('' for a single label). */
function afterFirstLabel(domain: string): string {
  const dot = domain.indexOf('.');
  return dot < 0 ? '' : domain.slice(dot + 1);
}

/** Last label of a domain. */
function lastLabel(domain: string): string {
  return domain.slice(domain.lastIndexOf('.') + 1);
}

/** The default `isKnownDomain`: a free-provider domain that is not a known typo-squat. */
function isGenuineFreeDomain(domain: string): boolean {
  return isFreeDomain(domain) && !FREE_LIST_TYPOS.has(domain);
}

/**
 * Build a suggester with its own bounded cache. The returned function takes a lower-case ASCII domain (a single
 * label such as `gmailcom` is allowed, to help repair invalid input) and returns a different, valid domain or null.
 */
export function createDomainSuggester(options: DomainSuggesterOptions = {}): DomainSuggester {
  const popularList = [...(options.popularDomains ?? POPULAR_MAIL_DOMAINS)];
  const popular = new Set(popularList);
  const slds = [...(options.secondLevelDomains ?? POPULAR_MAIL_SLDS)];
  const tlds = [...(options.topLevelDomains ?? [...POPULAR_TLDS, ...EXTRA_TLDS])];
  const isKnown = options.isKnownDomain ?? isGenuineFreeDomain;
  const isStrict = options.isStrictDomain ?? isDisposableDomain;
  const cacheSize = options.cacheSize ?? 10_000;
  // A single-label domain equal to a popular domain's first label (`gmail`) gets that domain.
  const byFirstLabel = new Map<string, string>();
  for (const d of popularList) if (!byFirstLabel.has(firstLabel(d))) byFirstLabel.set(firstLabel(d), d);

  /**
   * Cheap pre-filter with the same outcome as the guards below: a suggestion can only pass them if a popular
   * domain is within `maxEdits`, the TLD is not a real one, or the first label is near a popular first label.
   */
  function mayHaveSuggestion(domain: string, maxEdits: number): boolean {
    if (!domain.includes('.') || !isRealTld(lastLabel(domain))) return true;
    for (const p of popularList) if (editDistance(domain, p, maxEdits) <= maxEdits) return true;
    const first = firstLabel(domain);
    for (const sld of slds) if (editDistance(first, sld, 2) <= 2) return true;
    return false;
  }

  function compute(domain: string): string | null {
    if (!ASCII_DOMAIN.test(domain) || popular.has(domain)) return null;
    if (!domain.includes('.')) {
      const whole = byFirstLabel.get(domain);
      if (whole !== undefined) return whole;
    } else if (isKnown(domain)) {
      return null;
    }
    const maxEdits = domain.length >= 9 && !isStrict(domain) ? 2 : 1;
    if (!mayHaveSuggestion(domain, maxEdits)) return null;
    const result = spellCheck({
      email: `x@${domain}`,
      domains: popularList,
      secondLevelDomains: slds,
      topLevelDomains: tlds,
      distanceFunction: rankDistance,
    });
    const s = result?.domain.toLowerCase();
    if (s === undefined || s === domain || !checkAsciiDomain(s).ok) return null;
    if (editDistance(domain, s, maxEdits) > maxEdits) return null;
    const firstChanged = firstLabel(domain) !== firstLabel(s);
    if (firstChanged && firstLabel(domain).length < 4) return null;
    if (popular.has(s)) return s;
    // A composed fix (first label and/or suffix): keep real TLDs, only rewrite towards known first labels.
    if (afterFirstLabel(domain) !== afterFirstLabel(s) && (isRealTld(lastLabel(domain)) || !domain.includes('.'))) {
      return null;
    }
    if (firstChanged && !slds.includes(firstLabel(s))) return null;
    return s;
  }

  // Two generations instead of per-entry eviction: O(1) per call, at most `cacheSize` entries in all.
  const generationSize = Math.max(1, Math.floor(cacheSize / 2));
  let current = new Map<string, string | null>();
  let previous = new Map<string, string | null>();

  return (domain: string): string | null => {
    const d = domain.toLowerCase();
    if (cacheSize <= 0) return compute(d);
    let s = current.get(d);
    if (s !== undefined) return s;
    s = previous.get(d);
    if (s === undefined) s = compute(d);
    if (current.size >= generationSize) {
      previous = current;
      current = new Map();
    }
    current.set(d, s);
    return s;
  };
}

let defaultSuggester: DomainSuggester | undefined;

/**
 * Suggest the domain the user probably meant (`gmial.com` → `gmail.com`, `gmail.con` → `gmail.com`,
 * `hotmial.com` → `hotmail.com`, `yaho.com` → `yahoo.com`), or null. Never suggests for a popular or free-provider
 * domain (except known typo-squats such as `yaho.com`), and never returns the input. Uses the default
 * {@link DomainSuggesterOptions}; answers are cached per domain (at most 10 000).
 * @param domain lower-case ASCII (punycode) domain
 */
export function suggestDomain(domain: string): string | null {
  defaultSuggester ??= createDomainSuggester();
  return defaultSuggester(domain);
}

/**
 * Repair an invalid domain as written (commas for dots, stray spaces, doubled or trailing dots, a missing TLD on a
 * popular provider) and return a valid domain, typo-corrected when possible, or null when no repair applies.
 * @param raw the domain part as written (after the `@`)
 */
export function repairDomain(raw: string): string | null {
  const candidate = raw
    .toLowerCase()
    .replace(/[\s,]+/g, (m) => (m.includes(',') ? '.' : ''))
    .replace(/\.{2,}/g, '.')
    .replace(/^\.+|\.+$/g, '');
  if (candidate === '' || !ASCII_DOMAIN.test(candidate)) return null;
  if (!candidate.includes('.')) return suggestDomain(candidate);
  if (!checkAsciiDomain(candidate).ok) return null;
  return suggestDomain(candidate) ?? (candidate === raw ? null : candidate);
}
