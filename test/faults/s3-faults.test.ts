/**
 * S3 through a fault proxy in front of s3rver (500 InternalError, 503 SlowDown, connection resets, response bodies
 * truncated, cut or slow, uploads stored short): reads and writes are retried or resumed and give the exact bytes,
 * and a truncated object is never presented as a result — not by a read, not by a write, not as a list's output.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { ErrorCodes } from '../../src/errors.js';
import { aggregateJobId } from '../../src/pipeline/names.js';
import { ListwashService } from '../../src/pipeline/service.js';
import { S3Store, createS3Client, parseLocation, type Location } from '../../src/storage/index.js';
import { SimWorld, type SimWorldSpec } from '../../src/world/index.js';
import { dropKeys, getText, pipelineConfig, putText, testPrefix, useS3rverCredentials, waitFor } from '../pipeline/helpers.js';
import { rejection } from '../helpers/rejection.js';
import { generateCsv, sha256Of } from '../storage/big-csv.js';
import { S3RVER_CREDENTIALS, TEST_BUCKET, startS3rver, type RunningS3rver } from '../storage/s3rver-helper.js';
import { NO_FAULTS, S3FaultProxy, firstAttemptFaults, type Fault } from './s3-fault-proxy.js';

const MiB = 1024 * 1024;
const run = `s3f-${process.pid}-${Date.now()}`;
const REQUEST_FAULTS: Fault[] = ['500', '503', 'reset'];
const BODY_FAULTS: Fault[] = ['truncate', 'cut', 'slow'];
/** Resumes quick enough for tests. */
const FAST_RESUME = { maxStalls: 2, maxResumes: 8, baseDelayMs: 20 };

let s3: RunningS3rver;
let proxy: S3FaultProxy;
/** A client through the proxy. */
let client: S3Client;
let store: S3Store;

const loc = (key: string): Location => parseLocation(`s3://${TEST_BUCKET}/${run}/${key}`);

/** An object's bytes read straight from s3rver, not through the proxy. */
async function direct(key: string): Promise<Buffer> {
  const res = await s3.client.send(new GetObjectCommand({ Bucket: TEST_BUCKET, Key: `${run}/${key}` }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

beforeAll(async () => {
  s3 = await startS3rver();
  proxy = await S3FaultProxy.start(s3.settings.s3Endpoint);
  client = createS3Client({ ...s3.settings, s3Endpoint: proxy.endpoint }, { credentials: S3RVER_CREDENTIALS });
  store = new S3Store(client, { partSize: 5 * MiB, resume: FAST_RESUME });
});

afterAll(async () => {
  client?.destroy();
  await proxy?.close();
  await s3?.close();
});

describe('reads through faults', () => {
  const object = randomBytes(MiB + 12345);

  beforeAll(async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: TEST_BUCKET, Key: `${run}/read.bin`, Body: object }));
  });

  it.each([...REQUEST_FAULTS, ...BODY_FAULTS])('%s on the first attempt of every request: a whole read and a sample read give the exact bytes', async (fault) => {
    const before = proxy.injected[fault];
    proxy.use(firstAttemptFaults([fault]));
    try {
      const chunks: Buffer[] = [];
      for await (const c of await store.openRead(loc('read.bin'))) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).equals(object)).toBe(true);
      const sample: Buffer[] = [];
      for await (const c of await store.openRead(loc('read.bin'), { maxBytes: 64 * 1024 + fault.length })) sample.push(c as Buffer);
      expect(Buffer.concat(sample).equals(object.subarray(0, 64 * 1024 + fault.length))).toBe(true);
    } finally {
      proxy.use(NO_FAULTS);
    }
    expect(proxy.injected[fault]).toBeGreaterThan(before);
  });

  it('bodies cut again and again: the read fails with STORAGE_IO after a prefix of the object, never with a clean end', async () => {
    for (const fault of ['cut', 'truncate'] as const) {
      proxy.use((r) => (r.method === 'GET' ? fault : 'pass'));
      const got: Buffer[] = [];
      const err = await rejection(
        (async () => {
          for await (const c of await store.openRead(loc('read.bin'))) got.push(c as Buffer);
        })(),
      );
      proxy.use(NO_FAULTS);
      expect(err.code, fault).toBe(ErrorCodes.STORAGE_IO);
      expect(err.message, fault).toMatch(new RegExp(`^cannot read s3://${TEST_BUCKET}/${run}/read\\.bin: .*\\((no progress in \\d+ tries at byte \\d+|the connection broke \\d+ times)\\)$`));
      const prefix = Buffer.concat(got);
      expect(prefix.length, fault).toBeLessThan(object.length);
      expect(prefix.equals(object.subarray(0, prefix.length)), fault).toBe(true);
    }
  });
});

describe('writes through faults', () => {
  it.each([...REQUEST_FAULTS, 'slow'] as Fault[])('%s on the first attempt of every request: a multipart and a single-part upload store the exact bytes', async (fault) => {
    const big = generateCsv(6 * MiB);
    const small = Buffer.from('email\nann@example.org\n');
    const before = proxy.injected[fault];
    proxy.use(firstAttemptFaults([fault]));
    try {
      const h = await store.openWrite(loc(`write-${fault}-big.csv`));
      await pipeline(big.stream(), h.stream);
      await h.done;
      const s = await store.openWrite(loc(`write-${fault}-small.csv`));
      await pipeline(Readable.from([small]), s.stream);
      await s.done;
    } finally {
      proxy.use(NO_FAULTS);
    }
    expect(proxy.injected[fault]).toBeGreaterThan(before);
    expect(await sha256Of(Readable.from([await direct(`write-${fault}-big.csv`)]))).toEqual({ sha256: big.sha256, size: big.size });
    expect((await direct(`write-${fault}-small.csv`)).equals(small)).toBe(true);
  });

  it('an upload stored short (s3rver keeps half of the body and says 200) fails the write: the check finds it', async () => {
    proxy.use((r) => (r.method === 'PUT' ? 'short-upload' : 'pass'));
    try {
      const h = await store.openWrite(loc('short.csv'));
      h.stream.end('0123456789abcdef');
      const err = await rejection(h.done);
      expect(err.code).toBe(ErrorCodes.STORAGE_IO);
      expect(err.message).toBe(`cannot write s3://${TEST_BUCKET}/${run}/short.csv: the stored object has 8 bytes, 16 were written`);
    } finally {
      proxy.use(NO_FAULTS);
    }
  });
});

describe('a list cleaned through the faults', () => {
  const spec: SimWorldSpec = {
    domains: { 'ok.test': { mx: [{ host: 'mx.ok.test', preference: 10 }] }, 'full.test': { mx: [{ host: 'mx.full.test', preference: 10 }] } },
    hosts: { 'mx.ok.test': { mailboxes: ['ann', 'ben', 'cid'] }, 'mx.full.test': { mailboxes: ['kim'], full: true } },
  };
  const prefix = testPrefix();
  let world: SimWorld;
  let cfg: Config;
  let svc: ListwashService;
  const ROWS = ['id,email,note', ...Array.from({ length: 300 }, (_, i) => `${i},${['ann@ok.test', 'ben@ok.test', 'zed@ok.test', 'kim@full.test', 'bad address', `u${i}@ok.test`][i % 6]},"note, ${i}"`)];
  const FILES = ['report.csv', 'clean.csv', 'risky.csv', 'invalid.csv', 'unknown.csv'];

  beforeAll(async () => {
    useS3rverCredentials();
    world = await SimWorld.start(spec);
    cfg = pipelineConfig(world, prefix, s3, { S3_ENDPOINT: proxy.endpoint, LISTWASH_CATCH_ALL_PROBE: 'false', LISTWASH_MX_RCPT_PER_SECOND: '100' });
    svc = new ListwashService(cfg);
  });

  afterAll(async () => {
    await svc?.close();
    await dropKeys(cfg.redisUrl, prefix);
    await world?.stop();
  });

  async function outputKeys(name: string): Promise<string[]> {
    const res = await s3.client.send(new ListObjectsV2Command({ Bucket: TEST_BUCKET, Prefix: `${run}/${name}/out/` }));
    return (res.Contents ?? []).map((o) => o.Key!.slice(`${run}/${name}/out/`.length)).sort();
  }

  it('every request faulted once (500, 503, reset, truncated, cut and slow bodies): the files equal those of an undisturbed run', async () => {
    await svc.startWorkers({ split: true, probe: true, aggregate: true, probeConcurrency: 4 });
    const input = await putText(s3, `${run}/list/input.csv`, ROWS.join('\r\n') + '\r\n');
    const clean = async (name: string) => {
      const { listId } = await svc.submit({ input, output: `s3://${TEST_BUCKET}/${run}/${name}/out/`, listId: `${run}-${name}` });
      await svc.waitUntilDone(listId, { timeoutMs: 60_000, pollMs: 100 });
    };
    await clean('calm');
    const before = { ...proxy.injected };
    // GETs meet the body faults first: the input is read three times (sample, split, aggregate), the rest are other requests.
    proxy.use(firstAttemptFaults(['truncate', 'cut', 'slow', '500', '503', 'reset']));
    try {
      await clean('faulted');
    } finally {
      proxy.use(NO_FAULTS);
    }
    for (const f of [...REQUEST_FAULTS, ...BODY_FAULTS]) expect(proxy.injected[f], f).toBeGreaterThan(before[f]);
    for (const f of FILES) expect(await getText(s3, `${run}/faulted/out/${f}`), f).toBe(await getText(s3, `${run}/calm/out/${f}`));
    const counts = (text: string) => {
      const { rows, byStatus, byReason, byBounceRisk } = JSON.parse(text) as Record<string, unknown>;
      return { rows, byStatus, byReason, byBounceRisk };
    };
    expect(counts(await getText(s3, `${run}/faulted/out/summary.json`))).toEqual(counts(await getText(s3, `${run}/calm/out/summary.json`)));
    expect(await outputKeys('faulted')).toEqual([...FILES, 'report.html', 'summary.json'].sort());
  });

  it('an input that can no longer be read to its end: the list fails with STORAGE_IO and its output prefix holds no result file', async () => {
    await svc.close();
    // Split and probe first; the aggregate only runs once every read of the input is cut.
    svc = new ListwashService(cfg);
    await svc.startWorkers({ split: true, probe: true, probeConcurrency: 4 });
    const input = await putText(s3, `${run}/cut/input.csv`, ROWS.join('\n') + '\n');
    const listId = `${run}-cut`;
    await svc.submit({ input, output: `s3://${TEST_BUCKET}/${run}/cut/out/`, listId });
    await waitFor(async () => (await svc.aggregateQueue.getJobState(aggregateJobId(listId))) === 'waiting', 30_000, 'the aggregate job');
    proxy.use((r) => (r.method === 'GET' && r.url.includes('/cut/input.csv') ? 'cut' : 'pass'));
    try {
      await svc.startWorkers({ aggregate: true });
      const err = await rejection(svc.waitUntilDone(listId, { timeoutMs: 60_000, pollMs: 200 }));
      expect(err.details.cause).toBe(ErrorCodes.STORAGE_IO);
      expect(err.message).toMatch(new RegExp(`^list ${listId} failed: cannot read s3://${TEST_BUCKET}/${run}/cut/input\\.csv: .*no progress in \\d+ tries at byte 0\\)$`));
    } finally {
      proxy.use(NO_FAULTS);
    }
    // Nothing of the results; error.json says why.
    expect(await outputKeys('cut')).toEqual(['error.json']);
  });
});
