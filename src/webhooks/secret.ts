/**
 * Webhook signing secrets (`LISTWASH_WEBHOOK_SECRET`): Standard Webhooks' `whsec_` + base64 form. Pure.
 * Error messages say which entry is wrong and why, never its value.
 */
import { ErrorCodes, ListwashError } from '../errors.js';

const PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** Key sizes accepted (Standard Webhooks: 24 to 64 bytes). */
const MIN_BYTES = 24;
const MAX_BYTES = 64;

function bad(index: number, count: number, why: string): never {
  const which = count > 1 ? ` (secret ${index + 1} of ${count})` : '';
  throw new ListwashError(ErrorCodes.CONFIG_INVALID, `LISTWASH_WEBHOOK_SECRET${which}: ${why}`, { setting: 'webhookSecret', env: 'LISTWASH_WEBHOOK_SECRET' });
}

/**
 * The signing keys of `LISTWASH_WEBHOOK_SECRET` entries (empty list: none configured).
 * @throws ListwashError `CONFIG_INVALID` for an entry that is not `whsec_` + base64 of 24–64 bytes.
 */
export function parseWebhookSecrets(entries: readonly string[]): Buffer[] {
  return entries.map((entry, i) => {
    if (!entry.startsWith(PREFIX)) bad(i, entries.length, `must start with ${PREFIX} (Standard Webhooks secret format)`);
    const b64 = entry.slice(PREFIX.length);
    if (!BASE64.test(b64) || b64.length % 4 !== 0) bad(i, entries.length, `must be ${PREFIX} followed by standard base64`);
    const key = Buffer.from(b64, 'base64');
    if (key.length < MIN_BYTES || key.length > MAX_BYTES) bad(i, entries.length, `must decode to ${MIN_BYTES}–${MAX_BYTES} bytes, got ${key.length}`);
    return key;
  });
}
