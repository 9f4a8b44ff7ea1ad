/**
 * What every command module uses: its action's exit code handed to `main`, examples in its help, and
 * a service connected to a Redis that answers.
 */
import type { Command } from 'commander';
import type { Config } from '../config.js';
import type { ListwashService } from '../pipeline/service.js';

/*
 * Command modules import the pipeline, the engine, storage and the HTTP stack inside their actions
 * (\`await import\`), not at the top: \`listwash --help\`, \`--version\` and usage errors load only the
 * command definitions, and answer at once.
 */

/** The run of one command line: the action sets its exit code. */
export interface CliRun {
  exitCode: number;
}

/** A command's action: `fn`'s result becomes the exit code (a thrown error is handled by `main`). */
export function action<A extends unknown[]>(run: CliRun, fn: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    run.exitCode = await fn(...args);
  };
}

/** Add examples (each a command line) after the command's help; `notes` follow them. */
export function withExamples(cmd: Command, examples: readonly string[], notes: readonly string[] = []): Command {
  const text = ['', 'Examples:', ...examples.map((e) => `  $ ${e}`), ...(notes.length ? ['', ...notes] : [])].join('\n');
  return cmd.addHelpText('after', text);
}

/**
 * The configured Redis answers, or the command fails within seconds (`REDIS_UNAVAILABLE`, or
 * `REDIS_CLUSTER_MISMATCH`), never waiting for it. Every command that uses Redis starts here, except
 * `clean` and `demo`, which may run on a private redis-server instead (see `resolveRedis`).
 */
export async function requireRedis(cfg: Config): Promise<void> {
  const { resolveRedis } = await import('../redis/availability.js');
  await resolveRedis(cfg, process.env, { allowEmbedded: false, say: (line) => process.stderr.write(`listwash: ${line}\n`) });
}

/**
 * Run `fn` with a service on `cfg`'s Redis (see `requireRedis`), and close the service afterwards
 * whatever happens.
 */
export async function withService<T>(cfg: Config, fn: (svc: ListwashService) => Promise<T>): Promise<T> {
  await requireRedis(cfg);
  const { ListwashService } = await import('../pipeline/service.js');
  const svc = new ListwashService(cfg);
  try {
    return await fn(svc);
  } finally {
    await svc.close();
  }
}
