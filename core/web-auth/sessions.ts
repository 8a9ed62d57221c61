// Storefront sessions, kept in PostgreSQL so any web process serves any browser. The browser holds a
// random token; the row's id is its SHA-256. Each session carries its own CSRF secret (the synchronizer
// token its forms echo). Sessions slide: each use pushes the expiry out, up to a hard limit from log-in.
import type { Actor } from '../accounts/actor.ts';
import type { Executor } from '../context.ts';
import type { AccountKind, AccountStatus, UserRole } from '../db/schema.ts';
import { DAY_MS, type Clock } from '../shared/clock.ts';
import { forbidden } from '../shared/errors.ts';
import { hashToken, isWellFormedToken, newToken } from './secret-token.ts';

/** Idle time after which a session ends. */
export const SESSION_IDLE_MS = 14 * DAY_MS;
/** However active, a session ends this long after log-in. */
export const SESSION_MAX_MS = 60 * DAY_MS;
/** last_seen_at is written at most this often, so page views do not all write. */
const TOUCH_EVERY_MS = 10 * 60_000;

export interface StartedSession {
  /** Goes in the cookie; never stored. */
  readonly token: string;
  readonly csrfSecret: string;
  readonly expiresAt: Date;
}

/** Who a session belongs to, as every page needs it: one query per request. */
export interface SessionUser {
  readonly sessionId: string;
  readonly csrfSecret: string;
  readonly expiresAt: Date;
  readonly user: {
    readonly id: number;
    readonly email: string | null;
    readonly name: string;
    readonly role: UserRole;
  };
  readonly account: {
    readonly id: number;
    readonly slug: string;
    readonly name: string;
    readonly kind: AccountKind;
    readonly path: string;
    readonly status: AccountStatus;
    readonly currency: string;
  };
}

/**
 * A new session for the user. `replacing` (the token of the browser's current session, if any) is
 * deleted in the same transaction: a log-in always gets a fresh id, so a session id planted before
 * log-in (fixation) is worth nothing after it.
 */
export async function startSession(
  db: Executor,
  clock: Clock,
  userId: number,
  replacing?: string,
): Promise<StartedSession> {
  const now = clock.now();
  const token = newToken();
  const csrfSecret = newToken();
  const expiresAt = new Date(now.getTime() + SESSION_IDLE_MS);
  const work = async (trx: Executor) => {
    if (isWellFormedToken(replacing)) {
      await trx.deleteFrom('web_sessions').where('id', '=', hashToken(replacing)).execute();
    }
    // Expired sessions are pruned here, at the rare moment someone logs in, through the expiry index.
    await trx.deleteFrom('web_sessions').where('expires_at', '<=', now).execute();
    await trx
      .insertInto('web_sessions')
      .values({
        id: hashToken(token),
        user_id: userId,
        csrf_secret: csrfSecret,
        expires_at: expiresAt,
        created_at: now,
        last_seen_at: now,
      })
      .execute();
  };
  await (db.isTransaction ? work(db) : db.transaction().execute(work));
  return { token, csrfSecret, expiresAt };
}

/**
 * The live session a cookie token names, with its user and account; null for a missing, malformed,
 * expired or unknown token, or a disabled user. Refreshes last_seen_at and the expiry now and then.
 */
export async function findSession(
  db: Executor,
  clock: Clock,
  token: string | undefined,
): Promise<SessionUser | null> {
  if (!isWellFormedToken(token)) return null;
  const now = clock.now();
  const row = await db
    .selectFrom('web_sessions')
    .innerJoin('users', 'users.id', 'web_sessions.user_id')
    .innerJoin('accounts', 'accounts.id', 'users.account_id')
    .select([
      'web_sessions.id as sessionId',
      'web_sessions.csrf_secret',
      'web_sessions.expires_at',
      'web_sessions.created_at',
      'web_sessions.last_seen_at',
      'users.id as userId',
      'users.email',
      'users.name as userName',
      'users.role',
      'accounts.id as accountId',
      'accounts.slug',
      'accounts.name as accountName',
      'accounts.kind',
      'accounts.path',
      'accounts.status as accountStatus',
      'accounts.currency',
    ])
    .where('web_sessions.id', '=', hashToken(token))
    .where('web_sessions.expires_at', '>', now)
    .where('users.status', '=', 'active')
    .executeTakeFirst();
  if (!row) return null;
  let expiresAt = row.expires_at;
  if (now.getTime() - row.last_seen_at.getTime() >= TOUCH_EVERY_MS) {
    expiresAt = new Date(
      Math.min(row.created_at.getTime() + SESSION_MAX_MS, now.getTime() + SESSION_IDLE_MS),
    );
    await db
      .updateTable('web_sessions')
      .set({ last_seen_at: now, expires_at: expiresAt })
      .where('id', '=', row.sessionId)
      .execute();
  }
  return {
    sessionId: row.sessionId,
    csrfSecret: row.csrf_secret,
    expiresAt,
    user: { id: row.userId, email: row.email, name: row.userName, role: row.role },
    account: {
      id: row.accountId,
      slug: row.slug,
      name: row.accountName,
      kind: row.kind,
      path: row.path,
      status: row.accountStatus,
      currency: row.currency,
    },
  };
}

/** Log-out: the session row is gone, so the cookie is worthless wherever it was copied to. */
export async function endSession(db: Executor, token: string | undefined): Promise<void> {
  if (!isWellFormedToken(token)) return;
  await db.deleteFrom('web_sessions').where('id', '=', hashToken(token)).execute();
}

/** Every session of a user (after a password reset: whoever knew the old password is logged out). */
export async function endAllSessions(db: Executor, userId: number): Promise<void> {
  await db.deleteFrom('web_sessions').where('user_id', '=', userId).execute();
}

/**
 * The actor a signed-in user acts as on the web. A suspended or closed account may look at its pages
 * but not change anything: this refuses, with what to do.
 */
export function webActor(session: SessionUser): Actor {
  if (session.account.status !== 'active') {
    throw forbidden(`Your account is ${session.account.status}.`, {
      help: 'Contact your provider to restore it.',
    });
  }
  return {
    userId: session.user.id,
    accountId: session.account.id,
    accountKind: session.account.kind,
    accountPath: session.account.path,
    role: session.user.role,
    channel: 'web',
    label: `web:${session.user.email ?? session.user.id}`,
  };
}

/**
 * The actor for pages that only read. A suspended or closed account may still look at its own numbers,
 * orders and invoices: it reads as a viewer, so any change it tried would be refused by its role.
 */
export function webReaderActor(session: SessionUser): Actor {
  if (session.account.status === 'active') return webActor(session);
  return {
    userId: session.user.id,
    accountId: session.account.id,
    accountKind: session.account.kind,
    accountPath: session.account.path,
    role: 'viewer',
    channel: 'web',
    label: `web:${session.user.email ?? session.user.id}`,
  };
}
