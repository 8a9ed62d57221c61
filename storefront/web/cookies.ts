// Reading the Cookie header (no cookie-parser dependency for two cookies) and the flags every storefront
// cookie gets: HttpOnly, SameSite=Lax, Secure when the site is served over https or in production.
import type { CookieOptions, Request } from 'express';

export const SESSION_COOKIE = 'didops_session';
/** The anonymous visitor's CSRF nonce (signed double-submit for log-in and sign-up forms). */
export const CSRF_COOKIE = 'didops_csrf';

/** One cookie's value from the request, or undefined. Malformed pairs are skipped. */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const raw = part
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    try {
      return decodeURIComponent(raw);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function cookieOptions(secure: boolean, maxAgeMs?: number): CookieOptions {
  return {
    httpOnly: true,
    sameSite: 'lax',
    secure,
    path: '/',
    ...(maxAgeMs === undefined ? {} : { maxAge: maxAgeMs }),
  };
}
