/**
 * The queue dashboard for operators (bull-board) at `/admin/queues`: every route of it needs the
 * admin key (a browser is asked for it with HTTP Basic: any user name, the admin token as password).
 * It is not part of the documented API (hidden from the OpenAPI document).
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { ApiInstance } from './context.js';
import { DASHBOARD_PREFIX } from './route-table.js';

export async function registerDashboard(app: ApiInstance, queues: readonly Queue[]): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(DASHBOARD_PREFIX);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter, options: { uiConfig: { boardTitle: 'listwash queues' } } });
  await app.register(async (admin) => {
    // Every route the dashboard registers (pages, assets, its JSON API) is admin-only.
    admin.addHook('onRoute', (route) => {
      route.config = { ...route.config, access: 'admin' };
    });
    await admin.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PREFIX });
  });
}
