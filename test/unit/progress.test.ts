import { describe, expect, it } from 'vitest';
import { progressLine } from '../../src/cli/progress.js';
import type { ListMeta } from '../../src/pipeline/list-state.js';

describe('progressLine', () => {
  it('shows status, rows, unique addresses and finished batches', () => {
    const m = { listId: 'x', status: 'probing', input: 'a', output: 'b', rows: '1200', unique: '1100', batches: '7', batchesDone: '3' } as ListMeta;
    expect(progressLine(m).trim()).toBe('[probing] 1200 rows, 1100 unique, 3/7 batches done');
  });
  it('shows only the status before the split has counted anything', () => {
    expect(progressLine({ listId: 'x', status: 'queued', input: 'a', output: 'b' } as ListMeta).trim()).toBe('[queued]');
  });
});
