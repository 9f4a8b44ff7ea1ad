/**
 * Safe HTML building: the `html` tag escapes every interpolated value unless it is already an {@link Html}
 * fragment (made by `html` itself). Values from a list (domain names, replies, column names, paths) are
 * untrusted input; with this tag a forgotten escape cannot happen, because escaping is the default.
 */

/** A fragment of HTML that is safe to insert as is. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const SPECIAL = /[&<>"']/g;

/** Text escaped for an HTML text node or a quoted attribute value. */
export function escapeHtml(value: string): string {
  return value.replace(SPECIAL, (c) => ENTITIES[c] as string);
}

/**
 * Interpolated values: an {@link Html} goes in as is; an array is each of its items in turn; null, undefined
 * and false are nothing; anything else is converted to a string and escaped.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] as string;
  for (let i = 0; i < values.length; i++) out += fragment(values[i]) + (strings[i + 1] as string);
  return new Html(out);
}

function fragment(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(fragment).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}
