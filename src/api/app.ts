/**
 * The HTTP API as a Fastify application (not listening yet; see `server.ts`): TypeBox validation of
 * every request and response, one error shape for every failure, API-key authentication, the routes
 * of the route table, the OpenAPI document, metrics and the operators' queue dashboard.
 */
import swagger from '@fastify/swagger';
import multipart from '@fastify/multipart';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { ErrorCodes, ListwashError, errorMessage, isListwashError } from '../errors.js';
import { registerAuth } from './auth.js';
import type { ApiContext, ApiInstance } from './context.js';
import { registerDashboard } from './dashboard.js';
import { errorReply, fromFastifyError, fromValidation, isRedisDown, type FieldPlace, type SchemaError } from './errors.js';
import { DASHBOARD_PREFIX } from './route-table.js';
import { registerFileRoutes } from './routes/files.js';
import { registerListRoutes } from './routes/lists.js';
import { registerOperationRoutes } from './routes/operations.js';
import { registerVerifyRoute } from './routes/verify.js';

/** The version of the API's contract (the paths carry its major: `/v1`). */
export const API_VERSION = '1.0.0';

const DESCRIPTION = `Bulk email-list cleaning over HTTP: submit a CSV (by location or upload), follow its progress, download the cleaned files, or verify a few addresses now. Every route but \`/healthz\`, \`/readyz\` and \`/openapi.json\` needs an API key (\`Authorization: Bearer <token>\`); a key sees only the lists it submitted. Errors are \`{ "error": { "code", "message", "field"? } }\` with stable codes.`;

/** Anything thrown while answering → the error the client sees (null: a server fault, answered 500). */
function asListwashError(err: FastifyError & { validation?: SchemaError[]; validationContext?: string }): ListwashError | null {
  if (err.validation) return fromValidation(err.validation, (err.validationContext ?? 'body') as FieldPlace);
  if (isListwashError(err)) return err;
  if (isRedisDown(err)) return new ListwashError(ErrorCodes.REDIS_UNAVAILABLE, 'Redis does not answer; try again shortly');
  return fromFastifyError(err);
}

function handleError(this: unknown, err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  let mapped = asListwashError(err);
  if (!mapped) {
    req.log.error({ err }, `unexpected error: ${errorMessage(err)}`);
    mapped = new ListwashError(ErrorCodes.API_INTERNAL, 'internal error (the server log has the details)');
  } else if (mapped.code === ErrorCodes.REDIS_UNAVAILABLE) {
    req.log.warn(`request failed: ${errorMessage(err)}`);
  }
  const { status, body } = errorReply(mapped);
  return reply.code(status).send(body);
}

/** Responses are checked against their schema before they leave (a mismatch is a server fault). */
function strictSerializer({ schema, url, httpStatus }: { schema: unknown; url?: string; httpStatus?: string }): (data: unknown) => string {
  const check = Compile(schema as TSchema);
  return (data) => {
    if (!check.Check(data)) {
      const first = [...check.Errors(data)][0];
      throw new Error(`response ${httpStatus ?? ''} of ${url ?? '?'} does not match its schema at ${first?.instancePath || '/'}: ${first?.message ?? 'invalid'}`);
    }
    return JSON.stringify(data);
  };
}

export interface BuildOptions {
  /** Sees every route as it is registered (method(s) and path), dashboard included. */
  onRoute?: (route: { method: string | string[]; url: string }) => void;
}

export async function buildApp(ctx: ApiContext, opts: BuildOptions = {}): Promise<ApiInstance> {
  const app: ApiInstance = Fastify({ loggerInstance: ctx.log as FastifyBaseLogger, exposeHeadRoutes: false, bodyLimit: 1024 * 1024 }).withTypeProvider<TypeBoxTypeProvider>();
  const { onRoute } = opts;
  if (onRoute) app.addHook('onRoute', (r) => onRoute({ method: r.method, url: r.url }));
  // A multipart body is read by the route itself (streamed to storage); its schema is documentation.
  app.setValidatorCompiler((def) => (def.httpPart === 'body' && def.contentType === 'multipart/form-data' ? () => true : TypeBoxValidatorCompiler(def)));
  app.setSerializerCompiler(strictSerializer);
  app.setErrorHandler(handleError);
  // Bodies are JSON (or multipart where documented): a text body is 415, not a string to validate.
  app.removeContentTypeParser('text/plain');
  app.setNotFoundHandler((req) => {
    throw new ListwashError(ErrorCodes.API_NOT_FOUND, `no route ${req.method} ${req.url.split('?')[0]}`);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'listwash', version: API_VERSION, description: DESCRIPTION },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key from LISTWASH_API_KEYS / LISTWASH_API_KEYS_FILE.' } } },
      tags: [
        { name: 'lists', description: 'Lists: submit, follow, download, cancel, delete.' },
        { name: 'verify', description: 'A few addresses now.' },
        { name: 'operations', description: 'Health, readiness, metrics, this document.' },
      ],
    },
    transform: ({ schema, url }) => (url.startsWith(DASHBOARD_PREFIX) ? { schema: { ...schema, hide: true }, url } : { schema, url }),
  });
  await app.register(multipart, { throwFileSizeLimit: true, limits: { fileSize: ctx.cfg.uploadMaxBytes, files: 1 } });
  registerAuth(app, ctx.keys);
  // Graceful stop: requests in flight are answered with `Connection: close`, so their keep-alive
  // connections end with them instead of holding the stop for the keep-alive timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (req, reply) => {
    ctx.metrics.countRequest(req.method, req.routeOptions.url ?? '(none)', reply.statusCode);
  });

  registerListRoutes(app, ctx);
  registerFileRoutes(app, ctx);
  registerVerifyRoute(app, ctx);
  registerOperationRoutes(app, ctx);
  const svc = ctx.service;
  await registerDashboard(app, [svc.splitQueue, svc.probeQueue, svc.aggregateQueue, svc.webhookQueue]);
  return app;
}
