/**
 * Typed errors with stable string codes. Catch by `err instanceof ListwashError && err.code === '…'`;
 * codes never change meaning once released.
 */
export const ErrorCodes = {
  /** A setting failed validation (env var or config file). */
  CONFIG_INVALID: 'CONFIG_INVALID',
  /** The config file could not be read or parsed. */
  CONFIG_FILE: 'CONFIG_FILE',
  /** A storage URL is not `s3://bucket/key`, `file://…` or a path. */
  STORAGE_BAD_URL: 'STORAGE_BAD_URL',
  /** The object or file does not exist. */
  STORAGE_NOT_FOUND: 'STORAGE_NOT_FOUND',
  /** Reading or writing storage failed (other than the specific storage codes below). */
  STORAGE_IO: 'STORAGE_IO',
  /** The storage is read-only (EROFS): nothing can be written there. Permanent. */
  STORAGE_READ_ONLY: 'STORAGE_READ_ONLY',
  /** The storage refused access: permission denied (EACCES/EPERM), S3 `AccessDenied`/HTTP 403, unknown or bad credentials. Permanent. */
  STORAGE_ACCESS_DENIED: 'STORAGE_ACCESS_DENIED',
  /** No space left on the device (ENOSPC) or the disk quota is used up (EDQUOT). Permanent for the run. */
  STORAGE_NO_SPACE: 'STORAGE_NO_SPACE',
  /** The input is not a text CSV (binary, wrong encoding). */
  CSV_NOT_TEXT: 'CSV_NOT_TEXT',
  /** The input is empty. */
  CSV_EMPTY: 'CSV_EMPTY',
  /** A quoted field is never closed. */
  CSV_UNTERMINATED_QUOTE: 'CSV_UNTERMINATED_QUOTE',
  /** The CSV could not be parsed (other than an unterminated quote). */
  CSV_MALFORMED: 'CSV_MALFORMED',
  /** No column holds email addresses, or the named column does not exist. */
  CSV_NO_EMAIL_COLUMN: 'CSV_NO_EMAIL_COLUMN',
  /** A DNS query failed in a way that is not an answer (bad server list, socket error). */
  DNS_FAILURE: 'DNS_FAILURE',
  /** An SMTP session failed before any verdict (used internally; surfaces as verdicts). */
  SMTP_SESSION: 'SMTP_SESSION',
  /** A list job with this id already exists. */
  JOB_EXISTS: 'JOB_EXISTS',
  /** No list job with this id. */
  JOB_NOT_FOUND: 'JOB_NOT_FOUND',
  /** A job's payload failed validation. */
  JOB_INVALID: 'JOB_INVALID',
  /** The job failed; see the message. */
  JOB_FAILED: 'JOB_FAILED',
  /**
   * A list's state disappeared from Redis while it ran (deleted, expired, or Redis restarted without
   * persistence): the list cannot complete; submit it again.
   */
  LIST_STATE_LOST: 'LIST_STATE_LOST',
  /**
   * The list has ended (done, failed, cancelled) or is past the step asked for: the work does not
   * happen (a cancelled list's remaining batches stop; a finished list cannot be cancelled).
   */
  LIST_ENDED: 'LIST_ENDED',
  /** The list has not finished: its result files do not exist yet. */
  LIST_NOT_DONE: 'LIST_NOT_DONE',
  /** Redis does not answer at REDIS_URL (or, for a Redis Cluster, does not serve every slot). */
  REDIS_UNAVAILABLE: 'REDIS_UNAVAILABLE',
  /**
   * Nothing answers at the default Redis address, REDIS_URL is not set, and there is no `redis-server` on
   * PATH to start a private one (`listwash clean`, `demo`): the message names the fixes.
   */
  REDIS_SERVER_MISSING: 'REDIS_SERVER_MISSING',
  /**
   * REDIS_URL names one server (`redis://`) but the server is a node of a Redis Cluster, or names a
   * cluster (`redis+cluster://`) but the server has no cluster support: the message says which URL to use.
   */
  REDIS_CLUSTER_MISMATCH: 'REDIS_CLUSTER_MISMATCH',
  /** A command-line usage error. */
  CLI_USAGE: 'CLI_USAGE',
  /** A target address is outside LISTWASH_ALLOWED_TARGETS. */
  TARGET_NOT_ALLOWED: 'TARGET_NOT_ALLOWED',
  /** A fleet-wide MX session slot (throttle lease) expired or could not be renewed while the session ran. */
  THROTTLE_LEASE_LOST: 'THROTTLE_LEASE_LOST',
  /** The simulated mail world (test/demo infrastructure, `src/world/`) got a bad spec or could not bind. */
  SIM_WORLD: 'SIM_WORLD',
  /** HTTP API: the request carries no API key, or one this server does not know (`Authorization: Bearer <token>`). */
  API_UNAUTHORIZED: 'API_UNAUTHORIZED',
  /** HTTP API: the key is valid but may not use this route (the queue dashboard and `/metrics` need the admin key). */
  API_FORBIDDEN: 'API_FORBIDDEN',
  /** HTTP API: a request failed validation; the error's `field` names the offending field. */
  API_VALIDATION: 'API_VALIDATION',
  /** HTTP API: an upload or request body is larger than allowed (`LISTWASH_UPLOAD_MAX_BYTES` for uploads). */
  API_PAYLOAD_TOO_LARGE: 'API_PAYLOAD_TOO_LARGE',
  /** HTTP API: the request's Content-Type is not one the route takes. */
  API_UNSUPPORTED_MEDIA_TYPE: 'API_UNSUPPORTED_MEDIA_TYPE',
  /** HTTP API: no such route. */
  API_NOT_FOUND: 'API_NOT_FOUND',
  /** HTTP API: an unexpected server error (the server's log has the details; the answer never does). */
  API_INTERNAL: 'API_INTERNAL',
  /** HTTP API: uploads are not enabled on this server (`LISTWASH_UPLOAD_PREFIX` is empty). */
  UPLOADS_DISABLED: 'UPLOADS_DISABLED',
  /**
   * A location outside what the API key or the server allows: a key's input/output prefix restriction,
   * a `file://` path outside `LISTWASH_LOCAL_ROOT` (or local paths not enabled), a `..` segment, a
   * symbolic link leading out of the root.
   */
  LOCATION_NOT_ALLOWED: 'LOCATION_NOT_ALLOWED',
  /**
   * A list with a `callbackUrl` was submitted, or its webhook fell due, while `LISTWASH_WEBHOOK_SECRET` is
   * empty: listwash never sends unsigned webhooks (a worker retries the delivery until its window ends).
   */
  WEBHOOK_SECRET_MISSING: 'WEBHOOK_SECRET_MISSING',
  /**
   * A webhook's host is (or resolves to) an address outside `LISTWASH_WEBHOOK_ALLOWED_TARGETS` (loopback,
   * private, link-local, cloud metadata, … with the default `public`): refused without a connection, not retried.
   */
  WEBHOOK_TARGET_NOT_ALLOWED: 'WEBHOOK_TARGET_NOT_ALLOWED',
  /**
   * A webhook attempt failed: the receiver answered other than 2xx (a redirect is not followed), or the
   * connection failed (DNS, refused, reset, TLS). Retried with back-off until the retry window ends.
   */
  WEBHOOK_DELIVERY: 'WEBHOOK_DELIVERY',
  /** A webhook attempt got no answer within `LISTWASH_WEBHOOK_TIMEOUT_MS`. Retried like `WEBHOOK_DELIVERY`. */
  WEBHOOK_TIMEOUT: 'WEBHOOK_TIMEOUT',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class ListwashError extends Error {
  readonly code: ErrorCode;
  /** Structured context (line number, setting name, URL, …). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ListwashError';
    this.code = code;
    this.details = details;
  }
}

export function isListwashError(err: unknown, code?: ErrorCode): err is ListwashError {
  return err instanceof ListwashError && (code === undefined || err.code === code);
}

/** Message of any thrown value, for logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
