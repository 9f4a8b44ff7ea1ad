/**
 * Properties of the address parser (`src/address`) on generated input: it never throws, an accepted address is
 * safe to put on an SMTP command line, and normalising is idempotent. fast-check prints the seed of a failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAddress, type ParsedAddress } from '../../src/address/index.js';
import { addressish, anyAddressInput } from './arbitraries.js';

const RUNS = { numRuns: 1500 };

/** Does `s` hold a C0 control, DEL, NEL or a Unicode line/paragraph separator? */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x85 || c === 0x2028 || c === 0x2029) return true;
  }
  return false;
}

/** The address without its quoted local part (if it has one): where `<`, `>` and spaces must never be. */
function unquoted(a: ParsedAddress): string {
  return a.local.startsWith('"') ? `@${a.domain}` : a.normalized;
}

function octets(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

describe('parseAddress, on any input', () => {
  it('never throws, for any string or any primitive value', () => {
    // Objects are left out: one whose `toString` is not a function makes `String(x)` throw before parsing starts.
    const primitive = fc.oneof(fc.constant(null), fc.constant(undefined), fc.double(), fc.integer(), fc.boolean(), fc.bigInt());
    fc.assert(
      fc.property(fc.oneof(anyAddressInput, primitive), (input) => {
        const r = parseAddress(input as string);
        expect(typeof r.ok).toBe('boolean');
      }),
      RUNS,
    );
  });

  it('an accepted address holds no CR, LF, NUL or other control character; no <, > or white space outside quotes', () => {
    fc.assert(
      fc.property(anyAddressInput, (input) => {
        const r = parseAddress(input);
        if (!r.ok) return;
        expect(hasControl(r.normalized)).toBe(false);
        expect(unquoted(r)).not.toMatch(/[<>\s]/u);
        expect(`RCPT TO:<${r.normalized}>`.split(/\r\n|\r|\n/)).toHaveLength(1);
      }),
      RUNS,
    );
  });

  it('an accepted address is local@domain with a lower-case ASCII domain and RFC 5321 lengths', () => {
    fc.assert(
      fc.property(addressish, (input) => {
        const r = parseAddress(input);
        if (!r.ok) return;
        expect(r.normalized).toBe(`${r.local}@${r.domain}`);
        expect(r.domain).toMatch(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/);
        expect(octets(r.local)).toBeLessThanOrEqual(64);
        expect(octets(r.normalized)).toBeLessThanOrEqual(254);
        expect(r.flags.smtputf8).toBe(/[\u0080-\u{10ffff}]/u.test(r.local));
      }),
      RUNS,
    );
  });

  it('normalising is idempotent: the normalized form parses to itself', () => {
    fc.assert(
      fc.property(addressish, (input) => {
        const r = parseAddress(input);
        if (!r.ok) return;
        const again = parseAddress(r.normalized);
        expect(again.ok).toBe(true);
        expect(again.ok && { normalized: again.normalized, local: again.local, domain: again.domain, flags: again.flags }).toEqual({ normalized: r.normalized, local: r.local, domain: r.domain, flags: r.flags });
      }),
      RUNS,
    );
  });

  it('a refusal says why in printable ASCII (no raw control characters from the input)', () => {
    fc.assert(
      fc.property(anyAddressInput, (input) => {
        const r = parseAddress(input);
        if (r.ok) return;
        expect(r.message).toMatch(/^[\x20-\x7e]+$/);
        expect(r.input).toBe(input);
      }),
      RUNS,
    );
  });

  it('the generator reaches both outcomes (the properties above are not vacuous)', () => {
    const sample = fc.sample(addressish, { numRuns: 2000, seed: 7 }).map((a) => parseAddress(a).ok);
    expect(sample.filter(Boolean).length).toBeGreaterThan(300);
    expect(sample.filter((ok) => !ok).length).toBeGreaterThan(300);
  });
});
