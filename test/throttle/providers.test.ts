import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isListwashError } from '../../src/errors.js';
import { loadConfig } from '../../src/config.js';
import { mxThrottleOptionsFromConfig } from '../../src/throttle/from-config.js';
import { loadProviderRules } from '../../src/throttle/providers-file.js';
import {
  BUILTIN_PROVIDERS,
  buildProviderRules,
  matchesPattern,
  parseProviderRules,
  resolveThrottleGroup,
} from '../../src/throttle/providers.js';

const defaults = { maxConnections: 2, rcptPerSecond: 2 };
const builtins = buildProviderRules();

describe('resolveThrottleGroup with the built-in providers', () => {
  it.each([
    ['aspmx.l.google.com', 'provider:google'],
    ['ALT1.ASPMX.L.GOOGLE.COM.', 'provider:google'],
    ['gmail-smtp-in.l.google.com', 'provider:google'],
    ['mx.googlemail.com', 'provider:google'],
    ['contoso-com.mail.protection.outlook.com', 'provider:microsoft'],
    ['eur.olc.protection.outlook.com', 'provider:microsoft'],
    ['mx1.hotmail.com', 'provider:microsoft'],
    ['mta5.am0.yahoodns.net', 'provider:yahoo'],
    ['mx-biz.mail.am0.yahoodns.net', 'provider:yahoo'],
    ['mx01.mail.icloud.com', 'provider:icloud'],
    ['mx0a-001.pphosted.com', 'provider:proofpoint'],
    ['eu-smtp-inbound-1.mimecast.com', 'provider:mimecast'],
    ['mx.zoho.com', 'provider:zoho'],
    ['mx2.zoho.eu', 'provider:zoho'],
    ['mx.yandex.net', 'provider:yandex'],
    ['mx.yandex.ru', 'provider:yandex'],
    ['mx00.gmx.net', 'provider:gmx'],
    ['mx-ha03.web.de', 'provider:gmx'],
    ['in1-smtp.messagingengine.com', 'provider:fastmail'],
    ['MX.Example.ORG.', 'mx.example.org'],
    ['google.com', 'google.com'],
    ['notgoogle.com', 'notgoogle.com'],
    ['google.com.evil.test', 'google.com.evil.test'],
  ])('%s → %s', (host, key) => {
    expect(resolveThrottleGroup(host, builtins, defaults).key).toBe(key);
  });

  it('gives provider groups their own limits and other hosts the defaults', () => {
    expect(resolveThrottleGroup('aspmx.l.google.com', builtins, defaults)).toEqual({ key: 'provider:google', maxConnections: 4, rcptPerSecond: 5 });
    expect(resolveThrottleGroup('mx.example.org', builtins, { maxConnections: 3, rcptPerSecond: 0.5 })).toEqual({
      key: 'mx.example.org',
      maxConnections: 3,
      rcptPerSecond: 0.5,
    });
  });

  it('every built-in rule has limits and a wildcard matches only strictly below its domain', () => {
    for (const r of BUILTIN_PROVIDERS) {
      expect(r.maxConnections).toBeGreaterThanOrEqual(1);
      expect(r.rcptPerSecond).toBeGreaterThan(0);
    }
    expect(matchesPattern('a.example.com', '*.example.com')).toBe(true);
    expect(matchesPattern('example.com', '*.example.com')).toBe(false);
    expect(matchesPattern('xexample.com', '*.example.com')).toBe(false);
    expect(() => resolveThrottleGroup('  ', builtins, defaults)).toThrow(TypeError);
  });
});

describe('user provider rules', () => {
  it('come before the built-ins, first match wins, and a name groups several patterns', () => {
    const user = parseProviderRules([
      { pattern: '*.special.google.com', name: 'special', maxConnections: 1, rcptPerSecond: 0.5 },
      { pattern: '*.example.com', name: 'example', maxConnections: 5, rcptPerSecond: 10 },
      { pattern: 'mx.example.net', name: 'example', maxConnections: 5, rcptPerSecond: 10 },
    ]);
    const rules = buildProviderRules(user);
    expect(resolveThrottleGroup('mx.special.google.com', rules, defaults)).toEqual({ key: 'provider:special', maxConnections: 1, rcptPerSecond: 0.5 });
    expect(resolveThrottleGroup('aspmx.l.google.com', rules, defaults).key).toBe('provider:google');
    expect(resolveThrottleGroup('mx1.example.com', rules, defaults)).toEqual({ key: 'provider:example', maxConnections: 5, rcptPerSecond: 10 });
    expect(resolveThrottleGroup('MX.example.net', rules, defaults).key).toBe('provider:example');
    expect(resolveThrottleGroup('mx2.example.net', rules, defaults).key).toBe('mx2.example.net');
  });

  it('retune a built-in group: a rule with a built-in pattern and no name takes its name; missing limits keep the built-in ones', () => {
    const rules = buildProviderRules(parseProviderRules([{ pattern: '*.google.com', maxConnections: 8 }]));
    expect(resolveThrottleGroup('aspmx.l.google.com', rules, defaults)).toEqual({ key: 'provider:google', maxConnections: 8, rcptPerSecond: 5 });
    // the other Google patterns share the group and its new limits
    expect(resolveThrottleGroup('mx.googlemail.com', rules, defaults)).toEqual({ key: 'provider:google', maxConnections: 8, rcptPerSecond: 5 });
  });

  it('a rule without limits or name uses the defaults and its domain as name', () => {
    const rules = buildProviderRules(parseProviderRules([{ pattern: '*.Mail.Example.COM' }]));
    expect(resolveThrottleGroup('a.mail.example.com', rules, defaults)).toEqual({ key: 'provider:mail.example.com', ...defaults });
  });

  it.each([
    ['not an array', { pattern: '*.x.com' }, /must be a JSON array/],
    ['a non-object entry', ['*.x.com'], /entry 0: must be an object/],
    ['a missing pattern', [{ name: 'x' }], /entry 0: "pattern" must be a string/],
    ['a bad pattern', [{ pattern: 'exa mple.com' }], /entry 0 \("exa mple.com"\): "pattern" must be a host name/],
    ['a too broad wildcard', [{ pattern: '*.com' }], /too broad/],
    ['an inner wildcard', [{ pattern: 'mx.*.example.com' }], /"pattern" must be a host name/],
    ['a bad name', [{ pattern: '*.x.com', name: 'Has Space' }], /"name" must match/],
    ['a non-string name', [{ pattern: '*.x.com', name: 3 }], /"name" must be a string/],
    ['zero connections', [{ pattern: '*.x.com', maxConnections: 0 }], /"maxConnections" must be an integer 1\.\.1000/],
    ['fractional connections', [{ pattern: '*.x.com', maxConnections: 1.5 }], /"maxConnections"/],
    ['a string rate', [{ pattern: '*.x.com', rcptPerSecond: '10' }], /"rcptPerSecond" must be a number/],
    ['a zero rate', [{ pattern: '*.x.com', rcptPerSecond: 0 }], /"rcptPerSecond"/],
    ['an unknown field', [{ pattern: '*.x.com', maxConnection: 3 }], /unknown field "maxConnection"/],
    [
      'one name with two budgets',
      [
        { pattern: '*.a.com', name: 'ab', maxConnections: 2 },
        { pattern: '*.b.com', name: 'ab', maxConnections: 3 },
      ],
      /entry 1 \("\*\.b\.com"\): group "ab" already has different limits in entry 0/,
    ],
  ])('reject %s with CONFIG_INVALID naming the entry', (_label, json, message) => {
    let caught: unknown;
    try {
      parseProviderRules(json, 'providers.json');
    } catch (err) {
      caught = err;
    }
    expect(isListwashError(caught, 'CONFIG_INVALID')).toBe(true);
    expect((caught as Error).message).toMatch(/^providers\.json: /);
    expect((caught as Error).message).toMatch(message);
  });
});

describe('providers file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lw-providers-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads user rules before the built-ins', () => {
    const path = join(dir, 'ok.json');
    writeFileSync(path, JSON.stringify([{ pattern: '*.example.com', name: 'example', maxConnections: 5, rcptPerSecond: 10 }]));
    const rules = loadProviderRules(path);
    expect(rules[0]).toEqual({ pattern: '*.example.com', name: 'example', maxConnections: 5, rcptPerSecond: 10 });
    expect(rules.length).toBe(BUILTIN_PROVIDERS.length + 1);
    expect(resolveThrottleGroup('mx.example.com', rules, defaults).key).toBe('provider:example');
  });

  it('empty path means built-ins only; unreadable or non-JSON files are CONFIG_FILE, bad entries CONFIG_INVALID', () => {
    expect(loadProviderRules('')).toEqual(buildProviderRules());
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '[{"pattern": ');
    expect(() => loadProviderRules(bad)).toThrow(expect.objectContaining({ code: 'CONFIG_FILE' }));
    expect(() => loadProviderRules(join(dir, 'missing.json'))).toThrow(expect.objectContaining({ code: 'CONFIG_FILE' }));
    const invalid = join(dir, 'invalid.json');
    writeFileSync(invalid, JSON.stringify([{ pattern: '*.ok.com' }, { pattern: '*.x.com', rcptPerSecond: -1 }]));
    expect(() => loadProviderRules(invalid)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/entry 1 \("\*\.x\.com"\)/) }));
  });

  it('options from config carry the limits, the provider file and a brace-free prefix', () => {
    const path = join(dir, 'cfg.json');
    writeFileSync(path, JSON.stringify([{ pattern: '*.example.com', name: 'example', maxConnections: 7 }]));
    const cfg = loadConfig({ LISTWASH_PROVIDERS_FILE: path, LISTWASH_MX_MAX_CONNECTIONS: '3', LISTWASH_MX_RCPT_PER_SECOND: '4' });
    const opts = mxThrottleOptionsFromConfig(cfg);
    expect(opts.prefix).toBe('listwash:');
    expect(opts.defaults).toEqual({ maxConnections: 3, rcptPerSecond: 4 });
    expect(opts.leaseMs).toBe(cfg.mxLeaseMs);
    expect(resolveThrottleGroup('mx.example.com', opts.providers ?? [], opts.defaults ?? defaults)).toEqual({ key: 'provider:example', maxConnections: 7, rcptPerSecond: 4 });
  });
});
