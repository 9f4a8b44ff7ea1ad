/** One-line progress for a list, from its status hash. Pure. */
import type { ListMeta } from '../pipeline/list-state.js';

export function progressLine(m: ListMeta): string {
  const rows = m.rows ? `${m.rows} rows` : '';
  const batches = m.batches ? `${m.batchesDone ?? 0}/${m.batches} batches done` : '';
  return `[${m.status}] ${[rows, m.unique ? `${m.unique} unique` : '', batches].filter(Boolean).join(', ')}`.padEnd(60);
}
