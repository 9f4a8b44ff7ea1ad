/** `listwash demo [--out DIR]`: the simulated mail world on loopback and a demo list cleaned against it. */
import { Command } from 'commander';
import { action, withExamples, type CliRun } from '../command-kit.js';

export function demoCommand(run: CliRun): Command {
  const cmd = new Command('demo')
    .summary('clean a demo list against a simulated mail world on loopback')
    .description(
      'Start a simulated mail world on loopback (a DNS server and SMTP servers on 127.x.y.z), write a demo list that ' +
        "covers every verdict, clean it through the real pipeline, and compare every row with the world's truth. " +
        'Exits 1 when a verdict differs, a host saw more than the allowed load, or any DATA command was sent.',
    )
    .option('-o, --out <dir>', 'where the demo list and its results go (default ./listwash-demo)')
    .option('-q, --quiet', 'print nothing but errors')
    .action(
      action(run, async (flags: { out?: string; quiet?: boolean }) => {
        const { runDemo } = await import('../demo.js');
        return runDemo({ ...(flags.out !== undefined ? { out: flags.out } : {}), quiet: flags.quiet ?? false });
      }),
    );
  return withExamples(cmd, ['listwash demo', 'npm run demo -- --out /tmp/lw-demo']);
}
