/** What the engine is asked to verify. */
import type { RcptRequest } from '../smtp/probe-session.js';

/** One address of a domain. */
export interface VerifyRequest extends RcptRequest {
  /**
   * The egress identity this address must be retried from (it was greylisted there: greylisting keys
   * on the client address). Absent: any identity.
   */
  identity?: string;
}

export interface VerifyOptions {
  /** The identity whose catch-all probe of this domain was greylisted: the probe goes from it again. */
  catchAllIdentity?: string;
}
