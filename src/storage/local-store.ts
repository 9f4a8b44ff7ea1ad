/**
 * The local-filesystem store. Writes are atomic: data goes to a hidden temp file beside the target, is flushed to
 * disk, then renamed over the target.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import type { FileLocation, Location } from './location.js';
import { abortedError, assertObjectLocation, checkMaxBytes, reportedThroughDone, settleAborted } from './store-common.js';
import type { ReadOptions, Store, WriteHandle, WriteOptions } from './store.js';

function errnoCode(err: unknown): string | undefined {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

function asFile(loc: Location): FileLocation {
  if (loc.kind !== 'file') {
    throw new ListwashError(ErrorCodes.STORAGE_BAD_URL, `the local store cannot serve ${loc.url}`, { url: loc.url });
  }
  return loc;
}

function ioError(op: string, loc: FileLocation, err: unknown): ListwashError {
  if (err instanceof ListwashError) return err;
  const code = errnoCode(err);
  if (code === 'ENOENT') {
    return new ListwashError(ErrorCodes.STORAGE_NOT_FOUND, `${loc.path} does not exist`, { url: loc.url, path: loc.path }, { cause: err });
  }
  return new ListwashError(ErrorCodes.STORAGE_IO, `cannot ${op} ${loc.path}: ${errorMessage(err)}`, { url: loc.url, path: loc.path, errno: code }, { cause: err });
}

/** Remove a temp file; a file that is already gone is fine. */
async function removeTemp(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
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
      throw ioError('read', file, err);
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new ListwashError(ErrorCodes.STORAGE_IO, `cannot read ${file.path}: not a regular file`, { url: file.url, path: file.path });
    } catch (err) {
      await handle.close();
      throw ioError('read', file, err);
    }
    return createReadStream('', { fd: handle, ...(opts.maxBytes !== undefined ? { start: 0, end: opts.maxBytes - 1 } : {}) });
  }

  async openWrite(loc: Location, _opts: WriteOptions = {}): Promise<WriteHandle> {
    const file = asFile(loc);
    assertObjectLocation(file, 'write');
    const dir = dirname(file.path);
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw ioError('create directory for', file, err);
    }
    const temp = join(dir, `.${basename(file.path)}.${randomBytes(6).toString('hex')}.tmp`);
    // `flush`: fsync before close, so the renamed file is complete on disk.
    const stream = createWriteStream(temp, { flags: 'wx', flush: true });
    // The failure is reported by `done` (and to `pipeline` through `stream.errored`); without a listener an 'error'
    // emitted before the caller has attached one (e.g. a failed open) would crash the process.
    stream.on('error', reportedThroughDone);
    let aborted = false;

    const done = (async () => {
      try {
        await finished(stream);
        if (aborted) throw abortedError(file);
        await rename(temp, file.path);
      } catch (err) {
        await removeTemp(temp);
        throw aborted ? abortedError(file) : ioError('write', file, err);
      }
    })();

    return {
      stream,
      done,
      abort: async () => {
        aborted = true;
        stream.destroy();
        await settleAborted(done);
      },
    };
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
      throw ioError('stat', file, err);
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
      throw ioError('delete', file, err);
    }
  }
}
