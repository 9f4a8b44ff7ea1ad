/**
 * Shared by the report tests: summaries to render (a realistic one, a hostile one whose every string tries
 * to inject markup), and a headless Chromium (Debian's `chromium`, driven by playwright-core) that opens a
 * page, records every request and console message, and reads the charts' numbers from the DOM.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import type { Summary } from '../../src/pipeline/aggregate.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const chromiumMissing = !existsSync(CHROMIUM);

/** A summary as a mid-sized real list would have it. */
export function realisticSummary(): Summary {
  return {
    listId: 'march-2026',
    input: 's3://lists/in/march.csv',
    output: 's3://lists/out/march/',
    rows: 120_431,
    unique: 118_002,
    duplicates: 2_429,
    invalid: 1_207,
    domains: 9_871,
    batches: 10_244,
    batchesFailed: 0,
    byStatus: { deliverable: 81_200, risky: 15_004, undeliverable: 19_338, unknown: 4_889 },
    byReason: {
      accepted: 81_200,
      catch_all: 11_020,
      role_account: 3_100,
      disposable: 604,
      mailbox_full: 280,
      invalid_syntax: 1_207,
      no_domain: 2_311,
      no_mail_server: 402,
      mailbox_not_found: 15_103,
      mailbox_disabled: 215,
      rejected: 100,
      greylisted: 1_800,
      temporary_failure: 1_200,
      timeout: 889,
      connection_failed: 700,
      blocked: 300,
    },
    byBounceRisk: { low: 81_200, medium: 14_120, high: 20_222, unknown: 4_889 },
    timings: { splitSec: 3.21, probeSec: 5_412.7, aggregateSec: 2.02, totalSec: 5_420.4 },
    mxHosts: {
      'gmail-smtp-in.l.google.com': { sessions: 412, rcpts: 40_210, replies4xx: 12, replies5xx: 5_100, connectFailures: 0, tlsSessions: 412 },
      'mx1.mail.protection.outlook.com': { sessions: 160, rcpts: 15_800, replies4xx: 40, replies5xx: 2_100, connectFailures: 1, tlsSessions: 160 },
      'mx.small-company.example': { sessions: 3, rcpts: 120, replies4xx: 0, replies5xx: 12, connectFailures: 2, tlsSessions: 0 },
      google: { throttleWaits: 37 },
    },
    emailColumn: 'Email Address',
    undeliverableDomains: {
      top: [
        { domain: 'gmail.com', rows: 5_100 },
        { domain: 'outlook.com', rows: 2_100 },
        { domain: 'gmial.com', rows: 310 },
        { domain: 'old-company.example', rows: 120 },
      ],
      exact: true,
      maxOvercount: 0,
    },
    typoSuggestions: {
      rows: 512,
      top: [
        { from: 'gmial.com', to: 'gmail.com', rows: 310 },
        { from: 'hotmial.com', to: 'hotmail.com', rows: 150 },
        { from: 'yahooo.com', to: 'yahoo.com', rows: 52 },
      ],
      exact: true,
      maxOvercount: 0,
    },
    settings: { mxMaxConnections: 2, mxRcptPerSecond: 2 },
  };
}

/** Markup that must show as text and never act: scripts, handlers, broken-out attributes, a remote image. */
export const HOSTILE = {
  script: '<script>window.__pwned = "script"</script>',
  attribute: '"><img src="https://evil.example/x.png" onerror="window.__pwned = \'img\'">',
  single: "'><svg onload=\"window.__pwned='svg'\"></svg>",
  title: '</title><script>window.__pwned = "title"</script>',
  style: '</style><link rel="stylesheet" href="https://evil.example/x.css">',
};

/** A summary whose every string value is hostile markup. */
export function hostileSummary(): Summary {
  const s = realisticSummary();
  return {
    ...s,
    listId: HOSTILE.title,
    input: HOSTILE.attribute,
    output: HOSTILE.single,
    emailColumn: HOSTILE.script,
    byReason: { ...s.byReason, [HOSTILE.script]: 3 },
    byStatus: { ...s.byStatus, [HOSTILE.attribute]: 1 },
    mxHosts: { ...(s.mxHosts as object), [HOSTILE.single]: { sessions: 1, rcpts: 999_999, throttleWaits: 2 } },
    undeliverableDomains: { top: [{ domain: HOSTILE.style, rows: 7 }], exact: false, maxOvercount: 2 },
    typoSuggestions: { rows: 1, top: [{ from: HOSTILE.attribute, to: HOSTILE.script, rows: 1 }], exact: true, maxOvercount: 0 },
  };
}

/** What one page load showed and did. */
export interface PageVisit {
  /** Every request the browser made (URLs), the page's own included. */
  requests: string[];
  /** Console messages of type error, and uncaught page errors. */
  errors: string[];
  /** `window.__pwned` after load (set only if injected markup ran). */
  pwned: unknown;
  /** Charts read from the DOM: chart id → key → `data-value` (numbers; '' stays ''). */
  charts: Record<string, Record<string, number | ''>>;
  /** MX host table read from the DOM: host → metric → value. */
  hosts: Record<string, Record<string, number>>;
  /** The page's visible text. */
  text: string;
}

/**
 * Open `target` (a file:// URL, or HTML text for `page.setContent`) in a fresh headless Chromium with a
 * fresh user-data dir, and report what happened.
 */
export async function visit(target: { url: string } | { html: string }): Promise<PageVisit> {
  const profile = await mkdtemp(join(tmpdir(), 'lw-chromium-'));
  let context: BrowserContext | null = null;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, offline: true });
    const requests: string[] = [];
    const errors: string[] = [];
    context.on('request', (r) => requests.push(r.url()));
    // Recorded above; and whatever it is, it never leaves the machine.
    const own = 'url' in target ? target.url : null;
    await context.route('**/*', (route) => (route.request().url() === own ? route.continue() : route.abort()));
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    if ('url' in target) await page.goto(target.url, { waitUntil: 'load' });
    else await page.setContent(target.html, { waitUntil: 'load' });
    // Anything lazy (images, fonts, prefetches) would start by now.
    await page.waitForLoadState('networkidle');
    const pwned = await page.evaluate(() => (globalThis as unknown as { __pwned?: unknown }).__pwned);
    const charts = await page.$$eval('[data-chart]', (sections) => {
      const out: Record<string, Record<string, number | ''>> = {};
      for (const s of sections) {
        const chart = (out[s.getAttribute('data-chart') as string] = {} as Record<string, number | ''>);
        for (const el of s.querySelectorAll('[data-key][data-value]')) {
          const v = el.getAttribute('data-value') as string;
          chart[el.getAttribute('data-key') as string] = v === '' ? '' : Number(v);
        }
      }
      return out;
    });
    const hosts = await page.$$eval('[data-chart="mx-hosts"] tr[data-key]', (rows) => {
      const out: Record<string, Record<string, number>> = {};
      for (const r of rows) {
        const m = (out[r.getAttribute('data-key') as string] = {} as Record<string, number>);
        for (const c of r.querySelectorAll('[data-metric]')) m[c.getAttribute('data-metric') as string] = Number(c.getAttribute('data-value'));
      }
      return out;
    });
    const text = await page.innerText('body');
    return { requests, errors, pwned, charts, hosts, text };
  } finally {
    await context?.close();
    await rm(profile, { recursive: true, force: true });
  }
}
