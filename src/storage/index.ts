/**
 * Storage: locations (`s3://`, `file://`, paths) and a small streaming store for local files and S3; result sets that
 * appear all together or not at all; the output writability check.
 */
export { parseLocation, joinLocation, isPrefix, s3Location, fileLocation, type Location, type S3Location, type FileLocation } from './location.js';
export { createS3Client, type S3Settings } from './s3.js';
export { storeFor, type Store, type ReadOptions, type WriteOptions, type WriteHandle, type StagedWrite, type StoreForOptions } from './store.js';
export { LocalStore } from './local-store.js';
export { S3Store, s3Error, type S3StoreOptions } from './s3-store.js';
export { DEFAULT_RESUME, type ResumeOptions } from './s3-resume.js';
export { ResultSet, ResultFile } from './result-set.js';
export { checkWritable, checkOutputWritable } from './write-check.js';
export { isPermanentStorageError, displayLocation, WRITE_CHECK_PREFIX } from './store-common.js';
export { signedDownloadUrl } from './s3-links.js';
