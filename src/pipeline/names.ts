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
  /** Webhook jobs: one per finished list with a callback URL; delivers the signed callback. */
  webhook: 'lw-webhook',
} as const;

/** A list id: what users pass as job id. Letters, digits, `-`, `_`, `.`, 1–128 chars. */
export const LIST_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function listKeys(keyPrefix: string, listId: string) {
  const base = `${stripTag(keyPrefix)}:list:{${listId}}`;
  return {
    /** Hash: the list's metadata, counters, timings, settings. */
    meta: `${base}:meta`,
    /** Hash: dedup keys seen by the current split run → the number of the chunk that saw each first. */
    seen: `${base}:seen`,
    /**
     * Hash: dedup key → encoded verdict; `@<domain>` → the one verdict of every address of a domain the split
     * found without any mail route (see `domainVerdictField`: those addresses have no field of their own); and
     * `!<domain>` → 1 for a domain some batch of which went to the probe queue (`probedDomainField`).
     */
    results: `${base}:results`,
    /** Set: batch ids finished. */
    done: `${base}:done`,
    /** Hash: `<mx host>|<counter>` → number, per-MX stats for summary.json. */
    mx: `${base}:mx`,
    /** Hash: batch id → its final-verdict counts (see `commands/progress-2.lua`). */
    progress: `${base}:progress`,
    /** Sorted set: batch id → when its next greylist retry runs (ms epoch). */
    waits: `${base}:waits`,
    /** Hash: batch id → `<throttle group>|<why>` while the throttle holds it back. */
    held: `${base}:held`,
  };
}

/**
 * Keys that hold per-address data or per-batch bookkeeping: needed while the list runs, removed once
 * its files are written (the meta hash stays, with the summary's counts, until the TTL).
 */
export function workingKeys(k: ListKeys): string[] {
  return [k.seen, k.results, k.done, k.mx, k.progress, k.waits, k.held];
}

/** Sorted set of every list id by creation time (ms), newest last. */
export function listIndexKey(keyPrefix: string): string {
  return `${stripTag(keyPrefix)}:lists`;
}

/** Sorted set of one owner's (API key's) list ids by creation time. */
export function ownerIndexKey(keyPrefix: string, owner: string): string {
  return `${stripTag(keyPrefix)}:lists:owner:${owner}`;
}

/**
 * The completion channel: a Redis stream with one entry per list that ends (`done`, `failed`,
 * `cancelled`). Documented for services in any language (README, "Job contract").
 */
export function eventsKey(keyPrefix: string): string {
  return `${stripTag(keyPrefix)}:events`;
}

export type ListKeys = ReturnType<typeof listKeys>;

/**
 * Fleet-wide counters read by `GET /metrics` at scrape time (see `fleet-counters.ts`). Every one is a
 * single key, written by single-key commands only (any Redis Cluster slot will do).
 */
export function fleetKeys(keyPrefix: string) {
  // One hash tag for all of them: a probe run updates several in one pipeline, which a Redis Cluster
  // takes only within one slot.
  const base = `${stripTag(keyPrefix)}:metrics:{${stripTag(keyPrefix)}-metrics}`;
  return {
    /** Set: ids of lists still at work (`queued` … `aggregating`); verify requests are not lists. */
    active: `${base}:active`,
    /** Hash: lists ended, by final state (`done`, `failed`, `cancelled`). */
    ended: `${base}:ended`,
    /** Hash: final verdicts the probe stage reached, by `<status>|<reason>` (unique addresses; verify requests included). */
    verdicts: `${base}:verdicts`,
    /** Hash: report rows written by finished lists, by status (invalid syntax and duplicates included). */
    rows: `${base}:rows`,
    /** Hash: SMTP work of the probe stage: `sessions`, `rcpts`, `replies4xx`, `replies5xx`, `connectFailures`, `tlsSessions`. */
    smtp: `${base}:smtp`,
    /** Hash: webhook delivery attempts by outcome (`delivered`, `failed`, `refused`), written by the webhook worker. */
    webhooks: `${base}:webhooks`,
    /** Set: throttle group keys the fleet has used (their counters live in the throttle's own `stats` hashes). */
    groups: `${base}:groups`,
  };
}

export type FleetKeys = ReturnType<typeof fleetKeys>;

/** Key prefix for caches shared by the fleet (DNS answers, catch-all). */
export function cacheKeyPrefix(keyPrefix: string): string {
  return `${stripTag(keyPrefix)}:cache:`;
}

/** Key prefix of the fleet-wide verdict cache (its shards carry their own hash tags, `{vc-<n>}`). */
export function verdictCacheKeyPrefix(keyPrefix: string): string {
  return `${stripTag(keyPrefix)}:vcache:`;
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
