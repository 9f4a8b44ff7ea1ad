/**
 * The API's pure pieces: keys and tokens, access rules, location containment, upload names, and how
 * a verify request is split into batches and answered.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAddress } from '../../src/address/index.js';
import { authorize } from '../../src/api/auth.js';
import { KeyRing, keysFromFile, keysFromList, tokenOf } from '../../src/api/keys.js';
import { canonicalPrefix, isInside } from '../../src/api/locations.js';
import { safeFileName } from '../../src/api/uploads.js';
import { isListwashError } from '../../src/errors.js';
import { planBatches, resultFor } from '../../src/pipeline/verify-now.js';
import { verdict } from '../../src/verdict.js';

const A = 'alice-secret-token-0001';
const B = 'bob-secret-token-000002';

describe('API keys', () => {
  it('finds the key of a token, and nothing for a wrong or empty one', () => {
    const ring = KeyRing.fromConfig({ apiKeys: [`alice:${A}`, `bob:${B}`], apiKeysFile: '', adminKey: '' });
    expect(ring.find(A)).toEqual({ name: 'alice', admin: false, inputPrefixes: null, outputPrefixes: null });
    expect(ring.find(B)?.name).toBe('bob');
    expect(ring.find(`${A}x`)).toBeNull();
    expect(ring.find('')).toBeNull();
    expect(ring.find(A.slice(0, -1))).toBeNull();
  });

  it('makes LISTWASH_ADMIN_KEY the admin key named admin', () => {
    const ring = KeyRing.fromConfig({ apiKeys: [], apiKeysFile: '', adminKey: 'admin-secret-token-0003' });
    expect(ring.find('admin-secret-token-0003')).toMatchObject({ name: 'admin', admin: true });
  });

  it('reads a keys file with per-key prefixes and hashed tokens', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-keys-'));
    const file = join(dir, 'keys.json');
    const hashed = createHash('sha256').update(B).digest('hex');
    writeFileSync(file, JSON.stringify({ keys: [{ name: 'crm', token: A, inputPrefixes: ['s3://in-bucket/crm'], outputPrefixes: ['s3://out-bucket/crm/'] }, { name: 'ops', tokenSha256: hashed, admin: true }] }));
    const ring = KeyRing.of(keysFromFile(file));
    expect(ring.find(A)).toEqual({ name: 'crm', admin: false, inputPrefixes: ['s3://in-bucket/crm/'], outputPrefixes: ['s3://out-bucket/crm/'] });
    expect(ring.find(B)).toMatchObject({ name: 'ops', admin: true });
  });

  it.each([
    [['alice'], 'not name:token'],
    [['al ice:' + A], 'not name:token'],
    [['alice:short-one'], 'shorter than 16'],
  ])('refuses %j with CONFIG_INVALID, never quoting the token', (pairs, why) => {
    let err: unknown;
    try {
      keysFromList(pairs);
    } catch (e) {
      err = e;
    }
    expect(isListwashError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toContain(why);
    expect((err as Error).message).not.toContain('short-one');
  });

  it('refuses two keys with one token', () => {
    expect(() => KeyRing.of([...keysFromList([`a:${A}`]), ...keysFromList([`b:${A}`])])).toThrow(/same token/);
  });

  it('reads the token from Bearer, or the password of Basic', () => {
    expect(tokenOf(`Bearer ${A}`)).toBe(A);
    expect(tokenOf(`bearer   ${A}  `)).toBe(A);
    expect(tokenOf(`Basic ${Buffer.from(`any:${A}`).toString('base64')}`)).toBe(A);
    expect(tokenOf(`Basic ${Buffer.from('nopassword').toString('base64')}`)).toBeNull();
    expect(tokenOf(A)).toBeNull();
    expect(tokenOf(`Bearer ${A} extra`)).toBeNull();
    expect(tokenOf(undefined)).toBeNull();
  });

  it('lets public routes through, wants a key elsewhere, and the admin key on admin routes', () => {
    const key = { name: 'a', admin: false, inputPrefixes: null, outputPrefixes: null };
    expect(authorize('public', null)).toBe('ok');
    expect(authorize('key', null)).toBe('unauthorized');
    expect(authorize('key', key)).toBe('ok');
    expect(authorize('admin', key)).toBe('forbidden');
    expect(authorize('admin', { ...key, admin: true })).toBe('ok');
  });
});

describe('locations', () => {
  it('knows what lies inside a root', () => {
    expect(isInside('/srv/root', '/srv/root')).toBe(true);
    expect(isInside('/srv/root', '/srv/root/a/b.csv')).toBe(true);
    expect(isInside('/srv/root', '/srv/root-other/b.csv')).toBe(false);
    expect(isInside('/srv/root', '/srv/b.csv')).toBe(false);
    expect(isInside('/srv/root', '/srv/root/..hidden/x')).toBe(true);
  });

  it('treats every prefix rule as a folder', () => {
    expect(canonicalPrefix('s3://bucket/crm')).toBe('s3://bucket/crm/');
    expect(canonicalPrefix('s3://bucket')).toBe('s3://bucket/');
    expect(canonicalPrefix('file:///nonexistent-lw/dir')).toBe('file:///nonexistent-lw/dir/');
  });

  it('gives uploads safe file names', () => {
    expect(safeFileName('March list (final).csv')).toBe('March-list-final-.csv');
    expect(safeFileName('../../etc/passwd')).toBe('passwd');
    expect(safeFileName('..')).toBe('upload.csv');
    expect(safeFileName(undefined)).toBe('upload.csv');
    expect(safeFileName('C:\\Users\\x\\list.csv')).toBe('list.csv');
  });
});

describe('a verify request', () => {
  it('becomes per-domain batches of unique valid addresses, at most batchSize each', () => {
    const parsed = ['a@x.test', 'b@x.test', 'c@x.test', 'a@x.test', 'bad', 'z@y.test', 'ü@y.test'].map((a) => parseAddress(a));
    const batches = planBatches('verify-1', parsed, 2);
    expect(batches).toEqual([
      { batchId: 'verify-1.b0', domain: 'x.test', addresses: ['a@x.test', 'b@x.test'], utf8: [] },
      { batchId: 'verify-1.b1', domain: 'x.test', addresses: ['c@x.test'], utf8: [] },
      { batchId: 'verify-1.b2', domain: 'y.test', addresses: ['z@y.test', 'ü@y.test'], utf8: [1] },
    ]);
    expect(planBatches('verify-2', [parseAddress('bad')], 2)).toEqual([]);
  });

  it('is answered final, with the address flags applied, or unknown with a note while open', () => {
    const info = parseAddress('info@x.test');
    if (!info.ok) throw new Error('parse');
    expect(resultFor(info, { verdict: verdict('accepted', { mxHost: 'mx.x.test', smtpCode: 250 }), final: true }, 'late')).toMatchObject({ status: 'risky', reason: 'role_account', final: true, note: null, mxHost: 'mx.x.test', smtpCode: 250 });
    expect(resultFor(info, { verdict: verdict('greylisted', { smtpCode: 450 }), final: false }, 'late')).toMatchObject({ status: 'unknown', reason: 'greylisted', final: false, note: 'late', smtpCode: 450 });
    expect(resultFor(info, undefined, 'late')).toMatchObject({ status: 'unknown', reason: 'temporary_failure', final: false, note: 'late' });
    expect(resultFor(info, { verdict: null, final: true }, 'late')).toMatchObject({ status: 'unknown', reason: 'temporary_failure', final: true, smtpReply: 'no result was recorded for this address' });
    expect(resultFor(parseAddress('nope'), undefined, 'late')).toMatchObject({ status: 'undeliverable', reason: 'invalid_syntax', final: true, address: null });
  });
});
