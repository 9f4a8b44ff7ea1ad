/**
 * All settings in one validated place: environment variables, optionally a JSON config file
 * (`LISTWASH_CONFIG=/path/to/listwash.json`, keys are the setting names below). The environment wins
 * over the file. `SETTINGS` is the single source of truth; the README table is generated from it
 * (`npx tsx scripts/config-docs.ts`).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { loadEgressIdentities } from './egress/identity.js';
import { ErrorCodes, ListwashError } from './errors.js';
import { parseRedisUrl, RedisUrlError } from './redis/url.js';
import { parseMaxAges, PolicyError } from './verdict-cache/policy.js';
import { TargetPolicy } from './net/targets.js';
import { parseWebhookSecrets } from './webhooks/secret.js';

type Kind = 'int' | 'bool' | 'string' | 'list' | 'intList';

interface SettingSpec {
  env: string;
  kind: Kind;
  /** Default value (before parsing); `undefined` means "computed" (see doc). */
  default: string | undefined;
  min?: number;
  max?: number;
  /**
   * Lists only. An empty value is an error unless `emptyMeans` says what an empty list does (then the doc says it too);
   * `none` is the explicit word for an empty list where one turns something off. Empty items (`1,,2`, `1,2,`) are
   * always errors.
   */
  emptyMeans?: string;
  none?: string;
  doc: string;
}

export const SETTINGS = {
  redisUrl: { env: 'REDIS_URL', kind: 'string', default: 'redis://127.0.0.1:6379', doc: 'Redis (BullMQ queues, throttle, caches): `redis://[user:password@]host:port[/db]`, `rediss://` for TLS. A Redis Cluster: `redis+cluster://[user:password@]host:port,host:port` (a few seed nodes; `rediss+cluster://` for TLS).' },
  queuePrefix: { env: 'LISTWASH_QUEUE_PREFIX', kind: 'string', default: '{listwash}', doc: 'BullMQ prefix and key prefix for all listwash keys. Keep the `{…}` hash tag on Redis Cluster.' },
  dnsServers: { env: 'LISTWASH_DNS_SERVERS', kind: 'list', default: '', emptyMeans: 'the system resolvers', doc: 'DNS servers, `ip[:port]` comma-separated. Empty: the system resolvers (/etc/resolv.conf).' },
  dnsTimeoutMs: { env: 'LISTWASH_DNS_TIMEOUT_MS', kind: 'int', default: '3000', min: 50, doc: 'Timeout of one DNS query attempt.' },
  dnsTries: { env: 'LISTWASH_DNS_TRIES', kind: 'int', default: '2', min: 1, max: 10, doc: 'Attempts per DNS query (rotating over the servers) before the answer is `temporary_failure`.' },
  dnsCacheMaxTtlSec: { env: 'LISTWASH_DNS_CACHE_MAX_TTL', kind: 'int', default: '3600', min: 0, doc: 'Upper bound on how long a DNS answer is cached (its own TTL is honoured below this).' },
  dnsNegativeTtlSec: { env: 'LISTWASH_DNS_NEGATIVE_TTL', kind: 'int', default: '300', min: 0, doc: 'Cache time for NXDOMAIN / no-data answers without an SOA minimum.' },
  smtpPort: { env: 'LISTWASH_SMTP_PORT', kind: 'int', default: '25', min: 1, max: 65535, doc: 'Port of the MX hosts.' },
  heloName: { env: 'LISTWASH_HELO_NAME', kind: 'string', default: undefined, doc: "Name sent in EHLO/HELO. Default: this machine's hostname. In production use a name whose A record and reverse DNS match the prober's IP." },
  mailFrom: { env: 'LISTWASH_MAIL_FROM', kind: 'string', default: undefined, doc: 'Envelope sender for MAIL FROM. Default: `listwash-probe@<helo name>`. Use a real mailbox of your own domain.' },
  startTls: { env: 'LISTWASH_STARTTLS', kind: 'bool', default: 'true', doc: 'Upgrade to TLS when the server offers STARTTLS.' },
  tlsVerify: { env: 'LISTWASH_TLS_VERIFY', kind: 'bool', default: 'false', doc: "Verify the server's certificate (MTAs usually do not)." },
  connectTimeoutMs: { env: 'LISTWASH_CONNECT_TIMEOUT_MS', kind: 'int', default: '10000', min: 10, doc: 'TCP connect timeout per MX address.' },
  bannerTimeoutMs: { env: 'LISTWASH_BANNER_TIMEOUT_MS', kind: 'int', default: '30000', min: 10, doc: 'Wait for the 220 greeting.' },
  commandTimeoutMs: { env: 'LISTWASH_COMMAND_TIMEOUT_MS', kind: 'int', default: '30000', min: 10, doc: 'Wait for each reply after a command.' },
  sessionTimeoutMs: { env: 'LISTWASH_SESSION_TIMEOUT_MS', kind: 'int', default: '300000', min: 100, doc: 'Hard cap on one SMTP session, whatever the server does (tarpits).' },
  rcptPerSession: { env: 'LISTWASH_RCPT_PER_SESSION', kind: 'int', default: '100', min: 1, max: 10000, doc: 'Most RCPT TO commands in one SMTP session (a batch larger than this uses more sessions).' },
  rcptPerTransaction: { env: 'LISTWASH_RCPT_PER_TRANSACTION', kind: 'int', default: '100', min: 1, max: 10000, doc: 'Most RCPT TO per MAIL FROM transaction (RFC 5321 guarantees 100); lowered automatically on `452 4.5.3`.' },
  catchAllProbe: { env: 'LISTWASH_CATCH_ALL_PROBE', kind: 'bool', default: 'true', doc: 'Probe a random local part first to detect catch-all domains.' },
  allowedTargets: { env: 'LISTWASH_ALLOWED_TARGETS', kind: 'list', default: 'public', doc: 'Which MX addresses may be contacted: `public` (any global unicast address), `loopback`, `any`, or CIDRs (comma-separated). An MX that points elsewhere gets `unknown/connection_failed` without traffic.' },
  mxMaxConnections: { env: 'LISTWASH_MX_MAX_CONNECTIONS', kind: 'int', default: '2', min: 1, max: 1000, doc: 'Fleet-wide concurrent SMTP sessions per MX host (or provider group).' },
  mxRcptPerSecond: { env: 'LISTWASH_MX_RCPT_PER_SECOND', kind: 'int', default: '2', min: 1, max: 10000, doc: 'Fleet-wide RCPT TO commands per second per MX host (or provider group), evenly spaced (GCRA).' },
  mxLeaseMs: { env: 'LISTWASH_MX_LEASE_MS', kind: 'int', default: '60000', min: 1000, doc: 'A session slot expires after this long unless renewed (a crashed worker never leaks a slot).' },
  mxCooldownMs: { env: 'LISTWASH_MX_COOLDOWN_MS', kind: 'int', default: '30000', min: 0, doc: 'Pause for a host after it said 421 / 4.7.x "slow down"; its budget halves and recovers slowly.' },
  blockedPatienceSec: { env: 'LISTWASH_BLOCKED_PATIENCE_SEC', kind: 'int', default: '900', min: 0, doc: 'How long a host whose circuit is open (ban signs that may pass: 4xx refusals of the prober) or that rate-limits us keeps its addresses waiting before they end `unknown/blocked` (or their last answer). A permanent refusal (a 5xx policy refusal such as a DNSBL listing) ends them at once, with the server\'s reply.' },
  providersFile: { env: 'LISTWASH_PROVIDERS_FILE', kind: 'string', default: '', doc: 'JSON file of per-provider throttle overrides: `[{"pattern":"*.google.com","maxConnections":5,"rcptPerSecond":10}]`. Built-in groups (Google, Microsoft, Yahoo, …) apply without it.' },
  egressFile: { env: 'LISTWASH_EGRESS_FILE', kind: 'string', default: '', doc: 'JSON file of egress identities: `[{"name":"ip2","bind":"192.0.2.2","helo":"v2.example.org","mailFrom":"probe@example.org"},{"name":"p1","socks":"socks5://user:pass@10.0.0.9:1080","helo":"v3.example.org","mailFrom":"probe@example.org"}]`. Each gets its own per-host throttle budget and circuit. Empty: one identity (`default`) from `LISTWASH_HELO_NAME` / `LISTWASH_MAIL_FROM`.' },
  greylistRetryDelays: { env: 'LISTWASH_GREYLIST_RETRY_DELAYS', kind: 'intList', default: '60,300,900,1800', min: 0, none: 'no greylist retries', doc: 'Seconds to wait before each retry of a 4xx-answered address; after the last it is `unknown/greylisted`. `none`: no retries (a 4xx answer is final at once). Empty is an error.' },
  batchSize: { env: 'LISTWASH_BATCH_SIZE', kind: 'int', default: '500', min: 1, max: 100000, doc: 'Most unique addresses in one per-domain batch job.' },
  workerConcurrency: { env: 'LISTWASH_WORKER_CONCURRENCY', kind: 'int', default: '16', min: 1, max: 1000, doc: 'Batch jobs one worker process runs at once.' },
  stalledIntervalMs: { env: 'LISTWASH_STALLED_INTERVAL_MS', kind: 'int', default: '15000', min: 100, max: 3600000, doc: 'How often each worker looks for jobs whose worker died (lock expired) and puts them back in the queue.' },
  lockDurationMs: { env: 'LISTWASH_LOCK_DURATION_MS', kind: 'int', default: '30000', min: 1000, max: 3600000, doc: "A running job's lock, renewed by its worker every half of this. A job of a dead worker runs again elsewhere after at most this plus `LISTWASH_STALLED_INTERVAL_MS`." },
  jobTtlSec: { env: 'LISTWASH_JOB_TTL', kind: 'int', default: '604800', min: 60, doc: "Per-list Redis state (results, counters) expires this long after the list's last activity." },
  cacheTtlSec: { env: 'LISTWASH_CACHE_TTL', kind: 'int', default: '3600', min: 0, doc: 'Catch-all results are shared in Redis this long.' },
  verdictCacheMaxAge: {
    env: 'LISTWASH_VERDICT_CACHE_MAX_AGE',
    kind: 'list',
    default: 'accepted=30d,mailbox_not_found=30d,mailbox_disabled=30d,rejected=30d,catch_all=7d,mailbox_full=1d',
    none: 'no verdict cache',
    doc: 'The fleet-wide verdict cache: how long a final verdict of each class (`reason=duration`, `s`/`m`/`h`/`d`/`w`) answers again for any list without SMTP. Classes not listed are not kept (also `no_domain`, `no_mail_server` may be); `unknown` verdicts never are. `none`: no cache. Empty is an error.',
  },
  verdictCacheMaxEntries: { env: 'LISTWASH_VERDICT_CACHE_MAX_ENTRIES', kind: 'int', default: '1000000', min: 0, max: 1000000000, doc: 'Most addresses the verdict cache keeps; beyond it the oldest verdicts go. Each takes about 350 bytes of Redis memory (1,000,000 ≈ 340 MiB; see README). 0: no cache.' },
  verdictCacheShards: { env: 'LISTWASH_VERDICT_CACHE_SHARDS', kind: 'int', default: '16', min: 1, max: 1024, doc: 'Shards of the verdict cache, each under its own Redis Cluster hash tag (so a cluster spreads it). Changing it loses most kept verdicts (addresses move to other shards; the old shards expire).' },
  doctorPort25Host: { env: 'LISTWASH_DOCTOR_PORT25_HOST', kind: 'string', default: 'gmail-smtp-in.l.google.com', doc: "Well-known MX that `listwash doctor` (and every worker at start) connects to, to see whether outbound port 25 is open: `host` or `host:port` (port default `LISTWASH_SMTP_PORT`). It reads the 220 greeting and sends QUIT, nothing else." },
  doctorTargets: { env: 'LISTWASH_DOCTOR_TARGETS', kind: 'list', default: '', emptyMeans: 'the same as LISTWASH_ALLOWED_TARGETS', doc: "Addresses the doctor's port-25 check may connect to, as in `LISTWASH_ALLOWED_TARGETS`. Empty: the same as `LISTWASH_ALLOWED_TARGETS`." },
  doctorTimeoutMs: { env: 'LISTWASH_DOCTOR_TIMEOUT_MS', kind: 'int', default: '5000', min: 10, max: 120000, doc: "The doctor's port-25 check: timeout of the TCP connect, and again of the wait for the greeting." },
  doctorIp: { env: 'LISTWASH_DOCTOR_IP', kind: 'string', default: '', doc: "The prober's public IP, for the doctor's reverse DNS, SPF and DNSBL checks when it sits behind NAT (as `listwash doctor --ip`). Empty: an identity's public `bind` address, else the local address of the port-25 check's connection." },
  dnsblZones: { env: 'LISTWASH_DNSBL_ZONES', kind: 'list', default: 'zen.spamhaus.org,bl.spamcop.net,b.barracudacentral.org,psbl.surriel.com,dnsbl-1.uceprotect.net', emptyMeans: 'no blocklist lookups', doc: 'DNS blocklists the doctor looks the egress IP up on (comma-separated zones). Empty: none (the check says it was skipped).' },
  doctorAtStart: { env: 'LISTWASH_DOCTOR_AT_START', kind: 'bool', default: 'true', doc: "`listwash worker` runs the doctor's checks at start and logs one line per check (it starts either way)." },
  logLevel: { env: 'LISTWASH_LOG_LEVEL', kind: 'string', default: 'info', doc: 'Worker log level: `fatal`, `error`, `warn`, `info` (one line per list event, finished batch and throttle signal), `debug`, `trace`, `silent`.' },
  logFormat: { env: 'LISTWASH_LOG_FORMAT', kind: 'string', default: 'auto', doc: 'Log lines on stderr: `json` (one JSON object a line), `pretty` (readable), `auto` (pretty on a terminal, else JSON).' },
  apiHost: { env: 'LISTWASH_API_HOST', kind: 'string', default: '127.0.0.1', doc: 'Address `listwash serve` listens on (`--host` wins). `0.0.0.0` listens on every interface.' },
  apiPort: { env: 'LISTWASH_API_PORT', kind: 'int', default: '8080', min: 0, max: 65535, doc: 'Port of `listwash serve` (`--port` wins; 0 picks a free port).' },
  apiKeys: { env: 'LISTWASH_API_KEYS', kind: 'list', default: '', emptyMeans: 'no keys from this variable', doc: 'HTTP API keys, comma-separated `name:token` pairs (token ≥ 16 characters). A key sees only the lists it submitted. Never logged. Empty: no keys from this variable (see the keys file and the admin key).' },
  apiKeysFile: { env: 'LISTWASH_API_KEYS_FILE', kind: 'string', default: '', doc: 'JSON file of API keys with per-key restrictions: `{"keys":[{"name":"crm","token":"…","inputPrefixes":["s3://in/crm/"],"outputPrefixes":["s3://out/crm/"],"admin":false}]}` (`tokenSha256` instead of `token` keeps the secret out of the file).' },
  adminKey: { env: 'LISTWASH_ADMIN_KEY', kind: 'string', default: '', doc: 'Token of the key named `admin`: opens the queue dashboard (`/admin/queues`) and `/metrics`, and works as an API key for its own lists.' },
  apiPublicUrl: { env: 'LISTWASH_API_PUBLIC_URL', kind: 'string', default: '', doc: "The API's address as clients reach it (e.g. `https://listwash.example.org`), for download links of local files. Empty: taken from each request's Host header." },
  uploadPrefix: { env: 'LISTWASH_UPLOAD_PREFIX', kind: 'string', default: '', doc: 'Where `POST /v1/lists` stores uploaded CSV files (`s3://bucket/prefix/` or `file:///dir/`). Empty: uploads are refused.' },
  uploadMaxBytes: { env: 'LISTWASH_UPLOAD_MAX_BYTES', kind: 'int', default: '1073741824', min: 1, doc: 'Largest CSV upload accepted by `POST /v1/lists` (bytes); a larger one is answered `413`.' },
  outputPrefix: { env: 'LISTWASH_OUTPUT_PREFIX', kind: 'string', default: '', doc: 'Default output of lists submitted over HTTP without `output`: `<prefix><list id>/`. Empty: `output` is required.' },
  localRoot: { env: 'LISTWASH_LOCAL_ROOT', kind: 'string', default: '', doc: 'The only directory whose files the HTTP API may read or write through `file://` locations (no `..`, no symlink leading out). Empty: `file://` locations are refused over HTTP.' },
  downloadUrlTtlSec: { env: 'LISTWASH_DOWNLOAD_URL_TTL_SEC', kind: 'int', default: '3600', min: 1, max: 604800, doc: 'Lifetime of the pre-signed S3 download URLs of result files: in `GET /v1/lists/:id/files` and in webhook payloads (signed at each attempt).' },
  verifyMaxAddresses: { env: 'LISTWASH_VERIFY_MAX_ADDRESSES', kind: 'int', default: '25', min: 1, max: 1000, doc: 'Most addresses one `POST /v1/verify` request may carry.' },
  verifyDeadlineMs: { env: 'LISTWASH_VERIFY_DEADLINE_MS', kind: 'int', default: '30000', min: 100, max: 600000, doc: '`POST /v1/verify` answers by this deadline at the latest (a request may ask for less); addresses still open then are `unknown`.' },
  webhookSecret: {
    env: 'LISTWASH_WEBHOOK_SECRET',
    kind: 'list',
    default: '',
    emptyMeans: 'no secret: lists with a callbackUrl are refused at submit',
    doc: 'Signing secret of webhooks (Standard Webhooks): `whsec_` + base64 of 24–64 random bytes, e.g. `echo whsec_$(openssl rand -base64 32)`. Comma-separated to rotate: every secret signs, receivers accept any. Empty: lists with a `callbackUrl` are refused at submit. Never logged.',
  },
  webhookAllowedTargets: { env: 'LISTWASH_WEBHOOK_ALLOWED_TARGETS', kind: 'list', default: 'public', doc: 'Which addresses webhooks may connect to, checked on the address connected to: `public`, `loopback`, `any`, or CIDRs (as `LISTWASH_ALLOWED_TARGETS`). A callback to another address (private, link-local, cloud metadata) is refused and recorded on the list.' },
  webhookTimeoutMs: { env: 'LISTWASH_WEBHOOK_TIMEOUT_MS', kind: 'int', default: '10000', min: 100, max: 300000, doc: 'One webhook attempt: connect, send and the answer\'s status line within this time, else it is retried.' },
  webhookRetryDelayMs: { env: 'LISTWASH_WEBHOOK_RETRY_DELAY_MS', kind: 'int', default: '5000', min: 10, max: 3600000, doc: 'Wait before the first webhook retry; each next wait doubles, up to one hour.' },
  webhookRetryWindowSec: { env: 'LISTWASH_WEBHOOK_RETRY_WINDOW_SEC', kind: 'int', default: '86400', min: 0, max: 2592000, doc: 'Webhook retries stop once the next attempt would start this long after the first (0: one attempt only).' },
  watchIntervalSec: { env: 'LISTWASH_WATCH_INTERVAL_SEC', kind: 'int', default: '30', min: 1, max: 86400, doc: '`listwash watch`: seconds between two listings of the watched prefix.' },
  s3Endpoint: { env: 'S3_ENDPOINT', kind: 'string', default: '', doc: 'S3-compatible endpoint (MinIO, s3rver); implies path-style addressing. Empty: AWS.' },
  s3Region: { env: 'AWS_REGION', kind: 'string', default: 'us-east-1', doc: 'S3 region. Credentials come from the standard AWS chain.' },
  s3ForcePathStyle: { env: 'S3_FORCE_PATH_STYLE', kind: 'bool', default: 'false', doc: 'Path-style bucket addressing (on by itself when S3_ENDPOINT is set).' },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;

type ValueOf<K extends Kind> = K extends 'int' ? number : K extends 'bool' ? boolean : K extends 'list' ? string[] : K extends 'intList' ? number[] : string;

export type Config = { [K in SettingName]: ValueOf<(typeof SETTINGS)[K]['kind']> };

function fail(name: string, env: string, message: string): never {
  throw new ListwashError(ErrorCodes.CONFIG_INVALID, `${env}: ${message}`, { setting: name, env });
}

function parseInt10(name: string, spec: SettingSpec, raw: string): number {
  const t = raw.trim();
  if (!/^-?\d+$/.test(t)) fail(name, spec.env, `expected an integer, got ${JSON.stringify(raw)}`);
  const n = Number(t);
  if (spec.min !== undefined && n < spec.min) fail(name, spec.env, `must be ≥ ${spec.min}, got ${n}`);
  if (spec.max !== undefined && n > spec.max) fail(name, spec.env, `must be ≤ ${spec.max}, got ${n}`);
  return n;
}

/**
 * The comma-separated items of a list setting, trimmed. `none` (where the setting has it) is the empty list; an empty
 * value is the empty list only where the setting says what that means (`emptyMeans`); an empty item is always an error —
 * a stray comma must not silently drop a value.
 */
function listItems(name: string, spec: SettingSpec, raw: string): string[] {
  const t = raw.trim();
  if (spec.none !== undefined && t.toLowerCase() === 'none') return [];
  if (t === '') {
    if (spec.emptyMeans !== undefined) return [];
    fail(name, spec.env, spec.none !== undefined ? `is empty; set it to \`none\` for ${spec.none}` : 'is empty; expected a comma-separated list');
  }
  const items = t.split(',').map((s) => s.trim());
  const gap = items.indexOf('');
  if (gap !== -1) fail(name, spec.env, `item ${gap + 1} of ${JSON.stringify(raw)} is empty (a stray comma?)`);
  return items;
}

function parseValue(name: string, spec: SettingSpec, raw: string): unknown {
  switch (spec.kind) {
    case 'int':
      return parseInt10(name, spec, raw);
    case 'bool': {
      const t = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(t)) return true;
      if (['0', 'false', 'no', 'off'].includes(t)) return false;
      return fail(name, spec.env, `expected true/false, got ${JSON.stringify(raw)}`);
    }
    case 'list':
      return listItems(name, spec, raw);
    case 'intList':
      return listItems(name, spec, raw).map((p) => parseInt10(name, spec, p));
    case 'string':
      return raw.trim();
  }
}

function fileValueToRaw(name: string, spec: SettingSpec, v: unknown): string {
  // An empty array is the explicit empty list where the setting has one (`none`).
  if (Array.isArray(v)) return v.length === 0 && spec.none !== undefined ? 'none' : v.map(String).join(',');
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return fail(name, spec.env, `config file value must be a string, number, boolean or array`);
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ListwashError(ErrorCodes.CONFIG_FILE, `cannot read config file ${path}: ${(err as Error).message}`, { path }, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ListwashError(ErrorCodes.CONFIG_FILE, `config file ${path} is not valid JSON: ${(err as Error).message}`, { path }, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ListwashError(ErrorCodes.CONFIG_FILE, `config file ${path} must hold a JSON object`, { path });
  }
  for (const key of Object.keys(parsed)) {
    if (!(key in SETTINGS)) {
      throw new ListwashError(ErrorCodes.CONFIG_FILE, `config file ${path}: unknown setting ${JSON.stringify(key)}`, { path, key });
    }
  }
  return parsed as Record<string, unknown>;
}

/**
 * Load and validate the configuration.
 * @param env environment (default `process.env`); `LISTWASH_CONFIG` names an optional JSON file.
 * @param overrides values that win over both (used by tests and the CLI's flags).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const file = env.LISTWASH_CONFIG ? readConfigFile(env.LISTWASH_CONFIG) : {};
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(SETTINGS) as [SettingName, SettingSpec][]) {
    let raw: string | undefined = env[spec.env];
    if (raw === undefined && name in file) raw = fileValueToRaw(name, spec, file[name]);
    if (raw === undefined) raw = spec.default;
    out[name] = raw === undefined ? undefined : parseValue(name, spec, raw);
  }
  const cfg = { ...out, ...overrides } as Config;
  if (!cfg.heloName) cfg.heloName = hostname() || 'localhost';
  if (!cfg.mailFrom) cfg.mailFrom = `listwash-probe@${cfg.heloName}`;
  validate(cfg);
  return cfg;
}

function validate(cfg: Config): void {
  if (/[\s<>\r\n\0]/.test(cfg.heloName)) fail('heloName', 'LISTWASH_HELO_NAME', 'must be a host name without spaces or brackets');
  if (/[\s<>\r\n\0]/.test(cfg.mailFrom) || (cfg.mailFrom !== '' && !cfg.mailFrom.includes('@'))) {
    fail('mailFrom', 'LISTWASH_MAIL_FROM', 'must be an address like probe@example.org');
  }
  for (const s of cfg.dnsServers) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[0-9.]+|[0-9a-fA-F:]+)(:\d+)?$/.test(s)) fail('dnsServers', 'LISTWASH_DNS_SERVERS', `not ip[:port]: ${JSON.stringify(s)}`);
  }
  try {
    parseRedisUrl(cfg.redisUrl);
  } catch (err) {
    if (!(err instanceof RedisUrlError)) throw err;
    fail('redisUrl', 'REDIS_URL', err.message);
  }
  try {
    parseMaxAges(cfg.verdictCacheMaxAge);
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    fail('verdictCacheMaxAge', 'LISTWASH_VERDICT_CACHE_MAX_AGE', err.message);
  }
  if (parseRedisUrl(cfg.redisUrl).kind === 'cluster' && !/\{[^{}]+\}/.test(cfg.queuePrefix)) {
    fail('queuePrefix', 'LISTWASH_QUEUE_PREFIX', `must hold a {…} hash tag on a Redis Cluster (BullMQ keeps each queue in one slot), e.g. {listwash}; got ${JSON.stringify(cfg.queuePrefix)}`);
  }
  if (cfg.doctorIp !== '' && isIP(cfg.doctorIp) === 0) fail('doctorIp', 'LISTWASH_DOCTOR_IP', `not an IP address: ${JSON.stringify(cfg.doctorIp)}`);
  if (cfg.doctorPort25Host === '') fail('doctorPort25Host', 'LISTWASH_DOCTOR_PORT25_HOST', 'must name a host (host or host:port)');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(cfg.logLevel)) fail('logLevel', 'LISTWASH_LOG_LEVEL', `expected fatal, error, warn, info, debug, trace or silent, got ${JSON.stringify(cfg.logLevel)}`);
  if (!['auto', 'json', 'pretty'].includes(cfg.logFormat)) fail('logFormat', 'LISTWASH_LOG_FORMAT', `expected auto, json or pretty, got ${JSON.stringify(cfg.logFormat)}`);
  // The egress file is read and checked here, so a mistake fails at start, not in the first session.
  loadEgressIdentities(cfg);
  if (cfg.greylistRetryDelays.length > 20) fail('greylistRetryDelays', 'LISTWASH_GREYLIST_RETRY_DELAYS', 'at most 20 retries');
  // Checked here so a typo fails at start, not at the first list's end. The messages never show a secret.
  parseWebhookSecrets(cfg.webhookSecret);
  new TargetPolicy(cfg.webhookAllowedTargets, { env: 'LISTWASH_WEBHOOK_ALLOWED_TARGETS', setting: 'webhookAllowedTargets' });
}
