/**
 * Operations: liveness, readiness, Prometheus metrics (admin key), and the OpenAPI document.
 */
import type {} from '@fastify/swagger';
import type { FastifyReply } from 'fastify';
import { FleetReader } from '../fleet-snapshot.js';
import type { ApiContext, ApiInstance } from '../context.js';
import { readiness } from '../readiness.js';
import { ROUTES } from '../route-table.js';
import { HealthBody, MetricsText, OpenApiDocument, ReadyBody } from '../schemas.js';
import { errors, routeOptions } from './route-options.js';

export function registerOperationRoutes(app: ApiInstance, ctx: ApiContext): void {
  const svc = ctx.service;
  const fleet = new FleetReader(svc.redis, ctx.cfg, [svc.splitQueue, svc.probeQueue, svc.aggregateQueue, svc.webhookQueue]);

  app.get(ROUTES.healthz.path, routeOptions('healthz', { response: { 200: HealthBody } }), async () => ({ ok: true as const }));

  app.get(ROUTES.readyz.path, routeOptions('readyz', { response: { 200: ReadyBody, 503: ReadyBody } }), async (_req, reply: FastifyReply) => {
    const r = await readiness({ redis: svc.redis, s3: ctx.s3, prefixes: [ctx.cfg.uploadPrefix, ctx.cfg.outputPrefix] });
    reply.code(r.ready ? 200 : 503);
    return r;
  });

  app.get(ROUTES.metrics.path, routeOptions('metrics', { produces: ['text/plain'], response: { 200: MetricsText, ...errors(401, 403, 503) } }), async (_req, reply) => {
    const text = await ctx.metrics.render(await fleet.read());
    return reply.type(ctx.metrics.contentType).send(text);
  });

  app.get(ROUTES.openapi.path, routeOptions('openapi', { response: { 200: OpenApiDocument } }), async () => app.swagger() as unknown as { openapi: string });
}
