/**
 * Ready-made worlds. {@link demoWorld} covers every case the prober must handle, with the truth per address
 * (`expect`), for the demo, the integration tests and manual tries. Only reserved names (`*.test`, `*.example`).
 */
import type { Classification } from '../verdict.js';
import { expectedVerdictsOf, type SimWorldSpec } from './world.js';

/** Greylisting period of the demo's greylisting host, seconds. A prober must retry after at least this long. */
export const DEMO_GREYLIST_SECONDS = 2;
/** RCPT rate limit of the demo's rate-limited host (per client IP, any 1 s window). */
export const DEMO_RATE_LIMIT_PER_SECOND = 3;
/** Connection limit of the demo's rate-limited host (per client IP). */
export const DEMO_MAX_CONNECTIONS = 2;

/**
 * The demo world (a fresh object on every call). Domains:
 * - `acme.test` — normal provider, known mailboxes, a role account (`info`), unknown users;
 * - `catchall.test` — accepts every recipient;
 * - `greylist.test` — greylists every new triplet for {@link DEMO_GREYLIST_SECONDS} s;
 * - `mailboxes.example` — a full mailbox (452 4.2.2) and a disabled one (550 5.2.1);
 * - `backup.test` — primary MX dead (connection refused), backup MX (higher preference number) works;
 * - `nullmx.test` — RFC 7505 null MX;
 * - `nxdomain.test` — the domain does not exist;
 * - `implicit.example` — no MX, an A record pointing at a mail host (implicit MX, RFC 5321 §5.1);
 * - `nomail.test` — exists, but neither MX nor A;
 * - `servfail.test` — its DNS answers SERVFAIL;
 * - `ratelimit.test` — at most {@link DEMO_RATE_LIMIT_PER_SECOND} RCPT/s and {@link DEMO_MAX_CONNECTIONS}
 *   connections per client, bans after 10 violations;
 * - `secure.example` — offers STARTTLS.
 *
 * The truth assumes a prober that waits out greylisting (retry delay ≥ 2 s) and keeps to the limits above.
 */
export function demoWorld(): SimWorldSpec {
  return {
    domains: {
      'acme.test': {
        mx: [{ host: 'mx1.acme.test', preference: 10 }],
        expect: { alice: 'accepted', bob: 'accepted', 'carol.smith': 'accepted', info: 'role_account', nobody: 'mailbox_not_found', 'ghost.user': 'mailbox_not_found' },
      },
      'catchall.test': {
        mx: [{ host: 'mx.catchall.test', preference: 5 }],
        expect: { anyone: 'catch_all', 'whoever.else': 'catch_all' },
      },
      'greylist.test': {
        mx: [{ host: 'mx.greylist.test', preference: 10 }],
        expect: { dave: 'accepted', nobody: 'mailbox_not_found' },
      },
      'mailboxes.example': {
        mx: [{ host: 'mx.mailboxes.example', preference: 10 }],
        expect: { erin: 'accepted', frank: 'mailbox_full', grace: 'mailbox_disabled', nobody: 'mailbox_not_found' },
      },
      'backup.test': {
        mx: [
          { host: 'mx1.backup.test', preference: 10 },
          { host: 'mx2.backup.test', preference: 20 },
        ],
        expect: { heidi: 'accepted', nobody: 'mailbox_not_found' },
      },
      'nullmx.test': { mx: 'null', expect: { anyone: 'no_mail_server' } },
      'nxdomain.test': { nxdomain: true, expect: { anyone: 'no_domain' } },
      'implicit.example': {
        mx: 'none',
        a: ['mail.implicit.example'],
        expect: { ivan: 'accepted', nobody: 'mailbox_not_found' },
      },
      'nomail.test': { mx: 'none', expect: { anyone: 'no_mail_server' } },
      'servfail.test': { servfail: true, expect: { anyone: 'temporary_failure' } },
      'ratelimit.test': {
        mx: [{ host: 'mx.ratelimit.test', preference: 10 }],
        expect: { judy: 'accepted', ken: 'accepted', leo: 'accepted', mike: 'accepted', nobody: 'mailbox_not_found', 'no.one': 'mailbox_not_found' },
      },
      'secure.example': {
        mx: [{ host: 'mx.secure.example', preference: 10 }],
        expect: { oscar: 'accepted', nobody: 'mailbox_not_found' },
      },
    },
    hosts: {
      'mx1.acme.test': { mailboxes: ['alice', 'bob', 'carol.smith', 'info'] },
      'mx.catchall.test': { catchAll: true },
      'mx.greylist.test': { mailboxes: ['dave'], greylistSeconds: DEMO_GREYLIST_SECONDS },
      'mx.mailboxes.example': { mailboxes: ['erin'], full: ['frank'], disabled: ['grace'] },
      'mx1.backup.test': { refuse: true },
      'mx2.backup.test': { mailboxes: ['heidi'] },
      'mail.implicit.example': { mailboxes: ['ivan'] },
      'mx.ratelimit.test': {
        mailboxes: ['judy', 'ken', 'leo', 'mike'],
        maxRcptPerSecond: DEMO_RATE_LIMIT_PER_SECOND,
        maxConnectionsPerClient: DEMO_MAX_CONNECTIONS,
        banAfterViolations: 10,
        banSeconds: 30,
      },
      'mx.secure.example': { mailboxes: ['oscar'], startTls: true },
    },
  };
}

/** The truth per address of `spec` (default: the demo world): address → status and reason. */
export function expectedVerdicts(spec: SimWorldSpec = demoWorld()): Map<string, Classification> {
  return expectedVerdictsOf(spec);
}
