/** Process entry point: split workers only (`listwash worker --only split`). */
import { main } from '../src/cli/main.js';

main(['worker', '--only', 'split', ...process.argv.slice(2)]).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`listwash worker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
