/**
 * Structured logs (pino) on stderr: one JSON line per event for log collectors, or readable lines on
 * a terminal. Every line carries what it is about (`listId`, `batchId`, `mxHost`, `group`) as fields.
 * Level and format come from the settings (`LISTWASH_LOG_LEVEL`, `LISTWASH_LOG_FORMAT`).
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LogSettings {
  logLevel: string;
  logFormat: string;
}

/** A logger writing to stderr (fd 2): JSON lines, or pretty lines when `format` says so (`auto`: on a terminal). */
export function createLogger(s: LogSettings, name = 'listwash'): Logger {
  const usePretty = s.logFormat === 'pretty' || (s.logFormat === 'auto' && process.stderr.isTTY === true);
  const stream = usePretty ? pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' }) : pino.destination({ fd: 2, sync: true });
  return pino({ name, level: s.logLevel, base: { pid: process.pid } }, stream);
}

/** A logger that writes nothing (library use without settings, tests). */
export const silentLogger: Logger = pino({ level: 'silent' });
