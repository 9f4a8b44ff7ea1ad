import { describe, expect, it } from 'vitest';
import { isPrefix, joinLocation, parseLocation, type Location } from '../../src/storage/index.js';
import { ListwashError } from '../../src/errors.js';

function badUrl(fn: () => unknown): ListwashError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ListwashError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('parseLocation', () => {
  it.each<[string, Location]>([
    ['s3://lw-test/in/list.csv', { kind: 's3', bucket: 'lw-test', key: 'in/list.csv', url: 's3://lw-test/in/list.csv' }],
    ['S3://lw-test/a b%20c.csv', { kind: 's3', bucket: 'lw-test', key: 'a b%20c.csv', url: 's3://lw-test/a b%20c.csv' }],
    ['s3://lw-test/out/', { kind: 's3', bucket: 'lw-test', key: 'out/', url: 's3://lw-test/out/' }],
    ['s3://lw-test', { kind: 's3', bucket: 'lw-test', key: '', url: 's3://lw-test/' }],
    ['file:///data/in/list.csv', { kind: 'file', path: '/data/in/list.csv', url: 'file:///data/in/list.csv' }],
    ['file:///data/my%20list.csv', { kind: 'file', path: '/data/my list.csv', url: 'file:///data/my%20list.csv' }],
    ['file:///data/out/', { kind: 'file', path: '/data/out/', url: 'file:///data/out/' }],
    ['/data/../data/list.csv', { kind: 'file', path: '/data/list.csv', url: 'file:///data/list.csv' }],
    ['in/list.csv', { kind: 'file', path: '/work/x/in/list.csv', url: 'file:///work/x/in/list.csv' }],
    ['./out/', { kind: 'file', path: '/work/x/out/', url: 'file:///work/x/out/' }],
    ['C:list.csv', { kind: 'file', path: '/work/x/C:list.csv', url: 'file:///work/x/C:list.csv' }],
  ])('%s', (input, want) => {
    expect(parseLocation(input, '/work/x')).toEqual(want);
  });

  it('resolves relative paths against the working directory by default', () => {
    expect(parseLocation('list.csv')).toMatchObject({ kind: 'file', path: `${process.cwd()}/list.csv` });
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['s3://', /missing bucket/],
    ['s3:///key.csv', /missing bucket/],
    ['s3:/lw-test/key', /expected s3:\/\//],
    ['s3://a/key', /invalid bucket/],
    ['s3://bad bucket/key', /invalid bucket/],
    ['http://example.com/list.csv', /unsupported scheme "http:"/],
    ['https://lw-test.s3.amazonaws.com/list.csv', /unsupported scheme "https:"/],
    ['gs://bucket/list.csv', /unsupported scheme "gs:"/],
    ['file://otherhost/list.csv', /host/],
    ['file:list.csv', /expected file:\/\/\//],
  ])('rejects %j', (input, message) => {
    const err = badUrl(() => parseLocation(input, '/work/x'));
    expect(err.code).toBe('STORAGE_BAD_URL');
    expect(err.message).toMatch(message);
    expect(err.details).toEqual({ url: input });
  });
});

describe('isPrefix', () => {
  it.each([
    ['s3://lw-test/out/', true],
    ['s3://lw-test', true],
    ['s3://lw-test/out', false],
    ['/data/out/', true],
    ['/data/out', false],
  ])('%s → %s', (input, want) => {
    expect(isPrefix(parseLocation(input))).toBe(want);
  });
});

describe('joinLocation', () => {
  it.each([
    ['s3://lw-test/out/', 'report.csv', 's3://lw-test/out/report.csv'],
    ['s3://lw-test/out', 'report.csv', 's3://lw-test/out/report.csv'],
    ['s3://lw-test', 'report.csv', 's3://lw-test/report.csv'],
    ['s3://lw-test/out/', 'job-1/clean.csv', 's3://lw-test/out/job-1/clean.csv'],
    ['/data/out/', 'report.csv', 'file:///data/out/report.csv'],
    ['/data/out', 'parts/', 'file:///data/out/parts/'],
  ])('%s + %s → %s', (prefix, name, want) => {
    expect(joinLocation(parseLocation(prefix), name).url).toBe(want);
  });

  it('gives a usable location back', () => {
    expect(joinLocation(parseLocation('s3://lw-test/out/'), 'x.csv')).toEqual({ kind: 's3', bucket: 'lw-test', key: 'out/x.csv', url: 's3://lw-test/out/x.csv' });
    expect(joinLocation(parseLocation('/data/out/'), 'x.csv')).toMatchObject({ kind: 'file', path: '/data/out/x.csv' });
  });

  it.each(['', '/abs.csv', '../escape.csv', 'a/../../b', 'a//b', './x.csv', 'a\\b'])('rejects the unsafe name %j', (name) => {
    expect(badUrl(() => joinLocation(parseLocation('s3://lw-test/out/'), name)).code).toBe('STORAGE_BAD_URL');
    expect(badUrl(() => joinLocation(parseLocation('/data/out/'), name)).code).toBe('STORAGE_BAD_URL');
  });
});
