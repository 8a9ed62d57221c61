// "Forgot your password": a one-time link valid for an hour. Asking for one never tells whether the
// address is known (the caller shows the same page either way), and is limited per address and per IP
// like failed log-ins, known address or not. Using a link sets the new password, spends every open link of
// the user and ends all their sessions, so whoever knew the old password is out.
import { hashPassword } from '../accounts/users.ts';
import type { Actor } from '../accounts/actor.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Executor } from '../context.ts';
import type { User } from '../db/schema.ts';
import type { Clock } from '../shared/clock.ts';
import { conflict, invalid } from '../shared/errors.ts';
import { checkNewPassword, normalizeEmail } from './fields.ts';
import { countAttempt, type AttemptLimit } from './rate-limit.ts';
import { hashToken, isWellFormedToken, newToken } from './secret-token.ts';
import { endAllSessions } from './sessions.ts';
import type { AnonymousCtx } from './signup.ts';

export const RESET_TTL_MS = 60 * 60_000;

// Each request writes a link (a mail, once mail is sent): without a limit anyone could flood an inbox.
// The window is a link's lifetime.
export const RESET_REQUEST_WINDOW_MS = RESET_TTL_MS;
/**
 * Requests per address in the window: one link is enough for the hour it works, three leave room for a
 * mail that went astray. Past that, someone else is asking; the owner waits at most the hour.
 */
export const MAX_RESET_REQUESTS_PER_EMAIL = 3;
/** Requests per IP in the window: many inboxes from one place, with room for an office behind one NAT. */
export const MAX_RESET_REQUESTS_PER_IP = 20;

const RESET_LIMIT: AttemptLimit = {
  kind: 'password_reset',
  windowMs: RESET_REQUEST_WINDOW_MS,
  maxPerEmail: MAX_RESET_REQUESTS_PER_EMAIL,
  maxPerIp: MAX_RESET_REQUESTS_PER_IP,
  refusal: {
    message: 'Too many password reset links were asked for.',
    help: 'A link works for an hour: use the latest one, or ask again later.',
  },
};

export interface ResetLink {
  /** Goes in the link; never stored. */
  readonly token: string;
  readonly expiresAt: Date;
  readonly user: Pick<User, 'id' | 'email'>;
}

/**
 * A reset token for the active user with this address, or null when there is none (unknown address,
 * disabled user). The caller must answer both cases alike. Throws TooManyAttemptsError past the limits,
 * which count every request before the address is looked up, so a refusal says nothing about it either.
 */
export async function requestPasswordReset(
  base: AnonymousCtx,
  input: { readonly email: string; readonly ip: string },
): Promise<ResetLink | null> {
  const email = normalizeEmail(input.email);
  const now = base.clock.now();
  await countAttempt(base.db, now, RESET_LIMIT, { email, ip: input.ip });
  const user = await base.db
    .selectFrom('users')
    .select(['id', 'email'])
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email))
    .where('status', '=', 'active')
    .executeTakeFirst();
  if (!user) return null;
  const token = newToken();
  const expiresAt = new Date(now.getTime() + RESET_TTL_MS);
  // Old links of the user that can no longer be used are dropped as new ones are made.
  await base.db
    .deleteFrom('password_reset_tokens')
    .where('user_id', '=', user.id)
    .where('expires_at', '<', now)
    .execute();
  await base.db
    .insertInto('password_reset_tokens')
    .values({ user_id: user.id, token_hash: hashToken(token), expires_at: expiresAt, created_at: now })
    .execute();
  return { token, expiresAt, user };
}

/** Whether a reset link can still be used, for showing its form; throws what is wrong with it. */
export async function checkResetToken(db: Executor, clock: Clock, token: string): Promise<void> {
  await openToken(db, clock, token, { lock: false });
}

/** Sets the new password from a reset link, once. Returns the user, whose sessions are all ended. */
export async function resetPassword(
  base: AnonymousCtx,
  input: { token: string; password: string },
): Promise<Pick<User, 'id' | 'email'>> {
  const password = checkNewPassword(input.password);
  await openToken(base.db, base.clock, input.token, { lock: false });
  const passwordHash = await hashPassword(password);
  return base.db.transaction().execute(async (trx) => {
    // Checked again under the lock: two submits of the same link must not both succeed.
    const link = await openToken(trx, base.clock, input.token, { lock: true });
    const now = base.clock.now();
    const user = await trx
      .updateTable('users')
      .set({ password_hash: passwordHash })
      .where('id', '=', link.user_id)
      .returning(['id', 'email', 'role', 'account_id'])
      .executeTakeFirstOrThrow();
    await trx
      .updateTable('password_reset_tokens')
      .set({ used_at: now })
      .where('user_id', '=', user.id)
      .where('used_at', 'is', null)
      .execute();
    await endAllSessions(trx, user.id);
    const account = await trx
      .selectFrom('accounts')
      .select(['id', 'kind', 'path'])
      .where('id', '=', user.account_id)
      .executeTakeFirstOrThrow();
    const actor: Actor = {
      userId: user.id,
      accountId: account.id,
      accountKind: account.kind,
      accountPath: account.path,
      role: user.role,
      channel: 'web',
      label: `web:${user.email ?? user.id}`,
    };
    await recordAudit(trx, actor, [
      {
        action: 'user.password_reset',
        accountId: account.id,
        subject: user.email ?? `user ${user.id}`,
        after: { via: 'reset link' },
      },
    ]);
    return { id: user.id, email: user.email };
  });
}

async function openToken(db: Executor, clock: Clock, token: string, options: { lock: boolean }) {
  const text = token.trim();
  const link = isWellFormedToken(text)
    ? await db
        .selectFrom('password_reset_tokens')
        .innerJoin('users', 'users.id', 'password_reset_tokens.user_id')
        .select([
          'password_reset_tokens.id',
          'password_reset_tokens.user_id',
          'password_reset_tokens.expires_at',
          'password_reset_tokens.used_at',
          'users.status',
        ])
        .where('password_reset_tokens.token_hash', '=', hashToken(text))
        .$if(options.lock, (q) => q.forUpdate('password_reset_tokens'))
        .executeTakeFirst()
    : undefined;
  if (!link || link.status !== 'active') {
    throw invalid('This password reset link is not valid.', {
      help: 'Open the whole link as it was given, or ask for a new one.',
      field: 'token',
    });
  }
  if (link.used_at !== null) {
    throw conflict('This password reset link was already used.', {
      help: 'Each link works once: log in with your new password, or ask for a new link.',
      field: 'token',
    });
  }
  if (link.expires_at.getTime() <= clock.now().getTime()) {
    throw invalid('This password reset link has expired.', {
      help: 'Links work for an hour: ask for a new one.',
      field: 'token',
    });
  }
  return link;
}
