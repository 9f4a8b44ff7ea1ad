/**
 * Errors over HTTP: one table from error code to HTTP status (the README's error-code table is
 * generated from it), and the translation of anything thrown into `{ error: { code, message, field? } }`.
 * Messages are one line; secrets (tokens, the Redis password) never appear in them; an unexpected
 * error answers `500 API_INTERNAL` with no detail (the log has it).
 */
import { ErrorCodes, ListwashError, isListwashError, type ErrorCode } from '../errors.js';
import type { ErrorBody } from './schemas.js';

/** HTTP status per error code: every code has one (a new code does not compile until it is given its status here). */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  API_VALIDATION: 400,
  JOB_INVALID: 400,
  STORAGE_BAD_URL: 400,
  CLI_USAGE: 400,
  API_UNAUTHORIZED: 401,
  API_FORBIDDEN: 403,
  LOCATION_NOT_ALLOWED: 403,
  API_NOT_FOUND: 404,
  JOB_NOT_FOUND: 404,
  STORAGE_NOT_FOUND: 404,
  JOB_EXISTS: 409,
  LIST_NOT_DONE: 409,
  LIST_ENDED: 409,
  LIST_STATE_LOST: 410,
  API_PAYLOAD_TOO_LARGE: 413,
  API_UNSUPPORTED_MEDIA_TYPE: 415,
  CSV_NOT_TEXT: 422,
  CSV_EMPTY: 422,
  CSV_UNTERMINATED_QUOTE: 422,
  CSV_MALFORMED: 422,
  CSV_NO_EMAIL_COLUMN: 422,
  JOB_FAILED: 422,
  STORAGE_READ_ONLY: 422,
  WEBHOOK_TARGET_NOT_ALLOWED: 422,
  STORAGE_ACCESS_DENIED: 422,
  TARGET_NOT_ALLOWED: 422,
  API_INTERNAL: 500,
  // The server's own configuration or test infrastructure: never the client's fault.
  CONFIG_INVALID: 500,
  CONFIG_FILE: 500,
  REDIS_CLUSTER_MISMATCH: 500,
  SIM_WORLD: 500,
  UPLOADS_DISABLED: 501,
  WEBHOOK_SECRET_MISSING: 501,
  WEBHOOK_DELIVERY: 502,
  STORAGE_IO: 502,
  DNS_FAILURE: 502,
  SMTP_SESSION: 502,
  REDIS_UNAVAILABLE: 503,
  REDIS_SERVER_MISSING: 503,
  WEBHOOK_TIMEOUT: 504,
  STORAGE_NO_SPACE: 507,
  THROTTLE_LEASE_LOST: 503,
};

export function httpStatusOf(code: string): number {
  return HTTP_STATUS[code as ErrorCode] ?? 500;
}

/** Where a request field sits. */
export type FieldPlace = 'body' | 'querystring' | 'params' | 'headers';

/** A typed error naming the request field at fault. */
export function fieldError(code: ErrorCode, message: string, field: string, place: FieldPlace = 'body'): ListwashError {
  return new ListwashError(code, message, { field, in: place });
}

/** One line: a message never spans lines (a CSV error can quote the input). */
function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** The answer for a `ListwashError`. */
export function errorReply(err: ListwashError): { status: number; body: ErrorBody } {
  const field = typeof err.details.field === 'string' ? err.details.field : undefined;
  const place = err.details.in;
  return {
    status: httpStatusOf(err.code),
    body: {
      error: {
        code: err.code,
        message: oneLine(err.message),
        ...(field !== undefined ? { field } : {}),
        ...(place === 'body' || place === 'querystring' || place === 'params' || place === 'headers' ? { in: place } : {}),
      },
    },
  };
}

/** What an error of Fastify itself (or a plugin) means for the client, or null for a server fault. */
export function fromFastifyError(err: { code?: string; statusCode?: number; message: string }): ListwashError | null {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ListwashError(ErrorCodes.API_UNSUPPORTED_MEDIA_TYPE, 'this route takes application/json (or multipart/form-data where documented)', { in: 'headers', field: 'content-type' });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new ListwashError(ErrorCodes.API_PAYLOAD_TOO_LARGE, oneLine(err.message), {});
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
    case 'FST_PROTO_VIOLATION':
      return new ListwashError(ErrorCodes.API_VALIDATION, oneLine(err.message), { field: 'body', in: 'body' });
    default:
      if (err.statusCode === 413) return new ListwashError(ErrorCodes.API_PAYLOAD_TOO_LARGE, oneLine(err.message), {});
      if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return new ListwashError(ErrorCodes.API_VALIDATION, oneLine(err.message), {});
      return null;
  }
}

/** One schema validation error (TypeBox's, shaped like Ajv's). */
export interface SchemaError {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** `/addresses/0` → `addresses[0]`; `/a/b` → `a.b`. */
function fieldPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out;
}

/** The first schema error of a request part, as `API_VALIDATION` naming the field. */
export function fromValidation(errors: readonly SchemaError[], place: FieldPlace): ListwashError {
  // A missing or unknown property is reported on its parent: name the property itself.
  const e = errors.find((x) => x.keyword === 'required' || x.keyword === 'additionalProperties') ?? errors[0] ?? {};
  const params = e.params ?? {};
  const parent = fieldPath(e.instancePath ?? '');
  const named = (list: unknown, single: unknown) => (Array.isArray(list) && typeof list[0] === 'string' ? list[0] : typeof single === 'string' ? single : null);
  let field = parent;
  let message = e.message ?? 'is not valid';
  if (e.keyword === 'required') {
    const p = named(params.requiredProperties, params.missingProperty);
    if (p) [field, message] = [parent ? `${parent}.${p}` : p, 'is required'];
  } else if (e.keyword === 'additionalProperties') {
    const p = named(params.additionalProperties, params.additionalProperty);
    if (p) [field, message] = [parent ? `${parent}.${p}` : p, 'is not a field of this request'];
  }
  if (field === '') field = place;
  return fieldError(ErrorCodes.API_VALIDATION, `${field}: ${message}`, field, place);
}

/** A Redis connection failure seen by a request (ioredis gives up on a command while Redis is down). */
export function isRedisDown(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'MaxRetriesPerRequestError' || /Connection is closed|ECONNREFUSED|Stream isn't writeable|enableOfflineQueue/i.test(err.message);
}

export { isListwashError };
