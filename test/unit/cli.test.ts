import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorLine, exitCodeFor, main } from '../../src/cli/main.js';
import { ErrorCodes, ListwashError, isListwashError } from '../../src/errors.js';

async function usageError(argv: string[]): Promise<string> {
  try {
    await main(argv);
  } catch (err) {
    expect(isListwashError(err, 'CLI_USAGE')).toBe(true);
    return (err as Error).message;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
}

describe('listwash CLI', () => {
  it('explains usage errors with the command\'s usage line', async () => {
    expect(await usageError(['frobnicate'])).toMatch(/unknown command 'frobnicate'/);
    expect(await usageError(['clean', 'in.csv'])).toMatch(/required option '-o, --out <prefix>' not specified\nusage: listwash clean \[options\] <input>\n/);
    expect(await usageError(['clean', '--out', 'x/'])).toMatch(/missing required argument 'input'/);
    expect(await usageError(['clean', 'a.csv', 'b.csv', '--out', 'x/'])).toMatch(/listwash clean takes one argument; got \["a.csv","b.csv"\]/);
    expect(await usageError(['worker', '--only', 'split,bogus'])).toMatch(/--only takes split, probe, aggregate, webhook; got "bogus"/);
    expect(await usageError(['worker', '--concurrency', '0'])).toMatch(/positive integer/);
    expect(await usageError(['status'])).toMatch(/missing required argument 'id'/);
    expect(await usageError(['status', 'x', '--concurrency', '3'])).toMatch(/unknown option '--concurrency'\nusage: listwash status \[options\] <id>/);
    expect(await usageError(['clean', 'in.csv', '--out', 'x/', '--bogus'])).toMatch(/unknown option '--bogus'/);
    expect(await usageError(['clean', 'in.csv', '--out', 'x/', '--max-age', 'soon'])).toMatch(/--max-age takes a duration such as 30d, 12h, 90m or 0/);
    expect(await usageError(['submit', 'in.csv', '--out', 'x/', '--max-age=-1d'])).toMatch(/--max-age takes a duration/);
    expect(await usageError(['list', '--limit', '501'])).toMatch(/--limit takes a positive integer up to 500/);
    expect(await usageError(['help', 'frobnicate'])).toMatch(/unknown command "frobnicate"/);
  });

  it('exits 2 without a command, 0 for help and --version', async () => {
    await expect(main([])).rejects.toMatchObject({ code: 'CLI_USAGE' });
    expect(await main(['--help'])).toBe(0);
    expect(await main(['help', 'clean'])).toBe(0);
    expect(await main(['status', '--help'])).toBe(0);
    expect(await main(['--version'])).toBe(0);
  });
});

describe('listwash CLI errors', () => {
  it('print one line with the error code', () => {
    const cfgErr = new ListwashError(ErrorCodes.CONFIG_INVALID, 'LISTWASH_SMTP_PORT: expected an integer, got "x"');
    expect(errorLine(cfgErr)).toBe('listwash: CONFIG_INVALID: LISTWASH_SMTP_PORT: expected an integer, got "x"');
    expect(exitCodeFor(cfgErr)).toBe(1);
    expect(errorLine(new ListwashError(ErrorCodes.STORAGE_IO, 'first\nsecond\r\nthird'))).toBe('listwash: STORAGE_IO: first second third');
    expect(errorLine(new Error('plain\nerror'))).toBe('listwash: plain error');
  });

  it('a failed list shows the code of what failed it', () => {
    const err = new ListwashError(ErrorCodes.JOB_FAILED, 'list x failed: cannot write /o/report.csv: read-only file system (EROFS)', { listId: 'x', cause: 'STORAGE_READ_ONLY' });
    expect(errorLine(err)).toBe('listwash: STORAGE_READ_ONLY: list x failed: cannot write /o/report.csv: read-only file system (EROFS)');
    expect(errorLine(new ListwashError(ErrorCodes.JOB_FAILED, 'list x not done within the timeout', { listId: 'x' }))).toMatch(/^listwash: JOB_FAILED: /);
  });

  it('usage errors exit 2', () => {
    expect(exitCodeFor(new ListwashError(ErrorCodes.CLI_USAGE, 'bad'))).toBe(2);
  });

  it('a bad setting ends the process with exit 1 and one line naming CONFIG_INVALID and the variable', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'status', 'some-list'], {
      cwd: join(import.meta.dirname, '../..'),
      env: { ...process.env, LISTWASH_GREYLIST_RETRY_DELAYS: '60,,300' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('listwash: CONFIG_INVALID: LISTWASH_GREYLIST_RETRY_DELAYS: item 2 of "60,,300" is empty (a stray comma?)\n');
  });
});
