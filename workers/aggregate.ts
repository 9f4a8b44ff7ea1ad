/** Process entry point: aggregate workers only (`listwash worker --only aggregate`). */
import { run } from '../src/cli/main.js';

// Exit codes and the one-line error as `listwash worker` (see src/cli/main.ts).
void run(['worker', '--only', 'aggregate', ...process.argv.slice(2)]).then((code) => process.exit(code));
