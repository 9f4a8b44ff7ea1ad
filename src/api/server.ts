/**
 * `listwash serve`: the HTTP API listening on a host and port (default 127.0.0.1:8080) until SIGTERM
 * or SIGINT, then a graceful stop (requests in flight finish). The API process runs no workers: lists
 * and verify requests are worked on by `listwash worker` processes sharing the same Redis.
 */
import type { AddressInfo } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config.js';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { ListwashService } from '../pipeline/service.js';
import { assertRedis, createRedis, type RedisClient } from '../redis/connect.js';
import { createS3Client, parseLocation } from '../storage/index.js';
import { buildApp, type BuildOptions } from './app.js';
import type { ApiContext, ApiInstance } from './context.js';
import { KeyRing } from './keys.js';
import { locationPolicy } from './locations.js';
import { ApiMetrics } from './metrics.js';

export interface ApiServerOptions {
  host?: string;
  port?: number;
  /** Use this service (its owner closes it); default: one made here, closed with the server. */
  service?: ListwashService;
  logger?: Logger;
  /** S3 client for pre-signed URLs and readiness; default: one from the settings. */
  s3?: S3Client;
  /** Process metrics (CPU, memory, event loop) in `/metrics`. Default true. */
  processMetrics?: boolean;
  /** Sees every route as it is registered (see `BuildOptions`). */
  onRoute?: BuildOptions['onRoute'];
}

export interface RunningApi {
  app: ApiInstance;
  /** The service the routes call. */
  service: ListwashService;
  /** `http://host:port` as bound. */
  url: string;
  close(): Promise<void>;
}

/** Redis for the API: a command fails after a few reconnection attempts instead of waiting for Redis forever (the request answers 503). */
function apiRedis(cfg: Config, log: Logger): RedisClient {
  const redis = createRedis(cfg, { name: 'listwash:api', extra: { maxRetriesPerRequest: 2 } });
  let lastLogged = 0;
  redis.on('error', (err: unknown) => {
    if (Date.now() - lastLogged < 10_000) return;
    lastLogged = Date.now();
    log.warn(`Redis: ${errorMessage(err)}`);
  });
  return redis;
}

function checkPrefixSetting(value: string, env: string): void {
  if (value === '') return;
  if (!/^(s3|file):\/\//i.test(value)) throw new ListwashError(ErrorCodes.CONFIG_INVALID, `${env}: must be an s3:// or file:// location`, { env });
  try {
    parseLocation(value);
  } catch (err) {
    throw new ListwashError(ErrorCodes.CONFIG_INVALID, `${env}: ${errorMessage(err)}`, { env });
  }
}

export async function startApiServer(cfg: Config, opts: ApiServerOptions = {}): Promise<RunningApi> {
  const log = opts.logger ?? createLogger(cfg, 'listwash-api');
  const keys = KeyRing.fromConfig(cfg);
  const locations = locationPolicy(cfg.localRoot);
  checkPrefixSetting(cfg.uploadPrefix, 'LISTWASH_UPLOAD_PREFIX');
  checkPrefixSetting(cfg.outputPrefix, 'LISTWASH_OUTPUT_PREFIX');
  const service = opts.service ?? new ListwashService(cfg, { redis: apiRedis(cfg, log), logger: log });
  const s3 = opts.s3 ?? createS3Client(cfg);
  const ctx: ApiContext = { cfg, service, keys, locations, s3, metrics: new ApiMetrics({ processMetrics: opts.processMetrics ?? true }), log };
  const closeOwned = async () => {
    if (!opts.service) {
      await service.close();
      service.redis.disconnect();
    }
    if (!opts.s3) s3.destroy();
  };
  let app: ApiInstance;
  try {
    // The queues finish connecting before anything can close them (a close during their start-up
    // leaves a late connection error nobody listens to).
    await Promise.all([service.splitQueue, service.probeQueue, service.aggregateQueue, service.webhookQueue].map((q) => q.waitUntilReady()));
    app = await buildApp(ctx, opts.onRoute ? { onRoute: opts.onRoute } : {});
    await app.listen({ host: opts.host ?? cfg.apiHost, port: opts.port ?? cfg.apiPort });
  } catch (err) {
    await closeOwned();
    throw err;
  }
  const addr = app.server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    app,
    service,
    url: `http://${host}:${addr.port}`,
    close: async () => {
      await app.close();
      await closeOwned();
    },
  };
}

/** The `serve` command: listen until SIGTERM/SIGINT. */
export async function runServe(cfg: Config, opts: { host?: string; port?: number } = {}): Promise<number> {
  await assertRedis(cfg);
  const api = await startApiServer(cfg, opts);
  process.stderr.write(`listwash api listening on ${api.url} (OpenAPI: ${api.url}/openapi.json)\n`);
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      process.stderr.write(`listwash api: ${sig}, finishing requests in flight\n`);
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await api.close();
  return 0;
}
