/**
 * A local folder (and its subfolders) as a watch source. A file is taken once its size and mtime are
 * the same at two listings in a row, so a file still being copied in is not read half-written. Hidden
 * files and folders (a leading `.`: temp files of writers, listwash's own included) are skipped.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import type { FileLocation } from '../storage/index.js';
import { isCsvName, type WatchedObject, type WatchSource } from './source.js';

/** Files listed at once (one page). */
const PAGE = 1000;

interface Seen {
  version: string;
}

export class LocalSource implements WatchSource {
  readonly url: string;
  /** The version of each file at the previous listing. */
  private previous = new Map<string, Seen>();

  /**
   * @param folder the watched folder (its path ends with `/`).
   * @param skipFolder files under it are never taken (the output, when it lies inside the watched folder).
   */
  constructor(
    private readonly folder: FileLocation,
    private readonly skipFolder: string | null,
  ) {
    this.url = folder.url;
  }

  async *list(): AsyncIterable<WatchedObject[]> {
    const current = new Map<string, Seen>();
    let page: WatchedObject[] = [];
    for await (const name of this.walk('')) {
      const path = join(this.folder.path, name);
      const st = await statOrNull(path);
      if (!st?.isFile()) continue;
      const version = `${st.size}-${st.mtimeNs}-${st.ino}`;
      current.set(name, { version });
      if (this.previous.get(name)?.version !== version) continue;
      page.push({ name, input: pathToFileURL(path).href, version });
      if (page.length >= PAGE) {
        yield page;
        page = [];
      }
    }
    this.previous = current;
    yield page;
  }

  /** Relative names of the CSV files under `dir` (relative to the folder), depth first. */
  private async *walk(dir: string): AsyncIterable<string> {
    let entries;
    try {
      entries = await readdir(join(this.folder.path, dir), { withFileTypes: true });
    } catch (err) {
      // The watched folder itself must exist; a subfolder removed meanwhile is skipped.
      if (dir === '') throw new ListwashError(ErrorCodes.STORAGE_NOT_FOUND, `cannot list ${this.folder.path}: ${errorMessage(err)}`, { url: this.folder.url });
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.')) continue;
      const name = dir === '' ? e.name : `${dir}/${e.name}`;
      if (e.isDirectory()) {
        if (this.skipFolder !== null && join(this.folder.path, name) + '/' === this.skipFolder) continue;
        yield* this.walk(name);
      } else if (e.isFile() && isCsvName(name)) yield name;
    }
  }
}

async function statOrNull(path: string) {
  try {
    return await stat(path, { bigint: true });
  } catch (err) {
    // Removed between the listing and the stat: not there.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
