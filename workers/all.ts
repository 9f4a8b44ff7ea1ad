/** Process entry point: split, probe and aggregate workers in one process (`listwash worker`). */
import { run } from '../src/cli/main.js';

// Exit codes and the one-line error as `listwash worker` (see src/cli/main.ts).
void run(['worker', ...process.argv.slice(2)]).then((code) => process.exit(code));
