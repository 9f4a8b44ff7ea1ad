/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): `webhook-signature` carries
 * `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, one per signing key,
 * space-separated (key rotation: receivers accept any one that verifies). Pure.
 */
import { createHmac } from 'node:crypto';

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** `v1,<base64>` for one key. */
export function signatureOf(key: Buffer, id: string, timestampSec: number, body: string): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestampSec}.${body}`, 'utf8').digest('base64');
  return `v1,${mac}`;
}

/**
 * The three Standard Webhooks headers for `body`, signed with every key.
 * @param timestampSec seconds since the epoch (the time of this attempt).
 */
export function signedHeaders(keys: readonly Buffer[], id: string, timestampSec: number, body: string): SignedHeaders {
  if (keys.length === 0) throw new RangeError('no signing key');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSec),
    'webhook-signature': keys.map((k) => signatureOf(k, id, timestampSec, body)).join(' '),
  };
}
