/**
 * A large, realistic, deterministic contact list for the pipeline benchmark: columns id, name, email,
 * company, country, signup_date; domains with Zipf-like sizes (a few free-mail giants, a long tail of
 * company domains); about 2% duplicates (some with a different letter case in the domain) and about 1%
 * invalid addresses. The same seed always gives the same bytes.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { seededRandom } from './common.js';

export interface ListSpec {
  rows: number;
  seed: number;
  /** Distinct domains (giants included). Default 20,000. */
  domains?: number;
  /** Share of rows that repeat an earlier address. Default 0.02. */
  duplicateRate?: number;
  /** Share of rows with an invalid address. Default 0.01. */
  invalidRate?: number;
}

export interface ListFacts {
  rows: number;
  bytes: number;
  duplicates: number;
  invalid: number;
  domains: number;
  /** Rows of the biggest domain. */
  topDomainRows: number;
}

const GIANTS = ['gmail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'aol.com', 'icloud.com', 'gmx.de', 'web.de', 'mail.ru', 'yandex.ru', 'orange.fr', 'comcast.net'];
const FIRST = ['James', 'Mary', 'John', 'Patricia', 'Robert', 'Jennifer', 'Michael', 'Linda', 'William', 'Elizabeth', 'David', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Charles', 'Karen', 'Léa', 'Jürgen', 'Sofía', 'Zoë', 'Ana', 'Luca', 'Yuki', 'Chen', 'Olga', 'Ahmed'];
const LAST = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Müller', 'Schmidt', "O'Brien", 'Dubois', 'Rossi', 'Tanaka', 'Kim', 'Nguyen', 'Kowalski', 'Ivanova', 'Silva', 'Jensen'];
const WORDS = ['acme', 'blue', 'north', 'river', 'stone', 'bright', 'cloud', 'data', 'green', 'iron', 'lake', 'micro', 'nova', 'open', 'pixel', 'quant', 'red', 'solar', 'terra', 'urban', 'vector', 'wave', 'zen', 'alpha', 'delta', 'echo', 'fox', 'globe', 'harbor', 'insight'];
const SUFFIX = ['Inc.', 'LLC', 'GmbH', 'Ltd', 'S.A.', 'Group', 'Labs', 'Partners'];
const TLDS = ['com', 'com', 'com', 'net', 'org', 'io', 'de', 'fr', 'co.uk', 'nl', 'es', 'it'];
const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'ES', 'IT', 'NL', 'CA', 'AU', 'JP', 'BR', 'IN', 'PL', 'SE'];
const INVALID = ['not-an-email', 'john.doe@', '@example.com', 'jane doe@acme.com', 'a@@b.com', 'user@localhost', '', 'foo@bar', 'mailto:', '"unclosed@x.com', 'x@-bad-.com', 'two@at@signs.com'];

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)] as T;
}

/** Field quoting as an exporter would do it: only when needed. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Cumulative Zipf weights (s = 1.05) for `n` ranks, for sampling by binary search. */
function zipfTable(n: number): Float64Array {
  const cum = new Float64Array(n);
  let total = 0;
  for (let r = 0; r < n; r++) {
    total += 1 / Math.pow(r + 1, 1.05);
    cum[r] = total;
  }
  for (let r = 0; r < n; r++) cum[r] = (cum[r] as number) / total;
  return cum;
}

function sample(cum: Float64Array, u: number): number {
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((cum[mid] as number) < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Write the list to `path`. */
export async function writeList(path: string, spec: ListSpec): Promise<ListFacts> {
  const rnd = seededRandom(spec.seed);
  const nDomains = spec.domains ?? 20_000;
  const dupRate = spec.duplicateRate ?? 0.02;
  const invRate = spec.invalidRate ?? 0.01;
  const domains: string[] = [...GIANTS];
  const seen = new Set(domains);
  while (domains.length < nDomains) {
    const d = `${pick(rnd, WORDS)}${pick(rnd, WORDS)}${domains.length % 97}.${pick(rnd, TLDS)}`;
    if (!seen.has(d)) {
      seen.add(d);
      domains.push(d);
    }
  }
  const cum = zipfTable(domains.length);
  const perDomain = new Uint32Array(domains.length);
  // A ring of recent addresses to duplicate from (duplicates are usually not far apart in exports).
  const recent: string[] = [];
  const facts: ListFacts = { rows: spec.rows, bytes: 0, duplicates: 0, invalid: 0, domains: 0, topDomainRows: 0 };

  const out = createWriteStream(path);
  let buf = 'id,name,email,company,country,signup_date\r\n';
  for (let i = 1; i <= spec.rows; i++) {
    const first = pick(rnd, FIRST);
    const last = pick(rnd, LAST);
    const u = rnd();
    let email: string;
    if (u < invRate) {
      email = pick(rnd, INVALID);
      facts.invalid++;
    } else if (u < invRate + dupRate && recent.length > 0) {
      email = recent[Math.floor(rnd() * recent.length)] as string;
      const at = email.lastIndexOf('@');
      // Same mailbox, domain in upper case sometimes: still a duplicate after normalisation.
      if (rnd() < 0.3) email = email.slice(0, at + 1) + email.slice(at + 1).toUpperCase();
      facts.duplicates++;
    } else {
      const d = sample(cum, rnd());
      perDomain[d] = (perDomain[d] as number) + 1;
      const asciiFirst = first.normalize('NFKD').replace(/[^A-Za-z]/g, '').toLowerCase();
      const asciiLast = last.normalize('NFKD').replace(/[^A-Za-z]/g, '').toLowerCase();
      const style = Math.floor(rnd() * 4);
      const local = style === 0 ? `${asciiFirst}.${asciiLast}${i}` : style === 1 ? `${asciiFirst[0]}${asciiLast}${i}` : style === 2 ? `${asciiFirst}_${i}` : `${asciiLast}.${asciiFirst}+news${i}`;
      email = `${local}@${domains[d]}`;
      if (recent.length < 5000) recent.push(email);
      else recent[Math.floor(rnd() * recent.length)] = email;
    }
    const company = rnd() < 0.5 ? `${pick(rnd, WORDS)} ${pick(rnd, WORDS)}, ${pick(rnd, SUFFIX)}` : `${pick(rnd, WORDS)} ${pick(rnd, SUFFIX)}`;
    const date = `20${10 + Math.floor(rnd() * 15)}-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}`;
    buf += `${i},${csvField(`${first} ${last}`)},${csvField(email)},${csvField(company)},${pick(rnd, COUNTRIES)},${date}\r\n`;
    if (buf.length > 256 * 1024) {
      facts.bytes += Buffer.byteLength(buf);
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  facts.bytes += Buffer.byteLength(buf);
  out.end(buf);
  await once(out, 'finish');
  for (const n of perDomain) {
    if (n > 0) facts.domains++;
    if (n > facts.topDomainRows) facts.topDomainRows = n;
  }
  return facts;
}
