import { describe, expect, it } from 'vitest';
import { applyFlags, bounceRiskFor, REASONS, REASON_STATUS, verdict } from '../../src/verdict.js';
import { decodeVerdict, encodeVerdict } from '../../src/pipeline/result-codec.js';

describe('verdict vocabulary', () => {
  it('keeps the exact reason → status table other services depend on', () => {
    expect(REASON_STATUS).toEqual({
      accepted: 'deliverable',
      invalid_syntax: 'undeliverable',
      no_domain: 'undeliverable',
      no_mail_server: 'undeliverable',
      mailbox_not_found: 'undeliverable',
      mailbox_disabled: 'undeliverable',
      rejected: 'undeliverable',
      catch_all: 'risky',
      mailbox_full: 'risky',
      role_account: 'risky',
      disposable: 'risky',
      greylisted: 'unknown',
      temporary_failure: 'unknown',
      timeout: 'unknown',
      connection_failed: 'unknown',
      blocked: 'unknown',
    });
  });

  it('derives bounce risk', () => {
    expect(bounceRiskFor('accepted')).toBe('low');
    expect(bounceRiskFor('catch_all')).toBe('medium');
    expect(bounceRiskFor('role_account')).toBe('medium');
    expect(bounceRiskFor('mailbox_full')).toBe('high');
    expect(bounceRiskFor('mailbox_not_found')).toBe('high');
    expect(bounceRiskFor('no_domain')).toBe('high');
    expect(bounceRiskFor('greylisted')).toBe('unknown');
    expect(bounceRiskFor('blocked')).toBe('unknown');
  });

  it('applies flags only to accepted / catch-all answers, disposable first', () => {
    const accepted = verdict('accepted', { mxHost: 'mx.test' });
    expect(applyFlags(accepted, { role: true, disposable: false }).reason).toBe('role_account');
    expect(applyFlags(accepted, { role: true, disposable: true }).reason).toBe('disposable');
    expect(applyFlags(verdict('catch_all'), { role: true, disposable: false }).reason).toBe('catch_all');
    expect(applyFlags(verdict('mailbox_not_found'), { role: true, disposable: true }).reason).toBe('mailbox_not_found');
    expect(applyFlags(accepted, { role: true, disposable: false }).mxHost).toBe('mx.test');
  });

  it('round-trips every reason through the results codec', () => {
    for (const r of REASONS) {
      const v = verdict(r, { mxHost: 'mx1.test', smtpCode: 550, enhancedCode: '5.1.1', smtpReply: '550 5.1.1 no\nsecond line', catchAll: false });
      expect(decodeVerdict(encodeVerdict(v))).toEqual(v);
    }
    const bare = verdict('no_domain');
    expect(decodeVerdict(encodeVerdict(bare))).toEqual(bare);
  });
});
