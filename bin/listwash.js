#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ (`npm run build`; `npm ci` in a clone builds it too, through
// the `prepare` script). Exit codes as `tsx src/cli/main.ts` (see src/cli/main.ts): 0 done, 1 failed,
// 2 usage. Without dist/, one line says what to run instead of a module-not-found trace.
import { URL, fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
import(entry.href).then(
  (m) => m.run(process.argv.slice(2)).then((code) => process.exit(code)),
  (err) => {
    const file = fileURLToPath(entry);
    // The entry itself is missing (not something it imports: that is another error, said as it is).
    const missing = err?.code === 'ERR_MODULE_NOT_FOUND' && (err.url === entry.href || String(err.message).startsWith(`Cannot find module '${file}'`));
    if (missing) console.error(`listwash: the CLI is not built (${file} is missing): run \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))}`);
    else console.error(`listwash: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
