import { describe, expect, it } from 'vitest';
import { sniffCsv, type CsvDialect, type SniffOptions } from '../../src/csv/index.js';
import { ListwashError, type ErrorCode } from '../../src/errors.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

interface Case {
  name: string;
  input: Buffer;
  opts?: SniffOptions;
  expect: Partial<CsvDialect>;
}

const cases: Case[] = [
  {
    name: 'comma with header',
    input: b('name,email,city\nAnn,ann@example.org,Oslo\nBob,bob@example.net,Rome\n'),
    expect: { delimiter: ',', recordDelimiter: '\n', bom: false, hasHeader: true, headers: ['name', 'email', 'city'], emailColumn: 1, columnCount: 3 },
  },
  {
    name: 'semicolon with decimal commas',
    input: b('Name;Amount;E-Mail\nAnn;1,5;ann@example.org\nBob;2,75;bob@example.net\nCy;3;cy@example.com\n'),
    expect: { delimiter: ';', hasHeader: true, emailColumn: 2, columnCount: 3 },
  },
  {
    name: 'tab',
    input: b('id\tcontact\tnote\n1\tann@example.org\ta, b; c\n2\tbob@example.net\tx|y\n'),
    expect: { delimiter: '\t', hasHeader: true, headers: ['id', 'contact', 'note'], emailColumn: 1 },
  },
  {
    name: 'pipe',
    input: b('first|last|mail\nAnn|Lee|ann@example.org\nBob|Ray|bob@example.net\n'),
    expect: { delimiter: '|', hasHeader: true, emailColumn: 2 },
  },
  {
    name: 'quoted fields with embedded delimiters and newlines',
    input: b('"Name","Address","Email"\n"Lee, Ann","1 Main St\nApt 2, Springfield","ann@example.org"\n"Ray; Bob","PO Box 3","bob@example.net"\n'),
    expect: { delimiter: ',', recordDelimiter: '\n', hasHeader: true, headers: ['Name', 'Address', 'Email'], emailColumn: 2, columnCount: 3 },
  },
  {
    name: 'UTF-8 BOM is stripped from the first header',
    input: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b('email,name\nann@example.org,Ann\n')]),
    expect: { bom: true, hasHeader: true, headers: ['email', 'name'], emailColumn: 0 },
  },
  {
    name: 'CRLF',
    input: b('email;name\r\nann@example.org;Ann\r\nbob@example.net;Bob\r\n'),
    expect: { delimiter: ';', recordDelimiter: '\r\n', hasHeader: true, emailColumn: 0 },
  },
  {
    name: 'CR-only (classic Mac)',
    input: b('email,name\rann@example.org,Ann\rbob@example.net,Bob\r'),
    expect: { recordDelimiter: '\r', hasHeader: true, emailColumn: 0, columnCount: 2 },
  },
  {
    name: 'a CR alone in a CRLF file ends a record (no widened header from a merged row)',
    input: b('name,email\r\nA,a@x.test\rB,b@x.test\r\nC,c@x.test\r\n'),
    expect: { recordDelimiter: '\r\n', hasHeader: true, headers: ['name', 'email'], emailColumn: 1, columnCount: 2 },
  },
  {
    name: 'no header: columns synthesised, email column by values',
    input: b('Ann,ann@example.org,1\nBob,bob@example.net,2\nCy,not-an-address,3\n'),
    expect: { delimiter: ',', hasHeader: false, headers: ['col_1', 'col_2', 'col_3'], emailColumn: 1, columnCount: 3 },
  },
  {
    name: 'header without a known name: first row has no @ where later rows do',
    input: b('Who,Reach me at\nAnn,ann@example.org\nBob,bob@example.net\n'),
    expect: { hasHeader: true, headers: ['Who', 'Reach me at'], emailColumn: 1 },
  },
  {
    name: 'first data row holds a bad address shaped like a host name: no header',
    input: b('Ann,ann.example.org\nBob,bob@example.net\nCy,cy@example.com\n'),
    expect: { hasHeader: false, emailColumn: 1 },
  },
  {
    name: 'header synonym "Email Address"',
    input: b('First Name,Email Address\nAnn,ann@example.org\n'),
    expect: { hasHeader: true, emailColumn: 1 },
  },
  {
    name: 'header synonym "courriel" (accents, case)',
    input: b('Nom;Adresse électronique\nAnne;anne@example.fr\n'),
    expect: { delimiter: ';', hasHeader: true, emailColumn: 1 },
  },
  {
    name: 'header synonym "Correo_Electronico"',
    input: b('nombre,Correo_Electronico\nAna,ana@example.es\n'),
    expect: { hasHeader: true, emailColumn: 1 },
  },
  {
    name: 'an exact header name beats an "email…" flag column',
    input: b('email_opt_in,name,e-mail\nyes,Ann,ann@example.org\nno,Bob,bob@example.net\n'),
    expect: { hasHeader: true, emailColumn: 2 },
  },
  {
    name: 'partial header name whose column holds addresses ("Work Email")',
    input: b('Email Verified,Name,Work Email\ntrue,Ann,ann@example.org\n'),
    expect: { hasHeader: true, emailColumn: 2 },
  },
  {
    name: 'header only, no data rows',
    input: b('name,email\n'),
    expect: { hasHeader: true, emailColumn: 1, columnCount: 2 },
  },
  {
    name: 'named column (header name, case/space-insensitive)',
    input: b('name,Primary Email,Secondary Email\nAnn,ann@example.org,ann2@example.org\n'),
    opts: { emailColumn: 'secondary_email' },
    expect: { hasHeader: true, emailColumn: 2 },
  },
  {
    name: 'named column by index',
    input: b('a@example.org,b@example.org\nc@example.org,d@example.org\n'),
    opts: { emailColumn: 1 },
    expect: { hasHeader: false, emailColumn: 1, columnCount: 2 },
  },
  {
    name: 'named column by index with a header row',
    input: b('name,contact\nAnn,ann@example.org\n'),
    opts: { emailColumn: 1 },
    expect: { hasHeader: true, emailColumn: 1 },
  },
  {
    name: 'single column of bare addresses',
    input: b('ann@example.org\nbob@example.net\ncy@example.com\n'),
    expect: { delimiter: ',', hasHeader: false, headers: ['col_1'], emailColumn: 0, columnCount: 1 },
  },
  {
    name: 'single column with an "email" header and no trailing newline',
    input: b('Email\nann@example.org\nbob@example.net'),
    expect: { hasHeader: true, headers: ['Email'], emailColumn: 0, columnCount: 1 },
  },
  {
    name: 'display-name addresses count as addresses',
    input: b('x,y\n1,"Lee, Ann <ann@example.org>"\n2,"Bob <bob@example.net>"\n'),
    expect: { hasHeader: true, emailColumn: 1 },
  },
  {
    name: 'ragged rows: the header sets the column count, a longer row does not widen it (issue 7, item 7)',
    input: b('name,email\nAnn,ann@example.org\nBob,bob@example.net,extra\nCy,cy@example.com\n'),
    expect: { hasHeader: true, headers: ['name', 'email'], columnCount: 2, emailColumn: 1 },
  },
  {
    name: 'ragged rows without a header: the most common field count sets the column count',
    input: b('Ann,ann@example.org\nBob,bob@example.net,extra,more\nCy,cy@example.com\nDi,di@example.org,x\n'),
    expect: { hasHeader: false, headers: ['col_1', 'col_2'], columnCount: 2, emailColumn: 1 },
  },
  {
    name: 'the column count always includes the email column',
    input: b('Ann,Lee\nBob,Ray\nCy,Doe,cy@example.com\nDi,Poe\n'),
    expect: { hasHeader: false, headers: ['col_1', 'col_2', 'col_3'], columnCount: 3, emailColumn: 2 },
  },
  {
    name: 'a sample cut inside a quoted field ignores that partial record',
    input: b('name,email\nAnn,ann@example.org\n"Bob\nunfinished'),
    expect: { hasHeader: true, emailColumn: 1, columnCount: 2 },
  },
  {
    name: 'a sample cut inside a multi-byte character',
    input: b('name,email\nJosé,jose@example.es\nZoë,zoe@example.nl\n').subarray(0, -4),
    expect: { hasHeader: true, emailColumn: 1 },
  },
];

describe('sniffCsv', () => {
  it.each(cases)('$name', ({ input, opts, expect: want }) => {
    const got = sniffCsv(input, opts);
    expect(got).toMatchObject(want);
    expect(got.quote).toBe('"');
    expect(got.headers).toHaveLength(got.columnCount);
  });

  it('detects the delimiter from quoted content without being fooled by commas inside quotes', () => {
    const rows = Array.from({ length: 20 }, (_, i) => `"Last${i}, First";"x${i}@example.org";"a, b, c"`).join('\n');
    expect(sniffCsv(b(`name;email;tags\n${rows}\n`)).delimiter).toBe(';');
  });
});

function sniffError(input: Buffer, opts?: SniffOptions): ListwashError {
  try {
    sniffCsv(input, opts);
  } catch (err) {
    if (err instanceof ListwashError) return err;
    throw err;
  }
  throw new Error('sniffCsv did not throw');
}

describe('sniffCsv rejects', () => {
  const zipHeader = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]);
  const bad: { name: string; input: Buffer; opts?: SniffOptions; code: ErrorCode; message: RegExp }[] = [
    { name: 'an empty file', input: Buffer.alloc(0), code: 'CSV_EMPTY', message: /empty/ },
    { name: 'only a BOM and newlines', input: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b('\n\r\n  \n')]), code: 'CSV_EMPTY', message: /byte-order mark/ },
    { name: 'an xlsx workbook', input: Buffer.concat([zipHeader, b('\0\0[Content_Types].xml....xl/workbook.xml')]), code: 'CSV_NOT_TEXT', message: /Excel \.xlsx.*CSV UTF-8/ },
    { name: 'another zip archive', input: Buffer.concat([zipHeader, b('\0\0list.csv')]), code: 'CSV_NOT_TEXT', message: /ZIP archive/ },
    { name: 'a legacy .xls', input: Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]), code: 'CSV_NOT_TEXT', message: /\.xls/ },
    { name: 'gzip', input: Buffer.from([0x1f, 0x8b, 0x08, 0x00]), code: 'CSV_NOT_TEXT', message: /^the file is gzip-compressed; decompress it and upload the CSV file inside$/ },
    { name: 'an HTML page', input: b('\n<!DOCTYPE html>\n<html><body><table><tr><td>ann@example.org</td></tr></table></body></html>\n'), code: 'CSV_NOT_TEXT', message: /looks like an HTML page/ },
    { name: 'a JSON document', input: b('[\n  {"email": "ann@example.org"}\n]\n'), code: 'CSV_NOT_TEXT', message: /looks like a JSON document/ },
    { name: 'UTF-16LE with BOM', input: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('email\nann@example.org\n', 'utf16le')]), code: 'CSV_NOT_TEXT', message: /UTF-16.*UTF-8/ },
    { name: 'UTF-16BE with BOM', input: Buffer.from([0xfe, 0xff, 0x00, 0x65, 0x00, 0x6d]), code: 'CSV_NOT_TEXT', message: /UTF-16/ },
    { name: 'UTF-16LE without BOM', input: Buffer.from('email\nann@example.org\n', 'utf16le'), code: 'CSV_NOT_TEXT', message: /UTF-16/ },
    { name: 'NUL bytes in text', input: b('email\nann@example.org\0\0\x01binary\n'), code: 'CSV_NOT_TEXT', message: /^line 2: the file contains NUL bytes/ },
    { name: 'Latin-1 text', input: Buffer.from('name,email\nJos\xe9,jose@example.es\n', 'latin1'), code: 'CSV_NOT_TEXT', message: /^line 2: the file is not valid UTF-8 \(byte 0xE9 at offset 14/ },
    { name: 'no email column', input: b('name,city\nAnn,Oslo\nBob,Rome\n'), code: 'CSV_NO_EMAIL_COLUMN', message: /"name", "city"/ },
    { name: 'a named column that does not exist', input: b('name,email\nAnn,ann@example.org\n'), opts: { emailColumn: 'mail_address' }, code: 'CSV_NO_EMAIL_COLUMN', message: /"mail_address".*"name", "email"/ },
    { name: 'an index out of range', input: b('name,email\nAnn,ann@example.org\n'), opts: { emailColumn: 2 }, code: 'CSV_NO_EMAIL_COLUMN', message: /index 2 is out of range.*2 column/ },
  ];
  it.each(bad)('$name', ({ input, opts, code, message }) => {
    const err = sniffError(input, opts);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  });

  it('lists the headers it saw in details', () => {
    expect(sniffError(b('a;b;c\n1;2;3\n')).details).toEqual({ headers: ['a', 'b', 'c'] });
  });
});

describe("sniffCsv and Excel's sep= line", () => {
  it('takes the delimiter from a first line `sep=X` and marks that line to be skipped', () => {
    const got = sniffCsv(b('sep=;\r\nemail;name\r\nann@example.org;Lee, Ann\r\n'));
    expect(got).toMatchObject({ delimiter: ';', recordDelimiter: '\r\n', sepLine: true, hasHeader: true, headers: ['email', 'name'], emailColumn: 0, columnCount: 2 });
  });

  it('has no sepLine without such a line', () => {
    expect(sniffCsv(b('email\nann@example.org\n')).sepLine).toBeUndefined();
  });

  it('a file of only a sep= line is CSV_EMPTY', () => {
    expect(sniffError(b('sep=,\n')).code).toBe('CSV_EMPTY');
  });
});

describe('sniffCsv on a first record that never ends', () => {
  it('is CSV_UNTERMINATED_QUOTE naming the line the record starts on', () => {
    const err = sniffError(b('\n\n"email,name\nann@example.org,Ann\n'));
    expect(err.code).toBe('CSV_UNTERMINATED_QUOTE');
    expect(err.message).toMatch(/^line 3: quoted field not terminated/);
    expect(err.details).toMatchObject({ line: 3 });
  });
});
