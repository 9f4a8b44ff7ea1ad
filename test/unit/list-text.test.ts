/** `listwash status` and `listwash list` as people read them: pure rendering of typed list views. */
import { describe, expect, it } from 'vitest';
import { listTable, statusLines } from '../../src/cli/list-text.js';
import { UTC_TIME } from '../../src/cli/text-format.js';
import type { ListMeta } from '../../src/pipeline/list-state.js';
import { listView } from '../../src/pipeline/list-view.js';

const T0 = Date.UTC(2026, 2, 1, 14, 0, 0);
const clock = { now: T0, time: UTC_TIME };
const view = (m: Partial<ListMeta>, live: Partial<Parameters<typeof listView>[1]> = {}) =>
  listView({ listId: 'march', input: 's3://b/in/march.csv', output: 's3://b/out/march/', status: 'queued', createdAt: String(T0 - 300_000), ...m } as ListMeta, { batchesDone: 0, nextGreylistRetryAt: null, throttled: [], ...live }, T0);

describe('listwash status (for people)', () => {
  it('a running list: phase and share, input, output, rows, batches, verdicts so far, waits, timings', () => {
    const v = view(
      {
        status: 'probing',
        rows: '2100',
        unique: '2000',
        duplicates: '80',
        invalid: '20',
        domains: '12',
        batches: '8',
        final: '850',
        's:deliverable': '700',
        's:undeliverable': '150',
        'r:accepted': '700',
        'r:mailbox_not_found': '150',
        splitStartedAt: String(T0 - 299_000),
        splitDoneAt: String(T0 - 290_000),
      },
      { batchesDone: 6, nextGreylistRetryAt: Date.UTC(2026, 2, 1, 14, 5, 30), throttled: [{ group: 'google', why: 'busy', batches: 2 }] },
    );
    expect(statusLines(v, clock)).toEqual([
      'list march: probing, 42.5% verified (850 of 2000 unique addresses)',
      '  input     s3://b/in/march.csv',
      '  output    s3://b/out/march/ (written when done)',
      '  rows      2100 (2000 unique, 80 duplicates, 20 invalid), 12 domains',
      '  batches   6/8 done',
      '  verdicts  deliverable 700, undeliverable 150',
      '  reasons   accepted 700, mailbox_not_found 150',
      '  waiting   for greylist retry at 14:05',
      '  throttled google busy (2 batches)',
      '  timings   created 2026-03-01 13:55:00, split 9s, elapsed 5m 00s',
    ]);
  });

  it('a failed list says what failed it and that no files were written', () => {
    const v = view({ status: 'failed', errorCode: 'STORAGE_READ_ONLY', error: 'cannot write /o/report.csv: read-only file system (EROFS)', finishedAt: String(T0 - 60_000) });
    const lines = statusLines(v, clock);
    expect(lines[0]).toBe('list march: failed, 0% verified');
    expect(lines).toContain('  output    s3://b/out/march/ (not written; error.json says why)');
    expect(lines).toContain('  error     STORAGE_READ_ONLY: cannot write /o/report.csv: read-only file system (EROFS)');
    expect(lines).toContain('  timings   created 2026-03-01 13:55:00, ended 2026-03-01 13:59:00, took 4m 00s');
  });

  it('a done list shows the report’s counts per row, by status, reason and bounce risk', () => {
    const counts = { byStatus: { deliverable: 3, risky: 1 }, byReason: { accepted: 3, catch_all: 1 }, byBounceRisk: { low: 3, medium: 1 } };
    const lines = statusLines(view({ status: 'done', rows: '4', unique: '4', batches: '2', final: '4', counts: JSON.stringify(counts) }), clock);
    expect(lines[0]).toBe('list march: done, 100% verified (4 of 4 unique addresses)');
    expect(lines).toContain('  batches   2/2 done');
    expect(lines).toContain('  rows by   deliverable 3, risky 1');
    expect(lines).toContain('  risk      low 3, medium 1');
    expect(lines[2]).toMatch(/^ {2}output {4}s3:\/\/b\/out\/march\/ \(written: report\.csv .*summary\.json\)$/);
  });
});

describe('listwash list (for people)', () => {
  it('one row per list in aligned columns; unknown sizes as -', () => {
    const rows = listTable([view({ listId: 'b-list', status: 'probing', rows: '2100', unique: '2000', final: '850' }), view({ listId: 'a', status: 'queued' })], clock);
    expect(rows).toEqual([
      'ID      STATE    VERIFIED  ROWS  CREATED              OUTPUT',
      'b-list  probing     42.5%  2100  2026-03-01 13:55:00  s3://b/out/march/',
      'a       queued         0%     -  2026-03-01 13:55:00  s3://b/out/march/',
    ]);
  });
});
