/**
 * Lists: submit (JSON or upload), look at one, page through the caller's lists, cancel, delete.
 * A key sees only its own lists: another key's list is `404`, exactly like one that does not exist.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Compile } from 'typebox/compile';
import { ErrorCodes, ListwashError } from '../../errors.js';
import type { ListView } from '../../pipeline/list-view.js';
import type { SubmitOptions } from '../../pipeline/service.js';
import { askerOf, keyOf, type ApiContext, type ApiInstance } from '../context.js';
import { fieldError, fromValidation } from '../errors.js';
import { checkLocation } from '../locations.js';
import { ROUTES } from '../route-table.js';
import { CancelBody, CreateListFields, CreateListJson, CreateListMultipart, DeleteBody, DeleteQuery, IdParams, ListSchema, ListsPage, ListsQuery, type CreateListFields as Fields } from '../schemas.js';
import { receiveUpload } from '../uploads.js';
import { errors, routeOptions } from './route-options.js';

/** A create request as JSON sends it; a multipart create's form fields are read into the same shape. */
type CreateRequest = CreateListJson;

const checkFields = Compile(CreateListFields);

/** Form fields → a create request (a digits-only email column is an index). */
function fromFields(raw: Record<string, string>, input: string): CreateRequest {
  if (!checkFields.Check(raw)) throw fromValidation([...checkFields.Errors(raw)], 'body');
  const f: Fields = raw;
  const emailColumn = f.emailColumn === undefined ? undefined : /^\d+$/.test(f.emailColumn) ? Number(f.emailColumn) : f.emailColumn;
  return {
    input,
    ...(f.output !== undefined ? { output: f.output } : {}),
    ...(emailColumn !== undefined ? { emailColumn } : {}),
    ...(f.callbackUrl !== undefined ? { callbackUrl: f.callbackUrl } : {}),
    ...(f.id !== undefined ? { id: f.id } : {}),
    ...(f.escapeFormulas !== undefined ? { escapeFormulas: f.escapeFormulas === 'true' } : {}),
    ...(f.maxAge !== undefined ? { maxAge: Number(f.maxAge) } : {}),
  };
}

/** The output of a list submitted without one: `LISTWASH_OUTPUT_PREFIX` + `<id>/`. */
export function defaultOutput(outputPrefix: string, listId: string): string {
  if (outputPrefix === '') throw fieldError(ErrorCodes.API_VALIDATION, 'output: is required (this server has no LISTWASH_OUTPUT_PREFIX)', 'output');
  return `${outputPrefix}${outputPrefix.endsWith('/') ? '' : '/'}${listId}/`;
}

/**
 * Check the locations against the key and the server, and submit. `inputChecked`: the input is the
 * server's own upload (not the caller's choice, so not checked against the key's prefixes).
 */
async function submit(ctx: ApiContext, req: FastifyRequest, c: CreateRequest, inputChecked: boolean): Promise<{ listId: string; created: boolean }> {
  const key = keyOf(req);
  const input = inputChecked ? c.input : await checkLocation(c.input, 'input', key, ctx.locations);
  const listId = c.id ?? randomUUID();
  const output = c.output !== undefined ? await checkLocation(c.output, 'output', key, ctx.locations) : defaultOutput(ctx.cfg.outputPrefix, listId);
  const opts: SubmitOptions = {
    listId,
    input,
    output,
    owner: key.name,
    ...(c.emailColumn !== undefined ? { emailColumn: c.emailColumn } : {}),
    ...(c.callbackUrl !== undefined ? { callbackUrl: c.callbackUrl } : {}),
    ...(c.escapeFormulas !== undefined ? { escapeFormulas: c.escapeFormulas } : {}),
    ...(c.maxAge !== undefined ? { maxAge: c.maxAge } : {}),
  };
  return ctx.service.submit(opts);
}

async function viewOrNotFound(ctx: ApiContext, req: FastifyRequest, listId: string): Promise<ListView> {
  const v = await ctx.service.view(listId, askerOf(req));
  if (!v) throw new ListwashError(ErrorCodes.JOB_NOT_FOUND, `no list with id ${listId}`, { field: 'id', in: 'params' });
  return v;
}

async function create(ctx: ApiContext, req: FastifyRequest, reply: FastifyReply): Promise<ListView> {
  let result: { listId: string; created: boolean };
  if (req.isMultipart()) {
    const upload = await receiveUpload(req, ctx.cfg, ctx.log);
    try {
      result = await submit(ctx, req, fromFields(upload.fields, upload.input), true);
    } catch (err) {
      await upload.discard();
      throw err;
    }
    // The same id again: the list that exists is the answer, the new upload is not needed.
    if (!result.created) await upload.discard();
  } else {
    result = await submit(ctx, req, req.body as CreateListJson, false);
  }
  const view = await viewOrNotFound(ctx, req, result.listId);
  reply.code(result.created ? 202 : 200).header('location', `/v1/lists/${encodeURIComponent(result.listId)}`);
  return view;
}

export function registerListRoutes(app: ApiInstance, ctx: ApiContext): void {
  app.post(
    ROUTES.createList.path,
    routeOptions('createList', {
      body: { content: { 'application/json': { schema: CreateListJson }, 'multipart/form-data': { schema: CreateListMultipart } } },
      response: { 200: ListSchema, 202: ListSchema, ...errors(400, 401, 403, 404, 409, 413, 415, 501, 503) },
    }),
    (req, reply) => create(ctx, req, reply),
  );

  app.get(ROUTES.listLists.path, routeOptions('listLists', { querystring: ListsQuery, response: { 200: ListsPage, ...errors(400, 401, 503) } }), async (req) => {
    const page = await ctx.service.lists(askerOf(req), { ...(req.query.cursor !== undefined ? { cursor: req.query.cursor } : {}), ...(req.query.limit !== undefined ? { limit: req.query.limit } : {}) });
    return page;
  });

  app.get(ROUTES.getList.path, routeOptions('getList', { params: IdParams, response: { 200: ListSchema, ...errors(400, 401, 404, 503) } }), (req) => viewOrNotFound(ctx, req, req.params.id));

  app.post(ROUTES.cancelList.path, routeOptions('cancelList', { params: IdParams, response: { 200: CancelBody, ...errors(400, 401, 404, 503) } }), async (req) => {
    const { cancelled, view } = await ctx.service.cancel(req.params.id, askerOf(req));
    return { cancelled, list: view };
  });

  app.delete(ROUTES.deleteList.path, routeOptions('deleteList', { params: IdParams, querystring: DeleteQuery, response: { 200: DeleteBody, ...errors(400, 401, 404, 502, 503) } }), async (req) => {
    const { files } = await ctx.service.delete(req.params.id, askerOf(req), { files: req.query.files === true });
    return { deleted: true as const, files };
  });
}
