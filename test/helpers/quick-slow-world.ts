/**
 * A small simulated world for tests that need a list to finish at once or to still be probing when they act:
 * `quick.test` (mailboxes ann and ben) answers at once; `slow.test` is catch-all and waits 150 ms before each
 * reply, so a list of a few dozen of its addresses is still probing for a while.
 */
import type { SimWorldSpec } from '../../src/world/index.js';

export const QUICK_SLOW_WORLD: SimWorldSpec = {
  domains: {
    'quick.test': { mx: [{ host: 'mx.quick.test', preference: 10 }] },
    'slow.test': { mx: [{ host: 'mx.slow.test', preference: 10 }] },
  },
  hosts: {
    'mx.quick.test': { mailboxes: ['ann', 'ben'] },
    'mx.slow.test': { catchAll: true, replyDelayMs: 150 },
  },
};
