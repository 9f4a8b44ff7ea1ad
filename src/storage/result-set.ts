/**
 * Result files under one output prefix that appear together or not at all. A marker file (the pipeline's
 * `summary.json`) is written last: the set is complete exactly when its marker exists.
 *
 * 1. `begin` removes what an earlier run left under these names: hidden temp files of a killed writer (local), the
 *    marker (first), then the files themselves — a run replaces the whole set (and, on request, other names such as
 *    an earlier failure's `error.json`).
 * 2. Files are written staged (`Store.openStaged`: local temp files; S3 objects, checked against the bytes written).
 * 3. `finish` waits until every file is stored in full; `commit` publishes them all (local: renames) and then writes
 *    the marker.
 * 4. On any failure before the marker is written, `discard` cancels what is in flight and removes what this run
 *    wrote, so the prefix holds none of the set's files.
 */
import { once } from 'node:events';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import { joinLocation, type Location } from './location.js';
import { displayLocation } from './store-common.js';
import type { StagedWrite, Store, WriteOptions } from './store.js';

/** One file of a result set: write chunks (with backpressure), then `end()`. */
export class ResultFile {
  /** Bytes written so far. */
  bytes = 0;

  constructor(
    readonly name: string,
    readonly loc: Location,
    private readonly staged: StagedWrite,
  ) {}

  /** Write a chunk; resolves when the file can take more. A failed write rejects with the store's typed error. */
  async write(chunk: Buffer): Promise<void> {
    this.bytes += chunk.length;
    if (this.staged.stream.write(chunk)) return;
    try {
      // A write that fails while we wait for room rejects `stored`; a stream that was destroyed earlier never drains.
      await Promise.race([once(this.staged.stream, 'drain'), this.staged.stored]);
    } catch (err) {
      throw await this.typed(err);
    }
  }

  /** No more data: resolves when the file is stored in full (not yet published). */
  async end(): Promise<void> {
    this.staged.stream.end();
    await this.staged.stored;
  }

  /** The store's typed error for a failure first seen as a raw stream error. */
  private async typed(raw: unknown): Promise<unknown> {
    try {
      await this.staged.stored;
    } catch (err) {
      return err;
    }
    return raw;
  }
}

export class ResultSet {
  private readonly files: { file: ResultFile; staged: StagedWrite }[] = [];

  private constructor(
    private readonly store: Store,
    private readonly prefix: Location,
    private readonly names: readonly string[],
    private readonly marker: string,
  ) {}

  /**
   * Start writing the set `names` + `marker` under `prefix`, removing what an earlier run left there (see above).
   * @param opts.alsoRemove more names an earlier run may have left that do not belong with a new set (removed too).
   * @throws the store's typed error when the prefix cannot be cleaned (e.g. `STORAGE_READ_ONLY`).
   */
  static async begin(store: Store, prefix: Location, names: readonly string[], marker: string, opts: { alsoRemove?: readonly string[] } = {}): Promise<ResultSet> {
    const all = [marker, ...names, ...(opts.alsoRemove ?? [])];
    for (const name of all) await store.removeLeftovers(joinLocation(prefix, name));
    for (const name of all) await store.delete(joinLocation(prefix, name));
    return new ResultSet(store, prefix, names, marker);
  }

  /** Open one of the set's files for writing. */
  async open(name: string, opts: WriteOptions = {}): Promise<ResultFile> {
    if (!this.names.includes(name)) throw new RangeError(`${name} is not a file of this result set (${this.names.join(', ')})`);
    const loc = joinLocation(this.prefix, name);
    const staged = await this.store.openStaged(loc, opts);
    const file = new ResultFile(name, loc, staged);
    this.files.push({ file, staged });
    return file;
  }

  /** End every file; resolves when all are stored in full. */
  async finish(): Promise<void> {
    await Promise.all(this.files.map(({ file }) => file.end()));
  }

  /** Publish every file, then write the marker: from then on the set is complete. Call after `finish`. */
  async commit(marker: string | Buffer, opts: WriteOptions = {}): Promise<void> {
    for (const { staged } of this.files) await staged.publish();
    const handle = await this.store.openWrite(joinLocation(this.prefix, this.marker), opts);
    handle.stream.end(marker);
    await handle.done;
  }

  /**
   * Stop the writes in flight and remove their temp data, without touching the set's locations: for a run that another
   * run of the same set has taken over (what is at the locations is the other run's).
   * @throws ListwashError `STORAGE_IO` naming the temp data that could not be removed.
   */
  async cancel(): Promise<void> {
    const problems: string[] = [];
    for (const { staged } of this.files) {
      try {
        await staged.cancel();
      } catch (err) {
        problems.push(errorMessage(err));
      }
    }
    if (problems.length > 0) {
      throw new ListwashError(ErrorCodes.STORAGE_IO, `temporary data under ${displayLocation(this.prefix)} could not all be removed: ${problems.join('; ')}`, {
        url: this.prefix.url,
        problems,
      });
    }
  }

  /**
   * After a failure (before the marker was written): cancel the writes in flight and remove what this run wrote.
   * @throws ListwashError `STORAGE_IO` naming what could not be removed (the set is still incomplete: no marker).
   */
  async discard(): Promise<void> {
    const problems: string[] = [];
    for (const { file, staged } of this.files) {
      try {
        await staged.cancel();
        await this.store.delete(file.loc);
      } catch (err) {
        problems.push(errorMessage(err));
      }
    }
    if (problems.length > 0) {
      throw new ListwashError(ErrorCodes.STORAGE_IO, `partial results under ${displayLocation(this.prefix)} could not all be removed: ${problems.join('; ')}`, {
        url: this.prefix.url,
        problems,
      });
    }
  }
}
