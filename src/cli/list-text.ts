/**
 * Lists as people read them: `listwash status <id>` (one list: phase, share verified, counts by status
 * and reason, batches, timings, where the files are, what failed) and `listwash list` (a table, newest
 * first). Pure: views + clock in, lines out.
 */
import { RESULT_FILES } from '../pipeline/list-files.js';
import type { ListView } from '../pipeline/list-view.js';
import { STATUSES } from '../verdict.js';
import { batchesText } from './progress.js';
import { countsText, humanDuration, LOCAL_TIME, percentText, type TimeFormat } from './text-format.js';

export interface TextClock {
  now: number;
  time?: TimeFormat;
}

/** `label   value` with labels in one column. */
function field(label: string, value: string): string {
  return `  ${label.padEnd(10)}${value}`;
}

function sizeLine(v: ListView): string | null {
  if (v.rows === null) return null;
  const parts = [v.unique !== null ? `${v.unique} unique` : '', v.duplicates ? `${v.duplicates} duplicates` : '', v.invalid ? `${v.invalid} invalid` : ''].filter(Boolean);
  const domains = v.domains !== null ? `, ${v.domains} ${v.domains === 1 ? 'domain' : 'domains'}` : '';
  return `${v.rows}${parts.length ? ` (${parts.join(', ')})` : ''}${domains}`;
}

function timingsLine(v: ListView, clock: TextClock): string {
  const time = clock.time ?? LOCAL_TIME;
  const t = v.timings;
  const span = (from: number | null, to: number | null) => (from !== null && to !== null ? humanDuration((to - from) / 1000) : null);
  const parts = [
    t.createdAt !== null ? `created ${time.dateTime(t.createdAt)}` : '',
    span(t.splitStartedAt, t.splitDoneAt) ? `split ${span(t.splitStartedAt, t.splitDoneAt)}` : '',
    span(t.probeStartedAt ?? t.splitDoneAt, t.aggregateStartedAt) ? `probing ${span(t.probeStartedAt ?? t.splitDoneAt, t.aggregateStartedAt)}` : '',
    span(t.aggregateStartedAt, t.finishedAt) ? `writing ${span(t.aggregateStartedAt, t.finishedAt)}` : '',
    t.finishedAt !== null ? `ended ${time.dateTime(t.finishedAt)}` : '',
    t.elapsedSec !== null ? `${t.finishedAt !== null ? 'took' : 'elapsed'} ${humanDuration(t.elapsedSec)}` : '',
  ];
  return parts.filter(Boolean).join(', ');
}

/** Where the files are, and whether they are there yet. */
function outputNote(v: ListView): string {
  if (v.state === 'done') return ` (written: ${RESULT_FILES.join(' ')})`;
  if (v.state === 'failed') return ' (not written; error.json says why)';
  if (v.state === 'cancelled') return ' (not written: cancelled)';
  return ' (written when done)';
}

/** `listwash status <id>`: the list in a dozen lines. */
export function statusLines(v: ListView, clock: TextClock): string[] {
  const time = clock.time ?? LOCAL_TIME;
  const of = v.unique !== null ? ` (${v.verified} of ${v.unique} unique addresses)` : '';
  const lines = [`list ${v.id}: ${v.state}, ${percentText(v.percent)} verified${of}`];
  lines.push(field('input', v.input));
  lines.push(field('output', `${v.output}${outputNote(v)}`));
  const size = sizeLine(v);
  if (size) lines.push(field('rows', size));
  if (v.batches.total !== null || v.batches.done > 0) lines.push(field('batches', batchesText(v, '')));
  const byStatus = countsText(v.counts.byStatus, STATUSES);
  if (byStatus) lines.push(field(v.state === 'done' ? 'rows by' : 'verdicts', byStatus));
  const byReason = countsText(v.counts.byReason);
  if (byReason) lines.push(field('reasons', byReason));
  const byRisk = countsText(v.counts.byBounceRisk, ['low', 'medium', 'high', 'unknown']);
  if (byRisk) lines.push(field('risk', byRisk));
  if (v.nextGreylistRetryAt !== null) lines.push(field('waiting', `for greylist retry at ${time.clock(v.nextGreylistRetryAt)}`));
  for (const t of v.throttled) lines.push(field('throttled', `${t.group} ${t.why} (${t.batches} ${t.batches === 1 ? 'batch' : 'batches'})`));
  lines.push(field('timings', timingsLine(v, clock)));
  if (v.error) lines.push(field('error', `${v.error.code}: ${v.error.message}`));
  if (v.lastBatchError) lines.push(field('batch error', v.lastBatchError));
  if (v.owner) lines.push(field('owner', v.owner));
  if (v.callbackUrl) {
    const last = v.webhook?.at(-1);
    lines.push(field('webhook', `${v.callbackUrl}${last ? ` (${v.webhook!.length} ${v.webhook!.length === 1 ? 'attempt' : 'attempts'}, last: ${last.outcome})` : ''}`));
  }
  return lines;
}

/** `listwash list`: one row per list, newest first. */
export function listTable(views: readonly ListView[], clock: TextClock): string[] {
  const time = clock.time ?? LOCAL_TIME;
  const header = ['ID', 'STATE', 'VERIFIED', 'ROWS', 'CREATED', 'OUTPUT'];
  const rows = views.map((v) => [v.id, v.state, percentText(v.percent), v.rows !== null ? String(v.rows) : '-', v.timings.createdAt !== null ? time.dateTime(v.timings.createdAt) : '-', v.output]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const right = new Set([2, 3]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
