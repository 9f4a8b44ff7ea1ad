/**
 * The bucket watcher: every new CSV object under a prefix (S3 or a local folder) becomes exactly one
 * list, its results under `<out>/<name without extension>/`. Several watchers may watch the same
 * prefix, and a watcher may restart any time: an object's list id is derived from the prefix, its name
 * and its version, so whoever submits it submits the same list, and submitting a list twice is a no-op.
 *
 * Each poll lists the prefix; objects this process has already handled are skipped without a Redis
 * round trip, the others are looked up in the claims (`claims.ts`), and the unrecorded ones are
 * submitted, then recorded. A malformed file fails its list like any list (its `error.json` lands in
 * its output folder) and, being recorded, is never submitted again — until a new version replaces it.
 */
import { stat } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { RedisClient } from '../redis/connect.js';
import type { Config } from '../config.js';
import { ErrorCodes, ListwashError, errorMessage } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { SubmitOptions } from '../pipeline/service.js';
import { createS3Client, fileLocation, parseLocation, s3Location, type Location } from '../storage/index.js';
import { WatchClaims } from './claims.js';
import { LocalSource } from './local-source.js';
import { watchListId, watchOutput } from './naming.js';
import { S3Source } from './s3-source.js';
import type { WatchedObject, WatchSource } from './source.js';

/** What the watcher needs of the service. */
export interface WatchService {
  readonly cfg: Config;
  readonly redis: RedisClient;
  submit(opts: SubmitOptions): Promise<{ listId: string; created: boolean }>;
}

export interface Submitted {
  name: string;
  input: string;
  output: string;
  listId: string;
  /** False when the list existed already (another watcher submitted it first). */
  created: boolean;
}

export interface WatcherOptions {
  log?: Logger;
  /** Told of every list this watcher submits. */
  onSubmitted?: (s: Submitted) => void;
}

/** Errors about one object that no later poll can mend: the object is skipped (until a new version). */
function isObjectProblem(err: unknown): boolean {
  return err instanceof ListwashError && (err.code === ErrorCodes.STORAGE_BAD_URL || err.code === ErrorCodes.JOB_INVALID);
}

/** A location as a prefix: `s3://b/in` → `s3://b/in/`; a local path must be a folder. */
async function asPrefix(raw: string, what: string): Promise<Location> {
  const loc = parseLocation(raw);
  if (loc.kind === 's3') return loc.key === '' || loc.key.endsWith('/') ? loc : s3Location(loc.bucket, `${loc.key}/`);
  const st = await statOrNull(loc.path);
  if (what === 'watched' && !st?.isDirectory()) throw new ListwashError(ErrorCodes.STORAGE_NOT_FOUND, `the watched folder ${loc.path} does not exist or is not a folder`, { url: loc.url });
  if (st && !st.isDirectory()) throw new ListwashError(ErrorCodes.STORAGE_BAD_URL, `the output ${loc.path} is a file, not a folder`, { url: loc.url });
  return loc.path.endsWith('/') ? loc : fileLocation(`${loc.path}/`);
}

async function statOrNull(path: string) {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ListwashError(ErrorCodes.STORAGE_IO, `cannot look at ${path}: ${errorMessage(err)}`, { path }, { cause: err });
  }
}

/** The part of `out` under `source` (to skip it), null when the output lies elsewhere. */
function nestedOutput(source: Location, out: Location): string | null {
  if (source.kind === 's3' && out.kind === 's3') return out.bucket === source.bucket && out.key.startsWith(source.key) ? out.key : null;
  if (source.kind === 'file' && out.kind === 'file') return out.path.startsWith(source.path) ? out.path : null;
  return null;
}

export class Watcher {
  /** name → version this process has handled (submitted, found recorded, or skipped as unusable). */
  private readonly handled = new Map<string, string>();
  private readonly log: Logger;

  private constructor(
    private readonly svc: WatchService,
    readonly source: WatchSource,
    readonly out: Location,
    private readonly claims: WatchClaims,
    private readonly s3: S3Client | null,
    private readonly opts: WatcherOptions,
  ) {
    this.log = opts.log ?? silentLogger;
  }

  /**
   * A watcher of `source` (`s3://bucket/prefix/` or a local folder) writing results under `out`.
   * @throws ListwashError `STORAGE_BAD_URL` / `STORAGE_NOT_FOUND` for unusable locations (the output may
   *   not be the watched prefix itself).
   */
  static async create(svc: WatchService, source: string, out: string, opts: WatcherOptions = {}): Promise<Watcher> {
    const src = await asPrefix(source, 'watched');
    const dst = await asPrefix(out, 'output');
    if (src.url === dst.url) throw new ListwashError(ErrorCodes.STORAGE_BAD_URL, `the output must not be the watched prefix itself (${src.url})`, { url: src.url });
    const skip = nestedOutput(src, dst);
    const s3 = src.kind === 's3' ? createS3Client(svc.cfg) : null;
    const watched = src.kind === 's3' ? new S3Source(s3!, src, skip) : new LocalSource(src, skip);
    return new Watcher(svc, watched, dst, new WatchClaims(svc.redis, svc.cfg.queuePrefix, watched.url), s3, opts);
  }

  /** One listing of the prefix: submit what is new. Returns the lists submitted. */
  async pollOnce(): Promise<Submitted[]> {
    const out: Submitted[] = [];
    for await (const page of this.source.list()) {
      const fresh = page.filter((o) => this.handled.get(o.name) !== o.version);
      if (fresh.length === 0) continue;
      const todo = new Set(await this.claims.unclaimed(fresh));
      for (const o of fresh) {
        if (!todo.has(o)) this.handled.set(o.name, o.version);
        else {
          const s = await this.take(o);
          if (s) out.push(s);
        }
      }
    }
    return out;
  }

  /**
   * Submit one object's list and record it; an object that cannot be a list is skipped with a warning
   * (null). What a listing feeds, and what an S3 event consumer would feed (bucket, key, ETag).
   */
  async take(o: WatchedObject): Promise<Submitted | null> {
    const listId = watchListId(this.source.url, o);
    let output: string;
    let created: boolean;
    try {
      output = watchOutput(this.out, o.name).url;
      ({ created } = await this.svc.submit({ listId, input: o.input, output }));
    } catch (err) {
      if (!isObjectProblem(err)) throw err;
      this.handled.set(o.name, o.version);
      this.log.warn({ name: o.name, code: (err as ListwashError).code }, `watch: ${o.input} skipped: ${errorMessage(err)}`);
      return null;
    }
    await this.claims.record(o, listId);
    this.handled.set(o.name, o.version);
    const s: Submitted = { name: o.name, input: o.input, output, listId, created };
    if (created) {
      this.log.info({ listId, input: o.input, output }, 'watch: list submitted');
      this.opts.onSubmitted?.(s);
    }
    return s;
  }

  /**
   * Poll every `intervalMs` until `signal` aborts. The first poll's failure is thrown (a wrong bucket
   * or folder fails at start); later failures are logged and the next poll tries again.
   */
  async run(intervalMs: number, signal: AbortSignal): Promise<void> {
    let first = true;
    while (!signal.aborted) {
      try {
        await this.pollOnce();
      } catch (err) {
        if (first) throw err;
        this.log.warn({ code: err instanceof ListwashError ? err.code : undefined }, `watch: listing ${this.source.url} failed, trying again in ${intervalMs} ms: ${errorMessage(err)}`);
      }
      first = false;
      await sleep(intervalMs, signal);
    }
  }

  close(): void {
    this.s3?.destroy();
  }
}

/** Resolve after `ms`, or as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
