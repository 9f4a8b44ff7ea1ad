/**
 * The HTTP API's request and response schemas (TypeBox = JSON Schema with static types). The same
 * objects validate requests and responses in the server, generate the OpenAPI document, and give the
 * typed client (`listwash/client`) its types. Field names and meanings are part of the API: add,
 * never rename.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { LIST_ID_RE } from '../pipeline/names.js';
import type { ListView } from '../pipeline/list-view.js';
import type { VerifyNowAnswer } from '../pipeline/verify-now.js';
import { ERROR_FILE, RESULT_FILES } from '../pipeline/list-files.js';
import { BOUNCE_RISKS, REASONS, STATUSES } from '../verdict.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Counts = Type.Record(Type.String(), Type.Integer({ minimum: 0 }));

export const LIST_STATES = ['queued', 'splitting', 'probing', 'aggregating', 'done', 'failed', 'cancelled'] as const;
export const FILE_NAMES = [...RESULT_FILES, ERROR_FILE] as const;

/** A list id: letters, digits, `.`, `_`, `-`; 1–128 characters; starts with a letter or digit. */
export const ListId = Type.String({ pattern: LIST_ID_RE.source, maxLength: 128, description: 'A list id: letters, digits, `.`, `_`, `-` (1–128, starting with a letter or digit).' });
/** An `s3://bucket/key` or `file:///path` location. */
const Location = Type.String({ pattern: '^(?:[sS]3|[fF][iI][lL][eE])://', maxLength: 2048, description: '`s3://bucket/key` or `file:///path` (local paths only inside the server\'s LISTWASH_LOCAL_ROOT).' });
const CallbackUrl = Type.String({ pattern: '^[hH][tT][tT][pP][sS]?://[^\\s]+$', maxLength: 2048, description: 'Where the signed completion callback is POSTed (http:// or https://).' });

// ---------------------------------------------------------------- errors

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable error code (see the README\'s error-code table).' }),
      message: Type.String({ description: 'One line for people; never contains secrets.' }),
      field: Type.Optional(Type.String({ description: 'The request field at fault (validation errors, locations).' })),
      in: Type.Optional(Type.Enum(['body', 'querystring', 'params', 'headers'] as const)),
    }),
  },
  { description: 'An error.' },
);
export type ErrorBody = Static<typeof ErrorBody>;

// ---------------------------------------------------------------- lists

const Timings = Type.Object({
  createdAt: Nullable(Type.Number()),
  splitStartedAt: Nullable(Type.Number()),
  splitDoneAt: Nullable(Type.Number()),
  probeStartedAt: Nullable(Type.Number()),
  aggregateStartedAt: Nullable(Type.Number()),
  finishedAt: Nullable(Type.Number()),
  elapsedSec: Nullable(Type.Number()),
});

export const ListSchema = Type.Object(
  {
    id: Type.String(),
    state: Type.Enum(LIST_STATES),
    percent: Type.Number({ minimum: 0, maximum: 100, description: 'Unique addresses with a final verdict, in percent (100 when done).' }),
    input: Type.String(),
    output: Type.String(),
    owner: Nullable(Type.String({ description: 'The API key name that submitted it.' })),
    emailColumn: Nullable(Type.Union([Type.String(), Type.Integer()])),
    rows: Nullable(Type.Integer()),
    unique: Nullable(Type.Integer()),
    duplicates: Nullable(Type.Integer()),
    invalid: Nullable(Type.Integer()),
    domains: Nullable(Type.Integer()),
    verified: Type.Integer(),
    batches: Type.Object({ total: Nullable(Type.Integer()), done: Type.Integer(), failed: Type.Integer() }),
    counts: Type.Object({ byStatus: Counts, byReason: Counts, byBounceRisk: Counts }, { description: 'Verdicts so far (unique addresses while running; report rows once done).' }),
    timings: Timings,
    nextGreylistRetryAt: Nullable(Type.Number()),
    throttled: Type.Array(Type.Object({ group: Type.String(), why: Type.String(), batches: Type.Integer() })),
    error: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
    lastBatchError: Nullable(Type.String()),
    callbackUrl: Nullable(Type.String()),
    webhook: Nullable(Type.Array(Type.Unknown(), { description: 'Webhook delivery attempts, newest last.' })),
  },
  { description: 'A list and its progress.' },
);
export type ListBody = Static<typeof ListSchema>;

export const CreateListJson = Type.Object(
  {
    input: Location,
    output: Type.Optional(Type.String({ ...Location, description: 'Output prefix. Default: the server\'s LISTWASH_OUTPUT_PREFIX + `<id>/`.' })),
    emailColumn: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Integer({ minimum: 0 })], { description: 'Header name or 0-based index of the email column. Default: detected.' })),
    callbackUrl: Type.Optional(CallbackUrl),
    id: Type.Optional(ListId),
    escapeFormulas: Type.Optional(Type.Boolean({ description: "Escape cells that spreadsheets would run as formulas (`=`, `+`, `-`, `@`, tab, CR) with a leading `'` in every output CSV." })),
    maxAge: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, description: "Seconds: verdicts of the fleet-wide verdict cache older than this are probed again for this list; 0 probes every address. Default: each verdict class's maximum age (LISTWASH_VERDICT_CACHE_MAX_AGE)." })),
  },
  { additionalProperties: false },
);
export type CreateListJson = Static<typeof CreateListJson>;

/** The form fields of a `multipart/form-data` create, besides the file (all text, as forms send them). */
export const CreateListFields = Type.Object(
  {
    output: Type.Optional(Type.String({ ...Location, description: 'Output prefix. Default: the server\'s LISTWASH_OUTPUT_PREFIX + `<id>/`.' })),
    emailColumn: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Header name, or a 0-based index written as digits.' })),
    callbackUrl: Type.Optional(CallbackUrl),
    id: Type.Optional(ListId),
    escapeFormulas: Type.Optional(Type.Enum(['true', 'false'], { description: 'Escape formula-like cells in the output CSVs.' })),
    maxAge: Type.Optional(Type.String({ pattern: '^\\d{1,9}$', description: 'Seconds, as digits: verdicts of the verdict cache older than this are probed again; 0 probes every address.' })),
  },
  { additionalProperties: false },
);
export type CreateListFields = Static<typeof CreateListFields>;

/** The OpenAPI description of the multipart body (`file` + the fields above). */
export const CreateListMultipart = Type.Object(
  {
    file: Type.String({ format: 'binary', description: 'The CSV file (streamed to storage; at most LISTWASH_UPLOAD_MAX_BYTES).' }),
    ...CreateListFields.properties,
  },
  { required: ['file'] },
);

export const ListsQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 512, description: '`nextCursor` of the previous page.' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  },
  { additionalProperties: false },
);
export type ListsQuery = Static<typeof ListsQuery>;

export const ListsPage = Type.Object({
  lists: Type.Array(ListSchema, { description: 'The caller\'s lists, newest first.' }),
  nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` for the next page; null at the end.' })),
});
export type ListsPage = Static<typeof ListsPage>;

export const IdParams = Type.Object({ id: ListId });
export const FileParams = Type.Object({ id: ListId, name: Type.Enum(FILE_NAMES) });

export const FileEntry = Type.Object({
  name: Type.Enum(FILE_NAMES),
  size: Type.Integer({ minimum: 0 }),
  contentType: Type.String(),
  url: Type.String({ description: 'A pre-signed S3 URL (no key needed), or this API\'s download route (needs the key).' }),
  expiresAt: Nullable(Type.Number({ description: 'When a pre-signed URL stops working (ms since the epoch); null for the API route.' })),
});
export const FilesBody = Type.Object({ files: Type.Array(FileEntry) });
export type FilesBody = Static<typeof FilesBody>;

export const CancelBody = Type.Object({
  cancelled: Type.Boolean({ description: 'False when the list had already ended.' }),
  list: ListSchema,
});
export type CancelBody = Static<typeof CancelBody>;

export const DeleteQuery = Type.Object({ files: Type.Optional(Type.Boolean({ default: false, description: 'Also delete the output files listwash wrote.' })) }, { additionalProperties: false });
export const DeleteBody = Type.Object({ deleted: Type.Literal(true), files: Type.Array(Type.String(), { description: 'Output files deleted.' }) });
export type DeleteBody = Static<typeof DeleteBody>;

// ---------------------------------------------------------------- verify

/** The verify request, for a server allowing at most `maxAddresses` and `maxDeadlineMs`. */
export function verifyRequestSchema(maxAddresses: number, maxDeadlineMs: number) {
  return Type.Object(
    {
      addresses: Type.Array(Type.String({ maxLength: 1024 }), { minItems: 1, maxItems: maxAddresses }),
      deadlineMs: Type.Optional(Type.Integer({ minimum: 100, description: `Answer within this many ms (capped at ${maxDeadlineMs}).` })),
    },
    { additionalProperties: false },
  );
}
export type VerifyRequest = Static<ReturnType<typeof verifyRequestSchema>>;

export const VerifyResult = Type.Object({
  input: Type.String(),
  address: Nullable(Type.String({ description: 'Normalised address; null for invalid syntax.' })),
  status: Type.Enum(STATUSES),
  reason: Type.Enum(REASONS),
  bounceRisk: Type.Enum(BOUNCE_RISKS),
  final: Type.Boolean({ description: 'False: the deadline passed first; the verdict is the provisional `unknown`.' }),
  note: Nullable(Type.String()),
  suggestion: Nullable(Type.String()),
  flags: Nullable(Type.Object({ role: Type.Boolean(), disposable: Type.Boolean(), free: Type.Boolean() })),
  mxHost: Nullable(Type.String()),
  smtpCode: Nullable(Type.Integer()),
  smtpReply: Nullable(Type.String()),
  catchAll: Nullable(Type.Boolean()),
});
export const VerifyBody = Type.Object({
  results: Type.Array(VerifyResult, { description: 'One per address given, in order.' }),
  deadlinePassed: Type.Boolean(),
  elapsedMs: Type.Integer(),
});
export type VerifyBody = Static<typeof VerifyBody>;

// ---------------------------------------------------------------- operations

export const HealthBody = Type.Object({ ok: Type.Literal(true) });
const Check = Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()) });
export const ReadyBody = Type.Object({
  ready: Type.Boolean(),
  checks: Type.Object({ redis: Check, storage: Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()), checked: Type.Array(Type.String()) }) }),
});
export type ReadyBody = Static<typeof ReadyBody>;
export const MetricsText = Type.String({ description: 'Prometheus text exposition format 0.0.4.' });
export const OpenApiDocument = Type.Object({ openapi: Type.String() }, { additionalProperties: true, description: 'This document.' });
/** A streamed file (a stream in the server, bytes on the wire). */
export const DownloadBody = Type.Unsafe<unknown>({ type: 'string', format: 'binary', description: 'The file.' });

// ---------------------------------------------------------------- the service's types fit the schemas

/* The schemas describe what the service returns: these fail to compile when the two drift apart. */
type Fits<T extends true> = T;
/** Fields the service returns that the schema does not describe (must be none). */
type ListExtra = Exclude<keyof ListView, keyof ListBody>;
type VerifyExtra = Exclude<keyof VerifyNowAnswer['results'][number], keyof VerifyBody['results'][number]>;
export type _ListFits = Fits<ListView extends ListBody ? true : false>;
export type _ListComplete = Fits<[ListExtra] extends [never] ? true : false>;
export type _VerifyFits = Fits<VerifyNowAnswer extends VerifyBody ? true : false>;
export type _VerifyComplete = Fits<[VerifyExtra] extends [never] ? true : false>;
