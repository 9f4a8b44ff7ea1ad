/**
 * Authentication of every request before its route runs: a route's `access` (from the route table)
 * says whether it is public, needs any API key, or the admin key. The key is read from
 * `Authorization: Bearer <token>` (or the password of `Basic`, so a browser can open the dashboard),
 * looked up in constant time, and attached to the request. A missing or unknown key is `401`
 * (with `WWW-Authenticate`), a non-admin key on an admin route `403`. Tokens are never logged.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, ListwashError } from '../errors.js';
import type { ApiInstance } from './context.js';
import { errorReply } from './errors.js';
import type { ApiKey, KeyRing } from './keys.js';
import { tokenOf } from './keys.js';
import type { Access } from './route-table.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route (default `key`). */
    access?: Access;
  }
  interface FastifyRequest {
    /** The API key of the request; null on public routes. */
    apiKey: ApiKey | null;
  }
}

/** What a request's key allows on a route with `access`. Pure. */
export function authorize(access: Access, key: ApiKey | null): 'ok' | 'unauthorized' | 'forbidden' {
  if (access === 'public') return 'ok';
  if (!key) return 'unauthorized';
  return access === 'admin' && !key.admin ? 'forbidden' : 'ok';
}

export function registerAuth(app: ApiInstance, keys: KeyRing): void {
  app.decorateRequest('apiKey', null);
  // Answers here rather than throwing: plugins with their own error handler (the dashboard) must not
  // turn a refusal into something else.
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const access = req.routeOptions.config.access ?? 'key';
    if (access === 'public') return;
    const token = tokenOf(req.headers.authorization);
    const key = token === null ? null : keys.find(token);
    const verdict = authorize(access, key);
    if (verdict === 'ok') {
      req.apiKey = key;
      return;
    }
    if (verdict === 'unauthorized') {
      reply.header('www-authenticate', access === 'admin' ? 'Basic realm="listwash admin", charset="UTF-8"' : 'Bearer realm="listwash"');
    }
    const err =
      verdict === 'unauthorized'
        ? new ListwashError(ErrorCodes.API_UNAUTHORIZED, token !== null ? 'the API key is not valid' : access === 'admin' ? 'this route needs the admin key (Bearer, or Basic with the token as password)' : 'this route needs an API key: Authorization: Bearer <token>')
        : new ListwashError(ErrorCodes.API_FORBIDDEN, 'this route needs the admin key');
    const { status, body } = errorReply(err);
    return reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify(body));
  });
}
