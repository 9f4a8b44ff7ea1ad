import { describe, expect, it } from 'vitest';
import { TargetPolicy } from '../../src/net/targets.js';

describe('TargetPolicy (LISTWASH_ALLOWED_TARGETS)', () => {
  it('public: allows global unicast, refuses loopback, private, link-local, CGNAT, documentation', () => {
    const p = new TargetPolicy(['public']);
    for (const ip of ['8.8.8.8', '142.250.1.27', '2a00:1450:4001::1b']) expect(p.allows(ip), ip).toBe(true);
    for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.1.1', '100.64.0.1', '192.0.2.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:10.0.0.1', '224.0.0.1']) {
      expect(p.allows(ip), ip).toBe(false);
    }
  });

  it('loopback: only 127.0.0.0/8 and ::1', () => {
    const p = new TargetPolicy(['loopback']);
    expect(p.allows('127.45.3.2')).toBe(true);
    expect(p.allows('::1')).toBe(true);
    expect(p.allows('8.8.8.8')).toBe(false);
    expect(p.allows('10.0.0.1')).toBe(false);
  });

  it('CIDRs and any', () => {
    const p = new TargetPolicy(['192.0.2.0/24', '2001:db8::/32']);
    expect(p.allows('192.0.2.77')).toBe(true);
    expect(p.allows('192.0.3.1')).toBe(false);
    expect(p.allows('2001:db8::5')).toBe(true);
    expect(new TargetPolicy(['any']).allows('10.0.0.1')).toBe(true);
    expect(new TargetPolicy(['any']).allows('not-an-ip')).toBe(false);
  });

  it('rejects nonsense with CONFIG_INVALID', () => {
    expect(() => new TargetPolicy(['everything'])).toThrow(/LISTWASH_ALLOWED_TARGETS/);
    expect(() => new TargetPolicy(['10.0.0.0/99'])).toThrow(/LISTWASH_ALLOWED_TARGETS/);
  });
});
