/**
 * The S3 client factory. Credentials come from the standard AWS chain (env, shared files, SSO, container/instance
 * metadata); nothing here reads the environment itself.
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { Config } from '../config.js';

export type S3Settings = Pick<Config, 's3Endpoint' | 's3Region' | 's3ForcePathStyle'>;

/**
 * Create an S3 client for the configured endpoint.
 *
 * With `s3Endpoint` set (MinIO, s3rver, …): path-style addressing, and checksums only where the API requires them.
 * With the SDK's default (`WHEN_SUPPORTED`) a streamed PutObject is sent with `aws-chunked` content encoding, and
 * S3-compatible servers that do not understand it (s3rver) store the chunk framing inside the object — silently
 * corrupt data. `WHEN_REQUIRED` sends plain bodies.
 *
 * @param cfg endpoint, region, path-style flag.
 * @param extra client options that win over the derived ones (e.g. explicit `credentials` in tests).
 */
export function createS3Client(cfg: S3Settings, extra: S3ClientConfig = {}): S3Client {
  // The pinned SDK prints a nine-line notice on Node 20 about *future* SDK releases needing Node 22; our
  // failures are one line each, and the notice says nothing about this installation. An operator who
  // sets the variable either way keeps their choice.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const custom = cfg.s3Endpoint !== '';
  const options: S3ClientConfig = {
    region: cfg.s3Region,
    forcePathStyle: custom || cfg.s3ForcePathStyle,
    ...(custom
      ? {
          endpoint: cfg.s3Endpoint,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }
      : {}),
    ...extra,
  };
  return new S3Client(options);
}
