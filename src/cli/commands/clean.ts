/** `listwash clean <input> --out <prefix>`: one list end to end in this process, with its progress. */
import { Command } from 'commander';
import { loadConfig, type Config } from '../../config.js';
import type { SubmitOptions } from '../../pipeline/service.js';
import { STATUSES } from '../../verdict.js';
import { action, withExamples, type CliRun } from '../command-kit.js';
import { ProgressDisplay } from '../progress-display.js';
import { countsText } from '../text-format.js';
import { listOptions, submitOptions, type ListFlags } from './list-options.js';

/**
 * The whole pipeline in this process. With nothing answering at the default Redis address and
 * `REDIS_URL` unset, it runs on a private redis-server that it stops when it ends (see `resolveRedis`).
 */
export async function runClean(configured: Config, opts: SubmitOptions, ui: { quiet: boolean }): Promise<number> {
  const { resolveRedis } = await import('../../redis/availability.js');
  const redis = await resolveRedis(configured, process.env, { allowEmbedded: true, say: (line) => process.stderr.write(`listwash: ${line}\n`) });
  try {
    return await cleanWith(redis.cfg, opts, ui, redis.lost);
  } finally {
    await redis.stop();
  }
}

async function cleanWith(cfg: Config, opts: SubmitOptions, ui: { quiet: boolean }, redisLost: Promise<never>): Promise<number> {
  const [{ ListwashService }, { RESULT_FILES }, { closeWithin, redisGone }] = await Promise.all([import('../../pipeline/service.js'), import('../../pipeline/list-files.js'), import('../shutdown.js')]);
  const svc = new ListwashService(cfg);
  let gone = false;
  try {
    await svc.startWorkers({ split: true, probe: true, aggregate: true, webhook: true });
    const { listId, created } = await svc.submit(opts);
    if (!created) process.stderr.write(`list ${listId} exists already; waiting for it instead of processing it again\n`);
    const display = ui.quiet ? null : new ProgressDisplay(process.stderr);
    const done = await Promise.race([svc.waitUntilDone(listId, { onProgress: (v) => display?.update(v) }), redisLost]);
    if (!ui.quiet) {
      const counts = countsText(done.counts.byStatus, STATUSES);
      process.stdout.write(`list ${listId}: ${done.rows ?? 0} rows${counts ? ` (${counts})` : ''} → ${done.output}\n`);
      process.stdout.write(`  ${RESULT_FILES.join(' ')}\n`);
    }
    return 0;
  } catch (err) {
    gone = redisGone(err);
    throw err;
  } finally {
    // Against a Redis that went away, the run's error says it all: no waiting for it here.
    await closeWithin(svc, gone ? 1000 : 10_000, (line) => process.stderr.write(`${line}\n`));
  }
}

export function cleanCommand(run: CliRun): Command {
  const cmd = listOptions(
    new Command('clean')
      .summary('clean one list end to end in this process')
      .description(
        'Clean one list end to end in this process (split, probe and aggregate workers run here); exits 0 when the ' +
          'result files are written. On a terminal, the progress is redrawn in place; otherwise one line per change. ' +
          'With REDIS_URL unset and no Redis at 127.0.0.1:6379, it runs on a private redis-server (from PATH) that it stops when it ends.',
      ),
  )
    .option('-q, --quiet', 'print nothing but errors')
    .action(action(run, async (input: string, flags: ListFlags & { quiet?: boolean }) => runClean(loadConfig(), submitOptions(input, flags), { quiet: flags.quiet ?? false })));
  return withExamples(cmd, ['listwash clean s3://my-bucket/lists/march.csv --out s3://my-bucket/cleaned/march/', 'listwash clean ./march.csv --out ./march-clean/ --email-column "E-mail" --max-age 7d'], [
    'Settings (LISTWASH_HELO_NAME, LISTWASH_MAIL_FROM, REDIS_URL, …) come from the environment: see the README.',
  ]);
}
