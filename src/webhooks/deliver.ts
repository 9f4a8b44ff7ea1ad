/**
 * A list's webhook, one attempt at a time (the webhook worker calls `attempt` for each run of the
 * list's `<listId>.webhook` job): build the body from the list's state, sign it, POST it to the list's
 * callback URL, record the attempt on the list, and say what comes next — nothing (delivered,
 * refused, given up) or another attempt at a given time.
 *
 * At most once per success: a 2xx is recorded (`webhookDelivered`) in the same write as the attempt,
 * and a list whose webhook is recorded delivered is never sent again. Only a worker dying between the
 * receiver's 2xx and that write (milliseconds) can make a receiver see the same `webhook-id` twice.
 */
import type { Config } from '../config.js';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { TargetPolicy } from '../net/targets.js';
import type { WebhookJobData } from '../pipeline/lifecycle.js';
import { ERROR_FILE, ListFiles, RESULT_FILES, type ListFile } from '../pipeline/list-files.js';
import type { ListMeta, ListState } from '../pipeline/list-state.js';
import { listView } from '../pipeline/list-view.js';
import { parseAttempts, settleInterrupted, withAttempt, type AttemptOutcome, type WebhookAttempt } from './attempts.js';
import { webhookBody, webhookMessageId, type ListEnd, type WebhookFile } from './payload.js';
import { originOf, postJson, type PostOptions, type PostResult } from './post.js';
import { nextAttemptAt } from './schedule.js';
import { parseWebhookSecrets } from './secret.js';
import { signedHeaders } from './signature.js';

export interface DeliveryDeps {
  cfg: Config;
  log: Logger;
  state(listId: string): ListState;
  /** Download links of the list's files (`FileLinks`). */
  links: { of(files: readonly ListFile[]): Promise<WebhookFile[]> };
  /** The HTTP POST (tests may wrap it); default `postJson`. */
  post?: (url: string, body: string, opts: PostOptions) => Promise<PostResult>;
  now?: () => number;
}

export type DeliveryResult =
  | { kind: 'delivered' | 'gave_up' | 'refused'; attempt: number }
  | { kind: 'retry'; attempt: number; at: number }
  | { kind: 'skipped'; why: string };

/** What one POST came to. */
interface Sent {
  status: number | null;
  durationMs: number;
  error: { code: string; message: string } | null;
}

const USER_AGENT = 'listwash-webhooks/1';

/** Why a list gets no attempt now, or null. */
function skipReason(meta: ListMeta | null): string | null {
  if (!meta) return 'the list is gone (deleted or expired)';
  if (!meta.callbackUrl) return 'the list has no callback URL';
  if (meta.webhookDelivered) return `already delivered (${meta.webhookDelivered})`;
  return null;
}

function statusError(url: string, status: number): { code: string; message: string } {
  const why = status >= 300 && status < 400 ? `answered ${status}: redirects are not followed` : `answered ${status}`;
  return { code: ErrorCodes.WEBHOOK_DELIVERY, message: `webhook to ${originOf(url)} ${why}` };
}

function errorOf(err: unknown): { code: string; message: string } {
  return { code: err instanceof ListwashError ? err.code : ErrorCodes.WEBHOOK_DELIVERY, message: errorMessage(err) };
}

export class WebhookDelivery {
  private readonly policy: TargetPolicy;
  private readonly keys: Buffer[];
  private readonly now: () => number;
  private readonly post: NonNullable<DeliveryDeps['post']>;

  constructor(private readonly deps: DeliveryDeps) {
    this.policy = new TargetPolicy(deps.cfg.webhookAllowedTargets, { env: 'LISTWASH_WEBHOOK_ALLOWED_TARGETS', setting: 'webhookAllowedTargets' });
    this.keys = parseWebhookSecrets(deps.cfg.webhookSecret);
    this.now = deps.now ?? Date.now;
    this.post = deps.post ?? postJson;
  }

  /** One attempt at the webhook of `job.listId`, recorded on the list. */
  async attempt(job: WebhookJobData): Promise<DeliveryResult> {
    const state = this.deps.state(job.listId);
    const meta = await state.meta();
    const skip = skipReason(meta);
    if (skip !== null || !meta) return { kind: 'skipped', why: skip ?? '' };
    const startedAt = this.now();
    await state.mark('webhookFirstAt', startedAt);
    const firstAt = Number(meta.webhookFirstAt ?? startedAt);
    const n = Number(meta.webhookAttempts ?? 0) + 1;
    const previous = settleInterrupted(parseAttempts(meta.webhook), ErrorCodes.WEBHOOK_DELIVERY);
    // Recorded before the request: an attempt cut short by a dying worker still shows.
    const sending: WebhookAttempt = { attempt: n, at: startedAt, state: job.state, status: null, error: null, durationMs: 0, outcome: 'sending', nextAttemptAt: null };
    await state.set({ webhook: JSON.stringify(withAttempt(previous, sending)), webhookAttempts: n });
    const sent = await this.send(meta, job.state, startedAt);
    const next = sent.error === null || sent.error.code === ErrorCodes.WEBHOOK_TARGET_NOT_ALLOWED ? null : nextAttemptAt(n, firstAt, this.now(), this.deps.cfg);
    const outcome: AttemptOutcome = sent.error === null ? 'delivered' : sent.error.code === ErrorCodes.WEBHOOK_TARGET_NOT_ALLOWED ? 'refused' : next !== null ? 'retrying' : 'gave_up';
    const record: WebhookAttempt = { attempt: n, at: startedAt, state: job.state, status: sent.status, error: sent.error, durationMs: sent.durationMs, outcome, nextAttemptAt: next };
    await state.set({
      webhook: JSON.stringify(withAttempt(previous, record)),
      webhookAttempts: n,
      ...(outcome === 'delivered' ? { webhookDelivered: job.state } : {}),
    });
    await state.touch();
    this.logAttempt(job.listId, meta.callbackUrl!, record);
    return outcome === 'retrying' ? { kind: 'retry', attempt: n, at: next! } : { kind: outcome, attempt: n };
  }

  /** Build, sign and POST the body; any failure becomes the attempt's error. */
  private async send(meta: ListMeta, end: ListEnd, startedAt: number): Promise<Sent> {
    const url = meta.callbackUrl!;
    try {
      if (this.keys.length === 0) {
        throw new ListwashError(ErrorCodes.WEBHOOK_SECRET_MISSING, 'LISTWASH_WEBHOOK_SECRET is empty on this worker: webhooks are never sent unsigned');
      }
      const body = JSON.stringify(await this.bodyOf(meta, end));
      const headers = signedHeaders(this.keys, webhookMessageId(meta.listId, meta.createdAt, end), Math.floor(startedAt / 1000), body);
      const res = await this.post(url, body, { policy: this.policy, timeoutMs: this.deps.cfg.webhookTimeoutMs, headers: { ...headers, 'user-agent': USER_AGENT } });
      return { status: res.status, durationMs: res.durationMs, error: res.status >= 200 && res.status < 300 ? null : statusError(url, res.status) };
    } catch (err) {
      return { status: null, durationMs: Math.max(0, this.now() - startedAt), error: errorOf(err) };
    }
  }

  private async bodyOf(meta: ListMeta, end: ListEnd) {
    const view = listView(meta, { batchesDone: 0, nextGreylistRetryAt: null, throttled: [] });
    const names = end === 'done' ? RESULT_FILES : end === 'failed' ? [ERROR_FILE] : [];
    const files = await new ListFiles(this.deps.cfg, meta.output).existing(names);
    return webhookBody(view, end, await this.deps.links.of(files));
  }

  private logAttempt(listId: string, url: string, a: WebhookAttempt): void {
    const fields = { listId, attempt: a.attempt, origin: originOf(url), status: a.status, ...(a.error ? { code: a.error.code } : {}) };
    if (a.outcome === 'delivered') this.deps.log.info(fields, 'webhook delivered');
    else if (a.outcome === 'retrying') this.deps.log.warn({ ...fields, nextAttemptAt: a.nextAttemptAt }, `webhook attempt failed, retrying: ${a.error?.message ?? ''}`);
    else this.deps.log.error(fields, `webhook ${a.outcome === 'refused' ? 'refused' : 'given up'}: ${a.error?.message ?? ''}`);
  }
}
