/** The parent side of a simulated world running in a child process (see world-child.ts). */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PolitenessViolation, SimWorldEnv, SimWorldSpec } from '../../src/world/index.js';
import type { HostSnapshot, PolitenessLimits, WorldReply, WorldRequest } from './world-protocol.js';

const CHILD = fileURLToPath(new URL('./world-child.ts', import.meta.url));

export class WorldProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, (m: WorldReply) => void>();
  private failure: Error | null = null;

  private constructor(
    private readonly child: ChildProcess,
    /** Environment that points listwash at the world. */
    readonly env: SimWorldEnv,
    readonly hosts: string[],
  ) {
    child.on('message', (m: WorldReply) => {
      if (m.type === 'error') {
        this.failure = new Error(`world process: ${m.message}`);
        for (const w of this.waiting.values()) w(m);
        this.waiting.clear();
        return;
      }
      if (m.type === 'stats' || m.type === 'ack' || m.type === 'timeline') {
        const w = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        w?.(m);
      }
    });
  }

  /** Fork the world process and start `spec` in it. */
  static start(spec: SimWorldSpec): Promise<WorldProcess> {
    const child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`world process exited early (code ${code})`));
      child.once('exit', onExit);
      child.once('message', (m: WorldReply) => {
        child.off('exit', onExit);
        if (m.type === 'ready') resolve(new WorldProcess(child, m.env, m.hosts));
        else {
          child.kill();
          reject(new Error(m.type === 'error' ? m.message : `unexpected first message ${m.type}`));
        }
      });
      child.send({ type: 'start', spec } satisfies WorldRequest);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private request(msg: { type: 'stats'; limits?: PolitenessLimits } | { type: 'reset' } | { type: 'timeline'; hosts: string[] }): Promise<WorldReply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (m) => (m.type === 'error' ? reject(new Error(m.message)) : resolve(m)));
      this.child.send({ ...msg, id } as WorldRequest);
    });
  }

  /** Per-host counters, and the politeness report against `limits` when given. */
  async stats(limits?: PolitenessLimits): Promise<{ hosts: Record<string, HostSnapshot>; violations: PolitenessViolation[] }> {
    const m = await this.request(limits ? { type: 'stats', limits } : { type: 'stats' });
    if (m.type !== 'stats') throw new Error(`unexpected reply ${m.type}`);
    return { hosts: m.hosts, violations: m.violations };
  }

  /** The RCPT arrival times at `hosts`, as epoch ms (the world process's clock). */
  async rcptTimes(hosts: string[]): Promise<Record<string, number[]>> {
    const m = await this.request({ type: 'timeline', hosts });
    if (m.type !== 'timeline') throw new Error(`unexpected reply ${m.type}`);
    const out: Record<string, number[]> = {};
    for (const [h, ts] of Object.entries(m.rcptTimestamps)) out[h] = ts.map((t) => m.timeOrigin + t);
    return out;
  }

  /** Zero the counters and forget limits state (rate windows, greylisting) on every host. */
  async reset(): Promise<void> {
    await this.request({ type: 'reset' });
  }

  /** Stop the world and wait for the process to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'stop' } satisfies WorldRequest);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
