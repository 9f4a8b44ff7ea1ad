/**
 * `listwash` command line.
 *
 *   listwash clean <input> --out <prefix> [--id ID] [--email-column NAME|INDEX] [--escape-formulas] [--max-age DURATION]
 *   listwash worker [--only split,probe,aggregate,webhook] [--concurrency N]
 *   listwash submit <input> --out <prefix> [--id ID] [--email-column NAME|INDEX] [--escape-formulas] [--max-age DURATION]
 *   listwash status <id>
 *   listwash watch <prefix> --out <prefix> [--workers]
 *   listwash verify <address>...
 *   listwash demo [--out DIR]
 *   listwash serve [--host H] [--port P]
 *   listwash doctor [--offline] [--ip IP] [--json]
 */
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import { runClean, runDoctor, runStatus, runSubmit, runVerify, runWorker } from './commands.js';
import { parseDuration } from '../verdict-cache/policy.js';

export const USAGE = `usage:
  listwash clean <input> --out <prefix> [--id ID] [--email-column NAME|INDEX] [--escape-formulas] [--max-age DURATION]
        Clean one list end to end in this process (in-process workers); exits 0 when the files are written.
        --escape-formulas: prefix ' to cells that start with = + - @ tab CR (for files opened in spreadsheets).
        --max-age: take verdicts from the fleet's verdict cache only when younger than this (30d, 12h, 0 = probe
        every address); default: each verdict class's maximum age (LISTWASH_VERDICT_CACHE_MAX_AGE).
  listwash worker [--only split,probe,aggregate,webhook] [--concurrency N]
        Run workers until SIGTERM/SIGINT (graceful: current sessions finish, leases are released).
  listwash submit <input> --out <prefix> [--id ID] [--email-column NAME|INDEX] [--escape-formulas] [--max-age DURATION]
        Enqueue a list for the workers; prints its id.
  listwash status <id>
        Print a list's status as JSON.
  listwash watch <prefix> --out <prefix> [--workers]
        Turn every new CSV under an S3 prefix or a local folder into one list, results under <out>/<name>/;
        polls every LISTWASH_WATCH_INTERVAL_SEC until SIGTERM/SIGINT. --workers: run the workers here too.
  listwash verify <address>...
        Verify a few addresses directly (no Redis), print one JSON line each.
  listwash demo [--out DIR]
        Start the simulated mail world on loopback and clean a demo list against it.
  listwash serve [--host H] [--port P]
        Run the HTTP API (default 127.0.0.1:8080) until SIGTERM/SIGINT; workers run separately.
  listwash doctor [--offline] [--ip IP] [--json]
        Check the prober before probing real servers: DNS, outbound port 25, egress IP, HELO name, reverse DNS,
        SPF, DNSBLs. Exits 1 when something will make results unreliable. --offline: no port-25 connection;
        --ip: the public IP when behind NAT.

Locations are s3://bucket/key, file:///path or a plain path. Settings come from the environment (see README).`;

function usage(msg: string): never {
  throw new ListwashError(ErrorCodes.CLI_USAGE, `${msg}\n\n${USAGE}`);
}

function emailColumn(v: string | undefined): string | number | undefined {
  if (v === undefined) return undefined;
  return /^\d+$/.test(v) ? Number(v) : v;
}

/** `--max-age 30d` → seconds. */
function maxAge(v: string): number {
  try {
    return parseDuration(v);
  } catch (err) {
    return usage(`--max-age takes a duration such as 30d, 12h, 90m or 0; ${errorMessage(err)}`);
  }
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE + '\n');
    return cmd ? 0 : 2;
  }
  const { values, positionals } = (() => {
    try {
      return parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          out: { type: 'string', short: 'o' },
          id: { type: 'string' },
          'email-column': { type: 'string' },
          'max-age': { type: 'string' },
          only: { type: 'string' },
          concurrency: { type: 'string' },
          quiet: { type: 'boolean', short: 'q' },
          host: { type: 'string' },
          port: { type: 'string' },
          'escape-formulas': { type: 'boolean' },
          workers: { type: 'boolean' },
          offline: { type: 'boolean' },
          ip: { type: 'string' },
          json: { type: 'boolean' },
        },
      });
    } catch (err) {
      return usage(errorMessage(err));
    }
  })();
  switch (cmd) {
    case 'clean':
    case 'submit': {
      const input = positionals[0];
      if (!input || positionals.length > 1) usage(`${cmd} takes exactly one input location`);
      if (!values.out) usage(`${cmd} needs --out <prefix>`);
      const opts = {
        input,
        output: values.out,
        ...(values.id ? { listId: values.id } : {}),
        ...(values['email-column'] !== undefined ? { emailColumn: emailColumn(values['email-column'])! } : {}),
        ...(values['max-age'] !== undefined ? { maxAge: maxAge(values['max-age']) } : {}),
        ...(values['escape-formulas'] ? { escapeFormulas: true } : {}),
      };
      const cfg = loadConfig();
      return cmd === 'clean' ? runClean(cfg, opts, { quiet: values.quiet ?? false }) : runSubmit(cfg, opts);
    }
    case 'worker': {
      const only = values.only ? values.only.split(',').map((s) => s.trim()) : ['split', 'probe', 'aggregate', 'webhook'];
      for (const o of only) if (!['split', 'probe', 'aggregate', 'webhook'].includes(o)) usage(`--only takes split, probe, aggregate, webhook; got ${o}`);
      const concurrency = values.concurrency ? Number(values.concurrency) : undefined;
      if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) usage('--concurrency takes a positive integer');
      return runWorker(loadConfig(), { split: only.includes('split'), probe: only.includes('probe'), aggregate: only.includes('aggregate'), webhook: only.includes('webhook'), ...(concurrency ? { probeConcurrency: concurrency } : {}) });
    }
    case 'status': {
      if (positionals.length !== 1) usage('status takes one list id');
      return runStatus(loadConfig(), positionals[0]!);
    }
    case 'verify': {
      if (positionals.length === 0) usage('verify takes at least one address');
      return runVerify(loadConfig(), positionals);
    }
    case 'serve': {
      if (positionals.length > 0) usage('serve takes no arguments');
      const port = values.port !== undefined ? Number(values.port) : undefined;
      if (port !== undefined && (!/^\d+$/.test(values.port ?? '') || port > 65535)) usage('--port takes a port number (0–65535)');
      // Loaded on demand: the other commands do not need the HTTP stack.
      const { runServe } = await import('../api/server.js');
      return runServe(loadConfig(), { ...(values.host ? { host: values.host } : {}), ...(port !== undefined ? { port } : {}) });
    }
    case 'watch': {
      if (positionals.length !== 1) usage('watch takes one prefix to watch (s3://bucket/prefix/ or a folder)');
      if (!values.out) usage('watch needs --out <prefix>');
      // Loaded when used (like the API server): `clean` and `worker` start without them.
      const { runWatch } = await import('../watch/index.js');
      return runWatch(loadConfig(), { source: positionals[0]!, out: values.out, workers: values.workers ?? false });
    }
    case 'doctor': {
      if (positionals.length > 0) usage('doctor takes no arguments');
      if (values.ip !== undefined && isIP(values.ip) === 0) usage(`--ip takes an IP address; got ${JSON.stringify(values.ip)}`);
      return runDoctor(loadConfig(), { offline: values.offline ?? false, json: values.json ?? false, ...(values.ip !== undefined ? { ip: values.ip } : {}) });
    }
    case 'demo': {
      // The demo brings the simulated world: loaded only for it.
      const { runDemo } = await import('./demo.js');
      return runDemo({ ...(values.out ? { out: values.out } : {}), quiet: values.quiet ?? false });
    }
    default:
      return usage(`unknown command ${JSON.stringify(cmd)}`);
  }
}

/**
 * The line a failure prints on stderr: `listwash: <CODE>: <message>`, one line (a usage error adds the usage text). A
 * failed list shows the code of what failed it (e.g. `STORAGE_READ_ONLY`), not the generic `JOB_FAILED`.
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

// Run when executed directly (tsx src/cli/main.ts …); bin/listwash.js imports and calls main().
const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${errorLine(err)}\n`);
      process.exit(exitCodeFor(err));
    },
  );
}
