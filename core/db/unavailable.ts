// Tells an outage from a bug: an error that means the database (or another backing service) could not be
// reached or went away mid-query. Front doors answer those with 503 "try again shortly" instead of a 500,
// and log them as a warning without a stack; the pool reconnects by itself once the server is back.

/** Network errors from connecting or from a connection that broke. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * PostgreSQL SQLSTATEs: class 08 (connection exception) and 57P01-57P03 (the server is shutting down,
 * crashed or not accepting connections yet, e.g. during a restart or recovery).
 */
const POSTGRES_UNAVAILABLE = /^(08\d\d\d|57P0[123])$/;

/**
 * node-postgres and pg-pool raise some of these without a code; their messages are fixed strings of those
 * libraries, the only way to recognise them.
 */
const DRIVER_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
];

/** True when `error` (or an error it wraps) says a backing service is unreachable right now. */
export function isUnavailableError(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0) {
    const current = pending.pop();
    if (typeof current !== 'object' || current === null || seen.has(current) || seen.size > 10) continue;
    seen.add(current);
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || POSTGRES_UNAVAILABLE.test(code))) return true;
    if (typeof message === 'string' && DRIVER_MESSAGES.some((text) => message.includes(text))) return true;
    if (current instanceof AggregateError) pending.push(...(current.errors as unknown[]));
    pending.push(cause);
  }
  return false;
}
