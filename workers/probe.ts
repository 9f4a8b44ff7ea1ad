/** Process entry point: probe workers only (`listwash worker --only probe`). */
import { run } from '../src/cli/main.js';

// Exit codes and the one-line error as `listwash worker` (see src/cli/main.ts).
void run(['worker', '--only', 'probe', ...process.argv.slice(2)]).then((code) => process.exit(code));
