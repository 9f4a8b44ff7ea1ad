/**
 * Redis Lua commands, one script per file, as BullMQ keeps them: `<name>-<numberOfKeys>.lua` in a
 * `commands/` folder beside the code that calls them, each opening with an `Input:` / `Output:`
 * header. A line `--- @include "<file>"` is replaced by `commands/includes/<file>` (shared helpers).
 *
 * Every script touches only the keys it is given, and all of them share one Redis Cluster hash tag.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';

export interface LuaCommand {
  /** File name without `-<keys>.lua`, e.g. `acquire`. */
  name: string;
  numberOfKeys: number;
  lua: string;
}

const FILE_RE = /^([a-z][a-zA-Z0-9]*)-(\d+)\.lua$/;
const INCLUDE_RE = /^--- @include "([a-zA-Z0-9_.-]+)"\s*$/gm;

/** Read every `<name>-<keys>.lua` of a `commands/` folder (given as a URL, e.g. `new URL('./commands/', import.meta.url)`). */
export function loadCommands(dir: URL): Map<string, LuaCommand> {
  const out = new Map<string, LuaCommand>();
  for (const file of readdirSync(dir).sort()) {
    const m = FILE_RE.exec(file);
    if (!m) continue;
    const text = readFileSync(new URL(file, dir), 'utf8');
    const lua = text.replace(INCLUDE_RE, (_, inc: string) => readFileSync(new URL(`includes/${inc}`, dir), 'utf8'));
    out.set(m[1]!, { name: m[1]!, numberOfKeys: Number(m[2]), lua });
  }
  return out;
}

/**
 * Register commands on a client as `<prefix><Name>` (e.g. `lwThrAcquire`), once per client. Returns
 * the registered command names by script name.
 */
export function defineCommands(redis: Redis | Cluster, prefix: string, commands: Map<string, LuaCommand>): Record<string, string> {
  const names: Record<string, string> = {};
  for (const c of commands.values()) {
    const command = prefix + c.name[0]!.toUpperCase() + c.name.slice(1);
    names[c.name] = command;
    if (!(command in redis)) redis.defineCommand(command, { numberOfKeys: c.numberOfKeys, lua: c.lua });
  }
  return names;
}
