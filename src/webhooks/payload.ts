/**
 * What a webhook says: its body and its stable message id. Pure.
 *
 * Body: `{ id, state, counts, files, output, error? }` — the list id, how it ended (`done`, `failed`,
 * `cancelled`), the verdict counts (by status, reason and bounce risk; a failed or cancelled list's
 * counts so far), its files with download URLs, its output location, and for a failed list the error's
 * code and message.
 */
import type { ListError, ListView } from '../pipeline/list-view.js';

/** How a list ended, as its webhook announces it. */
export type ListEnd = 'done' | 'failed' | 'cancelled';

export const LIST_ENDS: readonly ListEnd[] = ['done', 'failed', 'cancelled'];

export interface WebhookFile {
  name: string;
  size: number;
  /** A pre-signed S3 GET URL (valid `LISTWASH_DOWNLOAD_URL_TTL_SEC`), or the file's `file://` location. */
  url: string;
}

export interface WebhookBody {
  id: string;
  state: ListEnd;
  counts: ListView['counts'];
  files: WebhookFile[];
  output: string;
  error?: ListError;
}

export function webhookBody(view: Pick<ListView, 'id' | 'counts' | 'output' | 'error'>, state: ListEnd, files: WebhookFile[]): WebhookBody {
  return {
    id: view.id,
    state,
    counts: view.counts,
    files,
    output: view.output,
    ...(state === 'failed' && view.error ? { error: view.error } : {}),
  };
}

/**
 * The `webhook-id` of a list's end: the same for every attempt (receivers dedupe on it), different for
 * another list, another end, or a list submitted again under the same id after a delete.
 */
export function webhookMessageId(listId: string, createdAt: string | undefined, state: ListEnd): string {
  return `lw_${listId}_${createdAt ?? '0'}_${state}`;
}
