/**
 * A list's output files: which names exist under its output prefix, and reading or deleting them.
 * Only listwash's own file names are ever touched (never anything else under the user's prefix).
 */
import type { Readable } from 'node:stream';
import type { Config } from '../config.js';
import { ErrorCodes, ListwashError } from '../errors.js';
import { joinLocation, parseLocation, storeFor, type Location } from '../storage/index.js';

/** What a finished list writes, in the order users look at them; `summary.json` is written last. */
export const RESULT_FILES = ['report.csv', 'clean.csv', 'risky.csv', 'invalid.csv', 'unknown.csv', 'report.html', 'summary.json'] as const;
/** What a failed list writes instead (when its output is writable): its error code and message. */
export const ERROR_FILE = 'error.json';

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
};

export function contentTypeOf(name: string): string {
  return CONTENT_TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';
}

export interface ListFile {
  name: string;
  size: number;
  location: Location;
}

/** Whether `name` is one of the files a list writes (anything else is refused: no path tricks). */
export function isListFileName(name: string): boolean {
  return (RESULT_FILES as readonly string[]).includes(name) || name === ERROR_FILE;
}

export class ListFiles {
  constructor(
    private readonly cfg: Config,
    private readonly output: string,
  ) {}

  location(name: string): Location {
    if (!isListFileName(name)) throw new ListwashError(ErrorCodes.STORAGE_BAD_URL, `${JSON.stringify(name)} is not a file listwash writes`, { name });
    return joinLocation(parseLocation(this.output), name);
  }

  /** The files among `names` that exist, with their sizes. */
  async existing(names: readonly string[]): Promise<ListFile[]> {
    const found = await Promise.all(
      names.map(async (name) => {
        const location = this.location(name);
        const size = await storeFor(location, this.cfg).size(location);
        return size === null ? null : { name, size, location };
      }),
    );
    return found.filter((f): f is ListFile => f !== null);
  }

  async open(name: string): Promise<Readable> {
    const location = this.location(name);
    return storeFor(location, this.cfg).openRead(location);
  }

  /** Delete every file listwash writes for a list; returns the names that were there. */
  async deleteAll(): Promise<string[]> {
    const names = [...RESULT_FILES, ERROR_FILE];
    // summary.json first: without it the rest is no longer "complete results".
    const order = ['summary.json', ...names.filter((n) => n !== 'summary.json')];
    const deleted: string[] = [];
    for (const name of order) {
      const location = this.location(name);
      if (await storeFor(location, this.cfg).delete(location)) deleted.push(name);
    }
    return deleted;
  }
}
