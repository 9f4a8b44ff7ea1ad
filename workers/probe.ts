/** Process entry point: probe workers only (`listwash worker --only probe`). */
import { main } from '../src/cli/main.js';

main(['worker', '--only', 'probe', ...process.argv.slice(2)]).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`listwash worker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
