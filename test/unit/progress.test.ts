import { describe, expect, it } from 'vitest';
import { ProgressLog, progressLine } from '../../src/cli/progress.js';
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

describe('ProgressLog (the progress lines of a log)', () => {
  const probing = (done: number, final: string) => view({ status: 'probing', rows: '100', unique: '100', batches: '8', final }, done);

  it('prints a line at every status change, however soon', () => {
    const log = new ProgressLog(10_000);
    expect(log.next(view({ status: 'queued' }), 0)).toBe('[queued]');
    expect(log.next(view({ status: 'splitting' }), 1)).toBe('[splitting]');
    expect(log.next(probing(0, '0'), 2)).toBe('[probing] 100 rows, 100 unique, 0/8 batches done, 0% verified');
  });

  it('between status changes, prints what is new at most once per interval — never stuck on an old count (issue 7, item 14)', () => {
    const log = new ProgressLog(10_000);
    expect(log.next(probing(2, '25'), 0)).toBe('[probing] 100 rows, 100 unique, 2/8 batches done, 25% verified');
    expect(log.next(probing(3, '37'), 4_000)).toBeNull();
    expect(log.next(probing(6, '75'), 10_000)).toBe('[probing] 100 rows, 100 unique, 6/8 batches done, 75% verified');
    // Nothing new: nothing printed, however long it takes.
    expect(log.next(probing(6, '75'), 60_000)).toBeNull();
    expect(log.next(view({ status: 'aggregating', rows: '100', unique: '100', batches: '8', final: '100' }, 8), 60_001)).toBe('[aggregating] 100 rows, 100 unique, 8/8 batches done, 100% verified');
  });
});
