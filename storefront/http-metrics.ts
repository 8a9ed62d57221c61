// Times every HTTP request into didops_http_request_duration_seconds (core/runtime/metrics.ts), labelled by
// method, status and the express route pattern that answered it (`/api/v1/routing/:number`), never the raw
// path, so a switch asking about a million numbers makes one series, not a million. A response from
// middleware mounted at a path (static assets under /assets) counts as `<mount>/*`; requests nothing
// answered but the fallback (404s) as "unmatched".
//
// The pattern is the mount path (req.baseUrl) plus the route's path. Routers are mounted without path
// parameters here; one mounted at `/x/:id` would put real ids into the label.
import type { Request, RequestHandler } from 'express';
import { observeHttpRequest } from '../core/runtime/metrics.ts';

export const UNMATCHED_ROUTE = 'unmatched';

export function httpMetrics(): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      observeHttpRequest(req.method, routeOf(req), res.statusCode, (performance.now() - started) / 1000);
    });
    next();
  };
}

function routeOf(req: Request): string {
  const route = (req as { route?: { path?: unknown } }).route;
  if (!route || route.path === undefined) return req.baseUrl ? `${req.baseUrl}/*` : UNMATCHED_ROUTE;
  return `${req.baseUrl}${pattern(route.path)}`;
}

/** A route path as written: a string, a RegExp, or a list of either. */
function pattern(path: unknown): string {
  if (typeof path === 'string') return path;
  if (path instanceof RegExp) return path.source;
  if (Array.isArray(path)) return path.map(pattern).join('|');
  return UNMATCHED_ROUTE;
}
