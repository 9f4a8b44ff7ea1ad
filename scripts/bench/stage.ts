/** Run one pipeline stage (bare / split / aggregate) in a process of its own (see stage-child.ts). */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StageReply, StageRequest } from './stage-child.js';

const STAGE_CHILD = fileURLToPath(new URL('./stage-child.ts', import.meta.url));

/** Fork stage-child.ts for `req`; `cpuProfDir`: it writes a V8 CPU profile there. */
export function runStage(req: StageRequest, cpuProfDir: string | null = null): Promise<Extract<StageReply, { ok: true }>> {
  const execArgv = ['--import', 'tsx', ...(cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [])];
  const child = fork(STAGE_CHILD, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let reply: StageReply | null = null;
    child.once('message', (m: StageReply) => {
      reply = m;
    });
    child.once('exit', (code) => {
      if (reply?.ok) resolve(reply);
      else reject(new Error(`${req.stage} process failed (exit ${code}): ${reply && !reply.ok ? reply.error : 'no reply'}`));
    });
    child.send(req);
  });
}
