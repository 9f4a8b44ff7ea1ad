/**
 * Pre-signed download URLs of S3 objects: anyone holding one may GET the object until it expires,
 * without credentials of their own (the HTTP API's file listing, webhook bodies).
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Location } from './location.js';

/**
 * A GET URL for `loc`, valid `expiresInSec`. With `filename`, browsers save it under that name
 * (`Content-Disposition: attachment`).
 */
export async function signedDownloadUrl(client: S3Client, loc: S3Location, expiresInSec: number, filename?: string): Promise<string> {
  const get = new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key, ...(filename ? { ResponseContentDisposition: `attachment; filename="${filename.replace(/["\\\r\n]/g, '_')}"` } : {}) });
  // The presigner's copy of the SDK types may be a patch version apart from the client's.
  return getSignedUrl(client as unknown as Parameters<typeof getSignedUrl>[0], get as unknown as Parameters<typeof getSignedUrl>[1], { expiresIn: expiresInSec });
}
