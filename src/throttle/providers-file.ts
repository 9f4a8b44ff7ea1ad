/**
 * Reads the user's provider overrides (`LISTWASH_PROVIDERS_FILE`) — the only I/O of the grouping logic.
 */
import { readFileSync } from 'node:fs';
import { ErrorCodes, ListwashError } from '../errors.js';
import { BUILTIN_PROVIDERS, buildProviderRules, parseProviderRules, type ProviderRule } from './providers.js';

/**
 * The ordered rule list (user rules from `path` first, then the built-ins). An empty `path` means
 * "built-ins only".
 * @throws ListwashError CONFIG_FILE (unreadable / not JSON), CONFIG_INVALID (an entry is wrong; the message names it).
 */
export function loadProviderRules(path: string, builtins: readonly ProviderRule[] = BUILTIN_PROVIDERS): ProviderRule[] {
  if (path === '') return buildProviderRules([], builtins);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ListwashError(ErrorCodes.CONFIG_FILE, `cannot read providers file ${path}: ${(err as Error).message}`, { path }, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ListwashError(ErrorCodes.CONFIG_FILE, `providers file ${path} is not valid JSON: ${(err as Error).message}`, { path }, { cause: err });
  }
  return buildProviderRules(parseProviderRules(json, `providers file ${path}`, builtins), builtins);
}
