/**
 * Download links of a list's files for its webhook: a pre-signed S3 GET URL (valid
 * `LISTWASH_DOWNLOAD_URL_TTL_SEC` from the attempt), or the file's `file://` location for local storage.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config.js';
import type { ListFile } from '../pipeline/list-files.js';
import { createS3Client, signedDownloadUrl } from '../storage/index.js';
import type { WebhookFile } from './payload.js';

export class FileLinks {
  private client: S3Client | null = null;

  constructor(private readonly cfg: Config) {}

  private s3(): S3Client {
    this.client ??= createS3Client(this.cfg);
    return this.client;
  }

  async of(files: readonly ListFile[]): Promise<WebhookFile[]> {
    return Promise.all(files.map(async (f) => ({ name: f.name, size: f.size, url: await this.urlOf(f) })));
  }

  private async urlOf(f: ListFile): Promise<string> {
    if (f.location.kind === 'file') return f.location.url;
    return signedDownloadUrl(this.s3(), f.location, this.cfg.downloadUrlTtlSec);
  }

  close(): void {
    this.client?.destroy();
    this.client = null;
  }
}
