/**
 * What the aggregate counts, row by row, for the report beyond the counts by status/reason/risk: the
 * domains with the most undeliverable addresses and the typo suggestions found. Both are top-N lists
 * counted in bounded memory ({@link TopCounter}), so a list of any size adds a bounded amount to
 * `summary.json` and `report.html`.
 */
import type { AddressResult } from '../address/index.js';
import type { Status } from '../verdict.js';
import { TopCounter } from './top-counter.js';

/** Entries each top list keeps in `summary.json`. */
export const TOP_N = 20;

/** `summary.undeliverableDomains`: rows whose status is `undeliverable`, by the address's domain. */
export interface UndeliverableDomains {
  /** Largest first. Rows with an address too malformed to have a domain are not counted here. */
  top: { domain: string; rows: number }[];
  /** False when the list had so many such domains that the counts are upper bounds (off by at most `maxOvercount`). */
  exact: boolean;
  maxOvercount: number;
}

/** `summary.typoSuggestions`: rows whose address got a typo suggestion, by (domain as given → suggested domain). */
export interface TypoSuggestions {
  /** Rows with a suggestion (exact). */
  rows: number;
  top: { from: string; to: string; rows: number }[];
  exact: boolean;
  maxOvercount: number;
}

/** The fields the tally adds to `summary.json`. */
export interface ReportHighlights {
  undeliverableDomains: UndeliverableDomains;
  typoSuggestions: TypoSuggestions;
}

/** Separates the two domains of a typo key (a tab never occurs in a domain that got a suggestion). */
const SEP = '\t';

export class ReportTally {
  private readonly undeliverable = new TopCounter();
  private readonly typos = new TopCounter();
  private typoRows = 0;

  /** Count one output row: its parsed address and final status. */
  add(addr: AddressResult, status: Status): void {
    if (status === 'undeliverable' && addr.ok) this.undeliverable.add(addr.domain);
    if (addr.suggestion !== null) {
      this.typoRows++;
      this.typos.add(domainOf(addr.ok ? addr.normalized : addr.input) + SEP + domainOf(addr.suggestion));
    }
  }

  summary(n = TOP_N): ReportHighlights {
    return {
      undeliverableDomains: {
        top: this.undeliverable.top(n).map((e) => ({ domain: e.key, rows: e.count })),
        exact: this.undeliverable.exact,
        maxOvercount: this.undeliverable.maxOvercount,
      },
      typoSuggestions: {
        rows: this.typoRows,
        top: this.typos.top(n).map((e) => {
          const cut = e.key.indexOf(SEP);
          return { from: e.key.slice(0, cut), to: e.key.slice(cut + 1), rows: e.count };
        }),
        exact: this.typos.exact,
        maxOvercount: this.typos.maxOvercount,
      },
    };
  }
}

/** The text after the last `@` (the domain as written), trimmed. */
function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).trim().replaceAll(SEP, ' ');
}
