/**
 * listwash reads its own output: a report.csv is a valid input for another `listwash clean`, whatever the servers
 * answered — also a reply holding NUL and other control characters (issue 7, item 8).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CleanHarness } from './clean-harness.js';

let h: CleanHarness;

beforeAll(async () => {
  h = await CleanHarness.start({
    domains: { 'ok.test': { mx: [{ host: 'mx.ok.test', preference: 10 }] }, 'gone.test': { nxdomain: true } },
    hosts: {
      'mx.ok.test': {
        mailboxes: ['ann'],
        rcptReplies: { nul: '550 5.1.1 <nul@ok.test>: no\u0000such\u0007user\u001b[1m', multi: '550-5.1.1 first line\n550 5.1.1 second\u0000line' },
      },
    },
  });
});

afterAll(async () => {
  await h?.stop();
});

describe('a report.csv is a valid input of listwash clean', () => {
  it('when a server reply holds NUL and other control characters: they are written as visible stand-ins', async () => {
    const input = join(h.dir, 'list.csv');
    await writeFile(input, 'email,name\nann@ok.test,Ann\nnul@ok.test,Nul\nmulti@ok.test,Multi\nx@gone.test,X\nnot an address,Y\n');
    const first = await h.clean(input);
    expect(first.error).toBeNull();
    expect(first.exitCode).toBe(0);
    const report = await h.report(first);
    const byEmail = new Map(report.rows.map((r) => [r.email, r]));
    expect(byEmail.get('nul@ok.test')).toMatchObject({ status: 'undeliverable', reason: 'mailbox_not_found', smtp_reply: '550 5.1.1 <nul@ok.test>: no␀such␇user␛[1m' });
    expect(byEmail.get('multi@ok.test')?.smtp_reply).toBe('550-5.1.1 first line\n550 5.1.1 second␀line');

    const second = await h.clean(join(first.out, 'report.csv'), ['--email-column', 'email']);
    expect(second.error).toBeNull();
    expect(second.exitCode).toBe(0);
    const again = await h.report(second);
    expect(again.rows).toHaveLength(5);
    // The first report's columns come back as they were, its verdicts again beside them.
    expect(again.rows.map((r) => [r.email, r.smtp_reply])).toEqual(report.rows.map((r) => [r.email, r.smtp_reply]));
    expect(again.header.slice(0, report.header.length)).toEqual(report.header);
  });
});

describe('the original columns of report.csv and the status files', () => {
  it('are a record copied as read when it is already as we write it, and written anew otherwise — the same fields either way', async () => {
    const input = join(h.dir, 'shapes.csv');
    const lines = [
      'email,name,note',
      'ann@ok.test,Ann,"a, b"', // as we write it: copied
      '"ann@ok.test","Ann","plain"', // quotes not needed
      '"""q,u""@ok.test",Q,x', // a quoted local part with a comma: the address column is quoted in report.csv
      'bob@ok.test,John "Jo" Smith,y', // a stray quote
      'short@ok.test,Short', // short: padded
      'long@ok.test,L,n,extra', // long: the surplus joined into the last column
      // as we write them, so that most of the file is (copying is chosen per file, from its first records)
      ...['c1', 'c2', 'c3', 'c4', 'c5'].map((n) => `${n}@ok.test,${n},"x,y"`),
    ];
    await writeFile(input, lines.join('\r\n') + '\r\n');
    const run = await h.clean(input);
    expect(run.exitCode).toBe(0);
    const reportLines = (await readFile(join(run.out, 'report.csv'), 'utf8')).split('\r\n').filter((l) => l !== '');
    const original = [
      'email,name,note',
      'ann@ok.test,Ann,"a, b"',
      'ann@ok.test,Ann,plain',
      '"""q,u""@ok.test",Q,x',
      'bob@ok.test,"John ""Jo"" Smith",y',
      'short@ok.test,Short,',
      'long@ok.test,L,"n,extra"',
      ...['c1', 'c2', 'c3', 'c4', 'c5'].map((n) => `${n}@ok.test,${n},"x,y"`),
    ];
    expect(reportLines).toHaveLength(original.length);
    // each line: the original columns, then report.csv's own (the first of which is the normalised address or its header)
    reportLines.forEach((line, i) => expect(line.startsWith(`${original[i]},`), line).toBe(true));
    expect(reportLines[3]!.startsWith('"""q,u""@ok.test",Q,x,"""q,u""@ok.test",undeliverable,')).toBe(true);
    const report = await h.report(run);
    expect(report.rows.find((r) => r.name === 'Q')?.email_normalized).toBe('"q,u"@ok.test');
    const invalid = (await readFile(join(run.out, 'invalid.csv'), 'utf8')).split('\r\n');
    expect(invalid).toContain('bob@ok.test,"John ""Jo"" Smith",y,undeliverable,mailbox_not_found,high,');
    expect(invalid).toContain('"""q,u""@ok.test",Q,x,undeliverable,mailbox_not_found,high,');
  });
});
