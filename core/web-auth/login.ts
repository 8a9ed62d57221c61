// Checking an email and password for the storefront, with failed attempts limited per address and per IP
// over a sliding window (rate-limit.ts): an attempt is counted before the password is checked, so a burst
// of parallel guesses is counted in full, and forgotten once the password was right.
import { hashPassword, verifyPassword } from '../accounts/users.ts';
import type { Executor } from '../context.ts';
import type { Clock } from '../shared/clock.ts';
import { forbidden, invalid } from '../shared/errors.ts';
import { MAX_PASSWORD_LENGTH } from './fields.ts';
import { countAttempt, type AttemptLimit } from './rate-limit.ts';

// The web's error translator knows the refusal from here.
export { TooManyAttemptsError } from './rate-limit.ts';

export const LOGIN_WINDOW_MS = 15 * 60_000;
/** Failures allowed per email address in the window: guessing one user's password. */
export const MAX_FAILURES_PER_EMAIL = 5;
/** Failures allowed per IP in the window: trying many addresses from one place (NAT users share it). */
export const MAX_FAILURES_PER_IP = 20;

const LOGIN_LIMIT: AttemptLimit = {
  kind: 'login',
  windowMs: LOGIN_WINDOW_MS,
  maxPerEmail: MAX_FAILURES_PER_EMAIL,
  maxPerIp: MAX_FAILURES_PER_IP,
  refusal: {
    message: 'Too many failed log-ins.',
    help: 'If you forgot your password, reset it with "Forgot your password?".',
  },
};

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
  const attemptId = await countAttempt(db, clock.now(), LOGIN_LIMIT, { email, ip: input.ip });

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
    .where('kind', '=', 'login')
    .where((eb) => eb.or([eb('id', '=', attemptId), eb('email', '=', email)]))
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
