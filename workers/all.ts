/** Process entry point: split, probe and aggregate workers in one process (`listwash worker`). */
import { main } from '../src/cli/main.js';

main(['worker', ...process.argv.slice(2)]).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`listwash worker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
