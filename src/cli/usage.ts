/**
 * Usage errors of the command line: commander's parse errors (unknown option, missing or excess
 * argument, invalid option value) and the commands' own checks become one `CLI_USAGE` error carrying
 * the command's usage line and where to read more. `main` turns it into exit code 2.
 */
import type { Command, CommanderError } from 'commander';
import { ErrorCodes, ListwashError } from '../errors.js';

/** `listwash clean` for the command `clean`, `listwash` for the program. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The hint a usage error ends with: the command's usage line and where its help is. */
export function usageHint(cmd: Command): string {
  const path = commandPath(cmd);
  const help = cmd.parent ? `listwash help ${cmd.name()}: its options, with examples` : 'listwash --help: the commands';
  return `usage: ${path} ${cmd.usage()}\n(${help})`;
}

/** A usage error of `cmd`: `message`, then the command's usage hint. */
export function usageError(cmd: Command, message: string): ListwashError {
  return new ListwashError(ErrorCodes.CLI_USAGE, `${message}\n${usageHint(cmd)}`, { command: commandPath(cmd) });
}

/** How many arguments `cmd` takes, in words. */
function argumentCount(cmd: Command): string {
  const args = cmd.registeredArguments;
  if (args.length === 0) return 'no arguments';
  if (args.some((a) => a.variadic)) return `at least ${args.filter((a) => a.required).length} argument(s)`;
  return args.length === 1 ? 'one argument' : `${args.length} arguments`;
}

/**
 * What a parse error of `cmd` becomes: `null` for help or `--version` (printed already: exit 0),
 * else a `CLI_USAGE` error. The program without a command prints its help on stderr and is a usage
 * error too.
 */
export function fromCommanderError(cmd: Command, err: CommanderError): ListwashError | null {
  if (err.exitCode === 0) return null;
  if (err.code === 'commander.help' || err.code === 'commander.helpDisplayed') {
    // The help is printed on stderr already: `listwash` alone, or `listwash help <no such command>`.
    const asked = cmd.args.at(-1);
    const message = asked !== undefined && asked !== 'help' ? `unknown command ${JSON.stringify(asked)}` : `${commandPath(cmd)} needs a command`;
    return new ListwashError(ErrorCodes.CLI_USAGE, message, { command: commandPath(cmd) });
  }
  if (err.code === 'commander.excessArguments') {
    return usageError(cmd, `${commandPath(cmd)} takes ${argumentCount(cmd)}; got ${JSON.stringify(cmd.args)}`);
  }
  return usageError(cmd, err.message.replace(/^error: /, ''));
}
