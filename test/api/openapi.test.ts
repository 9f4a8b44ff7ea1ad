/**
 * The OpenAPI document: valid OpenAPI 3.1 (@readme/openapi-parser), generated from the schemas that
 * validate requests, and its operations are exactly the routes the server registered — which are
 * exactly the route table the README is generated from (the dashboard apart).
 */
import { readFileSync } from 'node:fs';
import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorDocs, withApiTables } from '../../src/api/docs.js';
import { ErrorCodes } from '../../src/errors.js';
import { DASHBOARD_PREFIX, openApiPath, ROUTES } from '../../src/api/route-table.js';
import { startApiFixture, type ApiFixture } from './fixture.js';

let f: ApiFixture;
let doc: { openapi: string; paths: Record<string, Record<string, { operationId?: string; security?: unknown[]; requestBody?: { content: Record<string, unknown> } }>> };

beforeAll(async () => {
  f = await startApiFixture();
  doc = (await (await f.http('/openapi.json')).json()) as typeof doc;
});
afterAll(async () => {
  await f?.close();
});

const table = Object.values(ROUTES)
  .map((r) => `${r.method} ${r.path}`)
  .sort();

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('documents exactly the registered routes, which are exactly the route table', () => {
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const registered = f.routes
      .filter((r) => !r.url.startsWith(DASHBOARD_PREFIX))
      .map((r) => `${r.method} ${openApiPath(r.url)}`)
      .sort();
    expect(registered).toEqual(table.map((t) => openApiPath(t)));
    expect(documented).toEqual(registered);
    expect(f.routes.some((r) => r.url.startsWith(DASHBOARD_PREFIX))).toBe(true);
  });

  it('names every operation after the table and marks the public routes as needing no key', () => {
    for (const r of Object.values(ROUTES)) {
      const op = doc.paths[openApiPath(r.path)]?.[r.method.toLowerCase()];
      expect(op?.operationId).toBe(r.operationId);
      expect(op?.security).toEqual(r.access === 'public' ? [] : [{ bearer: [] }]);
    }
  });

  it('describes both ways to create a list: JSON and a multipart upload', () => {
    expect(Object.keys(doc.paths['/v1/lists']!.post!.requestBody!.content).sort()).toEqual(['application/json', 'multipart/form-data']);
  });
});

describe('the README', () => {
  it('documents every error code from its own doc comment', () => {
    const docs = errorDocs(readFileSync(new URL('../../src/errors.ts', import.meta.url), 'utf8'));
    for (const code of Object.values(ErrorCodes)) {
      expect(docs.get(code), code).toMatch(/^[A-Z`(]/);
      expect(docs.get(code), code).not.toMatch(/export|ErrorCodes/);
    }
  });

  it('has the route and error-code tables in step with the code (npx tsx scripts/config-docs.ts)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const errors = readFileSync(new URL('../../src/errors.ts', import.meta.url), 'utf8');
    expect(withApiTables(readme, errors)).toBe(readme);
  });
});
