/** `listwash list [--limit N] [--cursor C] [--json]`: recent lists, newest first. */
import { Command } from 'commander';
import { loadConfig, type Config } from '../../config.js';
import { action, withExamples, withService, type CliRun } from '../command-kit.js';
import { positiveInteger } from '../option-parsers.js';

export interface ListFlags {
  limit?: number;
  cursor?: string;
  json?: boolean;
}

export async function runList(cfg: Config, flags: ListFlags): Promise<number> {
  const { listTable } = await import('../list-text.js');
  return withService(cfg, async (svc) => {
    const page = await svc.lists({}, { limit: flags.limit ?? 20, ...(flags.cursor !== undefined ? { cursor: flags.cursor } : {}) });
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
      return 0;
    }
    if (page.lists.length === 0) {
      process.stdout.write(flags.cursor ? 'no more lists\n' : 'no lists (finished lists are kept for LISTWASH_JOB_TTL)\n');
      return 0;
    }
    process.stdout.write(`${listTable(page.lists, { now: Date.now() }).join('\n')}\n`);
    if (page.nextCursor) process.stdout.write(`more: listwash list --cursor ${page.nextCursor}${flags.limit ? ` --limit ${flags.limit}` : ''}\n`);
    return 0;
  });
}

export function listCommand(run: CliRun): Command {
  const cmd = new Command('list')
    .summary('recent lists, newest first, with their phase')
    .description('Print recent lists, newest first: id, phase, share verified, rows, when created, output. --json: { lists, nextCursor }.')
    .option('--limit <n>', 'how many lists (1–500, default 20)', positiveInteger('--limit', 500))
    .option('--cursor <cursor>', 'continue a listing where the last page ended')
    .option('--json', 'print the typed lists as JSON')
    .action(action(run, async (flags: ListFlags) => runList(loadConfig(), flags)));
  return withExamples(cmd, ['listwash list', 'listwash list --limit 5 --json']);
}
