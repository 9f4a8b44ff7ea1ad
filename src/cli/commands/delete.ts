/** `listwash delete <id> [--files]`: remove a list's state from Redis (and its output files). */
import { Command } from 'commander';
import { loadConfig, type Config } from '../../config.js';
import { action, withExamples, withService, type CliRun } from '../command-kit.js';

export async function runDelete(cfg: Config, listId: string, opts: { files?: boolean } = {}): Promise<number> {
  return withService(cfg, async (svc) => {
    const { files } = await svc.delete(listId, {}, { files: opts.files ?? false });
    process.stdout.write(`list ${listId} deleted${opts.files ? `; files deleted: ${files.length ? files.join(' ') : 'none'}` : ''}\n`);
    return 0;
  });
}

export function deleteCommand(run: CliRun): Command {
  const cmd = new Command('delete')
    .summary("purge a list's Redis state (--files: its output files too)")
    .description(
      "Delete a list's state from Redis now (a running list is cancelled first). With --files, also the files it wrote " +
        'under its output prefix (only the names listwash writes; anything else there stays).',
    )
    .argument('<id>', 'the list id')
    .option('--files', 'also delete its output files')
    .action(action(run, async (id: string, flags: { files?: boolean }) => runDelete(loadConfig(), id, flags)));
  return withExamples(cmd, ['listwash delete march-2026', 'listwash delete march-2026 --files']);
}
