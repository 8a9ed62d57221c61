// Structured logs: pino, one JSON object per line with `level` (as a word), `time` (ISO 8601), `msg` and the
// caller's fields, behind the small Logger interface the rest of the code uses (`log.info(msg)`,
// `log.info({ fields }, msg)`, `log.child({ fields })`). Secrets never reach the output: values under
// secret-looking keys are replaced at any depth, and passwords inside URLs (`postgres://u:pw@h`) are masked
// in every string, the message included. pino's own `redact` takes fixed paths only, so the masking is a
// log formatter that walks the fields instead.
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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
  /** Where each line goes (without its newline); stdout by default. */
  readonly write?: (line: string) => void;
  readonly now?: () => Date;
}

const SECRET_KEY = /passw(or)?d|pwd|secret|token|authorization|cookie|api[-_]?key/i;
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):[^@/?#\s]*@/gi;
const REDACTED = '[redacted]';
const MAX_DEPTH = 6;

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const now = options.now;
  const write = options.write;
  let destination: DestinationStream;
  if (write) destination = { write: (line) => write(line.endsWith('\n') ? line.slice(0, -1) : line) };
  else if (level === 'silent') destination = { write: () => {} };
  // Synchronous, as process.stdout is for files and pipes: a line logged just before exit is not lost.
  else destination = pino.destination({ dest: 1, sync: true });
  const root = pino(
    {
      level,
      // No pid / hostname on every line: the container or unit name says where a line came from.
      base: undefined,
      messageKey: 'msg',
      timestamp: now ? () => `,"time":"${now().toISOString()}"` : pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => clean(fields),
      },
      // Errors are serialized by the formatter above (stack, code, cause chain, masked); pino's own `err`
      // serializer would fold the causes into one message.
      serializers: { err: (value: unknown) => value },
    },
    destination,
  );
  const bound = options.fields ? clean(options.fields) : undefined;
  return wrap(bound && Object.keys(bound).length > 0 ? root.child(bound) : root, level);
}

/** A logger that drops everything: for tests and library callers that pass none. */
export const silentLogger: Logger = createLogger({ level: 'silent' });

/** Masks the password in `scheme://user:password@host` URLs, e.g. DATABASE_URL. */
export function maskUrls(text: string): string {
  return text.replace(URL_PASSWORD, '$1:****@');
}

type Method = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

function wrap(logger: PinoLogger, level: LogLevel): Logger {
  const emitter =
    (method: Method): LogFn =>
    (first: string | LogFields | Error, msg?: string) => {
      if (!logger.isLevelEnabled(method)) return;
      if (typeof first === 'string') {
        logger[method](maskUrls(first));
      } else if (first instanceof Error) {
        logger[method]({ err: first }, maskUrls(msg ?? first.message));
      } else {
        // pino would take an `err`'s message as the line's message, unmasked: give it the masked one.
        const err = first?.err;
        const message = msg ?? (err instanceof Error ? err.message : undefined);
        if (message === undefined) logger[method](first ?? {});
        else logger[method](first ?? {}, maskUrls(message));
      }
    };
  return {
    level,
    fatal: emitter('fatal'),
    error: emitter('error'),
    warn: emitter('warn'),
    info: emitter('info'),
    debug: emitter('debug'),
    trace: emitter('trace'),
    // pino applies no formatter to a child's bindings: clean them here.
    child: (fields) => wrap(logger.child(clean(fields)), level),
    isLevelEnabled: (candidate) => candidate !== 'silent' && logger.isLevelEnabled(candidate),
  };
}

function clean(fields: LogFields): LogFields {
  return sanitize(fields, 0) as LogFields;
}

function sanitize(value: unknown, depth: number, key?: string): unknown {
  if (key !== undefined && SECRET_KEY.test(key) && value !== undefined && value !== null) return REDACTED;
  if (typeof value === 'string') return maskUrls(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return serializeError(value, depth);
  if (value instanceof Date) return value.toISOString();
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) return value.map((item) => sanitize(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sanitize(v, depth + 1, k)]));
}

function serializeError(error: Error, depth: number): LogFields {
  const out: LogFields = { type: error.name, message: maskUrls(error.message) };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (error.stack) out.stack = maskUrls(error.stack);
  if (error instanceof AggregateError && depth < MAX_DEPTH) {
    out.errors = error.errors.slice(0, 5).map((inner) => sanitize(inner, depth + 1));
  }
  if (error.cause !== undefined && depth < MAX_DEPTH) out.cause = sanitize(error.cause, depth + 1);
  return out;
}
