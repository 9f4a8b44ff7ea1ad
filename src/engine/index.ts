export * from './create.js';
export * from './gate.js';
export * from './outcome.js';
export * from './verify-domain.js';
export * from './verify-request.js';
