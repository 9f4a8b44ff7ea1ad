/**
 * `POST /v1/verify`: a few addresses, verified by the workers through the fleet-wide throttle (the
 * API process probes nothing itself), answered by a deadline.
 */
import { askerOf, type ApiContext, type ApiInstance } from '../context.js';
import { ROUTES } from '../route-table.js';
import { VerifyBody, verifyRequestSchema } from '../schemas.js';
import { errors, routeOptions } from './route-options.js';

export function registerVerifyRoute(app: ApiInstance, ctx: ApiContext): void {
  const max = ctx.cfg.verifyDeadlineMs;
  app.post(ROUTES.verify.path, routeOptions('verify', { body: verifyRequestSchema(ctx.cfg.verifyMaxAddresses, max), response: { 200: VerifyBody, ...errors(400, 401, 415, 503) } }), async (req) => {
    const deadlineMs = Math.min(req.body.deadlineMs ?? max, max);
    return ctx.service.verifyNow(req.body.addresses, { deadlineMs, owner: askerOf(req).owner });
  });
}
