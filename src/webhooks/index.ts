/** Signed webhooks (Standard Webhooks) of finished lists: payload, signature, SSRF guard, delivery. */
export { WebhookDelivery, type DeliveryResult, type DeliveryDeps } from './deliver.js';
export { FileLinks } from './file-links.js';
export { webhookBody, webhookMessageId, LIST_ENDS, type ListEnd, type WebhookBody, type WebhookFile } from './payload.js';
export { signedHeaders, signatureOf, type SignedHeaders } from './signature.js';
export { parseWebhookSecrets } from './secret.js';
export { postJson, originOf, type PostOptions, type PostResult } from './post.js';
export { guardedLookup, checkLiteralHost, literalAddress } from './target-guard.js';
export { nextAttemptAt, retryDelayMs, MAX_RETRY_DELAY_MS } from './schedule.js';
export { KEPT_ATTEMPTS, parseAttempts, settleInterrupted, withAttempt, type WebhookAttempt, type AttemptOutcome } from './attempts.js';
