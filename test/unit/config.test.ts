import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, SETTINGS } from '../../src/config.js';
import { withConfigTable } from '../../src/config-docs.js';
import { isListwashError } from '../../src/errors.js';

describe('loadConfig', () => {
  it('has documented defaults', () => {
    const cfg = loadConfig({});
    expect(cfg.smtpPort).toBe(25);
    expect(cfg.mxMaxConnections).toBe(2);
    expect(cfg.mxRcptPerSecond).toBe(2);
    expect(cfg.greylistRetryDelays).toEqual([60, 300, 900, 1800]);
    expect(cfg.allowedTargets).toEqual(['public']);
    expect(cfg.dnsServers).toEqual([]);
    expect(cfg.mailFrom).toBe(`listwash-probe@${cfg.heloName}`);
  });

  it('reads the environment', () => {
    const cfg = loadConfig({ LISTWASH_SMTP_PORT: '2525', LISTWASH_DNS_SERVERS: '127.0.0.1:5353, [::1]:53', LISTWASH_STARTTLS: 'off', LISTWASH_GREYLIST_RETRY_DELAYS: '1,2' });
    expect(cfg.smtpPort).toBe(2525);
    expect(cfg.dnsServers).toEqual(['127.0.0.1:5353', '[::1]:53']);
    expect(cfg.startTls).toBe(false);
    expect(cfg.greylistRetryDelays).toEqual([1, 2]);
  });

  it.each([
    ['LISTWASH_SMTP_PORT', 'abc', /integer/],
    ['LISTWASH_SMTP_PORT', '70000', /≤ 65535/],
    ['LISTWASH_STARTTLS', 'maybe', /true\/false/],
    ['LISTWASH_DNS_SERVERS', 'dns.example.com', /ip\[:port\]/],
    ['LISTWASH_MAIL_FROM', 'no-at-sign', /address/],
    ['LISTWASH_HELO_NAME', 'bad name', /host name/],
    ['REDIS_URL', 'http://x', /redis:\/\//],
  ])('rejects %s=%s with CONFIG_INVALID naming the variable', (env, value, msg) => {
    let err: unknown;
    try {
      loadConfig({ [env]: value });
    } catch (e) {
      err = e;
    }
    expect(isListwashError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toContain(env);
    expect((err as Error).message).toMatch(msg);
  });

  it('list settings: an empty item is an error, never silently dropped', () => {
    for (const value of ['1,,2', '1,2,', ',1', ' , ']) {
      let err: unknown;
      try {
        loadConfig({ LISTWASH_GREYLIST_RETRY_DELAYS: value });
      } catch (e) {
        err = e;
      }
      expect(isListwashError(err, 'CONFIG_INVALID'), value).toBe(true);
      expect((err as Error).message).toMatch(/^LISTWASH_GREYLIST_RETRY_DELAYS: item \d+ of .* is empty/);
    }
    expect(() => loadConfig({ LISTWASH_DNS_SERVERS: '127.0.0.1,,127.0.0.2' })).toThrow(/LISTWASH_DNS_SERVERS: item 2 of/);
  });

  it('greylist retries: empty is an error that names `none`; `none` turns them off', () => {
    expect(() => loadConfig({ LISTWASH_GREYLIST_RETRY_DELAYS: '' })).toThrow(/LISTWASH_GREYLIST_RETRY_DELAYS: is empty; set it to `none` for no greylist retries/);
    expect(() => loadConfig({ LISTWASH_GREYLIST_RETRY_DELAYS: '  ' })).toThrow(/is empty/);
    expect(loadConfig({ LISTWASH_GREYLIST_RETRY_DELAYS: 'none' }).greylistRetryDelays).toEqual([]);
    expect(loadConfig({ LISTWASH_GREYLIST_RETRY_DELAYS: ' NONE ' }).greylistRetryDelays).toEqual([]);
    expect(loadConfig({ LISTWASH_GREYLIST_RETRY_DELAYS: ' 5 , 10 ' }).greylistRetryDelays).toEqual([5, 10]);
  });

  it('an empty list is accepted only where it has a documented meaning', () => {
    expect(loadConfig({ LISTWASH_DNS_SERVERS: '' }).dnsServers).toEqual([]);
    expect(() => loadConfig({ LISTWASH_ALLOWED_TARGETS: '' })).toThrow(/LISTWASH_ALLOWED_TARGETS: is empty; expected a comma-separated list/);
  });

  it('a config file’s empty array is the explicit `none`', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwcfg-'));
    const file = join(dir, 'listwash.json');
    writeFileSync(file, JSON.stringify({ greylistRetryDelays: [] }));
    expect(loadConfig({ LISTWASH_CONFIG: file }).greylistRetryDelays).toEqual([]);
    writeFileSync(file, JSON.stringify({ allowedTargets: [] }));
    expect(() => loadConfig({ LISTWASH_CONFIG: file })).toThrow(/LISTWASH_ALLOWED_TARGETS: is empty/);
  });

  it('reads a JSON config file; the environment wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwcfg-'));
    const file = join(dir, 'listwash.json');
    writeFileSync(file, JSON.stringify({ smtpPort: 2526, greylistRetryDelays: [5, 10], batchSize: 7 }));
    const cfg = loadConfig({ LISTWASH_CONFIG: file, LISTWASH_BATCH_SIZE: '9' });
    expect(cfg.smtpPort).toBe(2526);
    expect(cfg.greylistRetryDelays).toEqual([5, 10]);
    expect(cfg.batchSize).toBe(9);
  });

  it('rejects unknown keys and bad JSON in the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwcfg-'));
    const file = join(dir, 'listwash.json');
    writeFileSync(file, JSON.stringify({ smtpPrt: 25 }));
    expect(() => loadConfig({ LISTWASH_CONFIG: file })).toThrow(/unknown setting "smtpPrt"/);
    writeFileSync(file, '{not json');
    expect(() => loadConfig({ LISTWASH_CONFIG: file })).toThrow(/not valid JSON/);
  });
});

describe('README', () => {
  it('documents every setting, exactly as the code defines it', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(withConfigTable(readme)).toBe(readme);
    for (const s of Object.values(SETTINGS)) expect(readme).toContain(`\`${s.env}\``);
  });
});
