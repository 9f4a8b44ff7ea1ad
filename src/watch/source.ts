/**
 * What a watcher watches: a prefix of objects (an S3 prefix or a local folder) listed page by page.
 * Each CSV found is a `WatchedObject`: its name under the prefix and its version (S3's ETag, or a local
 * file's size, mtime and inode), which together with the source identify it for good.
 */
export interface WatchedObject {
  /** The object's name relative to the watched prefix, `/`-separated (`team/march.csv`). */
  name: string;
  /** Its location as a list input (`s3://bucket/key` or a `file://` URL). */
  input: string;
  /** Its version: a new version of the same name is a new object (a new list). */
  version: string;
}

export interface WatchSource {
  /** The watched prefix, canonical (`s3://bucket/incoming/`, `file:///srv/incoming/`): part of every object's identity. */
  readonly url: string;
  /**
   * The CSV objects under the prefix now, a page at a time. Local folders only yield files whose size
   * and mtime did not change since the previous listing (a file being written is taken once it is still).
   */
  list(): AsyncIterable<WatchedObject[]>;
}

/** Whether an object name is a CSV file to take (`.csv`, any case; hidden names and folders are not). */
export function isCsvName(name: string): boolean {
  const base = name.slice(name.lastIndexOf('/') + 1);
  return /\.csv$/i.test(base) && !base.startsWith('.') && !name.endsWith('/');
}
