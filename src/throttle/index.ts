export * from './providers.js';
export * from './providers-file.js';
export * from './mx-throttle.js';
export * from './from-config.js';
