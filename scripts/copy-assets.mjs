// Build step after tsc: copy the non-TypeScript files the compiled code reads at run time (Lua
// commands) from src/ to dist/src/, keeping their paths.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ASSET = /\.lua$/;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (ASSET.test(name)) cpSync(p, join('dist', 'src', relative('src', p)));
  }
}
walk('src');
