/**
 * bench:peers' pieces: the world and its truth, the peer's answers in our vocabulary, and the peer's own process
 * pointed at a simulated world (its DNS and port-25 connections reach the world and nothing else).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validate } from 'deep-email-validator';
import { judge, mapPeerAnswer, type PeerOutput } from '../../scripts/bench/peer-answer.js';
import { runPeerProcess } from '../../scripts/bench/peer-process.js';
import { CATEGORIES, peerWorld } from '../../scripts/bench/peer-world.js';
import { SimWorld } from '../../src/world/index.js';

const WORLD_OPTIONS = { total: 3000, seed: 42, maxConnections: 2, rcptPerSecond: 10, greylistSeconds: 2, replyDelayMs: 10 };

function smtpFailure(text: string): PeerOutput {
  return { valid: false, reason: 'smtp', validators: { regex: { valid: true }, smtp: { valid: false, reason: text } } };
}

describe('the world of bench:peers', () => {
  const w = peerWorld(WORLD_OPTIONS);

  it('gives every list entry exactly one truth and one category, and every category has entries', () => {
    expect(new Set(w.addresses).size).toBe(w.addresses.length);
    expect(w.addresses.length).toBeGreaterThan(2900);
    for (const a of w.addresses) {
      expect(w.truth.has(a), a).toBe(true);
      expect(w.category.has(a), a).toBe(true);
    }
    const used = new Set(w.category.values());
    expect([...used].sort()).toEqual([...CATEGORIES].sort());
  });

  it('is the same list for the same seed and a different order for another seed', () => {
    expect(peerWorld(WORLD_OPTIONS).addresses).toEqual(w.addresses);
    expect(peerWorld({ ...WORLD_OPTIONS, seed: 7 }).addresses).not.toEqual(w.addresses);
  });

  it('gives every host the limits listwash is given', () => {
    for (const h of Object.values(w.spec.hosts ?? {})) {
      expect(h.maxConnectionsPerClient).toBe(2);
      expect(h.maxRcptPerSecond).toBe(10);
    }
  });

  it("uses domain names the peer's typo check accepts, so the comparison is not about our names", async () => {
    const domains = new Set(w.addresses.filter((a) => w.category.get(a) !== 'invalid syntax').map((a) => a.slice(a.lastIndexOf('@') + 1)));
    for (const d of domains) {
      const r = await validate({ email: `someone@${d}`, validateMx: false, validateSMTP: false, validateDisposable: false, additionalTopLevelDomains: ['test', 'example'] });
      expect(r.valid, `${d}: ${JSON.stringify(r.validators.typo)}`).toBe(true);
    }
  });
});

describe("the peer's answers in our vocabulary", () => {
  it('counts "valid" as accepted: right for an accepted address, wrong for a catch-all or role address', () => {
    const a = mapPeerAnswer({ valid: true, validators: {} });
    expect(judge(a, 'accepted')).toEqual({ reason: true, status: true });
    expect(judge(a, 'catch_all')).toEqual({ reason: false, status: false });
    expect(judge(a, 'role_account')).toEqual({ reason: false, status: false });
  });

  it('gives the benefit of the doubt where its vocabulary cannot tell our reasons apart', () => {
    const mx = mapPeerAnswer({ valid: false, reason: 'mx', validators: { mx: { valid: false, reason: 'MX record not found' } } });
    expect(judge(mx, 'no_domain').reason).toBe(true);
    expect(judge(mx, 'no_mail_server').reason).toBe(true);
    expect(judge(mx, 'temporary_failure')).toEqual({ reason: false, status: false });
    const notFound = mapPeerAnswer(smtpFailure('Mailbox not found.'));
    expect(judge(notFound, 'mailbox_disabled').reason).toBe(true);
    expect(judge(notFound, 'accepted')).toEqual({ reason: false, status: false });
  });

  it('counts a wrong reason of the right status as status-right only', () => {
    const mx = mapPeerAnswer({ valid: false, reason: 'mx', validators: { mx: { valid: false, reason: 'MX record not found' } } });
    expect(judge(mx, 'mailbox_not_found')).toEqual({ reason: false, status: true });
  });

  it('counts an answer it cannot map as wrong for every truth', () => {
    const odd = mapPeerAnswer(smtpFailure('something new'));
    expect(odd.reasons).toEqual([]);
    expect(judge(odd, 'accepted')).toEqual({ reason: false, status: false });
    expect(mapPeerAnswer({ valid: false, reason: 'future-level', validators: {} }).reasons).toEqual([]);
  });

  it('maps timeouts and socket errors to timeout and connection_failed', () => {
    expect(mapPeerAnswer(smtpFailure('Timeout')).reasons).toEqual(['timeout']);
    expect(mapPeerAnswer(smtpFailure('Error: connect ECONNREFUSED 127.0.0.2:25')).reasons).toEqual(['connection_failed']);
    expect(mapPeerAnswer(smtpFailure('Mail server closed connection without sending any data.')).reasons).toEqual(['connection_failed']);
  });
});

describe("the peer's process against a simulated world", () => {
  let world: SimWorld;
  beforeAll(async () => {
    world = await SimWorld.start({
      domains: {
        'plain.test': { mx: [{ host: 'mx.plain.test', preference: 10 }] },
        'grey.test': { mx: [{ host: 'mx.grey.test', preference: 10 }] },
        'boxes.test': { mx: [{ host: 'mx.boxes.test', preference: 10 }] },
        'full552.test': { mx: [{ host: 'mx.full552.test', preference: 10 }] },
        'busy.test': { mx: [{ host: 'mx.busy.test', preference: 10 }] },
        'policy.test': { mx: [{ host: 'mx.policy.test', preference: 10 }] },
        'backup.test': { mx: [{ host: 'mx1.backup.test', preference: 10 }, { host: 'mx2.backup.test', preference: 20 }] },
        'nullmx.test': { mx: 'null' },
        'gone.test': { nxdomain: true },
        'implicit.test': { mx: 'none', a: ['mx.plain.test'] },
      },
      hosts: {
        'mx.plain.test': { mailboxes: ['bob'], rcptReplies: { odd: '553 5.1.3 Bad address syntax', later: '451 4.3.0 Try again later' } },
        'mx.grey.test': { mailboxes: ['bob'], greylistSeconds: 60 },
        'mx.boxes.test': { full: ['frank'], disabled: ['grace'] },
        'mx.full552.test': { full: true, fullCode: 552 },
        'mx.busy.test': { connectReply: '421 4.7.0 Too busy, try later' },
        'mx.policy.test': { connectReply: '554 5.7.1 Client host blocked using a DNSBL' },
        'mx1.backup.test': { refuse: true },
        'mx2.backup.test': { mailboxes: ['bob'] },
      },
    });
  });
  afterAll(async () => {
    await world?.stop();
  });

  it('answers each case as its source says, and the mapping reads each answer as the table says', async () => {
    const cases: [address: string, label: string][] = [
      ['bob@plain.test', 'valid'],
      ['nobody@plain.test', 'smtp 550'],
      ['odd@plain.test', 'smtp 553'],
      ['later@plain.test', 'smtp 451'],
      ['bob@grey.test', 'smtp 450'],
      ['frank@boxes.test', 'smtp 452'],
      ['grace@boxes.test', 'smtp 550'],
      ['anyone@full552.test', 'smtp 552'],
      ['anyone@busy.test', 'smtp 421'],
      ['anyone@policy.test', 'smtp 554'],
      ['bob@backup.test', 'smtp connection error'],
      ['anyone@nullmx.test', 'smtp connection error'],
      ['anyone@gone.test', 'mx not found'],
      ['bob@implicit.test', 'mx not found'],
      ['not-an-address', 'regex'],
    ];
    const run = await runPeerProcess(
      { addresses: cases.map(([a]) => a), dnsServer: world.dns.address, smtpPort: world.smtpPort, concurrency: 4, sender: 'probe@listwash.test', tlds: ['test'] },
      60_000,
    );
    expect(run.outputs.map((o, i) => [cases[i]![0], mapPeerAnswer(o).label])).toEqual(cases);
    expect(world.host('mx.plain.test').stats.rcptCount).toBe(4);
    expect(world.host('mx2.backup.test').stats.connections).toBe(0);
    for (const h of world.hostNames) expect(world.host(h).stats.dataCommands).toBe(0);
  });
});
