/** `listwash submit <input> --out <prefix>`: enqueue a list for the fleet's workers; prints its id. */
import { Command } from 'commander';
import { loadConfig, type Config } from '../../config.js';
import type { SubmitOptions } from '../../pipeline/service.js';
import { action, withExamples, withService, type CliRun } from '../command-kit.js';
import { listOptions, submitOptions, type ListFlags } from './list-options.js';

export async function runSubmit(cfg: Config, opts: SubmitOptions): Promise<number> {
  return withService(cfg, async (svc) => {
    const { listId, created } = await svc.submit(opts);
    process.stdout.write(`${listId}\n`);
    if (!created) process.stderr.write(`list ${listId} exists already; not submitted again\n`);
    return 0;
  });
}

export function submitCommand(run: CliRun): Command {
  const cmd = listOptions(new Command('submit').summary('enqueue a list for the workers; prints its id').description('Enqueue a list for the workers (listwash worker, anywhere in the fleet) and print its id.'));
  cmd.action(action(run, async (input: string, flags: ListFlags) => runSubmit(loadConfig(), submitOptions(input, flags))));
  return withExamples(cmd, ['listwash submit s3://my-bucket/lists/march.csv --out s3://my-bucket/cleaned/march/ --id march-2026', 'listwash status march-2026']);
}
