import { describe, expect, it } from 'vitest';
import { ErrorCodes, ListwashError } from '../../src/errors.js';
import { ReplyReader } from '../../src/smtp/reply-reader.js';
import type { SmtpReply } from '../../src/smtp/reply.js';

/** A pipelined stream: banner, EHLO, MAIL, 3 RCPTs (one with UTF-8 text and a bare LF), RSET. */
const STREAM = Buffer.from(
  [
    '220 mx.example.com ESMTP\r\n',
    '250-mx.example.com Hello\r\n250-PIPELINING\r\n250-SIZE 35882577\r\n250 SMTPUTF8\r\n',
    '250 2.1.0 Ok\r\n',
    '550-5.1.1 The email account that you tried to reach does not exist.\r\n550 5.1.1 Learn more - gsmtp\r\n',
    '550 Unknown address error ‘MAILBOX NOT FOUND’\n',
    '452 4.5.3 Too many recipients\r\n',
    '250 2.0.0 Ok\r\n',
  ].join(''),
  'utf8',
);

const EXPECTED: SmtpReply[] = [
  { code: 220, enhanced: null, lines: ['mx.example.com ESMTP'], raw: '220 mx.example.com ESMTP' },
  {
    code: 250,
    enhanced: null,
    lines: ['mx.example.com Hello', 'PIPELINING', 'SIZE 35882577', 'SMTPUTF8'],
    raw: '250-mx.example.com Hello\n250-PIPELINING\n250-SIZE 35882577\n250 SMTPUTF8',
  },
  { code: 250, enhanced: '2.1.0', lines: ['2.1.0 Ok'], raw: '250 2.1.0 Ok' },
  {
    code: 550,
    enhanced: '5.1.1',
    lines: ['5.1.1 The email account that you tried to reach does not exist.', '5.1.1 Learn more - gsmtp'],
    raw: '550-5.1.1 The email account that you tried to reach does not exist.\n550 5.1.1 Learn more - gsmtp',
  },
  { code: 550, enhanced: null, lines: ['Unknown address error ‘MAILBOX NOT FOUND’'], raw: '550 Unknown address error ‘MAILBOX NOT FOUND’' },
  { code: 452, enhanced: '4.5.3', lines: ['4.5.3 Too many recipients'], raw: '452 4.5.3 Too many recipients' },
  { code: 250, enhanced: '2.0.0', lines: ['2.0.0 Ok'], raw: '250 2.0.0 Ok' },
];

function feed(reader: ReplyReader, chunks: (Buffer | string)[]): SmtpReply[] {
  const out: SmtpReply[] = [];
  for (const c of chunks) out.push(...reader.push(c));
  return out;
}

function expectTooLong(fn: () => unknown, limit: 'line' | 'lines'): ListwashError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ListwashError);
  const e = caught as ListwashError;
  expect(e.code).toBe(ErrorCodes.SMTP_SESSION);
  expect(e.details.kind).toBe('reply_too_long');
  expect(e.details.limit).toBe(limit);
  return e;
}

describe('ReplyReader', () => {
  it('returns every reply of a pipelined stream pushed at once', () => {
    expect(new ReplyReader().push(STREAM)).toEqual(EXPECTED);
  });

  it('gives the same replies however the stream is split in two (every byte offset)', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      const reader = new ReplyReader();
      const got = feed(reader, [STREAM.subarray(0, i), STREAM.subarray(i)]);
      expect(got, `split at byte ${i}`).toEqual(EXPECTED);
      expect(reader.pending).toBe(false);
    }
  });

  it('gives the same replies when split in three (every pair of offsets, a sample of strides)', () => {
    for (let i = 0; i <= STREAM.length; i += 7) {
      for (let j = i; j <= STREAM.length; j += 5) {
        const got = feed(new ReplyReader(), [STREAM.subarray(0, i), STREAM.subarray(i, j), STREAM.subarray(j)]);
        expect(got, `split at ${i} and ${j}`).toEqual(EXPECTED);
      }
    }
  });

  it('gives the same replies fed one byte at a time, each reply exactly when its last byte arrives', () => {
    const reader = new ReplyReader();
    const got: SmtpReply[] = [];
    for (let i = 0; i < STREAM.length; i++) {
      const replies = reader.push(STREAM.subarray(i, i + 1));
      if (replies.length > 0) expect(STREAM[i]).toBe(0x0a);
      got.push(...replies);
    }
    expect(got).toEqual(EXPECTED);
  });

  it('accepts strings as well as buffers', () => {
    const reader = new ReplyReader();
    expect(reader.push('250-a\r\n')).toEqual([]);
    expect(reader.pending).toBe(true);
    expect(reader.push(Buffer.from('250 b\r\n'))).toEqual([{ code: 250, enhanced: null, lines: ['a', 'b'], raw: '250-a\n250 b' }]);
    expect(reader.pending).toBe(false);
  });

  it('holds a line until its line break arrives', () => {
    const reader = new ReplyReader();
    expect(reader.push('250 2.1.5 O')).toEqual([]);
    expect(reader.push('k\r')).toEqual([]);
    expect(reader.pending).toBe(true);
    expect(reader.push('\n')).toEqual([{ code: 250, enhanced: '2.1.5', lines: ['2.1.5 Ok'], raw: '250 2.1.5 Ok' }]);
  });

  it('copies an unfinished line, so the caller may reuse its buffer', () => {
    const reader = new ReplyReader();
    const buf = Buffer.from('250-first');
    expect(reader.push(buf)).toEqual([]);
    buf.fill(0x78);
    expect(reader.push('\r\n250 last\r\n')[0]?.lines).toEqual(['first', 'last']);
  });

  it('makes a line without a code a reply of its own (code 0) when no reply is in progress', () => {
    const reader = new ReplyReader();
    expect(reader.push('HTTP/1.1 400 Bad Request\r\n')).toEqual([
      { code: 0, enhanced: null, lines: ['HTTP/1.1 400 Bad Request'], raw: 'HTTP/1.1 400 Bad Request' },
    ]);
  });

  it('keeps a line without a code inside a multi-line reply and ignores blank lines between replies', () => {
    const reader = new ReplyReader();
    expect(reader.push('\r\n\n250-mx.example.com\r\n\r\nsloppy\r\n250 OK\r\n\r\n')).toEqual([
      { code: 250, enhanced: null, lines: ['mx.example.com', '', 'sloppy', 'OK'], raw: '250-mx.example.com\n\nsloppy\n250 OK' },
    ]);
    expect(reader.pending).toBe(false);
  });

  it('ends a reply at a final line whose code differs from the continuation lines', () => {
    expect(new ReplyReader().push('220-laposte\r\n421 4.2.1 Service refuse\r\n')).toEqual([
      { code: 421, enhanced: '4.2.1', lines: ['laposte', '4.2.1 Service refuse'], raw: '220-laposte\n421 4.2.1 Service refuse' },
    ]);
  });

  describe('guards against a hostile server', () => {
    it('accepts a line of exactly 8192 bytes (counted in bytes, not characters, CR not counted)', () => {
      const text = 'é'.repeat(4094); // 8188 bytes
      const line = `550 ${text}`; // 8192 bytes
      expect(Buffer.byteLength(line)).toBe(8192);
      const reader = new ReplyReader();
      expect(reader.push(`${line}\r`)).toEqual([]); // the CR alone does not push it over
      expect(reader.push('\n')[0]?.lines).toEqual([text]);
    });

    it('throws reply_too_long for a complete line of 8193 bytes', () => {
      const reader = new ReplyReader();
      expectTooLong(() => reader.push(`250 ${'x'.repeat(8189)}\r\n`), 'line');
    });

    it('throws as soon as an unfinished line passes 8192 bytes, without waiting for its end', () => {
      const reader = new ReplyReader();
      expect(reader.push(`250 ${'x'.repeat(5000)}`)).toEqual([]);
      const err = expectTooLong(() => reader.push('x'.repeat(3189)), 'line');
      expect(err.details.max).toBe(8192);
    });

    it('counts bytes: 4097 two-byte characters are too long although only 4097 characters', () => {
      expectTooLong(() => new ReplyReader().push('é'.repeat(4097)), 'line');
    });

    it('accepts a reply of 1000 lines and throws reply_too_long at line 1001', () => {
      const ok = `${'250-x\r\n'.repeat(999)}250 end\r\n`;
      const replies = new ReplyReader().push(ok);
      expect(replies).toHaveLength(1);
      expect(replies[0]?.lines).toHaveLength(1000);

      const reader = new ReplyReader();
      expect(reader.push('250-x\r\n'.repeat(1000))).toEqual([]);
      const err = expectTooLong(() => reader.push('250-x\r\n'), 'lines');
      expect(err.details.max).toBe(1000);
    });

    it('stays failed: the next push throws the same error', () => {
      const reader = new ReplyReader();
      const err = expectTooLong(() => reader.push('y'.repeat(9000)), 'line');
      let again: unknown;
      try {
        reader.push('250 ok\r\n');
      } catch (e) {
        again = e;
      }
      expect(again).toBe(err);
    });

    it('honours custom limits', () => {
      const reader = new ReplyReader({ maxLineBytes: 10, maxLines: 2 });
      expect(reader.push('250 123456\r\n')).toHaveLength(1);
      expectTooLong(() => reader.push('250 1234567\r\n'), 'line');
      expectTooLong(() => new ReplyReader({ maxLines: 2 }).push('250-a\r\n250-b\r\n250 c\r\n'), 'lines');
    });
  });
});
