/**
 * `listwash/client`: a typed client of the HTTP API, on `fetch` (Node ≥ 20, browsers, Deno, Bun).
 * Its types are the server's own schemas (`src/api/schemas.ts`), so client and server cannot drift.
 * Every failure is a `ListwashApiError` with the server's stable error code.
 *
 * ```ts
 * import { ListwashClient } from 'listwash/client';
 * const lw = new ListwashClient({ baseUrl: 'http://127.0.0.1:8080', token: process.env.LISTWASH_TOKEN });
 * const { list } = await lw.createList({ input: 's3://bucket/lists/march.csv' });
 * const done = await lw.waitForList(list.id);
 * for (const f of await lw.listFiles(done.id)) console.log(f.name, f.url);
 * ```
 */
import type {
  CancelBody,
  CreateListJson,
  DeleteBody,
  ErrorBody,
  FilesBody,
  ListBody,
  ListsPage,
  ReadyBody,
  VerifyBody,
  VerifyRequest,
} from '../api/schemas.js';

export type List = ListBody;
export type ListState = ListBody['state'];
export type ListFile = FilesBody['files'][number];
export type FileName = ListFile['name'];
export type VerifyAnswer = VerifyBody;
export type VerifyAddressResult = VerifyBody['results'][number];
export type { CancelBody, CreateListJson, DeleteBody, ListsPage, ReadyBody };

/** Client-side codes (the server's codes are listed in the README's error-code table). */
export const CLIENT_ERROR_CODES = {
  /** The server could not be reached (connection refused, DNS, TLS, aborted). */
  NETWORK: 'CLIENT_NETWORK',
  /** The server answered something that is not this API's JSON. */
  BAD_RESPONSE: 'CLIENT_BAD_RESPONSE',
  /** `waitForList` gave up (its `timeoutMs` passed). */
  TIMEOUT: 'CLIENT_TIMEOUT',
} as const;

export class ListwashApiError extends Error {
  override readonly name = 'ListwashApiError';

  constructor(
    /** The server's error code (e.g. `JOB_NOT_FOUND`, `API_VALIDATION`), or a `CLIENT_*` code. */
    readonly code: string,
    message: string,
    /** HTTP status; 0 when there was no answer. */
    readonly status: number,
    /** The request field at fault (validation errors, locations). */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ListwashClientOptions {
  /** e.g. `http://127.0.0.1:8080` (a path prefix is kept: `https://host/listwash`). */
  baseUrl: string;
  /** The API key's token (sent as `Authorization: Bearer`). */
  token?: string;
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
}

/** The fields of a create (the server's schema), sent as form fields beside the uploaded file. */
export type UploadOptions = Omit<CreateListJson, 'input'> & {
  /** File name sent with the upload (kept in the stored object's name). Default `list.csv`. */
  filename?: string;
};

const FINAL_STATES: readonly ListState[] = ['done', 'failed', 'cancelled'];

export class ListwashClient {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly opts: ListwashClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** Submit a list by location. `created: false`: a list with this `id` existed; it is returned instead. */
  async createList(req: CreateListJson): Promise<{ list: List; created: boolean }> {
    const res = await this.request('POST', '/v1/lists', { json: req });
    return { list: await this.json<List>(res), created: res.status === 202 };
  }

  /**
   * Submit a list by upload. `file` is any Blob; for a file on disk without reading it into memory,
   * pass `await fs.openAsBlob(path)` (Node ≥ 20).
   */
  async uploadList(file: Blob, opts: UploadOptions = {}): Promise<{ list: List; created: boolean }> {
    const form = new FormData();
    for (const k of ['output', 'callbackUrl', 'id'] as const) if (opts[k] !== undefined) form.append(k, opts[k]);
    if (opts.emailColumn !== undefined) form.append('emailColumn', String(opts.emailColumn));
    if (opts.escapeFormulas !== undefined) form.append('escapeFormulas', String(opts.escapeFormulas));
    if (opts.maxAge !== undefined) form.append('maxAge', String(opts.maxAge));
    form.append('file', file, opts.filename ?? 'list.csv');
    const res = await this.request('POST', '/v1/lists', { body: form });
    return { list: await this.json<List>(res), created: res.status === 202 };
  }

  async getList(id: string): Promise<List> {
    return this.json<List>(await this.request('GET', `/v1/lists/${enc(id)}`));
  }

  /** One page of the caller's lists, newest first. */
  async listLists(opts: { cursor?: string; limit?: number } = {}): Promise<ListsPage> {
    const q = new URLSearchParams();
    if (opts.cursor !== undefined) q.set('cursor', opts.cursor);
    if (opts.limit !== undefined) q.set('limit', String(opts.limit));
    const qs = q.toString();
    return this.json<ListsPage>(await this.request('GET', `/v1/lists${qs ? `?${qs}` : ''}`));
  }

  /** Every list of the caller, newest first, page by page. */
  async *allLists(opts: { limit?: number } = {}): AsyncGenerator<List> {
    let cursor: string | undefined;
    do {
      const page = await this.listLists({ ...opts, ...(cursor !== undefined ? { cursor } : {}) });
      yield* page.lists;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** A finished list's files with download URLs (`LIST_NOT_DONE` while it runs). */
  async listFiles(id: string): Promise<ListFile[]> {
    return (await this.json<FilesBody>(await this.request('GET', `/v1/lists/${enc(id)}/files`))).files;
  }

  /** Download one file through the API: the `Response` (stream its `body`, or `await res.text()`). */
  async downloadFile(id: string, name: FileName): Promise<Response> {
    return this.request('GET', `/v1/lists/${enc(id)}/files/${enc(name)}`);
  }

  async cancelList(id: string): Promise<CancelBody> {
    return this.json<CancelBody>(await this.request('POST', `/v1/lists/${enc(id)}/cancel`));
  }

  /** Delete a list's state; `files: true` also deletes its output files. */
  async deleteList(id: string, opts: { files?: boolean } = {}): Promise<DeleteBody> {
    return this.json<DeleteBody>(await this.request('DELETE', `/v1/lists/${enc(id)}${opts.files ? '?files=true' : ''}`));
  }

  /** Verdicts for a few addresses (at most the server's LISTWASH_VERIFY_MAX_ADDRESSES). */
  async verify(addresses: string[], opts: { deadlineMs?: number } = {}): Promise<VerifyAnswer> {
    const body: VerifyRequest = { addresses, ...(opts.deadlineMs !== undefined ? { deadlineMs: opts.deadlineMs } : {}) };
    return this.json<VerifyAnswer>(await this.request('POST', '/v1/verify', { json: body }));
  }

  /**
   * Poll a list until it ends (`done`, `failed` or `cancelled`) and return it. `timeoutMs` (default:
   * none) ends the wait with `CLIENT_TIMEOUT`; `onProgress` sees every poll.
   */
  async waitForList(id: string, opts: { pollMs?: number; timeoutMs?: number; onProgress?: (l: List) => void } = {}): Promise<List> {
    const deadline = opts.timeoutMs !== undefined ? Date.now() + opts.timeoutMs : Number.POSITIVE_INFINITY;
    for (;;) {
      const list = await this.getList(id);
      opts.onProgress?.(list);
      if (FINAL_STATES.includes(list.state)) return list;
      if (Date.now() >= deadline) throw new ListwashApiError(CLIENT_ERROR_CODES.TIMEOUT, `list ${id} is still ${list.state} after ${opts.timeoutMs} ms`, 0);
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
    }
  }

  async healthz(): Promise<{ ok: true }> {
    return this.json<{ ok: true }>(await this.request('GET', '/healthz'));
  }

  /** Readiness: answered also when not ready (`ready: false`, HTTP 503). */
  async readyz(): Promise<ReadyBody> {
    return this.json<ReadyBody>(await this.request('GET', '/readyz', { okStatuses: [503] }));
  }

  /** Prometheus text (needs the admin key). */
  async metrics(): Promise<string> {
    return (await this.request('GET', '/metrics')).text();
  }

  /** The OpenAPI 3.1 document. */
  async openapi(): Promise<Record<string, unknown>> {
    return this.json<Record<string, unknown>>(await this.request('GET', '/openapi.json'));
  }

  /** One request; a non-2xx answer becomes a `ListwashApiError` with the server's code. */
  private async request(method: string, path: string, opts: { json?: unknown; body?: FormData; okStatuses?: number[] } = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    let body: string | FormData | undefined = opts.body;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    let res: Response;
    try {
      res = await this.fetchFn(`${this.base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    } catch (err) {
      throw new ListwashApiError(CLIENT_ERROR_CODES.NETWORK, `${method} ${path}: ${err instanceof Error ? err.message : String(err)}`, 0, undefined, { cause: err });
    }
    if (res.ok || opts.okStatuses?.includes(res.status)) return res;
    throw await errorOf(res, method, path);
  }

  private async json<T>(res: Response): Promise<T> {
    try {
      return (await res.json()) as T;
    } catch (err) {
      throw new ListwashApiError(CLIENT_ERROR_CODES.BAD_RESPONSE, `the answer is not JSON (HTTP ${res.status})`, res.status, undefined, { cause: err });
    }
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

async function errorOf(res: Response, method: string, path: string): Promise<ListwashApiError> {
  const text = await res.text().catch(() => '');
  try {
    const e = (JSON.parse(text) as ErrorBody).error;
    if (e && typeof e.code === 'string') return new ListwashApiError(e.code, e.message, res.status, e.field);
  } catch {
    // Not this API's JSON (a proxy's error page): reported below with the status.
  }
  return new ListwashApiError(CLIENT_ERROR_CODES.BAD_RESPONSE, `${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`, res.status);
}
