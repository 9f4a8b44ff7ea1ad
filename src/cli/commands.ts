/** The CLI's commands, one function each. */
import { parseAddress } from '../address/index.js';
import type { Config } from '../config.js';
import { createVerifier } from '../engine/index.js';
import { errorMessage } from '../errors.js';
import { createLogger } from '../log.js';
import { assertRedis } from '../redis/connect.js';
import { ListwashService, type SubmitOptions, type WorkerSelection } from '../pipeline/service.js';
import { applyFlags, verdict } from '../verdict.js';
import { doctor, logStartupChecks, reportJson, reportLines, type DoctorOptions } from '../doctor/index.js';
import { ProgressLog, progressLine } from './progress.js';

export async function runClean(cfg: Config, opts: SubmitOptions, ui: { quiet: boolean }): Promise<number> {
  await assertRedis(cfg);
  const svc = new ListwashService(cfg);
  try {
    await svc.startWorkers({ split: true, probe: true, aggregate: true, webhook: true });
    const { listId, created } = await svc.submit(opts);
    if (!created) process.stderr.write(`list ${listId} exists already; waiting for it instead of processing it again\n`);
    const log = new ProgressLog();
    const meta = await svc.waitUntilDone(listId, {
      onProgress: (m) => {
        if (ui.quiet) return;
        // A terminal gets a live line; a log gets a line per status change, and news between them now and then.
        if (process.stderr.isTTY) process.stderr.write(`\r${progressLine(m)}`);
        else {
          const line = log.next(m, Date.now());
          if (line !== null) process.stderr.write(`${line}\n`);
        }
      },
    });
    if (!ui.quiet) {
      if (process.stderr.isTTY) process.stderr.write('\n');
      process.stdout.write(`list ${listId}: ${meta.rows} rows → ${meta.output}\n`);
      process.stdout.write('  report.csv clean.csv risky.csv invalid.csv unknown.csv summary.json\n');
    }
    return 0;
  } finally {
    await svc.close();
  }
}

export async function runSubmit(cfg: Config, opts: SubmitOptions): Promise<number> {
  await assertRedis(cfg);
  const svc = new ListwashService(cfg);
  try {
    const { listId, created } = await svc.submit(opts);
    process.stdout.write(`${listId}\n`);
    if (!created) process.stderr.write(`list ${listId} exists already; not submitted again\n`);
    return 0;
  } finally {
    await svc.close();
  }
}

export async function runStatus(cfg: Config, listId: string): Promise<number> {
  await assertRedis(cfg);
  const svc = new ListwashService(cfg);
  try {
    const m = await svc.view(listId);
    if (!m) {
      process.stderr.write(`no list with id ${listId}\n`);
      return 1;
    }
    process.stdout.write(JSON.stringify(m, null, 2) + '\n');
    return 0;
  } finally {
    await svc.close();
  }
}

export async function runWorker(cfg: Config, sel: WorkerSelection): Promise<number> {
  await assertRedis(cfg);
  // Its log (LISTWASH_LOG_LEVEL, LISTWASH_LOG_FORMAT) on stderr: list events, batches, errors.
  const svc = new ListwashService(cfg, { logger: createLogger(cfg) });
  await svc.startWorkers(sel);
  // The signal handlers are in place before "running" is printed: whoever waits for that line may stop us at once.
  const stopped = untilSignal();
  process.stderr.write(`listwash worker ${process.pid} running (${Object.entries(sel).filter(([, v]) => v === true).map(([k]) => k).join(', ')})\n`);
  // A prober runs the doctor's checks beside the work (they never hold it up) and logs one line each.
  const checks = cfg.doctorAtStart && sel.probe ? logStartupChecks(cfg, (line) => process.stderr.write(`listwash worker ${process.pid} doctor: ${line}\n`)) : null;
  const signal = await stopped;
  process.stderr.write(`listwash worker ${process.pid}: ${signal}, finishing current jobs\n`);
  // Let the checks finish (their waits are bounded) before closing: their lines are logged, and the
  // process does not linger after close (a BullMQ connection closed while still connecting emits a late
  // 'error' that would crash a lingering process).
  await checks;
  await svc.close();
  return 0;
}

/** Resolves with the first SIGTERM or SIGINT; the handlers are registered when this returns. */
function untilSignal(): Promise<'SIGTERM' | 'SIGINT'> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

/** `listwash doctor`: the checks, one line each (or JSON); exit code 1 when a check FAILs. */
export async function runDoctor(cfg: Config, opts: DoctorOptions & { json?: boolean }, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const report = await doctor(cfg, opts);
  out.write(opts.json ? `${JSON.stringify(reportJson(report), null, 2)}\n` : `${reportLines(report).join('\n')}\n`);
  return report.fails > 0 ? 1 : 0;
}

export async function runVerify(cfg: Config, addresses: string[]): Promise<number> {
  const { verifier } = createVerifier(cfg);
  for (const input of addresses) {
    const a = parseAddress(input);
    if (!a.ok) {
      process.stdout.write(JSON.stringify({ input, ...verdict('invalid_syntax', { smtpReply: a.message }), suggestion: a.suggestion }) + '\n');
      continue;
    }
    try {
      const r = await verifier.verify(a.domain, [{ address: a.normalized, smtputf8: a.flags.smtputf8 }]);
      const o = r.outcomes[0]!;
      const v = o.kind === 'deferred' ? verdict('temporary_failure') : applyFlags(o.verdict, a.flags);
      process.stdout.write(JSON.stringify({ input, address: a.normalized, ...v, final: o.kind === 'final', flags: a.flags, suggestion: a.suggestion }) + '\n');
    } catch (err) {
      process.stdout.write(JSON.stringify({ input, error: errorMessage(err) }) + '\n');
    }
  }
  return 0;
}
