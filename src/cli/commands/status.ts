/** `listwash status <id> [--json]`: one list, for people or (typed) for machines. */
import { Command } from 'commander';
import { loadConfig, type Config } from '../../config.js';
import { ErrorCodes, ListwashError } from '../../errors.js';
import { action, withExamples, withService, type CliRun } from '../command-kit.js';

export async function runStatus(cfg: Config, listId: string, opts: { json?: boolean } = {}): Promise<number> {
  const { statusLines } = await import('../list-text.js');
  return withService(cfg, async (svc) => {
    const v = await svc.view(listId);
    if (!v) throw new ListwashError(ErrorCodes.JOB_NOT_FOUND, `no list with id ${listId} (finished lists are kept for LISTWASH_JOB_TTL)`, { listId });
    process.stdout.write(opts.json ? `${JSON.stringify(v, null, 2)}\n` : `${statusLines(v, { now: Date.now() }).join('\n')}\n`);
    return 0;
  });
}

export function statusCommand(run: CliRun): Command {
  const cmd = new Command('status')
    .summary("a list's phase, progress, counts, timings and output")
    .description(
      "Print a list's phase, the share of its unique addresses with a final verdict, its counts by status and reason, " +
        'its batches, timings, where its files are, and its error if it failed. --json: the typed status (as the HTTP API ' +
        'returns it: numbers as numbers, times in ms since the epoch).',
    )
    .argument('<id>', 'the list id (listwash list shows them)')
    .option('--json', 'print the status as JSON')
    .action(action(run, async (id: string, flags: { json?: boolean }) => runStatus(loadConfig(), id, { json: flags.json ?? false })));
  return withExamples(cmd, ['listwash status march-2026', "listwash status march-2026 --json | jq '.percent'"]);
}
