/**
 * Which column holds the email addresses: header names that mean "email" (several languages) and values that look
 * like addresses. Pure.
 */

/** Header-name normal form: lower case, accents removed, spaces/underscores/hyphens/dots/punctuation removed. */
export function normalizeHeader(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[\s_\-.:;,'"()[\]{}#*/\\]+/g, '');
}

/** Normalised header names that mean exactly "the email address". */
export const EMAIL_HEADER_NAMES: ReadonlySet<string> = new Set([
  'email', 'emails', 'emailaddress', 'emailaddresses', 'emailadress', 'emailaddr', 'emailid',
  'mail', 'mails', 'mailaddress', 'mailadress',
  'emailadresse', 'mailadresse', 'emailadres', 'emailadresa', // de, nl, cs/sk
  'epost', 'epostadresse', 'epostadress', 'eposta', 'epostaadresi', // no/sv, tr
  'correo', 'correoelectronico', 'direcciondecorreo', 'direcciondecorreoelectronico', 'direccionemail', // es
  'courriel', 'adressecourriel', 'adresseemail', 'adressemail', 'adresseelectronique', 'adressemel', 'mel', // fr
  'postaelettronica', 'indirizzoemail', 'indirizzomail', // it
  'enderecodeemail', 'enderecoemail', // pt
  'sahkoposti', 'sahkopostiosoite', // fi
]);

/** Fragments that make a header an email-ish name ("Work Email", "Email (primary)"), checked against values. */
const EMAIL_HEADER_FRAGMENTS = ['email', 'courriel', 'correo', 'epost'];

/** Strip `mailto:` and a `Display Name <addr>` wrapper. */
function addressPart(value: string): string {
  const v = value.trim();
  const angle = /<([^<>]*)>\s*$/.exec(v);
  const inner = angle ? (angle[1] as string).trim() : v;
  return inner.toLowerCase().startsWith('mailto:') ? inner.slice(7) : inner;
}

/** Something `@` something `.` something, without spaces — the shape of an address, not a validity check. */
const ADDRESS_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Does this cell look like an email address (possibly `Name <addr>` or `mailto:`)? */
export function looksLikeEmail(value: string): boolean {
  return ADDRESS_SHAPE.test(addressPart(value));
}

/** Per column, how many of `rows` hold an email-looking value there. */
export function emailCounts(rows: readonly (readonly string[])[], columnCount: number): number[] {
  const counts = new Array<number>(columnCount).fill(0);
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (i < columnCount && looksLikeEmail(cell)) counts[i] = (counts[i] as number) + 1;
    });
  }
  return counts;
}

/** Index of the largest count (leftmost on ties), or -1 when all are zero. */
export function bestColumn(counts: readonly number[]): number {
  let best = -1;
  counts.forEach((c, i) => {
    if (c > 0 && (best === -1 || c > (counts[best] as number))) best = i;
  });
  return best;
}

/**
 * The header that names the email column, or -1.
 * Exact names ({@link EMAIL_HEADER_NAMES}) win; among several, the one with most email-looking values in
 * `dataRows` (leftmost on ties). Failing that, a header containing "email" (or a translation) whose column holds
 * email-looking values — or, with no data rows to check, the first such header.
 */
export function matchEmailHeader(headers: readonly string[], dataRows: readonly (readonly string[])[]): number {
  const names = headers.map(normalizeHeader);
  const counts = emailCounts(dataRows, headers.length);
  const pick = (candidates: number[]): number =>
    candidates.reduce((best, i) => (best === -1 || (counts[i] as number) > (counts[best] as number) ? i : best), -1);
  const exact = names.flatMap((n, i) => (EMAIL_HEADER_NAMES.has(n) ? [i] : []));
  if (exact.length > 0) return pick(exact);
  const partial = names.flatMap((n, i) => (EMAIL_HEADER_FRAGMENTS.some((f) => n.includes(f)) ? [i] : []));
  if (partial.length === 0) return -1;
  if (dataRows.length === 0) return partial[0] as number;
  const withEmails = partial.filter((i) => (counts[i] as number) > 0);
  return withEmails.length > 0 ? pick(withEmails) : -1;
}

/** Find a header by name, case/space/underscore-insensitively (exact spelling first). -1 when absent. */
export function findHeader(headers: readonly string[], name: string): number {
  const exact = headers.indexOf(name);
  if (exact !== -1) return exact;
  const wanted = normalizeHeader(name);
  return headers.findIndex((h) => normalizeHeader(h) === wanted);
}
