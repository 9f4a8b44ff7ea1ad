/**
 * The list-job check that runs on every job (`src/contract/list-job-check.ts`, plain code) against the schema that is
 * the published contract (`ListJobV1`, TypeBox): on random payloads — every field right, wrong, missing, undefined,
 * and fields that do not exist — the check accepts exactly what the schema accepts, and names a field the schema
 * refuses. And the pipeline's modules check jobs without loading TypeBox.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';
import { listJobSchemaProblem } from '../../src/contract/list-job-check.js';
import { ListJobV1 } from '../../src/contract/list-job.js';

const schema = Compile(ListJobV1);

/** The fields the schema's errors name (a wrong or missing field, or one it does not know). */
function schemaFields(value: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  for (const e of schema.Errors(value)) {
    const params = e.params as { additionalProperties?: string[]; requiredProperties?: string[] };
    for (const f of params.additionalProperties ?? []) out.add(f);
    for (const f of params.requiredProperties ?? []) out.add(f);
    const field = e.instancePath.split('/')[1];
    if (field) out.add(field);
  }
  return out;
}

const text = fc.oneof(
  fc.constantFrom('', ' ', 'a', 'march-2026', 's3://b/in.csv', 'file:///tmp/x', 'E-Mail', '😀', 'no spaces allowed', '-leading', 'a'.repeat(128), 'a'.repeat(129)),
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    'https://hooks.example.org/x?token=1',
    'http://h:8080/',
    'HTTPS://H/',
    'ftp://h/x',
    'https://user:pw@h/x',
    'https://h/a b',
    'https://',
    `https://h/${'x'.repeat(2040)}`,
    `https://h/${'😀'.repeat(2030)}`,
    `https://h/${'x'.repeat(2050)}`,
  ),
);
const anyValue = fc.oneof(
  text,
  fc.constantFrom(0, 1, 2, -1, 1.5, 604_800, Number.NaN, Number.POSITIVE_INFINITY, -0, 2 ** 53),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constantFrom(null, undefined, [], {}, [1], '1', 'true'),
);
const FIELDS = ['version', 'listId', 'input', 'output', 'emailColumn', 'escapeFormulas', 'callbackUrl', 'maxAge'];
const good: Record<string, unknown> = { version: 1, listId: 'march-2026', input: 's3://b/in.csv', output: 's3://b/out/' };

/** A payload: a valid one with some fields replaced by random values, removed, or unknown fields added. */
const payload = fc
  .record({
    changes: fc.array(fc.tuple(fc.constantFrom(...FIELDS, 'emailcolumn', 'extra', '__proto__'), fc.oneof(anyValue, fc.constant('<delete>'))), { maxLength: 4 }),
    optional: fc.subarray(['emailColumn', 'escapeFormulas', 'callbackUrl', 'maxAge']),
  })
  .map(({ changes, optional }) => {
    const o: Record<string, unknown> = { ...good };
    const fine: Record<string, unknown> = { emailColumn: 0, escapeFormulas: true, callbackUrl: 'https://h/x', maxAge: 60 };
    for (const f of optional) o[f] = fine[f];
    for (const [field, value] of changes) {
      if (value === '<delete>') delete o[field];
      else Object.defineProperty(o, field, { value, enumerable: true, writable: true, configurable: true });
    }
    return o;
  });

describe('the list-job check', () => {
  it('accepts exactly what the schema accepts, and names a field the schema refuses', () => {
    let refused = 0;
    fc.assert(
      fc.property(payload, (o) => {
        const problem = listJobSchemaProblem(o);
        expect(problem === null, JSON.stringify(o)).toBe(schema.Check(o));
        if (problem) {
          refused++;
          expect(schemaFields(o), `${JSON.stringify(o)} → ${problem.field}`).toContain(problem.field);
        }
      }),
      { numRuns: 20_000, seed: 20261202 },
    );
    expect(refused).toBeGreaterThan(5_000);
  });

  it('is what the pipeline loads: no module it imports reaches TypeBox (≈ 0.4 s of start-up)', () => {
    const reached = new Set<string>();
    const seen = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const m of readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\s(?!type\b)[^'"]*?from\s+'([^']+)'/gm)) {
        const spec = m[1]!;
        if (!spec.startsWith('.')) reached.add(spec);
        else {
          const ts = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
          if (existsSync(ts)) walk(ts);
        }
      }
    };
    walk(fileURLToPath(new URL('../../src/pipeline/service.ts', import.meta.url)));
    expect(seen.size).toBeGreaterThan(30);
    expect([...reached].filter((p) => p === 'typebox' || p.startsWith('typebox/'))).toEqual([]);
    expect(reached).toContain('bullmq');
  });
});
