// Security headers for the storefront's pages, written out rather than taken from helmet: a strict CSP
// (own origin only, no inline script or style, no framing), no MIME sniffing, no referrer across origins
// (reset and invitation links carry tokens), and HSTS once the site is served over https.
import type { RequestHandler } from 'express';

/**
 * Stripe Checkout is reached by a redirect after POST /checkout; browsers apply form-action to the
 * redirect's target too.
 */
const FORM_TARGETS = ["'self'", 'https://checkout.stripe.com'];

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  `form-action ${FORM_TARGETS.join(' ')}`,
  "frame-ancestors 'none'",
].join('; ');

export function securityHeaders(options: { https: boolean }): RequestHandler {
  return (_req, res, next) => {
    res.set({
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
      // For browsers that predate frame-ancestors.
      'X-Frame-Options': 'DENY',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
    });
    if (options.https) res.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    next();
  };
}
