/**
 * A finished list's files: the listing with download URLs (pre-signed S3 URLs that need no key, or
 * this API's streamed download route for local storage), and the download route itself (streamed
 * from either storage; never read into memory).
 */
import type { FastifyRequest } from 'fastify';
import { contentTypeOf, type ListFile } from '../../pipeline/list-files.js';
import { signedDownloadUrl } from '../../storage/index.js';
import { askerOf, type ApiContext, type ApiInstance } from '../context.js';
import { ROUTES } from '../route-table.js';
import { DownloadBody, FileParams, FilesBody, IdParams } from '../schemas.js';
import { errors, routeOptions } from './route-options.js';

type FileEntry = FilesBody['files'][number];

/** Where clients reach this API: `LISTWASH_API_PUBLIC_URL`, else the request's own scheme and host. */
export function publicBase(ctx: ApiContext, req: FastifyRequest): string {
  return ctx.cfg.apiPublicUrl !== '' ? ctx.cfg.apiPublicUrl.replace(/\/+$/, '') : `${req.protocol}://${req.host}`;
}

async function entryFor(ctx: ApiContext, req: FastifyRequest, listId: string, f: ListFile): Promise<FileEntry> {
  const name = f.name as FileEntry['name'];
  const base = { name, size: f.size, contentType: contentTypeOf(f.name) };
  if (f.location.kind === 's3') {
    const expiresIn = ctx.cfg.downloadUrlTtlSec;
    const url = await signedDownloadUrl(ctx.s3, f.location, expiresIn, f.name);
    return { ...base, url, expiresAt: Date.now() + expiresIn * 1000 };
  }
  return { ...base, url: `${publicBase(ctx, req)}/v1/lists/${encodeURIComponent(listId)}/files/${f.name}`, expiresAt: null };
}

export function registerFileRoutes(app: ApiInstance, ctx: ApiContext): void {
  app.get(ROUTES.listFiles.path, routeOptions('listFiles', { params: IdParams, response: { 200: FilesBody, ...errors(400, 401, 404, 409, 502, 503) } }), async (req) => {
    const files = await ctx.service.files(req.params.id, askerOf(req));
    return { files: await Promise.all(files.map((f) => entryFor(ctx, req, req.params.id, f))) };
  });

  app.get(
    ROUTES.downloadFile.path,
    routeOptions('downloadFile', { params: FileParams, produces: ['text/csv', 'application/json', 'text/html'], response: { 200: DownloadBody, ...errors(400, 401, 404, 409, 502, 503) } }),
    async (req, reply) => {
      const { stream, size, contentType } = await ctx.service.openFile(req.params.id, req.params.name, askerOf(req));
      return reply.type(contentType).header('content-length', size).header('content-disposition', `attachment; filename="${req.params.name}"`).send(stream);
    },
  );
}
