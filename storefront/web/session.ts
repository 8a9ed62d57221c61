// The session cookie on the web side: loading the signed-in user for each request (one query, only when
// the cookie is there), starting a session at log-in (always a new id), ending it at log-out, and the
// guard for pages that need someone signed in.
import type { Request, RequestHandler, Response } from 'express';
import type { Ctx, Executor, Settings } from '../../core/context.ts';
import type { Clock } from '../../core/shared/clock.ts';
import {
  SESSION_MAX_MS,
  endSession,
  findSession,
  startSession,
  webActor,
} from '../../core/web-auth/sessions.ts';
import { SESSION_COOKIE, cookieOptions, readCookie } from './cookies.ts';
import { currentSession, webState } from './state.ts';

export interface SessionDeps {
  readonly db: Executor;
  readonly clock: Clock;
  readonly settings: Settings;
  readonly secureCookies: boolean;
}

/** Middleware: puts the signed-in user (or null) in the request's state. */
export function loadSession(deps: SessionDeps): RequestHandler {
  return async (req, res, next) => {
    const token = readCookie(req, SESSION_COOKIE);
    const state = webState(res);
    state.session = token === undefined ? null : await findSession(deps.db, deps.clock, token);
    // A dead session's cookie is dropped, so the next requests skip the lookup.
    if (token !== undefined && state.session === null) {
      res.clearCookie(SESSION_COOKIE, cookieOptions(deps.secureCookies));
    }
    next();
  };
}

/** Middleware for pages that need a signed-in user: others go to the log-in page and come back after. */
export const requireUser: RequestHandler = (req, res, next) => {
  if (currentSession(res)) {
    next();
    return;
  }
  res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
};

/** Logs the browser in as `userId`: a new session replaces whatever session the cookie named. */
export async function signIn(deps: SessionDeps, req: Request, res: Response, userId: number): Promise<void> {
  const started = await startSession(deps.db, deps.clock, userId, readCookie(req, SESSION_COOKIE));
  // The row decides how long the session lives (it slides with use); the cookie only has to outlast it.
  res.cookie(SESSION_COOKIE, started.token, cookieOptions(deps.secureCookies, SESSION_MAX_MS));
  webState(res).session = null;
}

export async function signOut(deps: SessionDeps, req: Request, res: Response): Promise<void> {
  await endSession(deps.db, readCookie(req, SESSION_COOKIE));
  res.clearCookie(SESSION_COOKIE, cookieOptions(deps.secureCookies));
  webState(res).session = null;
}

/**
 * The context core use cases take, acting as the signed-in user on the web channel. Throws forbidden when
 * the account is suspended or closed; use behind requireUser.
 */
export function webCtx(deps: SessionDeps, res: Response): Ctx {
  const session = currentSession(res);
  if (!session) throw new Error('webCtx: no signed-in user (mount requireUser first)');
  return { db: deps.db, clock: deps.clock, settings: deps.settings, actor: webActor(session) };
}

/** A path on this site to go back to after log-in; anything else (other sites, odd forms) goes home. */
export function safeNext(text: unknown, fallback = '/account'): string {
  if (typeof text !== 'string' || !text.startsWith('/') || text.startsWith('//')) return fallback;
  if (/[\\\s]/.test(text) || text.length > 2000) return fallback;
  return text;
}
