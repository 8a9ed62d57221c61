// CSRF protection for every POST form. A signed-in browser's forms carry its session's synchronizer
// token (stored with the session). Anonymous forms (log in, sign up, password reset) carry a signed
// double-submit token: HMAC(SESSION_SECRET, nonce), the nonce living in an HttpOnly cookie; another site
// can neither read the cookie nor compute the signature. A missing or wrong token is refused with 403
// before the handler runs, so nothing changes.
import { createHmac, randomBytes } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { forbidden } from '../../core/shared/errors.ts';
import { sameSecret } from '../../core/web-auth/secret-token.ts';
import { CSRF_COOKIE, cookieOptions, readCookie } from './cookies.ts';
import { webState } from './state.ts';

/** The form field every POST form carries; the `csrfField` template helper writes it. */
export const CSRF_FIELD = '_csrf';
const NONCE = /^[A-Za-z0-9_-]{22,64}$/;

export interface Csrf {
  /** The token this request's forms must carry (sets the anonymous nonce cookie when needed). */
  token(req: Request, res: Response): string;
  /** Middleware for POST routes, after the body is parsed: refuses a request without the right token. */
  readonly verify: RequestHandler;
}

export function createCsrf(options: { secret: string; secureCookies: boolean }): Csrf {
  const sign = (nonce: string) =>
    createHmac('sha256', options.secret).update(`csrf:${nonce}`).digest('base64url');

  const expected = (req: Request, res: Response): string | null => {
    const session = webState(res).session;
    if (session) return session.csrfSecret;
    const nonce = readCookie(req, CSRF_COOKIE);
    return nonce !== undefined && NONCE.test(nonce) ? sign(nonce) : null;
  };

  return {
    token(req, res) {
      const session = webState(res).session;
      if (session) return session.csrfSecret;
      let nonce = readCookie(req, CSRF_COOKIE);
      if (nonce === undefined || !NONCE.test(nonce)) {
        nonce = randomBytes(24).toString('base64url');
        // A browser session cookie: it only has to outlive the page the form is on.
        res.cookie(CSRF_COOKIE, nonce, cookieOptions(options.secureCookies));
        // Later reads in this request (a second form) must see the same nonce.
        req.headers.cookie = `${req.headers.cookie ? req.headers.cookie + '; ' : ''}${CSRF_COOKIE}=${nonce}`;
      }
      return sign(nonce);
    },
    verify(req, res, next) {
      const body = req.body as Record<string, unknown> | undefined;
      const given = body?.[CSRF_FIELD];
      const want = expected(req, res);
      if (typeof given === 'string' && want !== null && sameSecret(given, want)) {
        next();
        return;
      }
      next(
        forbidden('This form has expired or was not sent from this site, so nothing was done.', {
          help: 'Go back, reload the page and send the form again.',
        }),
      );
    },
  };
}
