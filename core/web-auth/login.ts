// Checking an email and password for the storefront, with failed attempts limited per address and per IP
// over a sliding window. The counts live in PostgreSQL so every web process shares them, and an attempt is
// recorded before the password is checked, so a burst of parallel guesses is counted in full.
import { hashPassword, verifyPassword } from '../accounts/users.ts';
import type { Executor } from '../context.ts';
import type { Clock } from '../shared/clock.ts';
import { DomainError, forbidden, invalid } from '../shared/errors.ts';
import { MAX_PASSWORD_LENGTH } from './fields.ts';

export const LOGIN_WINDOW_MS = 15 * 60_000;
/** Failures allowed per email address in the window: guessing one user's password. */
export const MAX_FAILURES_PER_EMAIL = 5;
/** Failures allowed per IP in the window: trying many addresses from one place (NAT users share it). */
export const MAX_FAILURES_PER_IP = 20;

/** Refused before the password was looked at. The web answers it with 429 and Retry-After. */
export class TooManyAttemptsError extends DomainError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
    super(
      'unavailable',
      `Too many failed log-ins. Try again in ${minutes} minute${minutes > 1 ? 's' : ''}.`,
      {
        help: 'If you forgot your password, reset it with "Forgot your password?".',
      },
    );
    this.name = 'TooManyAttemptsError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export interface LoginInput {
  readonly email: string;
  readonly password: string;
  /** Where the request came from, as the web server sees it. */
  readonly ip: string;
}

let dummyHash: Promise<string> | undefined;

/**
 * The user id for a right email and password. Wrong ones, and unknown addresses, take as long (a dummy
 * hash is verified) and get the same answer, so the form does not tell which addresses have accounts.
 */
export async function logIn(db: Executor, clock: Clock, input: LoginInput): Promise<{ userId: number }> {
  const email = input.email.trim().toLowerCase();
  if (email === '') throw invalid('Enter your email address.', { field: 'email' });
  if (input.password === '') throw invalid('Enter your password.', { field: 'password' });
  if (email.length > 320 || input.password.length > MAX_PASSWORD_LENGTH) throw wrongCredentials();
  const ip = input.ip.slice(0, 64) || 'unknown';
  const now = clock.now();
  const since = new Date(now.getTime() - LOGIN_WINDOW_MS);

  // Attempts that no longer count are pruned as new ones come (through the attempted_at index).
  await db.deleteFrom('login_attempts').where('attempted_at', '<', since).execute();
  const attempt = await db
    .insertInto('login_attempts')
    .values({ email, ip, attempted_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  const limited =
    (await retryAfter(db, 'email', email, now, MAX_FAILURES_PER_EMAIL)) ??
    (await retryAfter(db, 'ip', ip, now, MAX_FAILURES_PER_IP));
  if (limited !== null) throw new TooManyAttemptsError(limited);

  const user = await db
    .selectFrom('users')
    .innerJoin('accounts', 'accounts.id', 'users.account_id')
    .select(['users.id', 'users.password_hash', 'users.status', 'accounts.status as accountStatus'])
    .where((eb) => eb(eb.fn('lower', ['users.email']), '=', email))
    .executeTakeFirst();
  const passwordHash = user?.password_hash ?? (await (dummyHash ??= hashPassword('not a password, ever')));
  const right = await verifyPassword(passwordHash, input.password).catch(() => false);
  if (!user?.password_hash || !right) throw wrongCredentials();

  // Right: this attempt and the address's earlier failures no longer count against it.
  await db
    .deleteFrom('login_attempts')
    .where((eb) => eb.or([eb('id', '=', attempt.id), eb('email', '=', email)]))
    .execute();
  if (user.status !== 'active') {
    throw forbidden('This user is disabled.', { help: "Ask your account's owner or your provider." });
  }
  if (user.accountStatus === 'closed') {
    throw forbidden('This account is closed.', { help: 'Contact your provider if this is a mistake.' });
  }
  return { userId: user.id };
}

function wrongCredentials() {
  return invalid('The email address or password is wrong.', {
    help: 'Check both, or reset your password.',
  });
}

/**
 * Seconds until the next attempt is allowed, or null when this one is. Attempts in the window include
 * the one being made; once more than `max`, the caller waits until enough of the oldest have aged out.
 */
async function retryAfter(
  db: Executor,
  column: 'email' | 'ip',
  value: string,
  now: Date,
  max: number,
): Promise<number | null> {
  const since = new Date(now.getTime() - LOGIN_WINDOW_MS);
  const { count } = await db
    .selectFrom('login_attempts')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where(column, '=', value)
    .where('attempted_at', '>=', since)
    .executeTakeFirstOrThrow();
  const n = Number(count);
  if (n <= max) return null;
  // Another attempt fits once the (n - max + 1) oldest have aged out: n - k + 1 <= max.
  const pivot = await db
    .selectFrom('login_attempts')
    .select('attempted_at')
    .where(column, '=', value)
    .where('attempted_at', '>=', since)
    .orderBy('attempted_at')
    .offset(n - max)
    .limit(1)
    .executeTakeFirst();
  const freeAt = (pivot?.attempted_at.getTime() ?? now.getTime()) + LOGIN_WINDOW_MS;
  return Math.max(1, Math.ceil((freeAt - now.getTime()) / 1000));
}
