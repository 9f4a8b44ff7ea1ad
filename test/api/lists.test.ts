/**
 * Lists over real HTTP, end to end: real Redis, s3rver, the simulated mail world, workers. Created
 * from an s3:// location and from an upload, followed, listed page by page, downloaded (pre-signed
 * URLs fetched and compared byte for byte with the stored objects), cancelled and deleted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListwashApiError } from '../../src/client/index.js';
import { getText, putText, reportRows, waitFor } from '../pipeline/helpers.js';
import { errorOf, postJson, SMALL_WORLD, startApiFixture, TEST_BUCKET, type ApiFixture } from './fixture.js';

let f: ApiFixture;
const CSV = 'name,email\nBob,bob@acme.test\nAlice,alice@acme.test\nNobody,nobody@acme.test\nGone,x@gone.test\nBad,not-an-address\n';

beforeAll(async () => {
  f = await startApiFixture({
    s3: true,
    workers: true,
    world: { ...SMALL_WORLD, domains: { ...SMALL_WORLD.domains, 'slow.test': { mx: [{ host: 'mx.slow.test', preference: 10 }] } }, hosts: { ...SMALL_WORLD.hosts, 'mx.slow.test': { greylistSeconds: 600 } } },
  });
});
afterAll(async () => {
  await f?.close();
});

describe('POST /v1/lists with an s3:// input', () => {
  it('answers 202 with Location, runs the list to done, and the files download byte for byte', async () => {
    const input = await putText(f.s3!, 'in/march.csv', CSV);
    const res = await postJson(f, '/v1/lists', { input, id: 'march' });
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe('/v1/lists/march');
    const created = (await res.json()) as { id: string; state: string; output: string; owner: string };
    expect(created).toMatchObject({ id: 'march', owner: 'alice', output: `s3://${TEST_BUCKET}/out/march/` });

    const alice = f.client('alice');
    const done = await alice.waitForList('march', { pollMs: 100, timeoutMs: 60_000 });
    expect(done.state).toBe('done');
    expect(done.percent).toBe(100);
    expect(done.counts.byStatus).toEqual({ deliverable: 2, undeliverable: 3 });

    const files = await alice.listFiles('march');
    expect(files.map((x) => x.name)).toEqual(expect.arrayContaining(['report.csv', 'clean.csv', 'invalid.csv', 'summary.json']));
    for (const file of files) {
      expect(file.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/lw-test\/out\/march\//);
      const viaUrl = await fetch(file.url);
      expect(viaUrl.status).toBe(200);
      const bytes = Buffer.from(await viaUrl.arrayBuffer());
      expect(bytes.equals(Buffer.from(await getText(f.s3!, `out/march/${file.name}`)))).toBe(true);
      expect(bytes.length).toBe(file.size);
    }
    const report = reportRows(await (await alice.downloadFile('march', 'report.csv')).text());
    expect(report.rows.map((r) => `${r.email}:${r.reason}`)).toEqual(['bob@acme.test:accepted', 'alice@acme.test:accepted', 'nobody@acme.test:mailbox_not_found', 'x@gone.test:no_domain', 'not-an-address:invalid_syntax']);
  });

  it('answers 200 with the same list when the same id is submitted again (no second run)', async () => {
    const again = await postJson(f, '/v1/lists', { input: `s3://${TEST_BUCKET}/in/other.csv`, id: 'march' });
    expect(again.status).toBe(200);
    const body = (await again.json()) as { id: string; state: string; input: string };
    expect(body).toMatchObject({ id: 'march', state: 'done', input: `s3://${TEST_BUCKET}/in/march.csv` });
  });

  it('escapes formula-like cells in the outputs when asked (escapeFormulas)', async () => {
    const input = await putText(f.s3!, 'in/formulas.csv', 'name,email\n=SUM(A1),bob@acme.test\n');
    const { list } = await f.client('alice').createList({ input, id: 'formulas', escapeFormulas: true });
    await f.client('alice').waitForList(list.id, { pollMs: 100, timeoutMs: 60_000 });
    expect(reportRows(await getText(f.s3!, 'out/formulas/report.csv')).rows[0]).toMatchObject({ name: "'=SUM(A1)", status: 'deliverable' });
  });

  it('takes known verdicts from the verdict cache unless maxAge asks for fresher ones (JSON and upload)', async () => {
    const csv = 'email\nbob@acme.test\nnobody@acme.test\n';
    const alice = f.client('alice');
    const summaryOf = async (id: string) => {
      await alice.waitForList(id, { pollMs: 100, timeoutMs: 60_000 });
      return (JSON.parse(await getText(f.s3!, `out/${id}/summary.json`)) as { verdictCache: unknown }).verdictCache;
    };
    // Both addresses were verified by the first list of this file.
    await alice.createList({ input: await putText(f.s3!, 'in/known.csv', csv), id: 'known' });
    expect(await summaryOf('known')).toEqual({ hits: 2, lookups: 2, maxAge: null });
    await alice.createList({ input: await putText(f.s3!, 'in/fresh.csv', csv), id: 'fresh', maxAge: 0 });
    expect(await summaryOf('fresh')).toEqual({ hits: 0, lookups: 0, maxAge: 0 });
    await alice.uploadList(new Blob([csv]), { id: 'fresh-upload', maxAge: 86_400 });
    expect(await summaryOf('fresh-upload')).toEqual({ hits: 2, lookups: 2, maxAge: 86_400 });
    expect(await errorOf(await postJson(f, '/v1/lists', { input: `s3://${TEST_BUCKET}/in/known.csv`, maxAge: -1 }))).toMatchObject({ status: 400, code: 'API_VALIDATION', field: 'maxAge' });
  });

  it('refuses an output that cannot be written before any work (the bucket does not exist)', async () => {
    const e = await errorOf(await postJson(f, '/v1/lists', { input: `s3://${TEST_BUCKET}/in/march.csv`, output: 's3://no-such-bucket-lw/out/', id: 'nowhere' }));
    expect(e).toMatchObject({ status: 404, code: 'STORAGE_NOT_FOUND' });
    expect(e.message).toContain('not writable');
    expect((await f.http('/v1/lists/nowhere', { key: 'alice' })).status).toBe(404);
  });

  it('answers 409 LIST_NOT_DONE for the files of a list still at work', async () => {
    const input = await putText(f.s3!, 'in/slow-files.csv', 'email\nsomeone@slow.test\n');
    await postJson(f, '/v1/lists', { input, id: 'slow-files' });
    const e = await errorOf(await f.http('/v1/lists/slow-files/files', { key: 'alice' }));
    expect(e).toMatchObject({ status: 409, code: 'LIST_NOT_DONE' });
    await f.client('alice').cancelList('slow-files');
  });
});

describe('POST /v1/lists with a multipart upload', () => {
  it('streams the file to the upload prefix and cleans it like any list', async () => {
    const { list, created } = await f.client('alice').uploadList(new Blob([CSV]), { filename: 'My List (1).csv', id: 'uploaded', emailColumn: 1 });
    expect(created).toBe(true);
    expect(list.input).toMatch(new RegExp(`^s3://${TEST_BUCKET}/uploads/[0-9a-f-]{36}/My-List-1-.csv$`));
    expect(list.emailColumn).toBe(1);
    expect(await getText(f.s3!, list.input.slice(`s3://${TEST_BUCKET}/`.length))).toBe(CSV);
    const done = await f.client('alice').waitForList('uploaded', { pollMs: 100, timeoutMs: 60_000 });
    expect(done.counts.byStatus).toEqual({ deliverable: 2, undeliverable: 3 });
  });

  it('answers 413 past LISTWASH_UPLOAD_MAX_BYTES and leaves nothing in storage', async () => {
    const before = await uploadObjects();
    const big = 'email\n' + 'someone@acme.test\n'.repeat(5000);
    const form = new FormData();
    form.append('id', 'too-big');
    form.append('file', new Blob([big]), 'big.csv');
    const e = await errorOf(await f.http('/v1/lists', { method: 'POST', key: 'alice', body: form }));
    expect(e).toMatchObject({ status: 413, code: 'API_PAYLOAD_TOO_LARGE', field: 'file' });
    expect(await uploadObjects()).toEqual(before);
    expect((await f.http('/v1/lists/too-big', { key: 'alice' })).status).toBe(404);
  });

  it('answers 400 naming the field when the form has no file or a bad field', async () => {
    const noFile = new FormData();
    noFile.append('id', 'no-file');
    expect(await errorOf(await f.http('/v1/lists', { method: 'POST', key: 'alice', body: noFile }))).toMatchObject({ status: 400, code: 'API_VALIDATION', field: 'file' });
    const badId = new FormData();
    badId.append('id', '../etc');
    badId.append('file', new Blob([CSV]), 'x.csv');
    const before = await uploadObjects();
    expect(await errorOf(await f.http('/v1/lists', { method: 'POST', key: 'alice', body: badId }))).toMatchObject({ status: 400, code: 'API_VALIDATION', field: 'id' });
    expect(await uploadObjects()).toEqual(before);
  });
});

describe('GET /v1/lists', () => {
  it("pages through the caller's lists newest first with a cursor, and shows no other key's list", async () => {
    const bob = f.client('bob');
    for (const id of ['p1', 'p2', 'p3']) {
      await bob.createList({ input: `s3://${TEST_BUCKET}/in/march.csv`, id });
      await new Promise((r) => setTimeout(r, 5));
    }
    const first = await bob.listLists({ limit: 2 });
    expect(first.lists.map((l) => l.id)).toEqual(['p3', 'p2']);
    expect(first.nextCursor).not.toBeNull();
    const second = await bob.listLists({ limit: 2, cursor: first.nextCursor! });
    expect(second.lists.map((l) => l.id)).toEqual(['p1']);
    expect(second.nextCursor).toBeNull();
    const all: string[] = [];
    for await (const l of bob.allLists({ limit: 1 })) all.push(l.id);
    expect(all).toEqual(['p3', 'p2', 'p1']);
    expect(await f.client('alice').listLists()).toMatchObject({ lists: expect.not.arrayContaining([expect.objectContaining({ id: 'p1' })]) });
  });

  it('answers 400 naming the cursor when it is not one the API gave', async () => {
    expect(await errorOf(await f.http('/v1/lists?cursor=bm9wZQ', { key: 'bob' }))).toMatchObject({ status: 400, code: 'JOB_INVALID', field: 'cursor' });
  });
});

describe('cancel and delete', () => {
  it('cancels a list at work: it ends cancelled and writes no files', async () => {
    const input = await putText(f.s3!, 'in/slow.csv', 'email\na@slow.test\nb@slow.test\n');
    const alice = f.client('alice');
    await alice.createList({ input, id: 'to-cancel' });
    await waitFor(async () => (await alice.getList('to-cancel')).state === 'probing', 20_000, 'the list to be probing');
    const r = await alice.cancelList('to-cancel');
    expect(r.cancelled).toBe(true);
    expect(r.list.state).toBe('cancelled');
    expect((await alice.cancelList('to-cancel')).cancelled).toBe(false);
    expect((await alice.getList('to-cancel')).state).toBe('cancelled');
    await expect(alice.listFiles('to-cancel')).rejects.toMatchObject({ code: 'LIST_NOT_DONE', status: 409 });
  });

  it('deletes a list and, with ?files=true, its output files', async () => {
    const alice = f.client('alice');
    const r = await alice.deleteList('march', { files: true });
    expect(r.files).toEqual(expect.arrayContaining(['report.csv', 'summary.json']));
    await expect(getText(f.s3!, 'out/march/report.csv')).rejects.toThrow();
    const err = await alice.getList('march').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ListwashApiError);
    expect(err).toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });
  });
});

async function uploadObjects(): Promise<string[]> {
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const res = await f.s3!.client.send(new ListObjectsV2Command({ Bucket: TEST_BUCKET, Prefix: 'uploads/' }));
  return (res.Contents ?? []).map((o) => o.Key!).sort();
}
