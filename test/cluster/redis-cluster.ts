/**
 * Test fixture: a real Redis Cluster on loopback — `redis-server --cluster-enabled yes` per master, each
 * in a temp directory, joined by `redis-cli --cluster create … --cluster-replicas 0 --cluster-yes` —
 * and its teardown. Ports are free ones picked at start (each node also needs port + 10000, its cluster
 * bus). Needs `redis-server` and `redis-cli` on the PATH.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface RunningCluster {
  /** The masters' ports on 127.0.0.1. */
  ports: number[];
  /** `redis+cluster://127.0.0.1:<p1>,127.0.0.1:<p2>,…` */
  url: string;
  stop(): Promise<void>;
}

interface Node {
  port: number;
  dir: string;
  child: ChildProcess;
  exited: Promise<void>;
  log: string;
}

/** Whether a TCP port on 127.0.0.1 can be bound right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A port the OS calls free whose cluster-bus port (+10000) is free too. */
async function freeNodePort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await portFree(port)) && (await portFree(port + 10_000))) return port;
  }
  throw new Error('no free port pair for a Redis Cluster node');
}

async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 30_000 });
  return stdout;
}

async function startNode(port: number): Promise<Node> {
  const dir = await mkdtemp(join(tmpdir(), `lw-cluster-${port}-`));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const node: Node = { port, dir, child, log: '', exited: new Promise((resolve) => child.once('exit', () => resolve())) };
  const collect = (b: Buffer) => (node.log = (node.log + b.toString()).slice(-4000));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  return node;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`Redis Cluster fixture: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopNodes(nodes: Node[]): Promise<void> {
  for (const n of nodes) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGTERM');
  await Promise.all(nodes.map((n) => n.exited));
  await Promise.all(nodes.map((n) => rm(n.dir, { recursive: true, force: true })));
}

/** One node with cluster support that belongs to no cluster: it serves no slot (`cluster_state:fail`). */
export async function startLoneClusterNode(): Promise<{ port: number; stop(): Promise<void> }> {
  const node = await startNode(await freeNodePort(new Set()));
  try {
    await until(async () => (await redisCli(node.port, 'ping')).trim() === 'PONG', `node ${node.port} to answer (log: ${node.log})`);
  } catch (err) {
    await stopNodes([node]);
    throw err;
  }
  return { port: node.port, stop: () => stopNodes([node]) };
}

/** Start `masters` nodes and make them one cluster serving every slot. */
export async function startRedisCluster(masters = 3): Promise<RunningCluster> {
  const taken = new Set<number>();
  const nodes: Node[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freeNodePort(taken);
      taken.add(port).add(port + 10_000);
      nodes.push(await startNode(port));
    }
    for (const n of nodes) await until(async () => (await redisCli(n.port, 'ping')).trim() === 'PONG', `node ${n.port} to answer (log: ${n.log})`);
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 60_000 });
    for (const n of nodes) {
      await until(async () => /cluster_state:ok/.test(await redisCli(n.port, 'cluster', 'info')), `node ${n.port} to see cluster_state:ok`);
      await until(async () => (await redisCli(n.port, 'cluster', 'nodes')).trim().split('\n').length === masters, `node ${n.port} to know every master`);
    }
  } catch (err) {
    await stopNodes(nodes);
    throw err;
  }
  const ports = nodes.map((n) => n.port);
  return { ports, url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, stop: () => stopNodes(nodes) };
}
