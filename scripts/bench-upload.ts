/**
 * `npm run bench:upload`: is a list upload streamed through the HTTP API, never held in memory whole?
 * `listwash serve` runs in its own process (local storage under a temp root, Redis at REDIS_URL with a
 * private prefix); a CSV of `--mib` MiB (default 256) is uploaded with the typed client from a
 * file-backed Blob (`fs.openAsBlob`). Reported: the server's peak RSS (VmHWM) before and after, the
 * growth as a fraction of the file, and the stored file compared byte for byte (size + SHA-256).
 * Target: the server's peak RSS grows by less than a quarter of the file and by less than 128 MiB.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, openAsBlob } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { dropPrefix } from '../src/cli/demo.js';
import { ListwashClient } from '../src/client/index.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '256' } } });
const mib = Number(values.mib);
const TOKEN = randomBytes(16).toString('hex');
const prefix = `{lwbench-upload-${randomBytes(4).toString('hex')}}`;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function writeCsv(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  out.write('name,email\n');
  let n = 0;
  let written = 11;
  while (written < bytes) {
    const line = `Person ${n},person${n}@example${n % 997}.com\n`;
    written += line.length;
    n++;
    if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Peak resident memory of a process (VmHWM), bytes. */
async function peakRss(pid: number): Promise<number> {
  const m = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error('no VmHWM in /proc status');
  return Number(m[1]) * 1024;
}

async function main(): Promise<number> {
  const base = await mkdtemp(join(tmpdir(), 'lw-bench-upload-'));
  const csv = join(base, 'list.csv');
  await writeCsv(csv, mib * 1024 * 1024);
  const size = (await stat(csv)).size;
  const env = {
    ...process.env,
    REDIS_URL: redisUrl,
    LISTWASH_QUEUE_PREFIX: prefix,
    LISTWASH_API_KEYS: `bench:${TOKEN}`,
    LISTWASH_LOCAL_ROOT: base,
    LISTWASH_UPLOAD_PREFIX: `file://${base}/uploads/`,
    LISTWASH_OUTPUT_PREFIX: `file://${base}/out/`,
    LISTWASH_UPLOAD_MAX_BYTES: String(size * 2),
    LISTWASH_LOG_LEVEL: 'warn',
  };
  const server = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  server.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    let url: string | null = null;
    for (let i = 0; url === null; i++) {
      url = /listening on (http:\/\/\S+)/.exec(stderr)?.[1] ?? null;
      if (i > 300 || server.exitCode !== null) throw new Error(`the server did not start: ${stderr}`);
      if (url === null) await new Promise((r) => setTimeout(r, 100));
    }
    const client = new ListwashClient({ baseUrl: url, token: TOKEN });
    await client.healthz();
    const before = await peakRss(server.pid!);
    const t0 = performance.now();
    const { list } = await client.uploadList(await openAsBlob(csv), { filename: 'list.csv', id: 'bench-upload' });
    const seconds = (performance.now() - t0) / 1000;
    const after = await peakRss(server.pid!);
    const stored = list.input.replace(/^file:\/\//, '');
    const same = (await stat(stored)).size === size && (await sha256(stored)) === (await sha256(csv));
    const growth = after - before;
    const ratio = growth / size;
    const MiB = 1024 * 1024;
    process.stdout.write(`upload of ${(size / MiB).toFixed(1)} MiB through the API in ${seconds.toFixed(2)} s (${(size / MiB / seconds).toFixed(0)} MiB/s)\n`);
    process.stdout.write(`server peak RSS: ${(before / MiB).toFixed(1)} MiB before, ${(after / MiB).toFixed(1)} MiB after: +${(growth / MiB).toFixed(1)} MiB = ${ratio.toFixed(3)} × the file\n`);
    process.stdout.write(`stored file identical (size + SHA-256): ${same}\n`);
    const pass = same && ratio < 0.25 && growth < 128 * MiB;
    process.stdout.write(`${pass ? 'PASS' : 'FAIL'}: peak RSS growth < 0.25 × the file and < 128 MiB, file intact\n`);
    return pass ? 0 : 1;
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    const r = new Redis(redisUrl);
    await dropPrefix(r, prefix);
    r.disconnect();
    await rm(base, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:upload: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
