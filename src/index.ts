/**
 * listwash — public API. The pure pieces of the verification engine and the vocabulary.
 */
export * from './verdict.js';
export * from './errors.js';
export { loadConfig, SETTINGS, type Config, type SettingName } from './config.js';
