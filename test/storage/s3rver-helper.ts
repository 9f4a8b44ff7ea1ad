/**
 * Test helper: an in-process s3rver on 127.0.0.1 (port 0) over a temp directory, and a client for it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { createS3Client, type S3Settings } from '../../src/storage/index.js';

export const TEST_BUCKET = 'lw-test';

/** s3rver's fixed credentials; passed explicitly so the SDK never walks the default chain (no metadata lookups). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface RunningS3rver {
  settings: S3Settings;
  client: S3Client;
  close(): Promise<void>;
}

export async function startS3rver(): Promise<RunningS3rver> {
  const directory = await mkdtemp(join(tmpdir(), 'lw-s3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: TEST_BUCKET }] });
  const addr = await server.run();
  if (addr.address !== '127.0.0.1' || addr.port === 0) throw new Error(`s3rver bound to ${addr.address}:${addr.port}`);
  const settings: S3Settings = { s3Endpoint: `http://127.0.0.1:${addr.port}`, s3Region: 'us-east-1', s3ForcePathStyle: false };
  const client = createS3Client(settings, { credentials: S3RVER_CREDENTIALS });
  return {
    settings,
    client,
    close: async () => {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
