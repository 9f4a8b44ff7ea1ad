/** `listwash worker [--only …] [--concurrency N]`: run workers until SIGTERM/SIGINT (graceful). */
import { Command } from 'commander';
import { loadConfig, type Config } from '../../config.js';
import type { WorkerSelection } from '../../pipeline/service.js';
import { action, requireRedis, withExamples, type CliRun } from '../command-kit.js';
import { positiveInteger, WORKER_KINDS, workerKinds, type WorkerKind } from '../option-parsers.js';

export async function runWorker(cfg: Config, sel: WorkerSelection): Promise<number> {
  await requireRedis(cfg);
  const [{ ListwashService }, { logStartupChecks }, { createLogger }] = await Promise.all([import('../../pipeline/service.js'), import('../../doctor/index.js'), import('../../log.js')]);
  // Its log (LISTWASH_LOG_LEVEL, LISTWASH_LOG_FORMAT) on stderr: list events, batches, throttle signals, errors.
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

export function workerCommand(run: CliRun): Command {
  const cmd = new Command('worker')
    .summary('run workers until SIGTERM/SIGINT')
    .description('Run workers until SIGTERM/SIGINT (graceful: current SMTP sessions finish, throttle leases are released). Run as many as you like, on as many machines, with the same REDIS_URL and storage.')
    .option('--only <kinds>', `comma-separated worker kinds: ${WORKER_KINDS.join(', ')} (default: all)`, workerKinds)
    .option('--concurrency <n>', 'batches probed at once by this process (default: LISTWASH_WORKER_CONCURRENCY)', positiveInteger('--concurrency'))
    .action(
      action(run, async (flags: { only?: WorkerKind[]; concurrency?: number }) => {
        const only = flags.only ?? [...WORKER_KINDS];
        return runWorker(loadConfig(), {
          split: only.includes('split'),
          probe: only.includes('probe'),
          aggregate: only.includes('aggregate'),
          webhook: only.includes('webhook'),
          ...(flags.concurrency !== undefined ? { probeConcurrency: flags.concurrency } : {}),
        });
      }),
    );
  return withExamples(cmd, ['listwash worker', 'listwash worker --only probe --concurrency 16']);
}
