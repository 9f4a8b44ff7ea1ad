/**
 * SPF macro expansion (RFC 7208 §7) for domain specs: `%{i}`, `%{ir}`, `%{d2}`, `%{l-}`, `%%`, `%_`, `%-`.
 * Pure.
 */
import { isIP } from 'node:net';
import { reversedLabels } from '../dns/reverse.js';

/** What the macros of one evaluation stand for. */
export interface MacroContext {
  /** The client's IP address. */
  ip: string;
  /** `<sender>`: the MAIL FROM address (or `postmaster@<helo>`). */
  sender: string;
  /** The domain whose policy is being evaluated now. */
  domain: string;
  /** The HELO name. */
  helo: string;
}

export type Expanded = { ok: true; value: string } | { ok: false; error: string };

const MACRO = /%(?:\{([a-z])(\d*)(r?)([.\-+,/_=]*)\}|(.?))/gis;

/** The value of one macro letter (lower-case), or undefined for a letter not allowed in domain specs. */
function letterValue(letter: string, ctx: MacroContext): string | undefined {
  const at = ctx.sender.lastIndexOf('@');
  switch (letter) {
    case 's':
      return ctx.sender;
    case 'l':
      return at > 0 ? ctx.sender.slice(0, at) : 'postmaster';
    case 'o':
      return ctx.sender.slice(at + 1);
    case 'd':
      return ctx.domain;
    case 'i':
      // IPv6: dot-separated nibbles (RFC 7208 §7.3), i.e. the reverse of the reversed form.
      return isIP(ctx.ip) === 6 ? reversedLabels(ctx.ip).split('.').reverse().join('.') : ctx.ip;
    case 'p':
      return 'unknown'; // RFC 7208 §7.3 allows "unknown" instead of a validated PTR name (and discourages %{p})
    case 'v':
      return isIP(ctx.ip) === 6 ? 'ip6' : 'in-addr';
    case 'h':
      return ctx.helo;
    default:
      return undefined;
  }
}

/** Split, reverse and keep the rightmost parts, as the transformers say (RFC 7208 §7.3). */
function transform(value: string, digits: string, reverse: boolean, delimiters: string): Expanded {
  const splitter = new RegExp(`[${(delimiters || '.').replace(/[-\\\]^]/g, '\\$&')}]`);
  let parts = value.split(splitter);
  if (reverse) parts = parts.reverse();
  if (digits !== '') {
    const keep = Number(digits);
    if (keep === 0) return { ok: false, error: 'macro keeps 0 labels' };
    parts = parts.slice(-keep);
  }
  return { ok: true, value: parts.join('.') };
}

/** Expand every macro of a domain spec. A `%` not starting a macro is an error (a permerror for SPF). */
export function expandMacros(spec: string, ctx: MacroContext): Expanded {
  let error: string | undefined;
  const value = spec.replace(MACRO, (whole, letter: string | undefined, digits: string, r: string, delims: string, other: string | undefined) => {
    if (other !== undefined) {
      if (other === '%') return '%';
      if (other === '_') return ' ';
      if (other === '-') return '%20';
      error ??= `bad macro "${whole}"`;
      return '';
    }
    const raw = letterValue(letter!.toLowerCase(), ctx);
    if (raw === undefined) {
      error ??= `macro letter "${letter}" is not allowed here`;
      return '';
    }
    const t = transform(raw, digits, r !== '', delims);
    if (!t.ok) {
      error ??= t.error;
      return '';
    }
    // An upper-case letter asks for URL escaping (RFC 7208 §7.3).
    return letter === letter!.toUpperCase() ? encodeURIComponent(t.value) : t.value;
  });
  if (error !== undefined) return { ok: false, error };
  return { ok: true, value };
}
