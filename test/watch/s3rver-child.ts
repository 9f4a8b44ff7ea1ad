/**
 * s3rver in its own process, for listings longer than a page: s3rver's ListObjectsV2 continuation
 * tokens use DES, which Node 20's OpenSSL 3 offers only with `--openssl-legacy-provider` (a flag this
 * process gets; the test process does not need it). Prints `port <n>` once listening; stops on SIGTERM.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

const bucket = process.argv[2] ?? 'lw-test';
const directory = await mkdtemp(join(tmpdir(), 'lw-s3rver-child-'));
const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] });
const addr = await server.run();
process.stdout.write(`port ${addr.port}\n`);
process.once('SIGTERM', () => {
  server
    .close()
    .then(() => rm(directory, { recursive: true, force: true }))
    .then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`s3rver child: ${String(err)}\n`);
        process.exit(1);
      },
    );
});
