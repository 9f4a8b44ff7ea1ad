/** The parent side of the peer's process (see peer-child.ts): fork it, send the request, wait for its answers. */
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { PeerOutput } from './peer-answer.js';
import type { PeerReply, PeerRequest } from './peer-child.js';

const CHILD = fileURLToPath(new URL('./peer-child.ts', import.meta.url));

export interface PeerRun {
  /** Fork to exit, seconds. */
  seconds: number;
  /** The validate() calls alone, as the child measured them, ms. */
  ms: number;
  /** One output per address, in order. */
  outputs: PeerOutput[];
}

/** Run deep-email-validator over `req.addresses` in a child process (SIGKILL after `timeoutMs`). */
export function runPeerProcess(req: PeerRequest, timeoutMs: number): Promise<PeerRun> {
  const t0 = performance.now();
  const child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    let reply: PeerReply | null = null;
    child.once('message', (m: PeerReply) => (reply = m));
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const r = reply as PeerReply | null;
      if (r?.ok) resolve({ seconds: (performance.now() - t0) / 1000, ms: r.ms, outputs: r.outputs });
      else reject(new Error(`peer process failed (exit ${code ?? signal}): ${r && !r.ok ? r.error : 'no reply'}`));
    });
    child.send(req);
  });
}
