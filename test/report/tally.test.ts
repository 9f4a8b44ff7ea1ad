import { describe, expect, it } from 'vitest';
import { parseAddress } from '../../src/address/index.js';
import { ReportTally } from '../../src/report/tally.js';
import type { Status } from '../../src/verdict.js';

function tally(rows: [string, Status][], n?: number) {
  const t = new ReportTally();
  for (const [address, status] of rows) t.add(parseAddress(address), status);
  return t.summary(n);
}

describe('ReportTally', () => {
  it('counts undeliverable rows by the address domain (lower-cased, punycode), largest first', () => {
    const s = tally([
      ['a@Gone.test', 'undeliverable'],
      ['b@gone.test', 'undeliverable'],
      ['b@gone.test', 'undeliverable'],
      ['c@bücher.test', 'undeliverable'],
      ['d@fine.test', 'deliverable'],
      ['e@grey.test', 'unknown'],
    ]);
    expect(s.undeliverableDomains).toEqual({
      top: [
        { domain: 'gone.test', rows: 3 },
        { domain: 'xn--bcher-kva.test', rows: 1 },
      ],
      exact: true,
      maxOvercount: 0,
    });
  });

  it('leaves rows whose address has no domain out of the domain list', () => {
    const s = tally([
      ['not an address', 'undeliverable'],
      ['', 'undeliverable'],
    ]);
    expect(s.undeliverableDomains.top).toEqual([]);
  });

  it('counts typo suggestions as domain-as-given → suggested domain, for valid and repairable invalid addresses', () => {
    const s = tally([
      ['ann@gmial.com', 'undeliverable'],
      ['bob@GMIAL.com', 'undeliverable'],
      ['cat@hotmial.com', 'undeliverable'],
      ['dan@gmail,com', 'undeliverable'],
      ['eve@gmail.com', 'deliverable'],
    ]);
    expect(s.typoSuggestions.rows).toBe(4);
    expect(s.typoSuggestions.top).toEqual([
      { from: 'gmial.com', to: 'gmail.com', rows: 2 },
      { from: 'gmail,com', to: 'gmail.com', rows: 1 },
      { from: 'hotmial.com', to: 'hotmail.com', rows: 1 },
    ]);
    expect(s.typoSuggestions.exact).toBe(true);
  });

  it('keeps the top n of each list', () => {
    const rows: [string, Status][] = [];
    for (let d = 0; d < 30; d++) for (let i = 0; i <= d; i++) rows.push([`u${i}@d${d}.test`, 'undeliverable']);
    const s = tally(rows, 20);
    expect(s.undeliverableDomains.top).toHaveLength(20);
    expect(s.undeliverableDomains.top[0]).toEqual({ domain: 'd29.test', rows: 30 });
    expect(s.undeliverableDomains.top[19]).toEqual({ domain: 'd10.test', rows: 11 });
  });
});
