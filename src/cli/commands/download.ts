/**
 * `listwash download <id> [--dir D]`: copy a finished list's result files from wherever they were
 * written (S3 or a folder) into a local folder. Each file arrives under a temporary name and is renamed
 * once complete (its size checked), so a file in D is never a truncated one.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import { loadConfig, type Config } from '../../config.js';
import { ErrorCodes, ListwashError } from '../../errors.js';
import { action, withExamples, withService, type CliRun } from '../command-kit.js';

export async function runDownload(cfg: Config, listId: string, opts: { dir?: string } = {}): Promise<number> {
  const [{ fileLocation }, { fsError }] = await Promise.all([import('../../storage/index.js'), import('../../storage/fs-errors.js')]);
  return withService(cfg, async (svc) => {
    const files = await svc.files(listId);
    const dir = resolve(opts.dir ?? listId);
    await mkdir(dir, { recursive: true }).catch((err: unknown) => {
      throw fsError('create', fileLocation(dir), err);
    });
    for (const f of files) {
      const target = join(dir, f.name);
      const part = join(dir, `.${f.name}.${process.pid}.part`);
      const { stream, size } = await svc.openFile(listId, f.name);
      try {
        await pipeline(stream, createWriteStream(part)).catch((err: unknown) => {
          throw err instanceof ListwashError ? err : fsError('write', fileLocation(part), err);
        });
        const got = (await stat(part)).size;
        if (got !== size) throw new ListwashError(ErrorCodes.STORAGE_IO, `${f.name}: got ${got} bytes of ${size}; nothing kept, try again`, { listId, name: f.name, got, size });
        await rename(part, target);
      } finally {
        await rm(part, { force: true });
      }
      process.stdout.write(`${target} (${size} bytes)\n`);
    }
    const v = await svc.view(listId);
    if (v?.state === 'failed') process.stderr.write(`list ${listId} failed (${v.error?.code ?? 'JOB_FAILED'}): it has no result files, only ${files.map((f) => f.name).join(', ') || 'no error file'}\n`);
    return 0;
  });
}

export function downloadCommand(run: CliRun): Command {
  const cmd = new Command('download')
    .summary("copy a finished list's result files into a folder")
    .description(
      "Copy a finished list's result files (report.csv, clean.csv, …, summary.json) from where they were written " +
        "(S3 or a folder) into a local folder; a failed list's error.json. A list still running has no files yet: " +
        'LIST_NOT_DONE (exit 1).',
    )
    .argument('<id>', 'the list id')
    .option('--dir <dir>', 'where to put the files (default: ./<id>/); created if missing, files of the same names replaced')
    .action(action(run, async (id: string, flags: { dir?: string }) => runDownload(loadConfig(), id, flags)));
  return withExamples(cmd, ['listwash download march-2026', 'listwash download march-2026 --dir ~/results/march/']);
}
