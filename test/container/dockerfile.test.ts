/**
 * The Dockerfile, checked statically (no Docker engine on these machines): its build stage runs exactly
 * the install and build commands that .ci/run (and so the tested tree) runs; the runtime stage is a pinned
 * slim Node 20 image with production dependencies only, no lifecycle scripts, a non-root user and tini as
 * PID 1 in front of `listwash`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROOT } from './compose-file.js';

interface Instruction {
  op: string;
  args: string;
}

interface Stage {
  from: string;
  name: string | null;
  instructions: Instruction[];
}

/** Dockerfile instructions by stage (comments dropped, `\` continuations joined). */
function parseDockerfile(text: string): Stage[] {
  const lines = text.split('\n').filter((l) => !/^\s*#/.test(l));
  const joined = lines.join('\n').replace(/\\\n/g, ' ');
  const stages: Stage[] = [];
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = (m[1] as string).toUpperCase();
    const args = (m[2] as string).replace(/\s+/g, ' ').trim();
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: f?.[1] ?? args, name: f?.[2] ?? null, instructions: [] });
    } else stages.at(-1)?.instructions.push({ op, args });
  }
  return stages;
}

/** A RUN instruction's command, without its BuildKit flags (`--mount=…`, `--network=…`). */
function runCommand(args: string): string {
  return args.replace(/^(--[a-z]+=\S+\s+)+/, '');
}

const dockerfile = parseDockerfile(readFileSync(`${ROOT}/Dockerfile`, 'utf8'));
const ciRun = readFileSync(`${ROOT}/.ci/run`, 'utf8')
  .split('\n')
  .map((l) => l.trim());
const stage = (name: string) => dockerfile.find((s) => s.name === name) as Stage;
const runs = (s: Stage) => s.instructions.filter((i) => i.op === 'RUN').map((i) => runCommand(i.args));
const NODE_20_SLIM = /^node:20\.\d+\.\d+-bookworm-slim$/;

describe('the Dockerfile', () => {
  it('has a build stage and a runtime stage, both on the same pinned slim Node 20 image', () => {
    expect(dockerfile.map((s) => s.name)).toEqual(['build', 'runtime']);
    for (const s of dockerfile) expect(s.from).toMatch(NODE_20_SLIM);
    expect(stage('build').from).toBe(stage('runtime').from);
  });

  it('builds with exactly the install and build commands .ci/run uses', () => {
    const build = runs(stage('build'));
    expect(build).toEqual(['npm ci --no-audit --no-fund', 'npm run build']);
    for (const command of build) expect(ciRun).toContain(command);
  });

  it('builds from the whole context copied before npm ci (a prepare script that builds finds the sources)', () => {
    const ops = stage('build').instructions.map((i) => `${i.op} ${i.args}`);
    expect(ops.indexOf('COPY . .')).toBeGreaterThanOrEqual(0);
    expect(ops.indexOf('COPY . .')).toBeLessThan(ops.findIndex((o) => o.startsWith('RUN') && o.includes('npm ci')));
  });

  it('installs production dependencies only in the runtime, running no lifecycle script, and copies the build output', () => {
    const runtime = stage('runtime');
    expect(runs(runtime)).toContain('npm ci --omit=dev --ignore-scripts --no-audit --no-fund');
    expect(runs(runtime).filter((r) => r.includes('npm run'))).toEqual([]);
    expect(runtime.instructions).toContainEqual({ op: 'COPY', args: '--from=build /app/dist ./dist' });
    expect(runtime.instructions).toContainEqual({ op: 'ENV', args: 'NODE_ENV=production' });
  });

  it('runs as the unprivileged node user with tini as PID 1 in front of listwash', () => {
    const runtime = stage('runtime');
    const users = runtime.instructions.filter((i) => i.op === 'USER').map((i) => i.args);
    expect(users.at(-1)).toBe('node');
    expect(runs(runtime).some((r) => /apt-get install .*\btini\b/.test(r))).toBe(true);
    const entrypoint = runtime.instructions.filter((i) => i.op === 'ENTRYPOINT').at(-1);
    expect(JSON.parse(entrypoint?.args ?? 'null')).toEqual(['/usr/bin/tini', '--', 'listwash']);
  });

  it('keeps the build context small: .dockerignore leaves out node_modules, dist and .git', () => {
    const ignored = readFileSync(`${ROOT}/.dockerignore`, 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['node_modules', 'dist', '.git']) expect(ignored).toContain(p);
  });
});
