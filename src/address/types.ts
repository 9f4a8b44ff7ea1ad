/**
 * Result types of `parseAddress`. Kept in their own module so the flag and parse modules can share them.
 */
import type { SyntaxDetail } from './syntax.js';

/** Properties of a valid address that matter for the verdict or the SMTP session. */
export interface AddressFlags {
  /** The local part names a role (info@, sales@, noreply@, …), not a person. */
  role: boolean;
  /** The domain (or a parent domain) is a disposable-mail service. */
  disposable: boolean;
  /** The domain is a free mailbox provider (gmail.com, web.de, …). */
  free: boolean;
  /** The local part has non-ASCII characters: `RCPT TO` needs a server that offers SMTPUTF8 (RFC 6531). */
  smtputf8: boolean;
}

/** A syntactically valid, normalised address. */
export interface ParsedAddress {
  ok: true;
  /** The input exactly as given. */
  input: string;
  /** Local part as given (quoted form kept if quoted, case kept). */
  local: string;
  /** Lower-case ASCII (punycode) domain, no trailing dot. */
  domain: string;
  /** The domain lower-cased for display: Unicode if it is an IDN, else equal to `domain`. */
  domainUnicode: string;
  /** `${local}@${domain}`: what goes into RCPT TO and the report column `email_normalized`. */
  normalized: string;
  flags: AddressFlags;
  /** Full suggested address (local@suggestedDomain) when the domain looks like a typo, else null. */
  suggestion: string | null;
}

/** An address that cannot be used in `RCPT TO`. */
export interface InvalidAddress {
  ok: false;
  /** The input exactly as given. */
  input: string;
  reason: 'invalid_syntax';
  /** Stable code of the first problem found. */
  detail: SyntaxDetail;
  /** Human-readable explanation (ASCII, no raw control characters). */
  message: string;
  /** A likely intended address (`john@gmail,com` → `john@gmail.com`), or null. */
  suggestion: string | null;
}

export type AddressResult = ParsedAddress | InvalidAddress;
