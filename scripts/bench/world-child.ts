/**
 * A simulated mail world in its own process, for the benchmarks: the process being measured talks to
 * it over loopback sockets only, and its CPU and memory are not the world's.
 *
 * Forked by {@link ../bench/world-process.ts}. Protocol (IPC messages):
 * - `{ type: 'start', spec }` → `{ type: 'ready', env, hosts }` (or `{ type: 'error', message }`);
 * - `{ type: 'stats', id, limits? }` → `{ type: 'stats', id, hosts, violations }`;
 * - `{ type: 'reset', id }` → `{ type: 'ack', id }` (zero every host's stats and state);
 * - `{ type: 'timeline', id, hosts }` → `{ type: 'timeline', id, timeOrigin, rcptTimestamps }` (each named host's RCPT
 *   arrival times, this process's `performance.now()`; `timeOrigin` turns them into epoch ms);
 * - `{ type: 'stop' }` → the world stops and the process exits.
 */
import { performance } from 'node:perf_hooks';
import { SimWorld, type SimWorldSpec } from '../../src/world/index.js';
import type { HostSnapshot, WorldReply, WorldRequest } from './world-protocol.js';

let world: SimWorld | null = null;

function send(msg: WorldReply): void {
  process.send?.(msg);
}

function snapshot(w: SimWorld, windowMs: number): Record<string, HostSnapshot> {
  const out: Record<string, HostSnapshot> = {};
  for (const name of w.hostNames) {
    const s = w.host(name).stats;
    const ts = s.rcptTimestamps;
    out[name] = {
      connections: s.connections,
      peakConcurrentConnections: s.peakConcurrentConnections,
      rcptCount: s.rcptCount,
      maxRcptInWindow: s.maxRcptInWindow(windowMs),
      firstRcptMs: ts.length > 0 ? (ts[0] as number) : null,
      lastRcptMs: ts.length > 0 ? (ts[ts.length - 1] as number) : null,
      dataCommands: s.dataCommands,
      commands: { ...s.commands },
      rateViolations: s.violations.rate,
      connectionLimitViolations: s.violations.connectionLimit,
      bannedConnections: s.bannedConnections,
      greylisted: s.greylisted,
    };
  }
  return out;
}

async function handle(msg: WorldRequest): Promise<void> {
  switch (msg.type) {
    case 'start': {
      world = await SimWorld.start(msg.spec as SimWorldSpec);
      send({ type: 'ready', env: world.env(), hosts: world.hostNames });
      return;
    }
    case 'stats': {
      if (!world) throw new Error('world not started');
      const windowMs = msg.limits?.windowMs ?? 1000;
      send({
        type: 'stats',
        id: msg.id,
        hosts: snapshot(world, windowMs),
        violations: msg.limits ? world.politenessReport(msg.limits) : [],
      });
      return;
    }
    case 'reset': {
      if (!world) throw new Error('world not started');
      world.resetStats();
      for (const name of world.hostNames) world.host(name).resetState();
      send({ type: 'ack', id: msg.id });
      return;
    }
    case 'timeline': {
      if (!world) throw new Error('world not started');
      const rcptTimestamps: Record<string, number[]> = {};
      for (const name of msg.hosts) rcptTimestamps[name] = [...world.host(name).stats.rcptTimestamps];
      send({ type: 'timeline', id: msg.id, timeOrigin: performance.timeOrigin, rcptTimestamps });
      return;
    }
    case 'stop': {
      const w = world;
      world = null;
      await w?.stop();
      process.exit(0);
    }
  }
}

process.on('message', (msg: WorldRequest) => {
  handle(msg).catch((err: unknown) => {
    send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  });
});
// The parent went away: do not linger.
process.on('disconnect', () => {
  void world?.stop().finally(() => process.exit(0));
  if (!world) process.exit(0);
});
