/** The bucket watcher: new CSV objects under a prefix (S3 or a local folder) become lists. */
export { Watcher, type Submitted, type WatcherOptions, type WatchService } from './watcher.js';
export { runWatch, type RunWatchOptions } from './run-watch.js';
export { watchListId, watchOutput } from './naming.js';
export { WatchClaims, watchClaimsKey } from './claims.js';
export type { WatchedObject, WatchSource } from './source.js';
