#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build`.
import('../dist/src/cli/main.js').then(
  (m) =>
    m.main(process.argv.slice(2)).then(
      (code) => process.exit(code ?? 0),
      (err) => {
        process.stderr.write(`${m.errorLine(err)}\n`);
        process.exit(m.exitCodeFor(err));
      },
    ),
  (err) => {
    console.error(`listwash: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
