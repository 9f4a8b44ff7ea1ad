/**
 * An S3 prefix as a watch source: `ListObjectsV2`, 1,000 keys a page, following continuation tokens.
 * One listing per poll costs one request per 1,000 keys under the prefix; nothing else is read.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { s3Error, type S3Location } from '../storage/index.js';
import { isCsvName, type WatchedObject, type WatchSource } from './source.js';

export class S3Source implements WatchSource {
  readonly url: string;

  /**
   * @param prefix the watched prefix (its key ends with `/`, or is empty for the whole bucket).
   * @param skipPrefix keys under it are never taken (the output, when it lies under the watched prefix).
   * @param pageSize keys per `ListObjectsV2` request (S3's maximum, 1,000, by default).
   */
  constructor(
    private readonly client: S3Client,
    private readonly prefix: S3Location,
    private readonly skipPrefix: string | null,
    private readonly pageSize = 1000,
  ) {
    this.url = prefix.url;
  }

  async *list(): AsyncIterable<WatchedObject[]> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.prefix.bucket, Prefix: this.prefix.key, ContinuationToken: token, MaxKeys: this.pageSize }));
      } catch (err) {
        throw s3Error('list', this.prefix, err);
      }
      const objects: WatchedObject[] = [];
      for (const o of page.Contents ?? []) {
        if (!o.Key || !o.ETag || (this.skipPrefix !== null && o.Key.startsWith(this.skipPrefix))) continue;
        const name = o.Key.slice(this.prefix.key.length);
        if (!isCsvName(name)) continue;
        objects.push({ name, input: `s3://${this.prefix.bucket}/${o.Key}`, version: o.ETag.replace(/"/g, '') });
      }
      yield objects;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}
