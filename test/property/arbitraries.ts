/**
 * fast-check generators shared by the property tests: address-like strings (mostly valid, with the characters that
 * make addresses dangerous mixed in), SMTP replies, CSV rows, and chunkings of a byte string.
 */
import fc from 'fast-check';

/** Characters allowed unquoted in a local part (RFC 5321 atext), and the dot. */
const ATEXT = [...'abcxyzABCXYZ0189!#$%&\'*+-/=?^_`{|}~.'];

/** Characters that make trouble on an SMTP command line or in a parser. */
export const TRICKY = ['"', '\\', ' ', '<', '>', '\r', '\n', '\r\n', '\0', '\t', '@', '.', ',', ':', ';', '(', ')', '[', ']', 'ü', 'é', '😀', '\u0085', '\u2028', '\u00a0', '\u007f', '\u0001', '\u001b'];

const atom = fc.string({ unit: fc.constantFrom(...ATEXT), minLength: 1, maxLength: 12 });

/** Inside a quoted local part: printable ASCII with space, `<`, `>`, `@`, escapes, and now and then a control. */
const quotedLocal = fc
  .array(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...'ab <>@,;:()[].'.split('')) }, { weight: 2, arbitrary: fc.constantFrom('\\"', '\\\\', 'ü') }, { weight: 1, arbitrary: fc.constantFrom(...TRICKY) }), { minLength: 1, maxLength: 8 })
  .map((parts) => `"${parts.join('')}"`);

/** A local part: an atom, a quoted string, or an atom with a tricky character inside. */
export const localPart = fc.oneof(
  { weight: 5, arbitrary: atom },
  { weight: 2, arbitrary: quotedLocal },
  { weight: 2, arbitrary: fc.tuple(atom, fc.constantFrom(...TRICKY), atom).map(([a, t, b]) => a + t + b) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }) },
);

const label = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,12}[a-z0-9])?$/) },
  { weight: 1, arbitrary: fc.constantFrom('bücher', 'BÜCHER', 'münchen', 'xn--bcher-kva', 'ąę', '例え', 'Example', 'a_b', '-x', 'x-') },
);

/** A domain: labels joined by dots (sometimes with a trailing dot, upper case, or a tricky character). */
export const domainPart = fc.oneof(
  { weight: 8, arbitrary: fc.array(label, { minLength: 2, maxLength: 4 }).map((ls) => ls.join('.')) },
  { weight: 1, arbitrary: fc.array(label, { minLength: 2, maxLength: 3 }).map((ls) => `${ls.join('.').toUpperCase()}.`) },
  { weight: 1, arbitrary: fc.tuple(label, fc.constantFrom(...TRICKY), label).map(([a, t, b]) => `${a}${t}${b}.test`) },
);

/** Address-like input as found in lists: wrappers, spaces, `mailto:`, missing or doubled `@`. */
export const addressish = fc
  .tuple(fc.constantFrom('', '', '', ' ', '<', 'mailto:', '\t'), localPart, fc.constantFrom('@', '@', '@', '@', '@@', ''), domainPart, fc.constantFrom('', '', '', '>', ' ', '.', '\n'))
  .map((p) => p.join(''));

/** Any input at all: address-like strings most of the time, arbitrary Unicode otherwise. */
export const anyAddressInput = fc.oneof({ weight: 3, arbitrary: addressish }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) });

/** Chunk sizes to cut a byte string with: each 1..max. */
export function chunkSizes(max = 16): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 1, max }), { minLength: 1, maxLength: 40 });
}

/** `buf` cut into consecutive chunks of the given sizes (cycled). */
export function cut(buf: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0, k = 0; i < buf.length; k++) {
    const n = sizes[k % sizes.length] as number;
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** Reply text: printable, with the odd multi-byte or control character, never CR or LF. */
const replyText = fc.string({ unit: fc.oneof({ weight: 10, arbitrary: fc.constantFrom(...'abc OK user <x@y.test> 5.1.1 4.7.0 #()[]:;.,-'.split('')) }, { weight: 1, arbitrary: fc.constantFrom('é', '😀', '\0', '\t', '\u0007') }), maxLength: 30 });

const replyCode = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(220, 221, 250, 251, 252, 354, 421, 450, 451, 452, 454, 500, 501, 502, 503, 550, 551, 552, 553, 554) }, { weight: 1, arbitrary: fc.integer({ min: 100, max: 999 }) });

const enhancedCode = fc.option(fc.tuple(fc.constantFrom(2, 4, 5), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 999 })).map((n) => `${n.join('.')} `), { nil: '' });

/**
 * One complete SMTP reply as lines (no line breaks): `NNN-…` continuation lines and a final `NNN …`, or a single
 * line without a code (junk, a reply of its own).
 */
export const smtpReplyLines = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(replyCode, enhancedCode, fc.array(replyText, { minLength: 1, maxLength: 3 })).map(([code, enh, texts]) => texts.map((t, i) => `${code}${i === texts.length - 1 ? ' ' : '-'}${enh}${t}`)) },
  { weight: 1, arbitrary: replyText.filter((t) => t.trim() !== '' && !/^\d{3}([ -]|$)/.test(t)).map((t) => [t]) },
);

/** A reply with a fixed code: `NNN text` or multi-line. */
export function replyWithCode(code: number): fc.Arbitrary<string[]> {
  return fc.tuple(enhancedCode, fc.array(replyText, { minLength: 1, maxLength: 2 })).map(([enh, texts]) => texts.map((t, i) => `${code}${i === texts.length - 1 ? ' ' : '-'}${enh}${t}`));
}
