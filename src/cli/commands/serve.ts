/** `listwash serve [--host H] [--port P]`: the HTTP API until SIGTERM/SIGINT. */
import { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { action, requireRedis, withExamples, type CliRun } from '../command-kit.js';
import { portNumber } from '../option-parsers.js';

export function serveCommand(run: CliRun): Command {
  const cmd = new Command('serve')
    .summary('run the HTTP API (default 127.0.0.1:8080)')
    .description('Run the HTTP API until SIGTERM/SIGINT; workers run separately (listwash worker). API keys: LISTWASH_API_KEYS.')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--port <port>', 'port to listen on (default 8080; 0: any free port)', portNumber)
    .action(
      action(run, async (flags: { host?: string; port?: number }) => {
        const cfg = loadConfig();
        await requireRedis(cfg);
        const { runServe } = await import('../../api/server.js');
        return runServe(cfg, { ...(flags.host !== undefined ? { host: flags.host } : {}), ...(flags.port !== undefined ? { port: flags.port } : {}) });
      }),
    );
  return withExamples(cmd, ['listwash serve --host 0.0.0.0 --port 8080'], ['API keys: LISTWASH_API_KEYS=name:token,… (a token of 16 characters or more, e.g. openssl rand -hex 24).']);
}
