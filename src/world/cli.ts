/**
 * Run the demo world in the foreground for manual tries: `npx tsx src/world/cli.ts [--smtp-port N] [--dns-port N]`.
 * Prints the environment to export and the truth per address; Ctrl-C stops it.
 */
import { parseArgs } from 'node:util';
import { ErrorCodes, ListwashError } from '../errors.js';
import { demoWorld } from './scenarios.js';
import { SimWorld, type SimWorldOptions } from './world.js';

function portArg(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ListwashError(ErrorCodes.CLI_USAGE, `${flag} must be a port number`, { flag, value });
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'smtp-port': { type: 'string' }, 'dns-port': { type: 'string' } } });
  const options: SimWorldOptions = {};
  const smtpPort = portArg(values['smtp-port'], '--smtp-port');
  const dnsPort = portArg(values['dns-port'], '--dns-port');
  if (smtpPort !== undefined) options.smtpPort = smtpPort;
  if (dnsPort !== undefined) options.dnsPort = dnsPort;
  const world = await SimWorld.start(demoWorld(), options);
  const out = process.stdout;
  out.write('# listwash demo world is running. Point listwash at it with:\n');
  for (const [k, v] of Object.entries(world.env())) out.write(`export ${k}=${v}\n`);
  out.write('\n# hosts:\n');
  for (const name of world.hostNames) {
    const h = world.host(name);
    out.write(`#   ${name.padEnd(24)} ${h.address}${h.listening ? '' : ' (refuses connections)'}\n`);
  }
  out.write('\n# truth per address:\n');
  for (const [addr, v] of world.expectedVerdicts()) out.write(`#   ${addr.padEnd(32)} ${v.status}/${v.reason}\n`);
  out.write('\n# Ctrl-C to stop.\n');
  const stop = (): void => {
    world.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
