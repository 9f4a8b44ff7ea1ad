/**
 * Every route of the HTTP API, in one table: what the server registers (each route module takes its
 * method, path and access from here), what the README's route table is generated from, and what the
 * tests compare with the routes Fastify registered and the OpenAPI document's paths.
 */

/**
 * Who may call a route: `public` (no key), `key` (any API key; it sees only its own lists), `admin`
 * (the admin key).
 */
export type Access = 'public' | 'key' | 'admin';

export interface RouteSpec {
  method: 'GET' | 'POST' | 'DELETE';
  /** Fastify path syntax (`:id`). */
  path: string;
  access: Access;
  /** One line for the README and the OpenAPI `summary`. */
  summary: string;
  /** OpenAPI `operationId`, also the typed client's method name where there is one. */
  operationId: string;
}

export const ROUTES = {
  createList: { method: 'POST', path: '/v1/lists', access: 'key', operationId: 'createList', summary: 'Submit a list: JSON `{ input, output?, emailColumn?, callbackUrl?, id?, escapeFormulas?, maxAge? }` or a `multipart/form-data` upload (field `file`). `202` + `Location`; the same `id` again answers `200` with that list.' },
  listLists: { method: 'GET', path: '/v1/lists', access: 'key', operationId: 'listLists', summary: "The caller's lists, newest first (`?cursor=…&limit=…`)." },
  getList: { method: 'GET', path: '/v1/lists/:id', access: 'key', operationId: 'getList', summary: 'A list: state, percent, counts by status and reason, timings, output, error.' },
  listFiles: { method: 'GET', path: '/v1/lists/:id/files', access: 'key', operationId: 'listFiles', summary: "A finished list's files with download URLs (pre-signed S3 URLs, or this API's download route for local storage); `409 LIST_NOT_DONE` while it runs." },
  downloadFile: { method: 'GET', path: '/v1/lists/:id/files/:name', access: 'key', operationId: 'downloadFile', summary: 'Download one file (`report.csv`, `clean.csv`, … `summary.json`, `error.json`), streamed.' },
  cancelList: { method: 'POST', path: '/v1/lists/:id/cancel', access: 'key', operationId: 'cancelList', summary: 'Cancel a running list (running sessions stop within about a second; no files are written).' },
  deleteList: { method: 'DELETE', path: '/v1/lists/:id', access: 'key', operationId: 'deleteList', summary: "Delete a list's state (a running list is cancelled first); `?files=true` also deletes its output files." },
  verify: { method: 'POST', path: '/v1/verify', access: 'key', operationId: 'verify', summary: '`{ addresses, deadlineMs? }`: verdicts for a few addresses, probed by the workers through the fleet-wide throttle; still open at the deadline → `unknown` with a note.' },
  healthz: { method: 'GET', path: '/healthz', access: 'public', operationId: 'healthz', summary: 'The process is up.' },
  readyz: { method: 'GET', path: '/readyz', access: 'public', operationId: 'readyz', summary: 'Redis and the configured storage answer (`503` when not).' },
  metrics: { method: 'GET', path: '/metrics', access: 'admin', operationId: 'metrics', summary: 'Prometheus metrics of the whole fleet, read from Redis at scrape time.' },
  openapi: { method: 'GET', path: '/openapi.json', access: 'public', operationId: 'openapi', summary: 'This API as an OpenAPI 3.1 document.' },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof ROUTES;

/** The queue dashboard (bull-board): HTML and its own JSON routes under this prefix, admin key only, not in the OpenAPI document. */
export const DASHBOARD_PREFIX = '/admin/queues';

/** `/v1/lists/:id` → `/v1/lists/{id}` (OpenAPI path syntax). */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}
