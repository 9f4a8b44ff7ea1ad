/**
 * The `listwash` command line: the program and its commands (one module each under `commands/`), and
 * how a run ends. Exit codes, the same through `bin/listwash.js`, `npm run demo` and
 * `tsx src/cli/main.ts`:
 *
 *   0  done (help and --version included)
 *   1  failed: one line `listwash: CODE: message` on stderr (no stack trace); `doctor` also on a FAIL
 *   2  usage: a bad command, option or argument; the command's usage on stderr
 */
import { Command, CommanderError } from 'commander';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import type { CliRun } from './command-kit.js';
import { cancelCommand } from './commands/cancel.js';
import { cleanCommand } from './commands/clean.js';
import { deleteCommand } from './commands/delete.js';
import { demoCommand } from './commands/demo.js';
import { doctorCommand } from './commands/doctor.js';
import { downloadCommand } from './commands/download.js';
import { listCommand } from './commands/list.js';
import { serveCommand } from './commands/serve.js';
import { statusCommand } from './commands/status.js';
import { submitCommand } from './commands/submit.js';
import { verifyCommand } from './commands/verify.js';
import { watchCommand } from './commands/watch.js';
import { workerCommand } from './commands/worker.js';
import { fromCommanderError } from './usage.js';
import { packageVersion } from './version.js';

/** The commands, in the order `listwash --help` lists them. */
const COMMANDS: readonly ((run: CliRun) => Command)[] = [
  cleanCommand,
  submitCommand,
  workerCommand,
  statusCommand,
  listCommand,
  downloadCommand,
  cancelCommand,
  deleteCommand,
  watchCommand,
  verifyCommand,
  serveCommand,
  doctorCommand,
  demoCommand,
];

export const EXIT_CODES_HELP = `
Exit codes:
  0  done
  1  failed: one line "listwash: CODE: message" on stderr (doctor: a check FAILed)
  2  usage: a bad command, option or argument

Locations are s3://bucket/key, file:///path or a plain path. Settings come from the environment (see README).
Run "listwash help <command>" for a command's options and an example.`;

/** The program; `run.exitCode` is set by the command that runs. */
export function buildProgram(run: CliRun): Command {
  const program = new Command('listwash')
    .description('Bulk email-list cleaner: verifies every address over DNS + SMTP (up to RCPT TO, never DATA).')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print help')
    .helpCommand('help [command]', "print a command's help")
    .addHelpText('after', EXIT_CODES_HELP);
  for (const make of COMMANDS) program.addCommand(make(run).helpOption('-h, --help', 'print help'));
  for (const cmd of [program, ...program.commands]) {
    // Parse errors are thrown (never process.exit) and printed once, by whoever runs main().
    cmd.configureOutput({ outputError: () => undefined });
    cmd.exitOverride((err: CommanderError) => {
      throw fromCommanderError(cmd, err) ?? err;
    });
  }
  return program;
}

/**
 * Run the command line `argv` (without node and the script). Resolves with the exit code; rejects
 * with the failure (`exitCodeFor`/`errorLine` say how it ends), e.g. `CLI_USAGE` for a usage error.
 */
export async function main(argv: string[]): Promise<number> {
  const run: CliRun = { exitCode: 0 };
  try {
    await buildProgram(run).parseAsync(argv, { from: 'user' });
  } catch (err) {
    // Help and --version were printed: done.
    if (err instanceof CommanderError && err.exitCode === 0) return 0;
    throw err;
  }
  return run.exitCode;
}

/**
 * The line a failure prints on stderr: `listwash: <CODE>: <message>`, one line (a usage error adds the
 * command's usage). A failed list shows the code of what failed it (e.g. `STORAGE_READ_ONLY`), not the
 * generic `JOB_FAILED`.
 */
export function errorLine(err: unknown): string {
  if (!(err instanceof ListwashError)) return `listwash: ${errorMessage(err).replace(/\s*[\r\n]+\s*/g, ' ')}`;
  if (err.code === ErrorCodes.CLI_USAGE) return `listwash: ${err.message}`;
  const cause = err.details.cause;
  const code = err.code === ErrorCodes.JOB_FAILED && typeof cause === 'string' ? cause : err.code;
  return `listwash: ${code}: ${err.message.replace(/\s*[\r\n]+\s*/g, ' ')}`;
}

/** The exit code of a failure: 2 for a usage error, else 1. */
export function exitCodeFor(err: unknown): number {
  return err instanceof ListwashError && err.code === ErrorCodes.CLI_USAGE ? 2 : 1;
}

/** Run `argv` as a process does: a failure is printed (`errorLine`) and becomes its exit code. */
export async function run(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (err) {
    process.stderr.write(`${errorLine(err)}\n`);
    return exitCodeFor(err);
  }
}

// Run when executed directly (tsx src/cli/main.ts …); bin/listwash.js imports and calls run().
const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) void run(process.argv.slice(2)).then((code) => process.exit(code));
