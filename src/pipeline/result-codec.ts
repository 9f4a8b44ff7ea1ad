/** Compact storage form of a verdict in the list's results hash. Pure. */
import { REASON_STATUS, verdict, type Reason, type Verdict } from '../verdict.js';

type Stored = [reason: Reason, mxHost: string, smtpCode: number, enhanced: string, reply: string, catchAll: 0 | 1 | 2];

/** Longest raw reply kept per address (replies can be long multi-line texts). */
const MAX_REPLY = 500;

export function encodeVerdict(v: Verdict): string {
  const s: Stored = [v.reason, v.mxHost ?? '', v.smtpCode ?? 0, v.enhancedCode ?? '', (v.smtpReply ?? '').slice(0, MAX_REPLY), v.catchAll === undefined ? 2 : v.catchAll ? 1 : 0];
  return JSON.stringify(s);
}

export function decodeVerdict(s: string): Verdict {
  const [reason, mxHost, smtpCode, enhanced, reply, catchAll] = JSON.parse(s) as Stored;
  if (!(reason in REASON_STATUS)) throw new Error(`stored verdict has unknown reason ${JSON.stringify(reason)}`);
  return verdict(reason, {
    mxHost: mxHost || undefined,
    smtpCode: smtpCode || undefined,
    enhancedCode: enhanced || undefined,
    smtpReply: reply || undefined,
    catchAll: catchAll === 2 ? undefined : catchAll === 1,
  });
}
