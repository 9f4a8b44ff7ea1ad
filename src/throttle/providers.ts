/**
 * Which throttle budget an MX host belongs to (pure; no I/O).
 *
 * Large providers run hundreds of MX names that share one reputation system, so every MX name of a
 * provider counts against one fleet-wide budget ("group"): all `*.google.com` hosts share the key
 * `provider:google`. Any other host is its own group, keyed by its lower-cased name (a `:` never
 * occurs in a host name, so the two kinds of key cannot collide).
 *
 * Rules are matched in order, first match wins: user rules (from `LISTWASH_PROVIDERS_FILE`, see
 * `providers-file.ts`) come before the built-in ones.
 */
import { ErrorCodes, ListwashError } from '../errors.js';

/** Fleet-wide limits of one group. */
export interface ThrottleLimits {
  /** Concurrent SMTP sessions from the whole fleet. Integer ≥ 1. */
  maxConnections: number;
  /** RCPT TO commands per second from the whole fleet, in ANY sliding one-second window. > 0, may be fractional. */
  rcptPerSecond: number;
}

/** The budget one MX host is throttled under. */
export interface ThrottleGroup extends ThrottleLimits {
  /** `provider:<name>` for a provider group, else the lower-cased host name. */
  key: string;
}

/** One provider rule: hosts matching `pattern` share the group `provider:<name>`. */
export interface ProviderRule {
  /** `*.example.com` (any name strictly below example.com) or an exact host name. Lower case. */
  pattern: string;
  /** Group name: `[a-z0-9][a-z0-9._-]*`. Rules with the same name share one budget. */
  name: string;
  /** Limits of the group; a missing value falls back to the defaults given to `resolveThrottleGroup`. */
  maxConnections?: number;
  rcptPerSecond?: number;
}

/** Key prefix of provider groups. */
export const PROVIDER_KEY_PREFIX = 'provider:';

/** Bounds accepted for user-supplied limits. */
export const LIMIT_BOUNDS = {
  maxConnections: { min: 1, max: 1000 },
  rcptPerSecond: { min: 0.01, max: 10000 },
} as const;

function provider(name: string, maxConnections: number, rcptPerSecond: number, patterns: string[]): ProviderRule[] {
  return patterns.map((pattern) => ({ pattern, name, maxConnections, rcptPerSecond }));
}

/**
 * Built-in provider groups. The limits are GUESSES — generous enough for throughput, low enough not
 * to look like an attack — and should be tuned from production signals (421 / 4.7.x rates in the
 * report). Override any of them with `LISTWASH_PROVIDERS_FILE`.
 */
export const BUILTIN_PROVIDERS: readonly ProviderRule[] = Object.freeze([
  ...provider('google', 4, 5, ['*.google.com', '*.googlemail.com', 'aspmx.l.google.com', 'smtp.google.com']),
  ...provider('microsoft', 4, 4, [
    '*.mail.protection.outlook.com',
    '*.olc.protection.outlook.com',
    '*.protection.outlook.com',
    '*.hotmail.com',
  ]),
  ...provider('yahoo', 2, 2, ['*.am0.yahoodns.net', '*.yahoodns.net']),
  ...provider('icloud', 2, 2, ['*.mail.icloud.com']),
  ...provider('proofpoint', 3, 3, ['*.pphosted.com', '*.ppe-hosted.com']),
  ...provider('mimecast', 3, 3, ['*.mimecast.com']),
  ...provider('zoho', 2, 2, ['*.zoho.com', '*.zoho.eu']),
  ...provider('yandex', 2, 2, ['*.yandex.net', '*.yandex.ru']),
  ...provider('gmx', 2, 2, ['*.gmx.net', '*.web.de']),
  ...provider('fastmail', 2, 3, ['*.messagingengine.com']),
].map((r) => Object.freeze(r)));

const LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
const HOST_RE = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Lower-case, trim, and drop one trailing dot (`MX1.Example.COM.` → `mx1.example.com`). */
export function normalizeMxHost(host: string): string {
  const h = host.trim().toLowerCase();
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/** Whether `host` (already normalized) matches `pattern` (`*.suffix` or an exact name). */
export function matchesPattern(host: string, pattern: string): boolean {
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(1); // ".example.com"
    return host.length > suffix.length && host.endsWith(suffix);
  }
  return host === pattern;
}

/**
 * The group an MX host is throttled under: the first rule whose pattern matches, else the host itself.
 * @param providers ordered rules (user rules first), e.g. `buildProviderRules(userRules)`.
 * @param defaults limits of hosts without a rule, and of rules without limits (config `mxMaxConnections`, `mxRcptPerSecond`).
 */
export function resolveThrottleGroup(mxHost: string, providers: readonly ProviderRule[], defaults: ThrottleLimits): ThrottleGroup {
  const host = normalizeMxHost(mxHost);
  if (host === '') throw new TypeError('resolveThrottleGroup: empty MX host name');
  for (const rule of providers) {
    if (matchesPattern(host, rule.pattern)) {
      return {
        key: PROVIDER_KEY_PREFIX + rule.name,
        maxConnections: rule.maxConnections ?? defaults.maxConnections,
        rcptPerSecond: rule.rcptPerSecond ?? defaults.rcptPerSecond,
      };
    }
  }
  return { key: host, maxConnections: defaults.maxConnections, rcptPerSecond: defaults.rcptPerSecond };
}

function invalid(source: string, index: number, entry: unknown, message: string): never {
  const pattern = entry !== null && typeof entry === 'object' && 'pattern' in entry ? (entry as { pattern: unknown }).pattern : undefined;
  const label = typeof pattern === 'string' ? ` (${JSON.stringify(pattern)})` : '';
  throw new ListwashError(ErrorCodes.CONFIG_INVALID, `${source}: entry ${index}${label}: ${message}`, { source, index, pattern });
}

const ALLOWED_KEYS = new Set(['pattern', 'name', 'maxConnections', 'rcptPerSecond']);

/**
 * Validate user provider rules (the parsed JSON of `LISTWASH_PROVIDERS_FILE`): an array of
 * `{ "pattern": "*.example.com", "name"?: "example", "maxConnections"?: 5, "rcptPerSecond"?: 10 }`.
 * A rule without `name` takes the name of the built-in rule with the same pattern (so
 * `{"pattern":"*.google.com","maxConnections":8}` retunes Google), else its pattern without `*.`.
 * Rules sharing a name must give the same limits (they share one budget).
 * @throws ListwashError CONFIG_INVALID naming the entry.
 */
export function parseProviderRules(json: unknown, source = 'providers', builtins: readonly ProviderRule[] = BUILTIN_PROVIDERS): ProviderRule[] {
  if (!Array.isArray(json)) {
    throw new ListwashError(ErrorCodes.CONFIG_INVALID, `${source}: must be a JSON array of {pattern, name, maxConnections, rcptPerSecond}`, { source });
  }
  const out: ProviderRule[] = [];
  const byName = new Map<string, { index: number; rule: ProviderRule }>();
  json.forEach((entry: unknown, index) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) invalid(source, index, entry, 'must be an object');
    const e = entry as Record<string, unknown>;
    for (const k of Object.keys(e)) if (!ALLOWED_KEYS.has(k)) invalid(source, index, e, `unknown field ${JSON.stringify(k)}`);

    if (typeof e.pattern !== 'string') invalid(source, index, e, '"pattern" must be a string');
    const pattern = e.pattern.trim().toLowerCase();
    const wildcard = pattern.startsWith('*.');
    const base = wildcard ? pattern.slice(2) : pattern;
    if (!HOST_RE.test(base) || base.length > 253) invalid(source, index, e, '"pattern" must be a host name or "*." followed by a domain');
    if (wildcard && !base.includes('.')) invalid(source, index, e, '"pattern" is too broad (a wildcard needs at least two labels, e.g. "*.example.com")');

    let name: string;
    if (e.name === undefined) {
      name = builtins.find((b) => b.pattern === pattern)?.name ?? base;
    } else if (typeof e.name === 'string') {
      name = e.name.trim().toLowerCase();
    } else {
      return invalid(source, index, e, '"name" must be a string');
    }
    if (!NAME_RE.test(name)) invalid(source, index, e, `"name" must match ${NAME_RE.source}`);

    const rule: ProviderRule = { pattern, name };
    if (e.maxConnections !== undefined) {
      const v = e.maxConnections;
      const { min, max } = LIMIT_BOUNDS.maxConnections;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) invalid(source, index, e, `"maxConnections" must be an integer ${min}..${max}`);
      rule.maxConnections = v;
    }
    if (e.rcptPerSecond !== undefined) {
      const v = e.rcptPerSecond;
      const { min, max } = LIMIT_BOUNDS.rcptPerSecond;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) invalid(source, index, e, `"rcptPerSecond" must be a number ${min}..${max}`);
      rule.rcptPerSecond = v;
    }

    const prev = byName.get(name);
    if (prev && (prev.rule.maxConnections !== rule.maxConnections || prev.rule.rcptPerSecond !== rule.rcptPerSecond)) {
      invalid(source, index, e, `group "${name}" already has different limits in entry ${prev.index}; entries sharing a name share one budget`);
    }
    if (!prev) byName.set(name, { index, rule });
    out.push(rule);
  });
  return out;
}

/**
 * The ordered rule list: user rules first, then the built-ins. When a user rule names a built-in
 * group, its limits apply to every rule of that group (missing values keep the built-in's).
 */
export function buildProviderRules(user: readonly ProviderRule[] = [], builtins: readonly ProviderRule[] = BUILTIN_PROVIDERS): ProviderRule[] {
  const limits = new Map<string, Partial<ThrottleLimits>>();
  for (const b of builtins) {
    if (!limits.has(b.name)) limits.set(b.name, { maxConnections: b.maxConnections, rcptPerSecond: b.rcptPerSecond });
  }
  const seenUser = new Set<string>();
  for (const u of user) {
    if (seenUser.has(u.name)) continue;
    seenUser.add(u.name);
    const builtin = limits.get(u.name) ?? {};
    limits.set(u.name, {
      maxConnections: u.maxConnections ?? builtin.maxConnections,
      rcptPerSecond: u.rcptPerSecond ?? builtin.rcptPerSecond,
    });
  }
  const withLimits = (r: ProviderRule): ProviderRule => {
    const l = limits.get(r.name) ?? {};
    const out: ProviderRule = { pattern: r.pattern, name: r.name };
    if (l.maxConnections !== undefined) out.maxConnections = l.maxConnections;
    if (l.rcptPerSecond !== undefined) out.rcptPerSecond = l.rcptPerSecond;
    return out;
  };
  return [...user.map(withLimits), ...builtins.map(withLimits)];
}

/** Key prefix of a group as one egress identity uses it: `egress:<identity>:<group key>`. */
export const IDENTITY_KEY_PREFIX = 'egress:';

/**
 * The budget of `group` for one egress identity: the same limits under a key of its own, since the
 * receiving host sees every identity as a client of its own — two identities may each use the full
 * per-host budget, and a circuit opened for one leaves the others alone. The `default` identity (no
 * egress file) keeps the plain key, so a fleet without identities keys exactly as before.
 */
export function identityGroup(group: ThrottleGroup, identity: string | undefined, defaultIdentity = 'default'): ThrottleGroup {
  if (identity === undefined || identity === defaultIdentity) return group;
  return { ...group, key: `${IDENTITY_KEY_PREFIX}${identity}:${group.key}` };
}

