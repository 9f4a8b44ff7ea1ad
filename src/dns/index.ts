export * from './cache.js';
export * from './client.js';
export * from './mail-route.js';
export * from './resolver.js';
export * from './servers.js';
export * from './records.js';
export * from './reverse.js';
