#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build`. Exit codes as `tsx src/cli/main.ts`
// (see src/cli/main.ts): 0 done, 1 failed, 2 usage.
import('../dist/src/cli/main.js').then(
  (m) => m.run(process.argv.slice(2)).then((code) => process.exit(code)),
  (err) => {
    console.error(`listwash: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
