/** One-line progress for a list, from its status view. Pure. */
import type { ListView } from '../pipeline/list-view.js';

export function progressLine(v: ListView): string {
  const rows = v.rows !== null ? `${v.rows} rows` : '';
  const unique = v.unique ? `${v.unique} unique` : '';
  const batches = v.batches.total !== null ? `${v.batches.done}/${v.batches.total} batches done` : '';
  const percent = v.state === 'probing' || v.state === 'aggregating' || v.state === 'done' ? `${v.percent}% verified` : '';
  return `[${v.state}] ${[rows, unique, batches, percent].filter(Boolean).join(', ')}`.padEnd(60);
}
