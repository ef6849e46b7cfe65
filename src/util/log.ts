/**
 * A small structured logger: one JSON object per line on standard error, with a level and
 * fields. Issue 10 replaces the sink (TTY formatting, pino); callers only see this interface.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  log(level: LogLevel, message: string, fields?: LogFields): void;
}

const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function jsonLogger(base: LogFields, minLevel: LogLevel = 'info', write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  return {
    log(level, message, fields = {}) {
      if (levelRank[level] < levelRank[minLevel]) return;
      write(`${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...base, ...fields })}\n`);
    },
  };
}

export const silentLogger: Logger = { log: () => undefined };
