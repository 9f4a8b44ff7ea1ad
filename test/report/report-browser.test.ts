/**
 * report.html in a real browser (Debian's headless Chromium, driven by playwright-core): it loads nothing
 * but itself, logs no error, runs none of the markup found in the data, and its charts show exactly the
 * numbers of summary.json — for a report written by a real pipeline run and for hostile fixtures.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Summary } from '../../src/pipeline/aggregate.js';
import { ListwashService } from '../../src/pipeline/service.js';
import { MX_COLUMNS, TIMINGS, TOTALS, renderReportHtml } from '../../src/report/index.js';
import { SimWorld } from '../../src/world/index.js';
import { dropKeys, pipelineConfig, testPrefix } from '../pipeline/helpers.js';
import { CHROMIUM, HOSTILE, chromiumMissing, hostileSummary, realisticSummary, visit, type PageVisit } from './helpers.js';

const EMAIL_HEADER = 'Email <script>window.__pwned = "column"</script>';

/** The numbers each chart must show, computed from summary.json the way a reader of it would. */
function expectedCharts(s: Summary) {
  const o = (v: unknown) => (v ?? {}) as Record<string, unknown>;
  const undeliverable = (o(s.undeliverableDomains).top ?? []) as { domain: string; rows: number }[];
  const typos = o(s.typoSuggestions);
  return {
    totals: Object.fromEntries(TOTALS.map(([k]) => [k, typeof s[k] === 'number' ? s[k] : ''])),
    statuses: s.byStatus,
    reasons: s.byReason,
    'bounce-risk': s.byBounceRisk,
    'undeliverable-domains': Object.fromEntries(undeliverable.map((e) => [e.domain, e.rows])),
    'typo-suggestions': {
      rows: typos.rows,
      ...Object.fromEntries(((typos.top ?? []) as { from: string; to: string; rows: number }[]).map((e) => [`${e.from} → ${e.to}`, e.rows])),
    },
    'mx-hosts': {},
    timings: Object.fromEntries(TIMINGS.map(([k]) => [k, o(s.timings)[k] ?? ''])),
  };
}

function expectedHosts(s: Summary): Record<string, Record<string, number>> {
  const hosts = (s.mxHosts ?? {}) as Record<string, Record<string, number>>;
  return Object.fromEntries(Object.entries(hosts).map(([h, c]) => [h, Object.fromEntries(MX_COLUMNS.map(([k]) => [k, c[k] ?? 0]))]));
}

/** What every report must satisfy in the browser. */
function expectCleanVisit(v: PageVisit, ownUrl: string | null, summary: Summary): void {
  expect(v.errors).toEqual([]);
  expect(v.requests).toEqual(ownUrl ? [ownUrl] : []);
  expect(v.pwned).toBeUndefined();
  expect(v.charts).toEqual(expectedCharts(summary));
  expect(v.hosts).toEqual(expectedHosts(summary));
}

beforeAll(() => {
  if (chromiumMissing) throw new Error(`headless Chromium not found at ${CHROMIUM}: apt-get install -y chromium (.ci/run installs it)`);
});

describe('report.html written by a real pipeline run', () => {
  const prefix = testPrefix();
  let world: SimWorld;
  let svc: ListwashService;
  let dir: string;
  let redisUrl: string;

  beforeAll(async () => {
    world = await SimWorld.start({
      domains: {
        'shop.test': { mx: [{ host: 'mx.shop.test', preference: 10 }] },
        'gone.test': { nxdomain: true },
      },
      hosts: { 'mx.shop.test': { mailboxes: ['ann', 'cat'] } },
    });
    dir = await mkdtemp(join(tmpdir(), 'lw-report-'));
    const cfg = pipelineConfig(world, prefix, null);
    redisUrl = cfg.redisUrl;
    svc = new ListwashService(cfg);
    await svc.startWorkers({ split: true, probe: true, aggregate: true, probeConcurrency: 4 });
  });

  afterAll(async () => {
    await svc?.close();
    await dropKeys(redisUrl, prefix);
    await world?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loads nothing but itself, logs no error, runs no markup from the list, and shows the numbers of summary.json', async () => {
    const input = join(dir, 'list.csv');
    const rows = ['ann@shop.test', 'bob@shop.test', 'cat@shop.test', 'ann@shop.test', 'x@gone.test', 'y@gone.test', 'tia@gmial.com', 'not an address'];
    await writeFile(input, `Name,"${EMAIL_HEADER.replaceAll('"', '""')}"\n` + rows.map((r, i) => `P${i},${r}\n`).join(''));
    const output = join(dir, 'out') + '/';
    const { listId } = await svc.submit({ input, output, emailColumn: 1 });
    await svc.waitUntilDone(listId, { timeoutMs: 60_000 });

    const summary = JSON.parse(await readFile(join(dir, 'out', 'summary.json'), 'utf8')) as Summary;
    // The run produced what the charts are about.
    expect(summary.emailColumn).toBe(EMAIL_HEADER);
    expect(summary.undeliverableDomains).toEqual({ top: [{ domain: 'gone.test', rows: 2 }, { domain: 'gmial.com', rows: 1 }, { domain: 'shop.test', rows: 1 }], exact: true, maxOvercount: 0 });
    expect(summary.typoSuggestions).toEqual({ rows: 1, top: [{ from: 'gmial.com', to: 'gmail.com', rows: 1 }], exact: true, maxOvercount: 0 });
    expect(((summary.mxHosts as Record<string, Record<string, number>>)['mx.shop.test']?.rcpts ?? 0)).toBeGreaterThan(0);

    const page = join(dir, 'out', 'report.html');
    expect(await readFile(page, 'utf8')).toBe(renderReportHtml(summary));
    const url = pathToFileURL(page).href;
    const v = await visit({ url });
    expectCleanVisit(v, url, summary);
    expect(v.text).toContain(EMAIL_HEADER);
  });
});

describe('report.html of hostile and realistic summaries', () => {
  it('shows markup from every field as text and runs none of it (page.setContent)', async () => {
    const summary = hostileSummary();
    const v = await visit({ html: renderReportHtml(summary) });
    expectCleanVisit(v, null, summary);
    for (const s of Object.values(HOSTILE)) expect(v.text).toContain(s);
  });

  it('shows the numbers of a realistic summary, loaded from a file:// URL', async () => {
    const summary = realisticSummary();
    const dir = await mkdtemp(join(tmpdir(), 'lw-report-'));
    try {
      const page = join(dir, 'report.html');
      await writeFile(page, renderReportHtml(summary));
      const url = pathToFileURL(page).href;
      expectCleanVisit(await visit({ url }), url, summary);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
