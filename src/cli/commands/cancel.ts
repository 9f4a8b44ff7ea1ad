/** `listwash cancel <id>`: stop a list where it stands; no result files are written. */
import { Command } from 'commander';
import { loadConfig, type Config } from '../../config.js';
import { action, withExamples, withService, type CliRun } from '../command-kit.js';

export async function runCancel(cfg: Config, listId: string): Promise<number> {
  return withService(cfg, async (svc) => {
    const { cancelled, view } = await svc.cancel(listId);
    process.stdout.write(cancelled ? `list ${listId} cancelled\n` : `list ${listId} had already ended (${view.state}); nothing to cancel\n`);
    return 0;
  });
}

export function cancelCommand(run: CliRun): Command {
  const cmd = new Command('cancel')
    .summary('stop a list: no more probing, no files written')
    .description(
      'Cancel a list: its queued batches are removed, running SMTP sessions end (QUIT) and give their throttle leases ' +
        'back within about a second, and its result files are not written. A list that has ended stays as it is. ' +
        'Its status stays (cancelled) until LISTWASH_JOB_TTL; listwash delete removes it now.',
    )
    .argument('<id>', 'the list id')
    .action(action(run, async (id: string) => runCancel(loadConfig(), id)));
  return withExamples(cmd, ['listwash cancel march-2026']);
}
