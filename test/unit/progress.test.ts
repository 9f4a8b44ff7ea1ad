import { describe, expect, it } from 'vitest';
import { progressLine } from '../../src/cli/progress.js';
import type { ListMeta } from '../../src/pipeline/list-state.js';
import { listView } from '../../src/pipeline/list-view.js';

const view = (m: Partial<ListMeta>, batchesDone = 0) => listView({ listId: 'x', input: 'a', output: 'b', status: 'queued', ...m } as ListMeta, { batchesDone, nextGreylistRetryAt: null, throttled: [] });

describe('progressLine', () => {
  it('shows status, rows, unique addresses, finished batches and the share verified', () => {
    expect(progressLine(view({ status: 'probing', rows: '1200', unique: '1100', batches: '7', final: '550' }, 3)).trim()).toBe('[probing] 1200 rows, 1100 unique, 3/7 batches done, 50% verified');
  });
  it('shows every batch done for a done list (its per-batch bookkeeping has left Redis)', () => {
    expect(progressLine(view({ status: 'done', rows: '10', unique: '10', batches: '8', final: '10' }, 0)).trim()).toBe('[done] 10 rows, 10 unique, 8/8 batches done, 100% verified');
  });
  it('shows only the status before the split has counted anything', () => {
    expect(progressLine(view({ status: 'queued' })).trim()).toBe('[queued]');
  });
});
