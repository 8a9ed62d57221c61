// A small structured logger: one JSON object per line, with level, time, msg and the caller's fields. Its
// call shapes match pino's (`log.info(msg)`, `log.info({ fields }, msg)`, `log.child({ fields })`), so pino
// can replace it without touching callers. Values under secret-looking keys, and passwords inside URLs,
// are masked before anything is written.

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
type EmittingLevel = Exclude<LogLevel, 'silent'>;

const SEVERITY: Record<LogLevel, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Infinity,
};

export type LogFields = Record<string, unknown>;

export interface LogFn {
  (msg: string): void;
  (fields: LogFields | Error, msg?: string): void;
}

export interface Logger {
  readonly level: LogLevel;
  fatal: LogFn;
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  trace: LogFn;
  /** A logger that adds `fields` to every line (e.g. `{ role: 'worker' }`). */
  child(fields: LogFields): Logger;
  isLevelEnabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Fields on every line. */
  readonly fields?: LogFields;
  /** Where each line goes (without its newline added); stdout by default. */
  readonly write?: (line: string) => void;
  readonly now?: () => Date;
}

const SECRET_KEY = /passw(or)?d|pwd|secret|token|authorization|cookie|api[-_]?key/i;
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):[^@/?#\s]*@/gi;

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const now = options.now ?? (() => new Date());
  return build(level, options.fields ?? {}, write, now);
}

/** A logger that drops everything: for tests and library callers that pass none. */
export const silentLogger: Logger = createLogger({ level: 'silent' });

function build(level: LogLevel, bound: LogFields, write: (line: string) => void, now: () => Date): Logger {
  const threshold = SEVERITY[level];
  const emitter =
    (lineLevel: EmittingLevel): LogFn =>
    (first: string | LogFields | Error, msg?: string) => {
      if (SEVERITY[lineLevel] < threshold) return;
      let fields: LogFields;
      let message: string | undefined;
      if (typeof first === 'string') {
        fields = {};
        message = first;
      } else if (first instanceof Error) {
        fields = { err: first };
        message = msg ?? first.message;
      } else {
        fields = first ?? {};
        message = msg;
      }
      const entry: LogFields = {
        level: lineLevel,
        time: now().toISOString(),
        ...clean(bound),
        ...clean(fields),
      };
      if (message !== undefined) entry.msg = maskUrls(message);
      write(safeStringify(entry));
    };

  return {
    level,
    fatal: emitter('fatal'),
    error: emitter('error'),
    warn: emitter('warn'),
    info: emitter('info'),
    debug: emitter('debug'),
    trace: emitter('trace'),
    child: (fields) => build(level, { ...bound, ...fields }, write, now),
    isLevelEnabled: (candidate) => candidate !== 'silent' && SEVERITY[candidate] >= threshold,
  };
}

/** Masks the password in `scheme://user:password@host` URLs, e.g. DATABASE_URL. */
export function maskUrls(text: string): string {
  return text.replace(URL_PASSWORD, '$1:****@');
}

function clean(fields: LogFields): LogFields {
  return sanitize(fields, 0) as LogFields;
}

function sanitize(value: unknown, depth: number, key?: string): unknown {
  if (key !== undefined && SECRET_KEY.test(key) && value !== undefined && value !== null) return '[redacted]';
  if (typeof value === 'string') return maskUrls(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return serializeError(value, depth);
  if (value instanceof Date) return value.toISOString();
  if (value === null || typeof value !== 'object') return value;
  if (depth >= 6) return '[too deep]';
  if (Array.isArray(value)) return value.map((item) => sanitize(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sanitize(v, depth + 1, k)]));
}

function serializeError(error: Error, depth: number): LogFields {
  const out: LogFields = { type: error.name, message: maskUrls(error.message) };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (error.stack) out.stack = maskUrls(error.stack);
  if (error.cause !== undefined && depth < 6) out.cause = sanitize(error.cause, depth + 1);
  return out;
}

function safeStringify(entry: LogFields): string {
  try {
    return JSON.stringify(entry);
  } catch {
    // A circular structure in the caller's fields must not lose the line.
    return JSON.stringify({
      level: entry.level,
      time: entry.time,
      msg: entry.msg,
      note: 'fields not serializable',
    });
  }
}
