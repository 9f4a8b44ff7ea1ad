/**
 * Compact storage form of a verdict in the list's results hash (and in the verdict cache). Pure.
 * `[reason, mxHost, smtpCode, enhancedCode, reply, catchAll]` as JSON, preceded by the verification time
 * (ms since the epoch) and a space when it is known: `1764900000000 ["accepted",…]`. The JSON part of
 * equal verdicts is equal, whenever they were verified (readers decode each distinct one once).
 */
import { REASON_STATUS, verdict, type Reason, type Verdict } from '../verdict.js';

type Stored = [reason: Reason, mxHost: string, smtpCode: number, enhanced: string, reply: string, catchAll: 0 | 1 | 2];

/** Longest raw reply kept per address (replies can be long multi-line texts). */
const MAX_REPLY = 500;

/** Is this UTF-16 unit a C0 control character other than TAB, LF and CR, or DEL? */
function isHiddenControl(code: number): boolean {
  return (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f;
}

/** A control character's visible stand-in: its Unicode Control Picture (NUL → `␀`, ESC → `␛`, DEL → `␡`). */
function controlPicture(code: number): string {
  return String.fromCharCode(code === 0x7f ? 0x2421 : 0x2400 + code);
}

/** `s` with every hidden control character replaced by its Control Picture. */
function showControls(s: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (!isHiddenControl(code)) continue;
    out += s.slice(from, i) + controlPicture(code);
    from = i + 1;
  }
  return from === 0 ? s : out + s.slice(from);
}

/**
 * Text a server (or DNS) sent, made safe to store and to write into report.csv: NUL and the other C0 control
 * characters except TAB, CR and LF (and DEL) become their visible Control Pictures (`␀`, `␇`, …), so a report is
 * always a file listwash itself reads back (it refuses NUL bytes). At most `max` UTF-16 units, never cutting a
 * character in two.
 */
export function printableText(text: string, max = MAX_REPLY): string {
  let s = text.length > max ? text.slice(0, max) : text;
  // A surrogate pair cut in half would be written as U+FFFD: cut before it instead.
  if (s.length === max && s.length < text.length && /[\uD800-\uDBFF]$/.test(s)) s = s.slice(0, -1);
  return showControls(s);
}

export function encodeVerdict(v: Verdict, verifiedAt?: number): string {
  const s: Stored = [v.reason, printableText(v.mxHost ?? ''), v.smtpCode ?? 0, v.enhancedCode ?? '', printableText(v.smtpReply ?? ''), v.catchAll === undefined ? 2 : v.catchAll ? 1 : 0];
  return verifiedAt === undefined ? JSON.stringify(s) : `${Math.round(verifiedAt)} ${JSON.stringify(s)}`;
}

/** A stored verdict's verification time (ms), and its verdict part (the JSON). */
export function splitStored(s: string): { verifiedAt: number | null; body: string } {
  const cut = s.charCodeAt(0) === 0x5b /* [ */ ? -1 : s.indexOf(' ');
  if (cut < 0) return { verifiedAt: null, body: s };
  const verifiedAt = Number(s.slice(0, cut));
  if (!Number.isFinite(verifiedAt)) throw new Error(`stored verdict has a bad verification time ${JSON.stringify(s.slice(0, cut))}`);
  return { verifiedAt, body: s.slice(cut + 1) };
}

/** The verdict of a stored verdict (with or without its verification time). */
export function decodeVerdict(s: string): Verdict {
  const [reason, mxHost, smtpCode, enhanced, reply, catchAll] = JSON.parse(splitStored(s).body) as Stored;
  if (!(reason in REASON_STATUS)) throw new Error(`stored verdict has unknown reason ${JSON.stringify(reason)}`);
  return verdict(reason, {
    mxHost: mxHost || undefined,
    smtpCode: smtpCode || undefined,
    enhancedCode: enhanced || undefined,
    smtpReply: reply || undefined,
    catchAll: catchAll === 2 ? undefined : catchAll === 1,
  });
}
