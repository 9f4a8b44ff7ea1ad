/**
 * Test fixture process: resolves Redis the way `listwash clean` does, with nothing answering at the
 * default address given as argv[2], prints `{"pid":…,"dir":…,"url":…}` on stdout, then waits to be
 * killed (or, with argv[3] = `exit`, ends its event loop without stopping the server).
 */
import { resolveRedis } from '../../src/redis/availability.js';

const defaultUrl = process.argv[2]!;
const env = { ...process.env };
delete env.REDIS_URL;
const r = await resolveRedis({ redisUrl: defaultUrl }, env, { allowEmbedded: true, defaultUrl, say: (line) => process.stderr.write(`${line}\n`) });
process.stdout.write(`${JSON.stringify({ pid: r.embedded?.pid, dir: r.embedded?.dir, url: r.cfg.redisUrl })}\n`);
if (process.argv[3] !== 'exit') setInterval(() => undefined, 60_000);
