/**
 * The job contract's payload: the TypeBox schema the split worker validates with, the JSON Schema file
 * published for other languages (in step with it, and read the same way by a standard validator), and
 * the errors a bad payload gets.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { withPayloadTable } from '../../src/contract/docs.js';
import { checkListJob, listJobJsonSchema } from '../../src/contract/list-job.js';
import { SCHEMA_FILES, schemaFileText } from '../../src/contract/schema-files.js';
import { ErrorCodes, ListwashError } from '../../src/errors.js';
import { validateSplitJob } from '../../src/pipeline/jobs.js';

const root = new URL('../../', import.meta.url);
const good = { version: 1, listId: 'march-2026', input: 's3://b/in/march.csv', output: 's3://b/out/march/' };

function refusal(payload: unknown): ListwashError {
  try {
    checkListJob(payload);
  } catch (err) {
    if (err instanceof ListwashError) return err;
    throw err;
  }
  throw new Error(`accepted ${JSON.stringify(payload)}`);
}

/** Payloads with the field the refusal must name. */
const BAD: [string, unknown, string][] = [
  ['no version', { ...good, version: undefined }, 'version'],
  ['version 2', { ...good, version: 2 }, 'version'],
  ['version as a string', { ...good, version: '1' }, 'version'],
  ['a list id with a space', { ...good, listId: 'no spaces allowed' }, 'listId'],
  ['a list id of 129 characters', { ...good, listId: 'a'.repeat(129) }, 'listId'],
  ['no input', { ...good, input: undefined }, 'input'],
  ['an empty output', { ...good, output: '' }, 'output'],
  ['a blank output', { ...good, output: '   ' }, 'output'],
  ['a negative column index', { ...good, emailColumn: -1 }, 'emailColumn'],
  ['a fractional column index', { ...good, emailColumn: 1.5 }, 'emailColumn'],
  ['an unknown field', { ...good, emailcolumn: 'email' }, 'emailcolumn'],
  ['an ftp callback', { ...good, callbackUrl: 'ftp://hooks.example.org/x' }, 'callbackUrl'],
  ['a callback with credentials', { ...good, callbackUrl: 'https://user:hunter2@hooks.example.org/x' }, 'callbackUrl'],
  ['a callback with a space', { ...good, callbackUrl: 'https://hooks.example.org/a b' }, 'callbackUrl'],
  ['a callback longer than 2048 characters', { ...good, callbackUrl: `https://hooks.example.org/${'x'.repeat(2048)}` }, 'callbackUrl'],
  ['a negative maxAge', { ...good, maxAge: -1 }, 'maxAge'],
  ['a fractional maxAge', { ...good, maxAge: 1.5 }, 'maxAge'],
  ['a maxAge as a duration string', { ...good, maxAge: '30d' }, 'maxAge'],
];

const GOOD: [string, unknown][] = [
  ['the minimum', good],
  ['a column name', { ...good, emailColumn: 'E-Mail' }],
  ['a column index', { ...good, emailColumn: 0 }],
  ['an https callback with a query', { ...good, callbackUrl: 'https://hooks.example.org/listwash?token=abc' }],
  ['an http callback with a port', { ...good, callbackUrl: 'http://hooks.example.org:8080/' }],
  ['a maxAge in seconds', { ...good, maxAge: 604_800 }],
  ['maxAge 0 (probe every address)', { ...good, maxAge: 0 }],
];

describe('the list job payload (version 1)', () => {
  it.each(GOOD)('accepts %s', (_, payload) => {
    expect(checkListJob(payload)).toEqual(payload);
  });

  it.each(BAD)('refuses %s with JOB_INVALID naming the field', (_, payload, field) => {
    const err = refusal(JSON.parse(JSON.stringify(payload)));
    expect(err.code).toBe(ErrorCodes.JOB_INVALID);
    expect(err.details.field).toBe(field);
    expect(err.message).toContain(field);
  });

  it('refuses a payload that is not an object', () => {
    for (const p of [null, 'x', 42, [good]]) expect(refusal(p).code).toBe(ErrorCodes.JOB_INVALID);
  });

  it('never repeats a callback URL in its refusal (its query or credentials may be secret)', () => {
    for (const url of ['https://user:hunter2@hooks.example.org/x', 'gopher://hooks.example.org/?token=hunter2']) {
      const err = refusal({ ...good, callbackUrl: url });
      expect(err.message).not.toContain('hunter2');
      expect(JSON.stringify(err.details)).not.toContain('hunter2');
    }
  });

  it('is what the split worker validates with', () => {
    expect(validateSplitJob(good)).toEqual(good);
    expect(() => validateSplitJob({ ...good, version: 2 })).toThrow(/version/);
  });
});

describe('the README', () => {
  it('lists every payload field as the schema defines it (regenerate with npx tsx scripts/config-docs.ts)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(withPayloadTable(readme)).toBe(readme);
  });
});

describe('the published JSON Schema', () => {
  it('is in step with the TypeBox schema (regenerate with npx tsx scripts/schemas.ts)', () => {
    for (const name of Object.keys(SCHEMA_FILES)) expect(readFileSync(new URL(`schemas/${name}`, root), 'utf8')).toBe(schemaFileText(name));
  });

  it('ships in the npm package and is exported as listwash/schemas/list-job.v1.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { files: string[]; exports: Record<string, unknown> };
    expect(pkg.files).toContain('schemas');
    expect(pkg.exports['./schemas/list-job.v1.json']).toBe('./schemas/list-job.v1.json');
  });

  it('reads every payload as the worker does, with a standard JSON Schema 2020-12 validator', () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    const validate = ajv.compile(listJobJsonSchema());
    for (const [, payload] of GOOD) expect(validate(payload)).toBe(true);
    for (const example of listJobJsonSchema().examples as unknown[]) expect(validate(example)).toBe(true);
    // The schema's pattern keeps credentials and other schemes out; the worker's URL check adds only
    // what a pattern cannot say (the URL parses and has a host).
    for (const [what, payload] of BAD.filter(([w]) => w !== 'a blank output')) expect(validate(JSON.parse(JSON.stringify(payload))), what).toBe(false);
  });
});
