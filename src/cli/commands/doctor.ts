/** `listwash doctor [--offline] [--ip IP] [--json]`: pre-flight checks of the prober; exit 1 on a FAIL. */
import { Command } from 'commander';
import { loadConfig, type Config } from '../../config.js';
import type { DoctorOptions } from '../../doctor/index.js';
import { action, withExamples, type CliRun } from '../command-kit.js';
import { ipAddress } from '../option-parsers.js';

/** The checks, one line each (or JSON); exit code 1 when a check FAILs. */
export async function runDoctor(cfg: Config, opts: DoctorOptions & { json?: boolean }, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const { doctor, reportJson, reportLines } = await import('../../doctor/index.js');
  const report = await doctor(cfg, opts);
  out.write(opts.json ? `${JSON.stringify(reportJson(report), null, 2)}\n` : `${reportLines(report).join('\n')}\n`);
  return report.fails > 0 ? 1 : 0;
}

export function doctorCommand(run: CliRun): Command {
  const cmd = new Command('doctor')
    .summary('pre-flight checks of the prober; exit 1 on a FAIL')
    .description(
      'Check the prober before probing real servers: DNS, outbound port 25, egress IP, HELO name, reverse DNS, SPF, ' +
        'DNSBLs. Exits 1 when something will make results unreliable (a FAIL), 0 otherwise (warnings included).',
    )
    .option('--offline', 'no connection to port 25')
    .option('--ip <ip>', 'the public egress IP, when behind NAT', ipAddress)
    .option('--json', 'print the report as JSON')
    .action(action(run, async (flags: { offline?: boolean; ip?: string; json?: boolean }) => runDoctor(loadConfig(), { offline: flags.offline ?? false, json: flags.json ?? false, ...(flags.ip !== undefined ? { ip: flags.ip } : {}) })));
  return withExamples(cmd, ['LISTWASH_HELO_NAME=verify.example.org LISTWASH_MAIL_FROM=bounces@example.org listwash doctor', 'listwash doctor --ip 203.0.113.7 --json']);
}
