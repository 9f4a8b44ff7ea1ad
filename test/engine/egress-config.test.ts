/** The egress file: what a valid pool looks like, and one clear CONFIG_INVALID / CONFIG_FILE line for each mistake. Pure but for temp files. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { EgressPool, loadEgressIdentities, parseEgressIdentities } from '../../src/egress/index.js';
import { EgressBars, IdentityPicker } from '../../src/engine/identity-picker.js';
import { ErrorCodes, ListwashError } from '../../src/errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lw-egress-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function thrown(fn: () => unknown): ListwashError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ListwashError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

const ok = { name: 'a', helo: 'v1.example.org', mailFrom: 'probe@example.org' };

describe('parseEgressIdentities', () => {
  it('reads bind and SOCKS5 identities with their own HELO and MAIL FROM', () => {
    const ids = parseEgressIdentities(
      [
        { ...ok, bind: '127.0.0.2' },
        { name: 'p1', socks: 'socks5://us%40er:p%3Ass@10.0.0.9:1080', helo: 'v2.example.org', mailFrom: '' },
        { name: 'plain', helo: 'v3.example.org', mailFrom: 'x@example.org' },
      ],
      'test',
    );
    expect(ids).toEqual([
      { name: 'a', bind: '127.0.0.2', helo: 'v1.example.org', mailFrom: 'probe@example.org' },
      { name: 'p1', socks: { host: '10.0.0.9', port: 1080, userId: 'us@er', password: 'p:ss' }, helo: 'v2.example.org', mailFrom: '' },
      { name: 'plain', helo: 'v3.example.org', mailFrom: 'x@example.org' },
    ]);
  });

  const cases: [string, unknown, RegExp][] = [
    ['not an array', { name: 'a' }, /non-empty JSON array/],
    ['an empty array', [], /non-empty JSON array/],
    ['an entry that is not an object', ['a'], /\[0\]: must be an object/],
    ['an unknown key', [{ ...ok, hel0: 'x' }], /unknown key "hel0"/],
    ['a bad name', [{ ...ok, name: 'Bad Name' }], /name must match/],
    ['a name used twice', [ok, ok], /identity "a": the name is used twice/],
    ['no helo', [{ name: 'a', mailFrom: 'p@example.org' }], /identity "a": helo must be a host name/],
    ['a helo with a space', [{ ...ok, helo: 'v1 example' }], /helo must be a host name/],
    ['a mailFrom without @', [{ ...ok, mailFrom: 'probe' }], /mailFrom must be an address/],
    ['both bind and socks', [{ ...ok, bind: '127.0.0.2', socks: 'socks5://h:1' }], /either bind .* or socks/],
    ['a bind that is not an IP', [{ ...ok, bind: 'eth0' }], /bind must be an IP address/],
    ['a bind that is not an address of this machine', [{ ...ok, bind: '192.0.2.77' }], /bind 192\.0\.2\.77 is not an address of this machine/],
    ['a socks URL of another scheme', [{ ...ok, socks: 'http://h:1080' }], /socks must use socks5:\/\//],
    ['a socks URL without port', [{ ...ok, socks: 'socks5://h' }], /needs a port/],
    ['a socks user without password', [{ ...ok, socks: 'socks5://user@h:1080' }], /both a user and a password/],
  ];
  for (const [what, json, message] of cases) {
    it(`refuses ${what} with CONFIG_INVALID naming it`, () => {
      const err = thrown(() => parseEgressIdentities(json, 'test'));
      expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
      expect(err.message).toMatch(message);
      expect(err.details).toMatchObject({ env: 'LISTWASH_EGRESS_FILE' });
    });
  }

  it('never shows a SOCKS password in an error', () => {
    const err = thrown(() => parseEgressIdentities([{ ...ok, socks: 'socks5://user:s3cret@h' }], 'test'));
    expect(err.message).not.toContain('s3cret');
  });
});

describe('LISTWASH_EGRESS_FILE at start', () => {
  const env = { LISTWASH_HELO_NAME: 'probe.example.org', LISTWASH_MAIL_FROM: 'probe@example.org' };

  it('without the file: one identity, default, from LISTWASH_HELO_NAME and LISTWASH_MAIL_FROM', () => {
    expect(loadEgressIdentities(loadConfig(env))).toEqual([{ name: 'default', helo: 'probe.example.org', mailFrom: 'probe@example.org' }]);
  });

  it('loadConfig fails at once on a wrong entry (CONFIG_INVALID), an unreadable file or bad JSON (CONFIG_FILE)', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify([{ name: 'a', helo: 'v1.example.org' }]));
    const invalid = thrown(() => loadConfig({ ...env, LISTWASH_EGRESS_FILE: bad }));
    expect([invalid.code, invalid.message]).toEqual([ErrorCodes.CONFIG_INVALID, expect.stringMatching(/^LISTWASH_EGRESS_FILE .*bad\.json identity "a": mailFrom must be an address/)]);
    expect(thrown(() => loadConfig({ ...env, LISTWASH_EGRESS_FILE: join(dir, 'missing.json') })).code).toBe(ErrorCodes.CONFIG_FILE);
    const notJson = join(dir, 'not.json');
    await writeFile(notJson, '[{');
    expect(thrown(() => loadConfig({ ...env, LISTWASH_EGRESS_FILE: notJson })).code).toBe(ErrorCodes.CONFIG_FILE);
  });

  it('loads a valid file', async () => {
    const good = join(dir, 'good.json');
    await writeFile(good, JSON.stringify([{ ...ok, bind: '127.0.0.2' }, { ...ok, name: 'b', bind: '127.0.0.3' }]));
    expect(loadEgressIdentities(loadConfig({ ...env, LISTWASH_EGRESS_FILE: good })).map((i) => i.name)).toEqual(['a', 'b']);
  });
});

describe('picking an identity', () => {
  const pool = () => new EgressPool(['a', 'b', 'c'].map((name) => ({ name, helo: `${name}.example.org`, mailFrom: 'p@example.org' })));
  const names = (p: IdentityPicker, host = 'mx.test') => p.at(host).map((i) => i.name);

  it('starts each verify call at the next identity in turn, and sticks to the one that talked', () => {
    const p = pool();
    const bars = new EgressBars();
    expect(names(new IdentityPicker(p, bars))).toEqual(['a', 'b', 'c']);
    const second = new IdentityPicker(p, bars);
    expect(names(second)).toEqual(['b', 'c', 'a']);
    second.stick('a');
    expect(names(second)).toEqual(['a', 'b', 'c']);
  });

  it('keeps pinned addresses on their identity; the others take them only where it is barred', () => {
    const bars = new EgressBars();
    const pinned = new IdentityPicker(pool(), bars, 'b');
    expect(names(pinned)).toEqual(['b']);
    bars.bar('b', 'mx.test');
    expect(names(pinned)).toEqual(['a', 'c']);
    expect(names(pinned, 'mx.other.test')).toEqual(['b']);
    bars.bar('a');
    expect(names(pinned)).toEqual(['c']);
  });

  it('puts the identity the catch-all probe must go from first, and ignores a pin the pool does not have', () => {
    expect(names(new IdentityPicker(pool(), new EgressBars(), undefined, 'c'))).toEqual(['c', 'a', 'b']);
    expect(names(new IdentityPicker(pool(), new EgressBars(), 'gone'))).toEqual(['a', 'b', 'c']);
  });
});
