/** The list report: `report.html` rendered from the summary, and the summary's top-N highlights. */
export { renderReportHtml, MAX_BARS, MAX_HOSTS, MX_COLUMNS, TIMINGS, TOTALS } from './html.js';
export { escapeHtml, html, Html } from './html-template.js';
export { ReportTally, TOP_N, type ReportHighlights, type TypoSuggestions, type UndeliverableDomains } from './tally.js';
export { TopCounter, TOP_COUNTER_CAPACITY, type TopEntry } from './top-counter.js';
