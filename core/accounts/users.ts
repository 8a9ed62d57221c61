// Users belong to an account and carry a role; they sign in to the web with an argon2-hashed password and
// may be linked to a Slack and a Telegram identity. Also builds the actors for the CLI and the system.
import { hash, verify } from '@node-rs/argon2';
import type { Channel, User, UserRole } from '../db/schema.ts';
import { USER_ROLES } from '../db/schema.ts';
import { uniqueViolation } from '../db/errors.ts';
import { recordAudit } from '../audit/audit.ts';
import { inTransaction, type Ctx, type Executor } from '../context.ts';
import { conflict, forbidden, invalid, notFound, type DomainError } from '../shared/errors.ts';
import type { Actor } from './actor.ts';
import { findAccount, getOperatorAccount, type AccountRef } from './accounts.ts';
import { requirePermission } from './permissions.ts';

export const MIN_PASSWORD_LENGTH = 10;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export interface NewUserInput {
  readonly account: AccountRef;
  /** One of USER_ROLES; typed text is checked here. */
  readonly role: string;
  readonly email?: string;
  readonly name?: string;
  readonly password?: string;
  readonly slackUserId?: string;
  readonly telegramUserId?: string;
}

export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return verify(passwordHash, password);
}

export async function createUser(ctx: Ctx, input: NewUserInput): Promise<User> {
  requirePermission(ctx.actor, 'users.write');
  const role = input.role.trim().toLowerCase() as UserRole;
  if (!USER_ROLES.includes(role)) {
    throw invalid(`"${String(input.role)}" is not a role.`, {
      help: `Use one of: ${USER_ROLES.join(', ')}.`,
      field: 'role',
    });
  }
  const email = input.email?.trim().toLowerCase() || null;
  if (email !== null && !EMAIL.test(email))
    throw invalid(`"${input.email}" is not an email address.`, { field: 'email' });
  if (input.password !== undefined && input.password.length < MIN_PASSWORD_LENGTH) {
    throw invalid(`The password must have at least ${MIN_PASSWORD_LENGTH} characters.`, {
      field: 'password',
    });
  }
  if (email === null && !input.slackUserId && !input.telegramUserId) {
    throw invalid('A user needs an email, a Slack user id or a Telegram user id.', { field: 'email' });
  }
  if (role === 'owner' && ctx.actor.role !== 'owner') {
    throw forbidden('Only an owner can create another owner.', { help: 'Create the user as admin instead.' });
  }
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);

  return inTransaction(ctx, async (tx) => {
    const account = await findAccount(tx, input.account);
    if (email !== null) {
      const taken = await tx.db
        .selectFrom('users')
        .select('id')
        .where((eb) => eb(eb.fn('lower', ['email']), '=', email))
        .executeTakeFirst();
      if (taken) throw conflict(`A user with the email ${email} already exists.`, { field: 'email' });
    }
    const user = await tx.db
      .insertInto('users')
      .values({
        account_id: account.id,
        role,
        email,
        name: input.name?.trim() ?? '',
        password_hash: passwordHash,
        slack_user_id: input.slackUserId?.trim() || null,
        telegram_user_id: input.telegramUserId?.trim() || null,
      })
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch((error: unknown) => {
        throw duplicateIdentity(error) ?? error;
      });
    await recordAudit(tx.db, tx.actor, [
      {
        action: 'user.create',
        accountId: account.id,
        subject: email ?? user.slack_user_id ?? user.telegram_user_id ?? String(user.id),
        after: { email, role: user.role, account: account.slug },
      },
    ]);
    return user;
  });
}

/**
 * A unique index refused the user: a concurrent create took the email after the check above, or the Slack
 * or Telegram identity is linked to someone else already.
 */
function duplicateIdentity(error: unknown): DomainError | null {
  const constraint = uniqueViolation(error);
  if (constraint === 'users_email_idx')
    return conflict('A user with that email already exists.', { field: 'email' });
  if (constraint === 'users_slack_user_id_key') {
    return conflict('That Slack user is already linked to another user.', { field: 'slackUserId' });
  }
  if (constraint === 'users_telegram_user_id_key') {
    return conflict('That Telegram user is already linked to another user.', { field: 'telegramUserId' });
  }
  return null;
}

/** The actor for a signed-in or linked user. Refuses disabled users and closed or suspended accounts. */
export async function actorForUser(db: Executor, userId: number, channel: Channel): Promise<Actor> {
  const row = await db
    .selectFrom('users')
    .innerJoin('accounts', 'accounts.id', 'users.account_id')
    .select([
      'users.id as userId',
      'users.email',
      'users.role',
      'users.status as userStatus',
      'users.slack_user_id',
      'users.telegram_user_id',
      'accounts.id as accountId',
      'accounts.kind',
      'accounts.path',
      'accounts.status as accountStatus',
    ])
    .where('users.id', '=', userId)
    .executeTakeFirst();
  if (!row) throw notFound('That user does not exist.');
  if (row.userStatus !== 'active')
    throw forbidden('This user is disabled.', { help: 'Ask an admin to re-enable it.' });
  if (row.accountStatus !== 'active') {
    throw forbidden(`This account is ${row.accountStatus}.`, {
      help: 'Contact your provider to restore it.',
    });
  }
  const identity =
    channel === 'slack' ? row.slack_user_id : channel === 'telegram' ? row.telegram_user_id : row.email;
  return {
    userId: row.userId,
    accountId: row.accountId,
    accountKind: row.kind,
    accountPath: row.path,
    role: row.role,
    channel,
    label: `${channel}:${identity ?? row.userId}`,
  };
}

/** Whoever has a shell on the server and the database URL is the operator: the CLI acts as its owner. */
export async function operatorActor(
  db: Executor,
  channel: Extract<Channel, 'cli' | 'system'>,
  who: string,
): Promise<Actor> {
  const operator = await getOperatorAccount(db);
  return {
    userId: null,
    accountId: operator.id,
    accountKind: 'admin',
    accountPath: operator.path,
    role: 'owner',
    channel,
    label: `${channel}:${who}`,
  };
}
