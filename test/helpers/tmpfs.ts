/**
 * Test helper: small tmpfs mounts, for a full disk and a read-only output. Mounting needs root (CI runs as root on
 * this machine); `TMPFS_UNAVAILABLE` says why it is not possible here (tests skip with that reason), else null.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function probeMount(): string | null {
  if (process.platform !== 'linux') return 'tmpfs mounts need Linux';
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const dir = mkdtempSync(join(tmpdir(), 'lw-tmpfs-probe-'));
  try {
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { encoding: 'utf8' });
    if (r.status !== 0) return `mount -t tmpfs failed: ${(r.stderr || r.error?.message || '').trim()}`;
    spawnSync('umount', [dir]);
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Why tmpfs tests cannot run here, or null when they can. */
export const TMPFS_UNAVAILABLE: string | null = probeMount();

/** A test title that says why it is skipped, when it is. */
export function tmpfsTitle(title: string): string {
  return TMPFS_UNAVAILABLE === null ? title : `${title} (skipped: ${TMPFS_UNAVAILABLE})`;
}

export interface Tmpfs {
  /** The mount point. */
  dir: string;
  /** `mount -o remount,ro`: from now on every write fails with EROFS. */
  remountReadOnly(): void;
  remountWritable(): void;
  /** Unmount (lazily if still busy) and remove the mount point. */
  unmount(): Promise<void>;
}

/** Mount a tmpfs of `sizeBytes` on a fresh temp directory. */
export async function mountTmpfs(opts: { sizeBytes: number; readOnly?: boolean }): Promise<Tmpfs> {
  const dir = await mkdtemp(join(tmpdir(), 'lw-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `${opts.readOnly ? 'ro,' : ''}size=${opts.sizeBytes}`, 'tmpfs', dir]);
  let mounted = true;
  return {
    dir,
    remountReadOnly: () => execFileSync('mount', ['-o', 'remount,ro', dir]),
    remountWritable: () => execFileSync('mount', ['-o', 'remount,rw', dir]),
    unmount: async () => {
      if (mounted) {
        const r = spawnSync('umount', [dir]);
        if (r.status !== 0) execFileSync('umount', ['-l', dir]);
        mounted = false;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
