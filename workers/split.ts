/** Process entry point: split workers only (`listwash worker --only split`). */
import { run } from '../src/cli/main.js';

// Exit codes and the one-line error as `listwash worker` (see src/cli/main.ts).
void run(['worker', '--only', 'split', ...process.argv.slice(2)]).then((code) => process.exit(code));
