/** `listwash verify <address>…`: verify a few addresses directly (no Redis), one JSON line each. */
import { Command } from 'commander';
import { loadConfig, type Config } from '../../config.js';
import { errorMessage } from '../../errors.js';
import { action, withExamples, type CliRun } from '../command-kit.js';

export async function runVerify(cfg: Config, addresses: string[]): Promise<number> {
  const [{ parseAddress }, { createVerifier }, { applyFlags, verdict }] = await Promise.all([import('../../address/index.js'), import('../../engine/index.js'), import('../../verdict.js')]);
  const { verifier } = createVerifier(cfg);
  for (const input of addresses) {
    const a = parseAddress(input);
    if (!a.ok) {
      process.stdout.write(JSON.stringify({ input, ...verdict('invalid_syntax', { smtpReply: a.message }), suggestion: a.suggestion }) + '\n');
      continue;
    }
    try {
      const r = await verifier.verify(a.domain, [{ address: a.normalized, smtputf8: a.flags.smtputf8 }]);
      const o = r.outcomes[0]!;
      const v = o.kind === 'deferred' ? verdict('temporary_failure') : applyFlags(o.verdict, a.flags);
      process.stdout.write(JSON.stringify({ input, address: a.normalized, ...v, final: o.kind === 'final', flags: a.flags, suggestion: a.suggestion }) + '\n');
    } catch (err) {
      process.stdout.write(JSON.stringify({ input, error: errorMessage(err) }) + '\n');
    }
  }
  return 0;
}

export function verifyCommand(run: CliRun): Command {
  const cmd = new Command('verify')
    .summary('verify a few addresses now (no Redis), one JSON line each')
    .description('Verify a few addresses directly from this process (DNS, then SMTP up to RCPT TO; no Redis, no fleet-wide throttle: for a handful of addresses, not lists). Prints one JSON line per address.')
    .argument('<address...>', 'the addresses')
    .action(action(run, async (addresses: string[]) => runVerify(loadConfig(), addresses)));
  return withExamples(cmd, ['listwash verify ann@example.org bob@example.net']);
}
