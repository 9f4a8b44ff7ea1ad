import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const built = existsSync(`${root}/dist/src/index.js`);

describe('the package', () => {
  it('exports its entry point from dist/ (built by npm run build)', () => {
    const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { name: string; exports: Record<string, { import: string; types: string }>; bin: Record<string, string> };
    expect(pkg.name).toBe('listwash');
    expect(pkg.exports['.']).toEqual({ types: './dist/src/index.d.ts', import: './dist/src/index.js' });
    expect(pkg.bin.listwash).toBe('./bin/listwash.js');
  });

  // .ci/run builds before it tests; a plain `npm test` on an unbuilt tree skips this one.
  it.runIf(built)('is importable by name from the project root: parseAddress and classifyReply', () => {
    const script = `import { parseAddress, classifyReply } from 'listwash';
      const a = parseAddress('  Bob@Bücher.DE ');
      const c = classifyReply('rcpt', '550 5.1.1 <bob@x.test>: Recipient address rejected: User unknown');
      process.stdout.write(JSON.stringify({ n: a.ok && a.normalized, c }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ n: 'Bob@xn--bcher-kva.de', c: { status: 'undeliverable', reason: 'mailbox_not_found' } });
  });
});
