/**
 * Behaviour options of a simulated MX host. Every option is optional; the defaults describe a plain,
 * fast, well-behaved server that knows no mailbox.
 */

/** Behaviour of one simulated MX host. */
export interface SimMxHostOptions {
  /** Name in the banner and the EHLO reply. Default: the world's host name, else `sim-mx.listwash.test`. */
  hostname?: string;
  /**
   * Mailboxes that exist → `250 2.1.5 OK`. Entries are local parts (`bob`: any domain) or full addresses
   * (`bob@a.test`), case-insensitive. Any other recipient → `550 5.1.1 <addr>: Recipient address rejected:
   * User unknown`. Default: none.
   */
  mailboxes?: string[];
  /** Accept any recipient (after full/disabled/custom replies). Default false. */
  catchAll?: boolean;
  /** Mailboxes that are full (same matching as `mailboxes`; `true` = all) → {@link fullCode} reply. Default none. */
  full?: boolean | string[];
  /** Reply for a full mailbox: 452 → `452 4.2.2 Mailbox full`, 552 → `552 5.2.2 Mailbox full`. Default 452. */
  fullCode?: 452 | 552;
  /** Disabled mailboxes (same matching; `true` = all) → `550 5.2.1 Mailbox disabled`. Default none. */
  disabled?: boolean | string[];
  /**
   * Recipient domains this host accepts (case-insensitive); others → `554 5.7.1 <addr>: Relay access denied`.
   * Default: any domain.
   */
  domains?: string[];
  /**
   * Greylisting: a (client IP, MAIL FROM, RCPT TO) triplet gets `450 4.7.1 Greylisted, try again later` until
   * this many seconds have passed since its first attempt, then it is answered normally. Default 0 (off).
   */
  greylistSeconds?: number;
  /** More RCPTs than this in one transaction → `452 4.5.3 Too many recipients`. Default: unlimited. */
  maxRcptPerTransaction?: number;
  /** Advertise and support STARTTLS (self-signed certificate). Default false. */
  startTls?: boolean;
  /** Advertise PIPELINING. Input lines are processed in order either way. Default true. */
  pipelining?: boolean;
  /** Wait this long before the 220 banner. Default 0. */
  bannerDelayMs?: number;
  /** Wait this long before every reply (commands are answered one after another). Default 0. */
  replyDelayMs?: number;
  /**
   * Tarpit: `true` = accept the connection but never send the banner; a number N = answer the first N commands,
   * then read and ignore everything. Default off.
   */
  tarpit?: boolean | number;
  /** Answer the first N commands; when command N+1 arrives, reset the connection (TCP RST). Default off. */
  dropAfterCommands?: number;
  /**
   * Concurrent connections one client IP may hold; a further one gets `421 4.7.0 Too many connections, try
   * again later` and is closed (a connection-limit violation). Default: unlimited.
   */
  maxConnectionsPerClient?: number;
  /**
   * RCPTs one client IP may send in any sliding 1 s window; beyond that → `450 4.7.1 Rate limit exceeded, slow
   * down` (a rate violation; the rejected RCPT does not use up the window). Default: unlimited.
   */
  maxRcptPerSecond?: number;
  /**
   * After this many violations (connection limit or rate) the client IP is banned for {@link banSeconds}: new
   * connections get `554 5.7.1 Service unavailable; client host blocked` and are closed, and RCPTs in open
   * sessions get the same reply. Default: never.
   */
  banAfterViolations?: number;
  /** Length of a ban. Default 60. */
  banSeconds?: number;
  /**
   * Client IPs a DNS blocklist lists (`true`: every client). They are refused with
   * `554 5.7.1 Service unavailable; Client host [<ip>] blocked using dnsbl.sim.test` — at every RCPT TO (Postfix's
   * `reject_rbl_client` under `smtpd_recipient_restrictions`), or as the greeting with {@link dnsblStage} `connect`
   * (the connection stays open; every command but QUIT gets 503). Default: none.
   */
  dnsblClients?: true | string[];
  /** Where listed clients are refused: `rcpt` (default) or `connect`. */
  dnsblStage?: 'connect' | 'rcpt';
  /** Do not listen at all (a dead host: connections are refused). Read by `start()`. Default false. */
  refuse?: boolean;
  /**
   * Custom banner line(s) instead of `220 <hostname> ESMTP`, e.g. `554 5.7.1 No service`. A `421` banner closes
   * the connection; another non-2xx banner keeps it open and answers every command but QUIT with 503.
   */
  connectReply?: string;
  /** Custom reply to every valid MAIL FROM (e.g. `550 5.7.1 Sender rejected`); a 2xx one opens the transaction. */
  mailFromReply?: string;
  /**
   * Custom RCPT replies by full address or local part (case-insensitive), e.g. `{ 'odd': '553 5.1.3 Bad' }`.
   * Checked after the rate limit, recipient limit and greylisting, before everything else.
   */
  rcptReplies?: Record<string, string>;
}

/** Default name in banners. */
export const DEFAULT_SIM_HOSTNAME = 'sim-mx.listwash.test';
/** Default ban length, seconds. */
export const DEFAULT_BAN_SECONDS = 60;
/** SIZE advertised in EHLO. */
export const ADVERTISED_SIZE = 10_485_760;
