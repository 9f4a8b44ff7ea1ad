/**
 * Storage: locations (`s3://`, `file://`, paths) and a small streaming store for local files and S3.
 */
export { parseLocation, joinLocation, isPrefix, s3Location, fileLocation, type Location, type S3Location, type FileLocation } from './location.js';
export { createS3Client, type S3Settings } from './s3.js';
export { storeFor, type Store, type ReadOptions, type WriteOptions, type WriteHandle, type StoreForOptions } from './store.js';
export { LocalStore } from './local-store.js';
export { S3Store, s3Error, type S3StoreOptions } from './s3-store.js';
