/**
 * `GET /metrics`: Prometheus text (prom-client). Fleet-wide figures come from Redis at scrape time
 * (`fleet-snapshot.ts`); the HTTP request counter and the process metrics are this API process's own.
 * Counters read from Redis only ever grow there, so they are exposed as Prometheus counters.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { FleetSnapshot } from './fleet-snapshot.js';

/** Throttle counters exposed per group: metric → (label value → counter name). */
const THROTTLE_WAITS = { busy: 'busyRefusals', cooldown: 'cooldownRefusals', open: 'openRefusals', rcpt: 'rcptWaits' } as const;
const THROTTLE_SIGNALS = { rate_limited: 'rateLimitedSignals', blocked: 'blockedSignals', success: 'successes' } as const;

export class ApiMetrics {
  readonly registry = new Registry();
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private readonly lists: Gauge<'state'>;
  private readonly listsEnded: Counter<'state'>;
  private readonly verdicts: Counter<'status' | 'reason'>;
  private readonly rows: Counter<'status'>;
  private readonly smtpSessions: Counter;
  private readonly smtpRcpts: Counter;
  private readonly smtpReplies: Counter<'class'>;
  private readonly smtpConnectFailures: Counter;
  private readonly smtpTls: Counter;
  private readonly queueJobs: Gauge<'queue' | 'state'>;
  private readonly throttleSessions: Counter<'group'>;
  private readonly throttleRcpts: Counter<'group'>;
  private readonly throttleWaits: Counter<'group' | 'kind'>;
  private readonly throttleSignals: Counter<'group' | 'signal'>;
  private readonly webhooks: Counter<'outcome'>;

  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) => new Counter<L>({ name, help, labelNames, registers });
    const gauge = <L extends string>(name: string, help: string, labelNames: L[] = []) => new Gauge<L>({ name, help, labelNames, registers });
    this.httpRequests = counter('listwash_http_requests_total', 'HTTP requests answered by this API process, by route and status.', ['method', 'route', 'status']);
    this.lists = gauge('listwash_lists', 'Lists at work in the fleet, by state (queued, splitting, probing, aggregating).', ['state']);
    this.listsEnded = counter('listwash_lists_ended_total', 'Lists ended, by final state (done, failed, cancelled).', ['state']);
    this.verdicts = counter('listwash_verdicts_total', 'Final verdicts reached by the probe stage (unique addresses, verify requests included), by status and reason.', ['status', 'reason']);
    this.rows = counter('listwash_report_rows_total', 'Report rows written by finished lists, by status (invalid syntax and duplicates included).', ['status']);
    this.smtpSessions = counter('listwash_smtp_sessions_total', 'SMTP sessions opened by the probe stage.');
    this.smtpRcpts = counter('listwash_smtp_rcpts_total', 'RCPT TO commands sent by the probe stage.');
    this.smtpReplies = counter('listwash_smtp_replies_total', 'Temporary (4xx) and permanent (5xx) SMTP replies received by the probe stage.', ['class']);
    this.smtpConnectFailures = counter('listwash_smtp_connect_failures_total', 'Connections to MX hosts that failed.');
    this.smtpTls = counter('listwash_smtp_tls_sessions_total', 'SMTP sessions upgraded with STARTTLS.');
    this.queueJobs = gauge('listwash_queue_jobs', 'Jobs per queue and state.', ['queue', 'state']);
    this.throttleSessions = counter('listwash_throttle_sessions_total', 'Session slots granted by the fleet-wide throttle, per group (the 50 busiest groups; the rest as group="_other").', ['group']);
    this.throttleRcpts = counter('listwash_throttle_rcpts_total', 'RCPTs granted by the fleet-wide throttle, per group.', ['group']);
    this.throttleWaits = counter('listwash_throttle_waits_total', 'Throttle refusals per group: session slot busy, cooldown after "slow down", circuit open, RCPT had to wait.', ['group', 'kind']);
    this.throttleSignals = counter('listwash_throttle_signals_total', 'What hosts said, per group: rate_limited (421 / 4.7.x), blocked (ban signs), success.', ['group', 'signal']);
    this.webhooks = counter('listwash_webhook_deliveries_total', 'Webhook delivery attempts by outcome: delivered (2xx), failed (retried or given up), refused (target not allowed, no secret).', ['outcome']);
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'listwash_api_' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Count one answered request (`route` is the route's path pattern, never the raw URL). */
  countRequest(method: string, route: string, status: number): void {
    this.httpRequests.inc({ method, route, status: String(status) });
  }

  /** The Prometheus text for this snapshot of the fleet. */
  async render(s: FleetSnapshot): Promise<string> {
    this.apply(s);
    return this.registry.metrics();
  }

  private apply(s: FleetSnapshot): void {
    this.lists.reset();
    for (const state of ['queued', 'splitting', 'probing', 'aggregating']) this.lists.set({ state }, s.active[state] ?? 0);
    setCounter(this.listsEnded, ['done', 'failed', 'cancelled'].map((state) => [{ state }, s.ended[state] ?? 0]));
    setCounter(
      this.verdicts,
      Object.entries(s.verdicts).map(([k, n]) => {
        const [status = '', reason = ''] = k.split('|');
        return [{ status, reason }, n];
      }),
    );
    setCounter(this.rows, Object.entries(s.rows).map(([status, n]) => [{ status }, n]));
    setCounter(this.smtpSessions, [[{}, s.smtp.sessions ?? 0]]);
    setCounter(this.smtpRcpts, [[{}, s.smtp.rcpts ?? 0]]);
    setCounter(this.smtpReplies, [
      [{ class: '4xx' }, s.smtp.replies4xx ?? 0],
      [{ class: '5xx' }, s.smtp.replies5xx ?? 0],
    ]);
    setCounter(this.smtpConnectFailures, [[{}, s.smtp.connectFailures ?? 0]]);
    setCounter(this.smtpTls, [[{}, s.smtp.tlsSessions ?? 0]]);
    this.queueJobs.reset();
    for (const q of s.queues) this.queueJobs.set({ queue: q.queue, state: q.state }, q.jobs);
    setCounter(this.throttleSessions, s.groups.map((g) => [{ group: g.group }, g.counters.acquired]));
    setCounter(this.throttleRcpts, s.groups.map((g) => [{ group: g.group }, g.counters.rcptTaken]));
    setCounter(
      this.throttleWaits,
      s.groups.flatMap((g) => Object.entries(THROTTLE_WAITS).map(([kind, c]): [Record<string, string>, number] => [{ group: g.group, kind }, g.counters[c]])),
    );
    setCounter(
      this.throttleSignals,
      s.groups.flatMap((g) => Object.entries(THROTTLE_SIGNALS).map(([signal, c]): [Record<string, string>, number] => [{ group: g.group, signal }, g.counters[c]])),
    );
    setCounter(this.webhooks, ['delivered', 'failed', 'refused'].map((outcome) => [{ outcome }, s.webhooks[outcome] ?? 0]));
  }
}

/** A counter whose values come from elsewhere (Redis): replace them all. */
function setCounter<L extends string>(c: Counter<L>, values: [Partial<Record<L, string>>, number][]): void {
  c.reset();
  for (const [labels, n] of values) c.inc(labels, n);
}
