/**
 * Every request is validated against its schema: a bad one is `400` JSON with a stable code and the
 * field at fault (over real HTTP); and the error table's rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorReply, fromValidation, httpStatusOf, HTTP_STATUS } from '../../src/api/errors.js';
import { ErrorCodes, ListwashError } from '../../src/errors.js';
import { errorOf, postJson, startApiFixture, TEST_BUCKET, type ApiFixture } from './fixture.js';

let f: ApiFixture;
const input = `s3://${TEST_BUCKET}/in/a.csv`;

beforeAll(async () => {
  f = await startApiFixture({ s3: true, env: { LISTWASH_OUTPUT_PREFIX: '', LISTWASH_UPLOAD_PREFIX: '', LISTWASH_VERIFY_MAX_ADDRESSES: '3' } });
});
afterAll(async () => {
  await f?.close();
});

describe('request validation over HTTP', () => {
  it.each([
    ['a missing input', {}, 'input', 'is required'],
    ['an unknown field', { input, output: `${input}/`, colour: 'red' }, 'colour', 'is not a field'],
    ['an input that is not s3:// or file://', { input: 'ftp://x/a.csv' }, 'input', 'pattern'],
    ['a list id with a slash', { input, id: 'a/b' }, 'id', 'pattern'],
    ['a negative email column', { input, emailColumn: -1 }, 'emailColumn', ''],
    ['a callback that is not http(s)', { input, callbackUrl: 'ftp://hooks.example' }, 'callbackUrl', 'pattern'],
  ])('POST /v1/lists with %s: 400 API_VALIDATION naming the field', async (_what, body, field, words) => {
    const e = await errorOf(await postJson(f, '/v1/lists', body));
    expect(e).toMatchObject({ status: 400, code: 'API_VALIDATION', field });
    expect(e.message).toContain(field);
    expect(e.message).toContain(words);
  });

  it('names query and path fields too', async () => {
    expect(await errorOf(await f.http('/v1/lists?limit=0', { key: 'alice' }))).toMatchObject({ status: 400, code: 'API_VALIDATION', field: 'limit', in: 'querystring' });
    expect(await errorOf(await f.http('/v1/lists?limit=ten', { key: 'alice' }))).toMatchObject({ status: 400, field: 'limit' });
    expect(await errorOf(await f.http('/v1/lists/bad%20id', { key: 'alice' }))).toMatchObject({ status: 400, code: 'API_VALIDATION', field: 'id', in: 'params' });
    expect(await errorOf(await f.http('/v1/lists/x?files=maybe', { method: 'DELETE', key: 'alice' }))).toMatchObject({ status: 400, field: 'files', in: 'querystring' });
  });

  it('checks /v1/verify against the configured maximum and names the element at fault', async () => {
    expect(await errorOf(await postJson(f, '/v1/verify', { addresses: [] }))).toMatchObject({ status: 400, field: 'addresses' });
    expect(await errorOf(await postJson(f, '/v1/verify', { addresses: ['a@b.test', 'c@d.test', 'e@f.test', 'g@h.test'] }))).toMatchObject({ status: 400, field: 'addresses', message: expect.stringContaining('3') });
    expect(await errorOf(await postJson(f, '/v1/verify', { addresses: ['a@b.test', 7] }))).toMatchObject({ status: 400, field: 'addresses[1]' });
    expect(await errorOf(await postJson(f, '/v1/verify', { addresses: ['a@b.test'], deadlineMs: 5 }))).toMatchObject({ status: 400, field: 'deadlineMs' });
  });

  it('answers malformed JSON with 400, another media type with 415, a body past 1 MiB with 413', async () => {
    const bad = await f.http('/v1/lists', { method: 'POST', key: 'alice', headers: { 'content-type': 'application/json' }, body: '{"input": ' });
    expect(await errorOf(bad)).toMatchObject({ status: 400, code: 'API_VALIDATION', field: 'body' });
    const text = await f.http('/v1/lists', { method: 'POST', key: 'alice', headers: { 'content-type': 'text/plain' }, body: 'input' });
    expect(await errorOf(text)).toMatchObject({ status: 415, code: 'API_UNSUPPORTED_MEDIA_TYPE' });
    const huge = await postJson(f, '/v1/lists', { input, callbackUrl: `https://x.test/${'a'.repeat(1_100_000)}` });
    expect(await errorOf(huge)).toMatchObject({ status: 413, code: 'API_PAYLOAD_TOO_LARGE' });
  });

  it('answers 404 API_NOT_FOUND for an unknown route', async () => {
    expect(await errorOf(await f.http('/v2/lists', { key: 'alice' }))).toMatchObject({ status: 404, code: 'API_NOT_FOUND' });
  });

  it('requires output when the server has no LISTWASH_OUTPUT_PREFIX, and refuses uploads without LISTWASH_UPLOAD_PREFIX', async () => {
    expect(await errorOf(await postJson(f, '/v1/lists', { input }))).toMatchObject({ status: 400, code: 'API_VALIDATION', field: 'output' });
    const form = new FormData();
    form.append('file', new Blob(['email\na@b.test\n']), 'a.csv');
    expect(await errorOf(await f.http('/v1/lists', { method: 'POST', key: 'alice', body: form }))).toMatchObject({ status: 501, code: 'UPLOADS_DISABLED' });
  });

  it('answers 501 WEBHOOK_SECRET_MISSING naming callbackUrl when the server cannot sign webhooks', async () => {
    expect(await errorOf(await postJson(f, '/v1/lists', { input, output: `s3://${TEST_BUCKET}/o/`, callbackUrl: 'https://hooks.example/lw' }))).toMatchObject({ status: 501, code: 'WEBHOOK_SECRET_MISSING', field: 'callbackUrl' });
  });

  it("answers 409 JOB_EXISTS for an id another key's list has", async () => {
    expect((await postJson(f, '/v1/lists', { input, output: `s3://${TEST_BUCKET}/o/`, id: 'taken' }, 'alice')).status).toBe(202);
    expect(await errorOf(await postJson(f, '/v1/lists', { input, output: `s3://${TEST_BUCKET}/o/`, id: 'taken' }, 'bob'))).toMatchObject({ status: 409, code: 'JOB_EXISTS' });
  });
});

describe('the error table', () => {
  it('gives every API error code a 4xx/5xx status and answers unknown codes with 500', () => {
    for (const code of Object.values(ErrorCodes).filter((c) => c.startsWith('API_') || c === 'LOCATION_NOT_ALLOWED' || c === 'UPLOADS_DISABLED')) {
      expect(HTTP_STATUS[code], code).toBeGreaterThanOrEqual(400);
    }
    expect(httpStatusOf('NO_SUCH_CODE')).toBe(500);
    expect(httpStatusOf('JOB_NOT_FOUND')).toBe(404);
    expect(httpStatusOf('REDIS_UNAVAILABLE')).toBe(503);
  });

  it('answers in one line', () => {
    const { body } = errorReply(new ListwashError(ErrorCodes.CSV_MALFORMED, 'line 3:\n  "a,b\r\n  broken'));
    expect(body.error.message).toBe('line 3: "a,b broken');
  });

  it('names a missing property, an unknown one, and array elements by path', () => {
    expect(fromValidation([{ keyword: 'required', instancePath: '', params: { requiredProperties: ['input'] } }], 'body').details).toMatchObject({ field: 'input' });
    expect(fromValidation([{ keyword: 'additionalProperties', instancePath: '/nested', params: { additionalProperties: ['x'] } }], 'body').details).toMatchObject({ field: 'nested.x' });
    expect(fromValidation([{ keyword: 'type', instancePath: '/addresses/2', message: 'must be string' }], 'body').details).toMatchObject({ field: 'addresses[2]' });
    expect(fromValidation([{ keyword: 'type', instancePath: '', message: 'must be object' }], 'querystring').details).toMatchObject({ field: 'querystring' });
  });
});
