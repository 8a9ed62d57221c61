// Random tokens for links and cookies, and the hash stored in their place. Tokens are 32 random bytes, so
// a fast hash is right (no dictionary helps); the database never holds a token a browser could replay.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const TOKEN_BYTES = 32;
/** 32 bytes in base64url: 43 characters. Anything else is refused before a lookup. */
const TOKEN_TEXT = /^[A-Za-z0-9_-]{43}$/;

export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

export function isWellFormedToken(text: string | undefined): text is string {
  return text !== undefined && TOKEN_TEXT.test(text);
}

/** SHA-256 of the token, hex: what the tables store. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Compares two secrets in constant time (by digest, so their lengths need not match). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}
