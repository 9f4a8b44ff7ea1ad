/**
 * SMTP replies as values: parse a whole (possibly multi-line) reply and find its RFC 3463 enhanced
 * status code. Pure, no I/O. The streaming side (socket chunks → replies) is `reply-reader.ts`.
 */

/** One complete SMTP reply. */
export interface SmtpReply {
  /** The reply code of the final line (e.g. `550`); `0` when no line carries a code (junk). */
  code: number;
  /** RFC 3463 enhanced status code (`5.1.1`) whose class matches the code's first digit, or `null`. */
  enhanced: string | null;
  /**
   * Text of each line after `NNN-` / `NNN ` (a line without a code is kept whole). The enhanced
   * code stays in the text.
   */
  lines: string[];
  /** The whole reply as sent, lines joined with `\n`, without the trailing CRLF. */
  raw: string;
}

/**
 * `class.subject.detail` (RFC 3463 §2): class 2, 4 or 5, a defined subject 0–7, a 1–3 digit detail,
 * not part of a longer dotted number such as an IP address (`192.0.2.54`) or Yahoo's private
 * `4.16.55.1` / `[#4.16.1]`.
 */
const ENHANCED_RE = /(?<![\d.])([245])\.[0-7]\.\d{1,3}(?!\.?\d)/g;

/**
 * The RFC 3463 enhanced status code in `text` whose class matches the reply code's first digit
 * (`5.1.1` for a 550, never for a 450). Found anywhere in the text, since servers put it after a
 * token (`cuda_nsu 5.1.1`), behind `#` (`#5.1.0`, qmail's `(#5.1.1)`) or mid-sentence. The first
 * match wins. `null` when there is none, or when the code is not a 2xx/4xx/5xx.
 */
export function enhancedCodeOf(text: string, code: number): string | null {
  const cls = String(Math.floor(code / 100));
  if (cls !== '2' && cls !== '4' && cls !== '5') return null;
  ENHANCED_RE.lastIndex = 0;
  for (let m = ENHANCED_RE.exec(text); m !== null; m = ENHANCED_RE.exec(text)) {
    if (m[1] === cls) return m[0];
  }
  return null;
}

/** True when `line` starts with a three-digit reply code followed by end of line, space or `-`. */
export function hasReplyCode(line: string): boolean {
  if (line.length < 3) return false;
  for (let i = 0; i < 3; i++) {
    const c = line.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  if (line.length === 3) return true;
  const sep = line.charCodeAt(3);
  return sep === 32 /* ' ' */ || sep === 45 /* '-' */;
}

/**
 * Build a reply from its lines, as received (no line terminators). The code is the one of the
 * last line that has a code (a malformed `220-…` continuation followed by a final `421 …` is a
 * 421 reply). Used by {@link parseReply} and by the streaming reader.
 */
export function replyFromLines(rawLines: readonly string[]): SmtpReply {
  const lines: string[] = new Array<string>(rawLines.length);
  let code = 0;
  for (let i = 0; i < rawLines.length; i++) {
    const line = rawLines[i] as string;
    if (hasReplyCode(line)) {
      code = Number(line.slice(0, 3));
      lines[i] = line.slice(4);
    } else {
      lines[i] = line;
    }
  }
  return { code, enhanced: enhancedCodeOf(lines.join(' '), code), lines, raw: rawLines.join('\n') };
}

/**
 * Parse one whole reply: a single line or a multi-line reply joined with `\n` (CRLF accepted;
 * trailing line breaks ignored). Tolerant of junk: a text without any reply code gives code `0`.
 */
export function parseReply(raw: string): SmtpReply {
  const trimmed = raw.replace(/[\r\n]+$/, '');
  return replyFromLines(trimmed.split(/\r?\n/));
}
