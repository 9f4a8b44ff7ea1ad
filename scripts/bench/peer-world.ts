/**
 * The world of bench:peers: the demo world's behaviours (src/world/scenarios.ts) at scale — a few thousand
 * addresses over plain hosts, catch-all, greylisting, full and disabled mailboxes, a dead primary with a
 * working backup MX, implicit MX, a strict host that bans abusers, a tarpit, null MX, NXDOMAIN, no mail
 * server, SERVFAIL, a disposable-mail domain and invalid syntax. Every address has its truth in the spec's
 * `expect` (read back with `expectedVerdictsOf`) and one category, the behaviour that decides it.
 *
 * Every host gets the same limits as listwash's throttle settings (connections per client, RCPT per second),
 * a small reply delay (a network round trip), and answers what the demo world's hosts answer. Domain names are
 * reserved (`*.test`, `*.example`) except `mailinator.com`, which is needed for the disposable-domain lists of
 * both tools; the world's DNS serves it on loopback like every other name.
 */
import { expectedVerdictsOf, type SimHostSpec, type SimWorldSpec } from '../../src/world/index.js';
import type { Reason } from '../../src/verdict.js';
import { seededRandom } from './common.js';

export interface PeerWorldOptions {
  /** Addresses in the list (about; each category gets its share, rounded). */
  total: number;
  seed: number;
  /** Per-host limits, per client IP: the same as listwash's LISTWASH_MX_MAX_CONNECTIONS / _RCPT_PER_SECOND. */
  maxConnections: number;
  rcptPerSecond: number;
  /** Greylisting period of the greylisting hosts, seconds. */
  greylistSeconds: number;
  /** Delay before the banner and every reply of every host, ms. */
  replyDelayMs: number;
}

/** The behaviours compared, in report order. */
export const CATEGORIES = [
  'accepted',
  'mailbox not found',
  'role account',
  'catch-all',
  'greylisting',
  'mailbox full',
  'mailbox disabled',
  'dead primary, backup MX',
  'implicit MX (A only)',
  'strict host (bans)',
  'tarpit',
  'null MX',
  'NXDOMAIN',
  'no MX, no A',
  'SERVFAIL',
  'disposable domain',
  'invalid syntax',
] as const;
export type Category = (typeof CATEGORIES)[number];

export interface PeerWorld {
  spec: SimWorldSpec;
  /** The list in file order (shuffled): unique strings, some not addresses at all. */
  addresses: string[];
  /** Address → the reason a correct prober reaches (the spec's `expect`, plus invalid syntax). */
  truth: Map<string, Reason>;
  category: Map<string, Category>;
}

/** Local parts listwash's role list knows; they exist on the plain hosts. */
const ROLES = ['info', 'sales', 'support', 'admin'];
const FIRST = ['james', 'mary', 'john', 'linda', 'david', 'susan', 'lea', 'juergen', 'sofia', 'yuki', 'chen', 'olga'];
const LAST = ['smith', 'brown', 'garcia', 'miller', 'mueller', 'dubois', 'rossi', 'tanaka', 'kim', 'nguyen', 'silva'];
/** Invalid strings (`#` = a running number, so every one is unique). The last one passes the peer's regex. */
const INVALID = ['not-an-email-#', 'john.doe#@', '@nobody#.test', 'jane doe#@acme.test', 'a#@@b.test', 'foo#@bar', 'x#@-bad-.test'];

/** Builds the spec: hosts, domains with their truth, and the list. */
class Builder {
  readonly spec: SimWorldSpec = { domains: {}, hosts: {} };
  readonly addresses: string[] = [];
  readonly category = new Map<string, Category>();
  readonly invalid = new Map<string, Reason>();
  private n = 0;

  constructor(
    private readonly o: PeerWorldOptions,
    readonly rnd: () => number,
  ) {}

  /** A host with the common limits and delays. */
  host(name: string, behaviour: SimHostSpec): void {
    this.spec.hosts![name] = {
      maxConnectionsPerClient: this.o.maxConnections,
      maxRcptPerSecond: this.o.rcptPerSecond,
      bannerDelayMs: this.o.replyDelayMs,
      replyDelayMs: this.o.replyDelayMs,
      ...behaviour,
    };
  }

  /** A domain routed to `mx` (or another DNS shape), with no addresses yet. */
  domain(name: string, d: Omit<SimWorldSpec['domains'][string], 'expect'>): void {
    this.spec.domains[name] = { ...d, expect: {} };
  }

  /** A fresh, realistic local part. */
  local(): string {
    const pick = (l: string[]) => l[Math.floor(this.rnd() * l.length)] as string;
    return `${pick(FIRST)}.${pick(LAST)}${++this.n}`;
  }

  /** Add `local@domain` to the list with its truth and category. */
  add(local: string, domain: string, reason: Reason, category: Category): string {
    const address = `${local}@${domain}`;
    this.spec.domains[domain]!.expect![local] = reason;
    this.addresses.push(address);
    this.category.set(address, category);
    return address;
  }

  /** `count` addresses spread over `domains`; a share `exist` of them exist (accepted), the others do not. */
  people(domains: string[], count: number, exist: number, category: Category | null, mailboxes: Map<string, string[]>): void {
    for (let k = 0; k < count; k++) {
      const domain = domains[k % domains.length] as string;
      const local = this.local();
      const ok = this.rnd() < exist;
      if (ok) mailboxes.get(domain)?.push(local);
      this.add(local, domain, ok ? 'accepted' : 'mailbox_not_found', category ?? (ok ? 'accepted' : 'mailbox not found'));
    }
  }

  /** `count` addresses at `domains` that all get `reason` (DNS-level and catch-all cases). */
  same(domains: string[], count: number, reason: Reason, category: Category): void {
    for (let k = 0; k < count; k++) this.add(this.local(), domains[k % domains.length] as string, reason, category);
  }

  /** An invalid list entry (no domain in the world). */
  addInvalid(s: string): void {
    this.addresses.push(s);
    this.invalid.set(s, 'invalid_syntax');
    this.category.set(s, 'invalid syntax');
  }
}

/** Shares of the list per scenario (the plain hosts take the rest). */
const SHARE = {
  catchAll: 0.08,
  greylist: 0.07,
  full: 0.03,
  disabled: 0.03,
  backup: 0.05,
  implicit: 0.04,
  strict: 0.05,
  tarpit: 0.005,
  nullMx: 0.02,
  nxdomain: 0.02,
  noMail: 0.015,
  servfail: 0.015,
  disposable: 0.01,
  invalid: 0.01,
};

const PLAIN = ['acme.test', 'globex.test', 'initech.test', 'umbrella.test', 'hooli.test', 'wayne.test'];

/** Plain hosts: known mailboxes, unknown users, role accounts; one offers STARTTLS. */
function plainHosts(b: Builder, count: number): void {
  const boxes = new Map(PLAIN.map((d) => [d, [...ROLES]]));
  for (const d of PLAIN) b.domain(d, { mx: [{ host: `mx.${d}`, preference: 10 }] });
  b.people(PLAIN, count, 0.65, null, boxes);
  for (const d of PLAIN) for (const r of ROLES) b.add(r, d, 'role_account', 'role account');
  PLAIN.forEach((d, i) => b.host(`mx.${d}`, { mailboxes: boxes.get(d)!, ...(i === 0 ? { startTls: true } : {}) }));
}

/** Hosts whose behaviour decides every address they serve. */
function specialHosts(b: Builder, n: (share: number) => number, o: PeerWorldOptions): void {
  const cat = ['anything-goes.test', 'wildcard.example'];
  for (const d of cat) {
    b.domain(d, { mx: [{ host: `mx.${d}`, preference: 5 }] });
    b.host(`mx.${d}`, { catchAll: true });
  }
  b.same(cat, n(SHARE.catchAll), 'catch_all', 'catch-all');

  const grey = ['greylist.test', 'slowpost.example'];
  const greyBoxes = new Map(grey.map((d) => [d, [] as string[]]));
  for (const d of grey) b.domain(d, { mx: [{ host: `mx.${d}`, preference: 10 }] });
  b.people(grey, n(SHARE.greylist), 0.6, 'greylisting', greyBoxes);
  for (const d of grey) b.host(`mx.${d}`, { mailboxes: greyBoxes.get(d)!, greylistSeconds: o.greylistSeconds });

  const boxes = 'mailboxes.example';
  b.domain(boxes, { mx: [{ host: `mx.${boxes}`, preference: 10 }] });
  const full: string[] = [];
  const disabled: string[] = [];
  for (let k = 0; k < n(SHARE.full); k++) full.push(b.local());
  for (let k = 0; k < n(SHARE.disabled); k++) disabled.push(b.local());
  for (const l of full) b.add(l, boxes, 'mailbox_full', 'mailbox full');
  for (const l of disabled) b.add(l, boxes, 'mailbox_disabled', 'mailbox disabled');
  b.host(`mx.${boxes}`, { full, disabled });

  const backup = 'backup.test';
  b.domain(backup, { mx: [{ host: `mx1.${backup}`, preference: 10 }, { host: `mx2.${backup}`, preference: 20 }] });
  const backupBoxes = new Map([[backup, [] as string[]]]);
  b.people([backup], n(SHARE.backup), 0.6, 'dead primary, backup MX', backupBoxes);
  b.host(`mx1.${backup}`, { refuse: true });
  b.host(`mx2.${backup}`, { mailboxes: backupBoxes.get(backup)! });

  const implicit = 'implicit.example';
  b.domain(implicit, { mx: 'none', a: [`mail.${implicit}`] });
  const implicitBoxes = new Map([[implicit, [] as string[]]]);
  b.people([implicit], n(SHARE.implicit), 0.6, 'implicit MX (A only)', implicitBoxes);
  b.host(`mail.${implicit}`, { mailboxes: implicitBoxes.get(implicit)! });

  const strict = 'strict.test';
  b.domain(strict, { mx: [{ host: `mx.${strict}`, preference: 10 }] });
  const strictBoxes = new Map([[strict, [] as string[]]]);
  b.people([strict], n(SHARE.strict), 0.6, 'strict host (bans)', strictBoxes);
  b.host(`mx.${strict}`, { mailboxes: strictBoxes.get(strict)!, banAfterViolations: 10, banSeconds: 30 });

  const tarpit = 'tarpit.test';
  b.domain(tarpit, { mx: [{ host: `mx.${tarpit}`, preference: 10 }] });
  b.host(`mx.${tarpit}`, { tarpit: true });
  b.same([tarpit], n(SHARE.tarpit), 'timeout', 'tarpit');

  // Disposable-mail services accept any recipient.
  const disposable = 'mailinator.com';
  b.domain(disposable, { mx: [{ host: `mx.${disposable}`, preference: 10 }] });
  b.host(`mx.${disposable}`, { catchAll: true });
  b.same([disposable], n(SHARE.disposable), 'disposable', 'disposable domain');
}

/** Domains whose DNS decides. */
function dnsCases(b: Builder, n: (share: number) => number): void {
  const nullMx = ['nullmx.test', 'no-inbound.example'];
  for (const d of nullMx) b.domain(d, { mx: 'null' });
  b.same(nullMx, n(SHARE.nullMx), 'no_mail_server', 'null MX');
  const nx = ['nxdomain.test', 'gone-away.test', 'never-was.example', 'expired-brand.test'];
  for (const d of nx) b.domain(d, { nxdomain: true });
  b.same(nx, n(SHARE.nxdomain), 'no_domain', 'NXDOMAIN');
  const none = ['parked.test', 'web-only.example'];
  for (const d of none) b.domain(d, { mx: 'none' });
  b.same(none, n(SHARE.noMail), 'no_mail_server', 'no MX, no A');
  const sf = ['servfail.test', 'broken-dns.example'];
  for (const d of sf) b.domain(d, { servfail: true });
  b.same(sf, n(SHARE.servfail), 'temporary_failure', 'SERVFAIL');
}

/** Build the world and the list (deterministic for a seed). */
export function peerWorld(o: PeerWorldOptions): PeerWorld {
  const b = new Builder(o, seededRandom(o.seed));
  const n = (share: number) => Math.max(1, Math.round(o.total * share));
  const special = Object.values(SHARE).reduce((a, s) => a + n(s), 0);
  plainHosts(b, Math.max(PLAIN.length, o.total - special - PLAIN.length * ROLES.length));
  specialHosts(b, n, o);
  dnsCases(b, n);
  for (let k = 0; k < n(SHARE.invalid); k++) b.addInvalid((INVALID[k % INVALID.length] as string).replace('#', String(k)));

  const truth = new Map<string, Reason>();
  for (const [address, c] of expectedVerdictsOf(b.spec)) truth.set(address, c.reason);
  for (const [s, r] of b.invalid) truth.set(s, r);
  const addresses = [...b.addresses];
  for (let i = addresses.length - 1; i > 0; i--) {
    const j = Math.floor(b.rnd() * (i + 1));
    [addresses[i], addresses[j]] = [addresses[j] as string, addresses[i] as string];
  }
  return { spec: b.spec, addresses, truth, category: b.category };
}
