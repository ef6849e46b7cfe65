/**
 * Structured logs: one line per event on standard error, with a level, a message and fields.
 * Lines are JSON objects when standard error is a file or a pipe (what `cluster init` and
 * `join` write to quorate.log, what journald and log shippers read), and short readable lines
 * on a terminal:
 *
 *   10:00:01.234 INFO  node-1 t=7 leader elected {"leader":"node-1"}
 *
 * The node id, the Raft term and an API request id lead a readable line, since they are what an
 * operator scans for; other fields follow as JSON. The term changes while a node runs, so
 * withFields() adds fields computed for each line.
 *
 * This is our own formatter rather than pino: pino would need pino-pretty (and its
 * dependencies) for the terminal format, and writes asynchronously by default, so lines can be
 * lost when a node exits on a fatal error. What is needed here (levels, two formats, fields
 * evaluated per line) fits in this file, with synchronous writes to standard error.
 *
 * Secrets are kept out by the callers, who log token ids and never tokens; as a second line of
 * defence, a field whose name says it holds a secret (token, secret, password, private key, an
 * Authorization header) is written as "[redacted]" at any depth.
 */
export const logLevels = ['debug', 'info', 'warn', 'error'] as const;

export type LogLevel = (typeof logLevels)[number];

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  log(level: LogLevel, message: string, fields?: LogFields): void;
}

/** json: one object per line, for machines; text: readable lines, for a terminal. */
export type LogFormat = 'json' | 'text';

export interface LoggerOptions {
  /** Fields on every line (the node id). */
  readonly fields?: LogFields;
  /** Lines below this level are dropped; info by default. */
  readonly minLevel?: LogLevel;
  readonly format?: LogFormat;
  /** Where each finished line (with its newline) goes; standard error by default. */
  readonly write?: (line: string) => void;
  /** The clock for the line's time; injected by tests. */
  readonly now?: () => Date;
}

const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A field named like this holds a secret, whatever the caller meant: it is never written. */
const secretName = /(token|secret|password|passphrase|authorization|cookie|privatekey|keypem)$/i;

/** Fields that lead a text line, in this order, with their prefix. */
const leadingFields = [
  ['node', ''],
  ['term', 't='],
  ['requestId', 'req='],
] as const;
const leadingNames = new Set<string>(leadingFields.map(([name]) => name));

export function isLogLevel(text: string): text is LogLevel {
  return (logLevels as readonly string[]).includes(text);
}

/** Readable lines for a terminal, JSON for anything else (a file, a pipe, journald). */
export function logFormatFor(stream: { readonly isTTY?: boolean }): LogFormat {
  return stream.isTTY === true ? 'text' : 'json';
}

/** Secrets redacted; errors as their message and big integers as text, so a line never fails to encode. */
function safeValue(key: string, value: unknown): unknown {
  if (key !== '' && secretName.test(key)) return '[redacted]';
  if (value instanceof Error) return value.message;
  if (typeof value === 'bigint') return value.toString();
  return value;
}

function json(value: unknown): string {
  return JSON.stringify(value, safeValue);
}

export function formatJsonLine(time: Date, level: LogLevel, message: string, fields: LogFields): string {
  return `${json({ time: time.toISOString(), level, msg: message, ...fields })}\n`;
}

function clock(time: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(time.getHours())}:${two(time.getMinutes())}:${two(time.getSeconds())}.${String(time.getMilliseconds()).padStart(3, '0')}`;
}

export function formatTextLine(time: Date, level: LogLevel, message: string, fields: LogFields): string {
  const lead = leadingFields.flatMap(([name, prefix]) => {
    const value = fields[name];
    return value === undefined || value === null ? [] : [`${prefix}${String(safeValue(name, value))}`];
  });
  const rest = Object.entries(fields).filter(([name]) => !leadingNames.has(name));
  const trailer = rest.length === 0 ? '' : ` ${json(Object.fromEntries(rest))}`;
  return `${clock(time)} ${level.toUpperCase().padEnd(5)} ${[...lead, message].join(' ')}${trailer}\n`;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const minRank = levelRank[options.minLevel ?? 'info'];
  const format = options.format === 'text' ? formatTextLine : formatJsonLine;
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const base = options.fields ?? {};
  return {
    log(level, message, fields = {}) {
      if (levelRank[level] < minRank) return;
      write(format(now(), level, message, { ...base, ...fields }));
    },
  };
}

/** The process's logger: standard error, formatted for whatever standard error is. */
export function stderrLogger(fields: LogFields, minLevel: LogLevel = 'info'): Logger {
  return createLogger({ fields, minLevel, format: logFormatFor(process.stderr) });
}

/**
 * `logger` with `fields()` added to every line, computed when the line is written (the current
 * term). They win over a line's own fields of the same name, so that every line agrees.
 */
export function withFields(logger: Logger, fields: () => LogFields): Logger {
  return { log: (level, message, own = {}) => logger.log(level, message, { ...own, ...fields() }) };
}

export const silentLogger: Logger = { log: () => undefined };
