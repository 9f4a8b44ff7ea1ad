/**
 * The local-filesystem store. Writes are staged: data goes to a hidden temp file beside the target
 * (`.<name>.<12 hex>.tmp`), is flushed to disk, then renamed over the target — a plain write does all of this at
 * once; a `ResultSet` renames its files together at its commit.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ErrorCodes, ListwashError } from '../errors.js';
import { errnoCode, errnoText, fsError } from './fs-errors.js';
import type { FileLocation, Location } from './location.js';
import { abortedError, assertObjectLocation, checkMaxBytes, handled, reportedThroughDone, settleAborted, settled, writeAndDeleteProbe } from './store-common.js';
import type { ReadOptions, StagedWrite, Store, WriteHandle, WriteOptions } from './store.js';

function asFile(loc: Location): FileLocation {
  if (loc.kind !== 'file') {
    throw new ListwashError(ErrorCodes.STORAGE_BAD_URL, `the local store cannot serve ${loc.url}`, { url: loc.url });
  }
  return loc;
}

/** The temp file names of `name`: `.<name>.<12 hex>.tmp`. */
function tempNamePattern(name: string): RegExp {
  return new RegExp(`^\\.${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.[0-9a-f]{12}\\.tmp$`);
}

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Remove a file; one that is already gone is fine. */
async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

/**
 * After a failed write: remove its temp file. What went wrong removing it is returned as a note for the write's error
 * (the write's own failure is what the caller must hear about first), or `undefined` when it is gone.
 */
async function removeTempAfterFailure(temp: string): Promise<{ note: string; details: Record<string, unknown> } | undefined> {
  try {
    await removeFile(temp);
    return undefined;
  } catch (err) {
    return { note: `its temp file ${temp} could not be removed: ${errnoText(err)}`, details: { tempLeft: temp } };
  }
}

/** The staged write of `file` to the temp file `temp`, open as `fh`. */
function stagedWrite(file: FileLocation, temp: string, fh: FileHandle): StagedWrite {
  // `flush`: fsync before close, so the renamed file is complete on disk.
  const stream = fh.createWriteStream({ flush: true });
  // The failure is reported by `stored` (and to `pipeline` through `stream.errored`); without a listener an 'error'
  // emitted before the caller has attached one would crash the process.
  stream.on('error', reportedThroughDone);
  let cancelled = false;
  const stored = handled(
    (async () => {
      try {
        await finished(stream);
      } catch (err) {
        const leftover = await removeTempAfterFailure(temp);
        throw cancelled && leftover === undefined ? abortedError(file) : fsError('write', file, err, leftover);
      }
    })(),
  );
  return {
    stream,
    stored,
    publish: async () => {
      await stored;
      if (cancelled) throw abortedError(file);
      try {
        await rename(temp, file.path);
      } catch (err) {
        throw fsError('write', file, err, await removeTempAfterFailure(temp));
      }
    },
    cancel: async () => {
      cancelled = true;
      stream.destroy();
      await settled(stored);
      try {
        await removeFile(temp);
      } catch (err) {
        throw fsError('remove the temp file of', file, err);
      }
    },
  };
}

/** The folders of `dir` and its parents that do not exist yet, deepest first. */
async function missingFolders(dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    try {
      await stat(d);
      break;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') break;
      missing.push(d);
    }
  }
  return missing;
}

/** Remove folders (deepest first) that are still empty; one that is gone or no longer empty stays as it is. */
async function removeEmptyFolders(dirs: readonly string[]): Promise<void> {
  for (const d of dirs) {
    try {
      await rmdir(d);
    } catch (err) {
      const code = errnoCode(err);
      // Someone put something there meanwhile (or removed it): not ours to remove any more.
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOENT') return;
      throw err;
    }
  }
}

export class LocalStore implements Store {
  async openRead(loc: Location, opts: ReadOptions = {}): Promise<Readable> {
    const file = asFile(loc);
    assertObjectLocation(file, 'read');
    checkMaxBytes(opts.maxBytes);
    // Open first so a missing file is a typed error here, not an 'error' event later.
    let handle;
    try {
      handle = await open(file.path, 'r');
    } catch (err) {
      throw fsError('read', file, err);
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new ListwashError(ErrorCodes.STORAGE_IO, `cannot read ${file.path}: not a regular file`, { url: file.url, path: file.path });
    } catch (err) {
      await handle.close();
      throw fsError('read', file, err);
    }
    return createReadStream('', { fd: handle, ...(opts.maxBytes !== undefined ? { start: 0, end: opts.maxBytes - 1 } : {}) });
  }

  async openStaged(loc: Location, _opts: WriteOptions = {}): Promise<StagedWrite> {
    const file = asFile(loc);
    assertObjectLocation(file, 'write');
    try {
      await mkdir(dirname(file.path), { recursive: true });
    } catch (err) {
      throw fsError('create the folder of', file, err);
    }
    const temp = tempPathFor(file.path);
    // Open first so that an unwritable place is a typed error here, not a failure of the first write.
    let fh: FileHandle;
    try {
      fh = await open(temp, 'wx');
    } catch (err) {
      throw fsError('write', file, err);
    }
    return stagedWrite(file, temp, fh);
  }

  async openWrite(loc: Location, opts: WriteOptions = {}): Promise<WriteHandle> {
    const staged = await this.openStaged(loc, opts);
    const done = handled(staged.stored.then(() => staged.publish()));
    return {
      stream: staged.stream,
      done,
      abort: async () => {
        await staged.cancel();
        await settleAborted(done);
      },
    };
  }

  async removeLeftovers(loc: Location): Promise<number> {
    const file = asFile(loc);
    assertObjectLocation(file, 'clean up after');
    const dir = dirname(file.path);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return 0;
      throw fsError('list the folder of', file, err);
    }
    const mine = names.filter((n) => tempNamePattern(basename(file.path)).test(n));
    for (const name of mine) {
      try {
        await removeFile(join(dir, name));
      } catch (err) {
        throw fsError(`remove ${name}, a left-over temp file of`, file, err);
      }
    }
    return mine.length;
  }

  async probeWrite(output: Location): Promise<void> {
    const dir = asFile(output).path.replace(/\/+$/, '') || '/';
    const created = await missingFolders(dir);
    let failure: unknown = null;
    try {
      await writeAndDeleteProbe(this, output);
    } catch (err) {
      failure = err;
    }
    try {
      await removeEmptyFolders(created);
    } catch (err) {
      throw fsError('remove the folder created for the write check under', asFile(output), err);
    }
    if (failure !== null) throw failure;
  }

  async exists(loc: Location): Promise<boolean> {
    return (await this.size(loc)) !== null;
  }

  async size(loc: Location): Promise<number | null> {
    const file = asFile(loc);
    try {
      const st = await stat(file.path);
      return st.isFile() ? st.size : null;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return null;
      throw fsError('stat', file, err);
    }
  }

  async delete(loc: Location): Promise<boolean> {
    const file = asFile(loc);
    assertObjectLocation(file, 'delete');
    try {
      await unlink(file.path);
      return true;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return false;
      throw fsError('delete', file, err);
    }
  }
}
