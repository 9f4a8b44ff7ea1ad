export * from './identity.js';
export * from './pool.js';
export * from './stats.js';
