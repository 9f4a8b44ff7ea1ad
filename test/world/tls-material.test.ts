import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SIM_TLS_CERT, SIM_TLS_KEY } from '../../src/world/tls/tls-material.js';

const dir = new URL('../../src/world/tls/', import.meta.url);

describe('simulator TLS material', () => {
  it('the embedded PEMs equal the committed files', () => {
    expect(SIM_TLS_KEY.trim()).toBe(readFileSync(new URL('sim-mx.key.pem', dir), 'utf8').trim());
    expect(SIM_TLS_CERT.trim()).toBe(readFileSync(new URL('sim-mx.cert.pem', dir), 'utf8').trim());
  });

  it('is a self-signed certificate for sim-mx.listwash.test matching the key, valid for decades', () => {
    const cert = new X509Certificate(SIM_TLS_CERT);
    expect(cert.subject).toBe('CN=sim-mx.listwash.test');
    expect(cert.checkPrivateKey(createPrivateKey(SIM_TLS_KEY))).toBe(true);
    expect(new Date(cert.validTo).getUTCFullYear()).toBeGreaterThan(2100);
  });
});
