/** `listwash watch <prefix> --out <prefix> [--workers]`: every new CSV under a prefix becomes a list. */
import { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { action, requireRedis, withExamples, type CliRun } from '../command-kit.js';

export function watchCommand(run: CliRun): Command {
  const cmd = new Command('watch')
    .summary('turn every new CSV under a prefix or folder into a list')
    .description(
      'Turn every new CSV under an S3 prefix or a local folder into one list, with its results under <out>/<name>/; ' +
        'polls every LISTWASH_WATCH_INTERVAL_SEC until SIGTERM/SIGINT. Prints one line per list it submits.',
    )
    .argument('<prefix>', 'what to watch: s3://bucket/prefix/ or a folder')
    .requiredOption('-o, --out <prefix>', 'where results go: <out>/<name>/ per list')
    .option('--workers', 'also run the workers in this process (one box, no fleet)')
    .action(
      action(run, async (source: string, flags: { out: string; workers?: boolean }) => {
        const cfg = loadConfig();
        await requireRedis(cfg);
        const { runWatch } = await import('../../watch/index.js');
        return runWatch(cfg, { source, out: flags.out, workers: flags.workers ?? false });
      }),
    );
  return withExamples(cmd, ['listwash watch s3://my-bucket/incoming/ --out s3://my-bucket/cleaned/', 'listwash watch ./inbox/ --out ./cleaned/ --workers']);
}
