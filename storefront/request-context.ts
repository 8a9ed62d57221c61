// The first middleware of every request: gives it a request id (the caller's `X-Request-Id` when it is a
// sane one, e.g. from a proxy, else a new UUID), answers it in the `X-Request-Id` response header, and runs
// the rest of the request in that id's context (core/runtime/request-context.ts), so jobs it enqueues carry
// the id and the worker logs them with it. `requestLogger(res, log)` is a logger that adds the id to every
// line.
import type { RequestHandler, Response } from 'express';
import type { Logger } from '../core/runtime/logger.ts';
import { newRequestId, runWithRequestContext, validRequestId } from '../core/runtime/request-context.ts';

export const REQUEST_ID_HEADER = 'X-Request-Id';

interface RequestLocals {
  requestId?: string;
  log?: Logger;
}

export function requestContext(): RequestHandler {
  return (req, res, next) => {
    const requestId = validRequestId(req.headers['x-request-id']) ?? newRequestId();
    res.setHeader(REQUEST_ID_HEADER, requestId);
    (res.locals as RequestLocals).requestId = requestId;
    runWithRequestContext({ requestId }, next);
  };
}

/** This request's id (set by requestContext). */
export function requestIdOf(res: Response): string | undefined {
  return (res.locals as RequestLocals).requestId;
}

/**
 * `log` with this request's id on every line (made on first use and kept for the request: most requests,
 * a switch asking for a route, log nothing); `log` itself outside requestContext.
 */
export function requestLogger(res: Response, log: Logger): Logger {
  const locals = res.locals as RequestLocals;
  if (locals.requestId === undefined) return log;
  return (locals.log ??= log.child({ requestId: locals.requestId }));
}
