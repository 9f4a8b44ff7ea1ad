import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { isListwashError } from '../../src/errors.js';

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
  it('explains usage errors', async () => {
    expect(await usageError(['frobnicate'])).toMatch(/unknown command "frobnicate"/);
    expect(await usageError(['clean', 'in.csv'])).toMatch(/needs --out/);
    expect(await usageError(['clean'])).toMatch(/exactly one input/);
    expect(await usageError(['worker', '--only', 'split,bogus'])).toMatch(/--only takes/);
    expect(await usageError(['worker', '--concurrency', '0'])).toMatch(/positive integer/);
    expect(await usageError(['status'])).toMatch(/one list id/);
    expect(await usageError(['clean', 'in.csv', '--out', 'x/', '--bogus'])).toMatch(/bogus/);
    expect(await usageError(['clean', 'in.csv', '--out', 'x/', '--max-age', 'soon'])).toMatch(/--max-age takes a duration such as 30d, 12h, 90m or 0/);
    expect(await usageError(['submit', 'in.csv', '--out', 'x/', '--max-age=-1d'])).toMatch(/--max-age takes a duration/);
  });

  it('exits 2 without a command and 0 for help', async () => {
    expect(await main([])).toBe(2);
    expect(await main(['--help'])).toBe(0);
  });
});
