/**
 * The options every route is registered with, from its entry in the route table: access (checked by
 * `auth.ts`), OpenAPI summary, operation id, tag and security, and the error answers it documents.
 */
import type { FastifySchema } from 'fastify';
import { ErrorBody } from '../schemas.js';
import { ROUTES, type RouteName } from '../route-table.js';

/** Error answers a route documents: status → the error body. */
export function errors(...statuses: number[]): Record<number, typeof ErrorBody> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorBody]));
}

const TAGS: Record<string, string> = { '/v1/lists': 'lists', '/v1/verify': 'verify' };

/** Route options for `app.get/post/delete(ROUTES[name].path, routeOptions(name, schema), handler)`. */
export function routeOptions<S extends FastifySchema>(name: RouteName, schema: S) {
  const r = ROUTES[name];
  const tag = Object.entries(TAGS).find(([p]) => r.path.startsWith(p))?.[1] ?? 'operations';
  return {
    config: { access: r.access },
    schema: {
      ...schema,
      summary: r.summary,
      operationId: r.operationId,
      tags: [tag],
      security: r.access === 'public' ? [] : [{ bearer: [] }],
    },
  };
}
