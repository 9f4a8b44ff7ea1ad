/** Regenerate the generated tables in README.md: settings (src/config.ts), HTTP routes and error codes (src/api), the list job's fields (src/contract). */
import { readFileSync, writeFileSync } from 'node:fs';
import { withApiTables } from '../src/api/docs.js';
import { withConfigTable } from '../src/config-docs.js';
import { withPayloadTable } from '../src/contract/docs.js';

const path = new URL('../README.md', import.meta.url);
const errorsSource = readFileSync(new URL('../src/errors.ts', import.meta.url), 'utf8');
writeFileSync(path, withPayloadTable(withApiTables(withConfigTable(readFileSync(path, 'utf8')), errorsSource)));
process.stdout.write('README.md tables updated (settings, HTTP routes, error codes, list job fields)\n');
