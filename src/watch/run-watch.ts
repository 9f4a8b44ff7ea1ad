/**
 * `listwash watch <prefix> --out <prefix> [--workers]`: run a watcher until SIGINT/SIGTERM, printing one
 * line per list it submits. With `--workers`, this process also runs the workers (one box, no fleet).
 */
import type { Config } from '../config.js';
import { createLogger } from '../log.js';
import { ListwashService } from '../pipeline/service.js';
import { assertRedis } from '../redis/connect.js';
import { Watcher } from './watcher.js';

export interface RunWatchOptions {
  source: string;
  out: string;
  /** Also run the workers in this process. */
  workers?: boolean;
  /** Stops the watcher (default: SIGINT or SIGTERM). */
  signal?: AbortSignal;
  stdout?: NodeJS.WritableStream;
}

/** Abort on the first SIGINT/SIGTERM (then the default handling is back). */
function signalsAbort(): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

export async function runWatch(cfg: Config, opts: RunWatchOptions): Promise<number> {
  await assertRedis(cfg);
  const log = createLogger(cfg);
  const stdout = opts.stdout ?? process.stdout;
  const svc = new ListwashService(cfg, { logger: log });
  const signals = opts.signal ? null : signalsAbort();
  let watcher: Watcher | null = null;
  try {
    watcher = await Watcher.create(svc, opts.source, opts.out, {
      log,
      onSubmitted: (s) => stdout.write(`${s.listId} ${s.input} -> ${s.output}\n`),
    });
    if (opts.workers) await svc.startWorkers({ split: true, probe: true, aggregate: true, webhook: true });
    log.info({ source: watcher.source.url, out: watcher.out.url, intervalSec: cfg.watchIntervalSec }, 'watch: started');
    await watcher.run(cfg.watchIntervalSec * 1000, opts.signal ?? signals!.signal);
    return 0;
  } finally {
    signals?.dispose();
    watcher?.close();
    await svc.close();
  }
}
