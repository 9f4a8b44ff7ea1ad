/** Regenerate the JSON Schema files in schemas/ from the TypeBox schemas (src/contract/). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { SCHEMA_FILES, schemaFileText } from '../src/contract/schema-files.js';

const dir = new URL('../schemas/', import.meta.url);
mkdirSync(dir, { recursive: true });
for (const name of Object.keys(SCHEMA_FILES)) {
  writeFileSync(new URL(name, dir), schemaFileText(name));
  process.stdout.write(`schemas/${name} written\n`);
}
