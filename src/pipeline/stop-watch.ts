/**
 * Stops the running work of lists that ended elsewhere (cancelled, failed, deleted) in this process:
 * every running job registers its list, and once a second the lists with running jobs are looked up in
 * one round trip per list; the jobs of a list that is no longer active are aborted (their SMTP sessions
 * QUIT at once and give their throttle slots back).
 */
import { ErrorCodes, ListwashError } from '../errors.js';
import { isFinalStatus } from './list-state.js';
import { listKeys } from './names.js';
import type { RedisClient } from '../redis/connect.js';

export class ListStopWatch {
  private readonly running = new Map<string, Set<AbortController>>();
  private timer: NodeJS.Timeout | null = null;
  private checking = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly keyPrefix: string,
    private readonly intervalMs = 1000,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Register a job of `listId`; its signal aborts when the list stops. Call `done()` when the job ends. */
  track(listId: string): { signal: AbortSignal; done: () => void } {
    const ctl = new AbortController();
    let set = this.running.get(listId);
    if (!set) this.running.set(listId, (set = new Set()));
    set.add(ctl);
    this.timer ??= setInterval(() => void this.check(), this.intervalMs).unref();
    return {
      signal: ctl.signal,
      done: () => {
        set.delete(ctl);
        if (set.size === 0) this.running.delete(listId);
        if (this.running.size === 0 && this.timer) {
          clearInterval(this.timer);
          this.timer = null;
        }
      },
    };
  }

  /** Look up every list with running jobs once; abort the jobs of those that stopped. */
  async check(): Promise<void> {
    if (this.checking || this.running.size === 0) return;
    this.checking = true;
    try {
      const ids = [...this.running.keys()];
      const statuses = await Promise.all(ids.map((id) => this.redis.hget(listKeys(this.keyPrefix, id).meta, 'status')));
      ids.forEach((id, i) => {
        const s = statuses[i];
        if (s !== null && s !== undefined && !isFinalStatus(s)) return;
        const reason = new ListwashError(ErrorCodes.LIST_ENDED, `list ${id} is ${s ?? 'gone'}: its running work stops`, { listId: id, status: s ?? null });
        for (const ctl of this.running.get(id) ?? []) ctl.abort(reason);
      });
    } catch (err) {
      this.onError(err);
    } finally {
      this.checking = false;
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
