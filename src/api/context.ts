/**
 * What every route of the HTTP API works with, and the Fastify instance type with the TypeBox type
 * provider. Routes call the pipeline's service only (`ListwashService`), never its internals.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { S3Client } from '@aws-sdk/client-s3';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RawServerDefault } from 'fastify';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Asker, ListwashService } from '../pipeline/service.js';
import { ErrorCodes, ListwashError } from '../errors.js';
import type { ApiKey, KeyRing } from './keys.js';
import type { LocationPolicy } from './locations.js';
import type { ApiMetrics } from './metrics.js';

export interface ApiContext {
  cfg: Config;
  service: ListwashService;
  keys: KeyRing;
  locations: LocationPolicy;
  /** For pre-signed download URLs and the readiness check of S3 prefixes. */
  s3: S3Client;
  metrics: ApiMetrics;
  log: Logger;
}

export type ApiInstance = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

/** The key of an authenticated request (routes with access `key` or `admin` always have one). */
export function keyOf(req: FastifyRequest): ApiKey {
  if (!req.apiKey) throw new ListwashError(ErrorCodes.API_UNAUTHORIZED, 'this route needs an API key');
  return req.apiKey;
}

/** The service's view of who asks: the key's name owns its lists. */
export function askerOf(req: FastifyRequest): Required<Asker> {
  return { owner: keyOf(req).name };
}
