/**
 * The JSON Schema files published in `schemas/` (and in the npm package: `listwash/schemas/…`),
 * generated from the TypeBox schemas by `npx tsx scripts/schemas.ts`; a test keeps them in step.
 */
import { listJobJsonSchema } from './list-job.js';

export const SCHEMA_FILES: Readonly<Record<string, () => Record<string, unknown>>> = {
  'list-job.v1.json': listJobJsonSchema,
};

/** The text of a schema file as written to `schemas/<name>`. */
export function schemaFileText(name: string): string {
  const make = SCHEMA_FILES[name];
  if (!make) throw new RangeError(`no schema file ${name}`);
  return `${JSON.stringify(make(), null, 2)}\n`;
}
