/**
 * Queue names and Redis keys. BullMQ keys live under the configured prefix (default `{listwash}`: one
 * hash tag, so every queue's keys share a Redis Cluster slot, as BullMQ requires). Per-list state uses
 * its own hash tag `{<listId>}` so lists spread over a cluster while each list's keys stay together
 * for the Lua scripts.
 */
export const QUEUES = {
  /** Upload jobs: one per list; splits the CSV into per-domain batches. */
  split: 'lw-split',
  /** Batch jobs: one per domain batch; SMTP probes under the per-MX throttle. */
  probe: 'lw-probe',
  /** Aggregate jobs: one per list; writes the cleaned files. */
  aggregate: 'lw-aggregate',
} as const;

/** A list id: what users pass as job id. Letters, digits, `-`, `_`, `.`, 1–128 chars. */
export const LIST_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function listKeys(keyPrefix: string, listId: string) {
  const base = `${stripTag(keyPrefix)}:list:{${listId}}`;
  return {
    /** Hash: the list's metadata, counters, timings, settings. */
    meta: `${base}:meta`,
    /** Set: dedup keys seen by the current split run. */
    seen: `${base}:seen`,
    /** Hash: dedup key → encoded verdict. */
    results: `${base}:results`,
    /** Set: batch ids finished. */
    done: `${base}:done`,
    /** Hash: `<mx host>|<counter>` → number, per-MX stats for summary.json. */
    mx: `${base}:mx`,
  };
}

export type ListKeys = ReturnType<typeof listKeys>;

/** Key prefix for caches shared by the fleet (DNS answers, catch-all). */
export function cacheKeyPrefix(keyPrefix: string): string {
  return `${stripTag(keyPrefix)}:cache:`;
}

/** Key prefix for the throttle. */
export function throttleKeyPrefix(keyPrefix: string): string {
  return `${stripTag(keyPrefix)}:`;
}

/** `{listwash}` → `listwash`: list keys carry their own hash tag. */
function stripTag(prefix: string): string {
  return prefix.replace(/[{}]/g, '');
}

export function batchJobId(listId: string, n: number): string {
  return `${listId}.b${n}`;
}

export function aggregateJobId(listId: string): string {
  return `${listId}.agg`;
}
