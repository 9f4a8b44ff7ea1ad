/**
 * The typed client as a package export (`listwash/client`), and how it reports failures that are not
 * the API's own answers: no server, a proxy's error page, a wait that runs out.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLIENT_ERROR_CODES, ListwashApiError, ListwashClient } from '../../src/client/index.js';
import { freePort } from './fixture.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const built = existsSync(`${root}/dist/src/client/index.js`);

describe('listwash/client as a package export', () => {
  it('is exported from dist/ with its types', () => {
    const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { exports: Record<string, unknown> };
    expect(pkg.exports['./client']).toEqual({ types: './dist/src/client/index.d.ts', import: './dist/src/client/index.js' });
  });

  // .ci/run builds before it tests; a plain `npm test` on an unbuilt tree skips these.
  it.runIf(built)('is importable by name and loads nothing of the server', () => {
    const script = `import { ListwashClient, ListwashApiError } from 'listwash/client';
      const c = new ListwashClient({ baseUrl: 'http://127.0.0.1:1/' });
      process.stdout.write(JSON.stringify({ c: typeof c.createList, e: new ListwashApiError('X', 'm', 400).code }));`;
    expect(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' }))).toEqual({ c: 'function', e: 'X' });
    expect(readFileSync(`${root}/dist/src/client/index.js`, 'utf8')).not.toMatch(/^import /m);
  });
});

describe('client failures', () => {
  it('reports an unreachable server as CLIENT_NETWORK', async () => {
    const c = new ListwashClient({ baseUrl: `http://127.0.0.1:${await freePort()}`, token: 'x'.repeat(20) });
    const err = await c.getList('a').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ListwashApiError);
    expect(err).toMatchObject({ code: CLIENT_ERROR_CODES.NETWORK, status: 0 });
  });

  it("reports an answer that is not the API's JSON as CLIENT_BAD_RESPONSE with the status", async () => {
    const srv = createServer((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
    }).listen(0, '127.0.0.1');
    await once(srv, 'listening');
    try {
      const c = new ListwashClient({ baseUrl: `http://127.0.0.1:${(srv.address() as { port: number }).port}/` });
      await expect(c.getList('a')).rejects.toMatchObject({ code: CLIENT_ERROR_CODES.BAD_RESPONSE, status: 502, message: expect.stringContaining('bad gateway') });
    } finally {
      srv.close();
    }
  });

  it('ends waitForList with CLIENT_TIMEOUT when the list does not end in time', async () => {
    const srv = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'a', state: 'probing' }));
    }).listen(0, '127.0.0.1');
    await once(srv, 'listening');
    try {
      const c = new ListwashClient({ baseUrl: `http://127.0.0.1:${(srv.address() as { port: number }).port}` });
      const seen: string[] = [];
      await expect(c.waitForList('a', { pollMs: 10, timeoutMs: 50, onProgress: (l) => seen.push(l.state) })).rejects.toMatchObject({ code: CLIENT_ERROR_CODES.TIMEOUT });
      expect(seen.length).toBeGreaterThanOrEqual(1);
    } finally {
      srv.close();
    }
  });
});
