import { describe, expect, it } from 'vitest';
import { MAX_BARS, MAX_HOSTS, renderReportHtml } from '../../src/report/index.js';
import { escapeHtml, html } from '../../src/report/html-template.js';
import type { Summary } from '../../src/pipeline/aggregate.js';
import { HOSTILE, hostileSummary, realisticSummary } from './helpers.js';

describe('the html tag', () => {
  it('escapes interpolated text and attribute values, and inserts fragments made by html as they are', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p title="${'"x\' & y'}">${inner}${['<', 1, null, undefined, false]}</p>`.text).toBe('<p title="&quot;x&#39; &amp; y"><b>&lt;i&gt;</b>&lt;1</p>');
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });
});

describe('renderReportHtml', () => {
  it('turns markup in every value of the summary into text: no element, attribute or URL of the data survives', () => {
    const page = renderReportHtml(hostileSummary());
    for (const tag of ['<script', '<img', '<svg', '<link', '</title><', '</style><']) expect(page.toLowerCase()).not.toContain(tag);
    expect(page).not.toMatch(/\s(onerror|onload)\s*=\s*["']/i);
    expect(page).toContain(escapeHtml(HOSTILE.script));
    expect(page).toContain(escapeHtml(HOSTILE.attribute));
  });

  it('forbids every load with its Content-Security-Policy and references nothing outside itself', () => {
    const page = renderReportHtml(realisticSummary());
    expect(page).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"`);
    expect(page).not.toMatch(/\s(src|href|srcset|action|poster)\s*=/i);
    expect(page).not.toMatch(/url\(|@import|https?:\/\//i);
    expect(page).not.toMatch(/<script/i);
  });

  it('is the same page for the same summary', () => {
    expect(renderReportHtml(realisticSummary())).toBe(renderReportHtml(realisticSummary()));
  });

  it('stays small for a 1,000,000-row list with 20,000 MX hosts: the busiest hosts and the top lists only', () => {
    const s = realisticSummary();
    const hosts: Record<string, Record<string, number>> = {};
    for (let i = 0; i < 20_000; i++) hosts[`mx${i}.${'long-domain-name-'.repeat(10)}example`] = { sessions: i % 7, rcpts: i, replies4xx: 1, replies5xx: 2, connectFailures: 0 };
    const long = 'x'.repeat(240);
    const big: Summary = {
      ...s,
      rows: 1_000_000,
      mxHosts: hosts,
      undeliverableDomains: { top: Array.from({ length: 20 }, (_, i) => ({ domain: `${long}${i}.example`, rows: 1000 - i })), exact: false, maxOvercount: 3 },
      typoSuggestions: { rows: 9000, top: Array.from({ length: 20 }, (_, i) => ({ from: `${long}${i}.exmaple`, to: `${long}${i}.example`, rows: 500 - i })), exact: true, maxOvercount: 0 },
      byReason: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`reason_${i}`, i])),
    };
    const page = renderReportHtml(big);
    expect(page.length).toBeLessThan(100_000);
    expect(page.match(/<tr data-key="mx/g)).toHaveLength(MAX_HOSTS);
    expect(page).toContain(`<tr data-key="mx19999.`);
    expect(page).toContain(`… and ${(20_000 - MAX_HOSTS).toLocaleString('en-US')} more hosts in summary.json`);
    expect(page.match(/<tr data-key="reason_/g)).toHaveLength(MAX_BARS);
    expect(page).toContain('each count may exceed the true count by up to 3');
  });

  it('renders a summary written before the report existed (no top lists) and values of the wrong type without failing', () => {
    const s = realisticSummary();
    delete s.undeliverableDomains;
    delete s.typoSuggestions;
    const page = renderReportHtml({ ...s, timings: { splitSec: null, probeSec: 'soon' }, mxHosts: 'nope', byReason: { accepted: 'many', timeout: 3 } } as unknown as Summary);
    expect(page).toContain('<section class="chart" data-chart="undeliverable-domains">');
    expect(page).toContain('<tr data-key="splitSec" data-value="">');
    expect(page).toContain('<tr data-key="timeout" data-value="3">');
    expect(page).not.toContain('data-key="accepted"');
    expect(page).toContain('no SMTP sessions');
  });
});
