/**
 * Who may do what, over real HTTP: API keys (none, wrong, another key's list), the admin routes,
 * per-key location prefixes, the local root (`..`, encoded `..`, a symbolic link leading out), secrets
 * kept out of logs and answers — and local storage end to end (files streamed by the API).
 */
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, postJson, startApiFixture, TEST_BUCKET, TOKENS, type ApiFixture, type KeyName } from './fixture.js';

let f: ApiFixture;
/** Only invalid addresses: the list completes without any SMTP (no world needed). */
const CSV = 'email\nnot-an-address\nalso bad\n';
let inputUrl: string;

beforeAll(async () => {
  f = await startApiFixture({ workers: true, s3: true, storage: 'local' });
  await writeFile(join(f.root, 'list.csv'), CSV);
  await writeFile(join(f.outside, 'secret.csv'), 'email\nceo@example.com\n');
  await symlink(f.outside, join(f.root, 'escape'));
  inputUrl = pathToFileURL(join(f.root, 'list.csv')).href;
  const r = await postJson(f, '/v1/lists', { input: inputUrl, id: 'alice-list' });
  expect(r.status).toBe(202);
  await f.client('alice').waitForList('alice-list', { pollMs: 100, timeoutMs: 60_000 });
});
afterAll(async () => {
  await f?.close();
});

describe('API keys', () => {
  it('answers 401 with WWW-Authenticate without a key, and 401 for an unknown key', async () => {
    const none = await f.http('/v1/lists');
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await errorOf(none)).toMatchObject({ status: 401, code: 'API_UNAUTHORIZED' });
    const wrong = await f.http('/v1/lists', { headers: { authorization: `Bearer ${TOKENS.alice}x` } });
    expect(await errorOf(wrong)).toMatchObject({ status: 401, code: 'API_UNAUTHORIZED', message: 'the API key is not valid' });
    const malformed = await f.http('/v1/lists', { headers: { authorization: TOKENS.alice } });
    expect(malformed.status).toBe(401);
  });

  it("answers 404 for another key's list on every list route, as for a list that does not exist", async () => {
    const asBob = (path: string, method = 'GET') => f.http(path, { method, key: 'bob' });
    for (const [path, method] of [
      ['/v1/lists/alice-list', 'GET'],
      ['/v1/lists/alice-list/files', 'GET'],
      ['/v1/lists/alice-list/files/report.csv', 'GET'],
      ['/v1/lists/alice-list/cancel', 'POST'],
      ['/v1/lists/alice-list', 'DELETE'],
    ] as const) {
      const mine = await errorOf(await asBob(path, method));
      const missing = await errorOf(await asBob(path.replace('alice-list', 'no-such-list'), method));
      expect(mine).toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });
      expect(mine.code).toBe(missing.code);
    }
    expect((await f.client('bob').listLists()).lists).toEqual([]);
    expect((await f.client('alice').getList('alice-list')).state).toBe('done');
  });

  it('keeps public routes open and admin routes to the admin key', async () => {
    expect((await f.http('/healthz')).status).toBe(200);
    expect((await f.http('/openapi.json')).status).toBe(200);
    for (const path of ['/metrics', '/admin/queues']) {
      const none = await f.http(path);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm="listwash admin"/);
      expect(await errorOf(await f.http(path, { key: 'alice' }))).toMatchObject({ status: 403, code: 'API_FORBIDDEN' });
      expect((await f.http(path, { key: 'admin' })).status).toBe(200);
    }
    // A browser on the dashboard: Basic, any user, the admin token as password.
    const basic = await f.http('/admin/queues/api/queues', { headers: { authorization: `Basic ${Buffer.from(`ops:${TOKENS.admin}`).toString('base64')}` } });
    expect(basic.status).toBe(200);
    expect(((await basic.json()) as { queues: { name: string }[] }).queues.map((q) => q.name).sort()).toEqual(['lw-aggregate', 'lw-probe', 'lw-split', 'lw-webhook']);
  });

  it('never writes a token into the logs or an answer', async () => {
    const answers: string[] = [];
    for (const key of Object.keys(TOKENS) as KeyName[]) {
      answers.push(await (await f.http('/v1/lists/alice-list', { key })).text());
      answers.push(await (await f.http('/v1/lists', { headers: { authorization: `Bearer ${TOKENS[key]}-wrong` } })).text());
    }
    const everything = f.logs.join('') + answers.join('');
    expect(f.logs.length).toBeGreaterThan(0);
    for (const token of Object.values(TOKENS)) expect(everything).not.toContain(token);
  });
});

describe('locations a key may use', () => {
  it('holds a restricted key to its input and output prefixes', async () => {
    const ok = await postJson(f, '/v1/lists', { input: `s3://${TEST_BUCKET}/crm/in/a.csv`, output: `s3://${TEST_BUCKET}/crm/out/a/`, id: 'crm-ok' }, 'crm');
    expect(ok.status).toBe(202);
    await f.client('crm').cancelList('crm-ok');
    expect(await errorOf(await postJson(f, '/v1/lists', { input: `s3://${TEST_BUCKET}/other/a.csv`, output: `s3://${TEST_BUCKET}/crm/out/b/` }, 'crm'))).toMatchObject({ status: 403, code: 'LOCATION_NOT_ALLOWED', field: 'input' });
    expect(await errorOf(await postJson(f, '/v1/lists', { input: `s3://${TEST_BUCKET}/crm/in/a.csv`, output: `s3://${TEST_BUCKET}/crm/outside/` }, 'crm'))).toMatchObject({ status: 403, code: 'LOCATION_NOT_ALLOWED', field: 'output' });
    // A prefix is a folder: `crm/in-other/` is not under `crm/in/`.
    expect(await errorOf(await postJson(f, '/v1/lists', { input: `s3://${TEST_BUCKET}/crm/in-other/a.csv`, output: `s3://${TEST_BUCKET}/crm/out/c/` }, 'crm'))).toMatchObject({ status: 403, field: 'input' });
    expect(await errorOf(await postJson(f, '/v1/lists', { input: inputUrl, output: `s3://${TEST_BUCKET}/crm/out/d/` }, 'crm'))).toMatchObject({ status: 403, field: 'input' });
  });

  it.each([
    ['a .. segment', () => `file://${f.root}/../outside/secret.csv`, '".."'],
    ['an encoded .. segment', () => `file://${f.root}/%2e%2e/outside/secret.csv`, '".."'],
    ['an s3 key with ..', () => `s3://${TEST_BUCKET}/in/../crm/in/a.csv`, '".."'],
    ['a path outside the root', () => pathToFileURL(join(f.outside, 'secret.csv')).href, 'outside the server\'s local root'],
    ['a symbolic link leading out of the root', () => pathToFileURL(join(f.root, 'escape', 'secret.csv')).href, 'symbolic link'],
  ])('refuses an input with %s (403 LOCATION_NOT_ALLOWED)', async (_what, input, why) => {
    const e = await errorOf(await postJson(f, '/v1/lists', { input: input() }));
    expect(e).toMatchObject({ status: 403, code: 'LOCATION_NOT_ALLOWED', field: 'input' });
    expect(e.message).toContain(why);
  });

  it('refuses an output through a symbolic link leading out of the root, even where nothing exists yet', async () => {
    const output = pathToFileURL(join(f.root, 'escape', 'new', 'dir')).href + '/';
    expect(await errorOf(await postJson(f, '/v1/lists', { input: inputUrl, output }))).toMatchObject({ status: 403, code: 'LOCATION_NOT_ALLOWED', field: 'output', message: expect.stringContaining('symbolic link') });
    // The same place without the link is fine.
    expect((await postJson(f, '/v1/lists', { input: inputUrl, output: pathToFileURL(join(f.root, 'new', 'dir')).href + '/', id: 'no-link' })).status).toBe(202);
  });

  it('answers 404 STORAGE_NOT_FOUND for a local input that does not exist, and 400 for other schemes', async () => {
    expect(await errorOf(await postJson(f, '/v1/lists', { input: pathToFileURL(join(f.root, 'nope.csv')).href }))).toMatchObject({ status: 404, code: 'STORAGE_NOT_FOUND', field: 'input' });
    expect(await errorOf(await postJson(f, '/v1/lists', { input: 'http://example.com/list.csv' }))).toMatchObject({ status: 400, code: 'API_VALIDATION', field: 'input' });
    expect(await errorOf(await postJson(f, '/v1/lists', { input: `s3://${TEST_BUCKET}/folder/` }))).toMatchObject({ status: 400, code: 'STORAGE_BAD_URL', field: 'input' });
  });

  it('refuses local paths when the server has no local root', async () => {
    const g = await startApiFixture({ env: { LISTWASH_LOCAL_ROOT: '' } });
    try {
      expect(await errorOf(await postJson(g, '/v1/lists', { input: pathToFileURL(join(g.root, 'x.csv')).href, output: `s3://${TEST_BUCKET}/o/` }))).toMatchObject({ status: 403, code: 'LOCATION_NOT_ALLOWED', field: 'input' });
    } finally {
      await g.close();
    }
  });
});

describe('local storage', () => {
  it("lists a finished local list's files as this API's download routes and streams them byte for byte", async () => {
    const alice = f.client('alice');
    const files = await alice.listFiles('alice-list');
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const file of files) {
      expect(file.url).toBe(`${f.url}/v1/lists/alice-list/files/${file.name}`);
      expect(file.expiresAt).toBeNull();
      expect((await fetch(file.url)).status).toBe(401);
      const res = await f.http(new URL(file.url).pathname, { key: 'alice' });
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${file.name}"`);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(bytes.equals(await readFile(join(f.root, 'out', 'alice-list', file.name)))).toBe(true);
    }
  });

  it('answers 400 naming the file for a name listwash does not write', async () => {
    expect(await errorOf(await f.http('/v1/lists/alice-list/files/..%2Fkeys.json', { key: 'alice' }))).toMatchObject({ status: 400, code: 'API_VALIDATION', field: 'name' });
  });
});
