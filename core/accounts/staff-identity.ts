// Slack and Telegram users are staff only when a user row links them. SLACK_ADMIN_USERS and
// TELEGRAM_ADMIN_USERS name the first admins (linked on first contact); from then on admins link others
// with `staff link`. Anyone else gets a polite refusal and nothing runs.
import { sql } from 'kysely';
import { recordAudit } from '../audit/audit.ts';
import { inTransaction, type Ctx, type Executor } from '../context.ts';
import { uniqueViolation } from '../db/errors.ts';
import type { User, UserRole } from '../db/schema.ts';
import { conflict, forbidden, invalid, notFound } from '../shared/errors.ts';
import type { Actor } from './actor.ts';
import { getOperatorAccount } from './accounts.ts';
import { requirePermission } from './permissions.ts';
import { actorForUser, operatorActor } from './users.ts';

export type ChatChannel = 'slack' | 'telegram';

const COLUMN = { slack: 'slack_user_id', telegram: 'telegram_user_id' } as const;
const STAFF_ROLES: readonly UserRole[] = ['admin', 'operator', 'viewer'];

/** Slack ids look like U024BE7LH (W… on Enterprise Grid); Telegram ids are positive integers. */
export function normalizeChatUserId(channel: ChatChannel, typed: string): string {
  // Slack sends mentions as <@U024BE7LH|alice>; people also paste @U024BE7LH.
  const bare = typed
    .trim()
    .replace(/^<@([A-Z0-9]+)(?:\|[^>]*)?>$/i, '$1')
    .replace(/^@/, '');
  const text = channel === 'slack' ? bare.toUpperCase() : bare;
  const ok = channel === 'slack' ? /^[UW][A-Z0-9]{2,20}$/.test(text) : /^\d{1,20}$/.test(text);
  if (!ok) {
    throw invalid(`"${typed}" is not a ${channel === 'slack' ? 'Slack' : 'Telegram'} user id.`, {
      help:
        channel === 'slack'
          ? 'Mention the person (@alice) or give their member id, e.g. U024BE7LH (profile → ⋮ → Copy member ID).'
          : "Give the person's numeric Telegram id (they can get it from @userinfobot).",
    });
  }
  return text;
}

export interface ChatIdentity {
  readonly channel: ChatChannel;
  readonly externalId: string;
  readonly displayName?: string;
}

/**
 * The actor for a chat user, or null when nobody linked them. A bootstrap admin (from the environment) is
 * linked to the operator account on first contact. Disabled users and suspended accounts are refused by
 * actorForUser with a clear message.
 */
export async function actorForChatUser(
  db: Executor,
  identity: ChatIdentity,
  bootstrapAdmins: readonly string[],
): Promise<Actor | null> {
  const column = COLUMN[identity.channel];
  const user = await db
    .selectFrom('users')
    .select('id')
    .where(column, '=', identity.externalId)
    .executeTakeFirst();
  if (user) return actorForUser(db, user.id, identity.channel);
  if (!bootstrapAdmins.includes(identity.externalId)) return null;
  const created = await linkBootstrapAdmin(db, identity);
  return actorForUser(db, created, identity.channel);
}

async function linkBootstrapAdmin(db: Executor, identity: ChatIdentity): Promise<number> {
  const operator = await getOperatorAccount(db);
  const system = await operatorActor(db, 'system', `${identity.channel.toUpperCase()}_ADMIN_USERS`);
  return db.transaction().execute(async (trx) => {
    // Two first messages at once from the same admin: the unique index keeps one row, both use it.
    const inserted = await trx
      .insertInto('users')
      .values({
        account_id: operator.id,
        role: 'admin',
        email: null,
        name: identity.displayName ?? '',
        password_hash: null,
        slack_user_id: identity.channel === 'slack' ? identity.externalId : null,
        telegram_user_id: identity.channel === 'telegram' ? identity.externalId : null,
      })
      .onConflict((oc) => oc.column(COLUMN[identity.channel]).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) {
      await recordAudit(trx, system, [
        {
          action: 'staff.link',
          accountId: operator.id,
          subject: `${identity.channel}:${identity.externalId}`,
          after: { role: 'admin', bootstrap: true },
        },
      ]);
      return inserted.id;
    }
    const existing = await trx
      .selectFrom('users')
      .select('id')
      .where(COLUMN[identity.channel], '=', identity.externalId)
      .executeTakeFirstOrThrow();
    return existing.id;
  });
}

export interface LinkStaffInput {
  readonly channel: ChatChannel;
  /** A user id or a mention as typed. */
  readonly user: string;
  readonly role: string;
  readonly name?: string;
}

/**
 * `staff link`: makes a chat user staff of the linking admin's own account with a role, or changes the
 * role of one already linked there. Staff of another account cannot be taken over.
 */
export async function linkStaff(ctx: Ctx, input: LinkStaffInput): Promise<{ user: User; changed: boolean }> {
  requirePermission(ctx.actor, 'users.write');
  const externalId = normalizeChatUserId(input.channel, input.user);
  const role = input.role.trim().toLowerCase() as UserRole;
  if (!STAFF_ROLES.includes(role)) {
    throw invalid(`"${input.role}" is not a staff role.`, { help: `Use ${STAFF_ROLES.join(', ')}.` });
  }
  const column = COLUMN[input.channel];
  return inTransaction(ctx, async (tx) => {
    const existing = await tx.db
      .selectFrom('users')
      .selectAll()
      .where(column, '=', externalId)
      .forUpdate()
      .executeTakeFirst();
    if (existing && existing.account_id !== tx.actor.accountId) {
      throw conflict(`That ${input.channel} user is already staff of another account.`, {
        help: 'Ask an admin of that account to unlink them first.',
      });
    }
    if (existing?.role === 'owner') throw forbidden('Owners are changed on the web, not from chat.');
    if (existing && existing.role === role && existing.status === 'active')
      return { user: existing, changed: false };
    const values = { role, status: 'active' as const, ...(input.name ? { name: input.name } : {}) };
    const user = existing
      ? await tx.db
          .updateTable('users')
          .set(values)
          .where('id', '=', existing.id)
          .returningAll()
          .executeTakeFirstOrThrow()
      : await tx.db
          .insertInto('users')
          .values({
            account_id: tx.actor.accountId,
            email: null,
            password_hash: null,
            slack_user_id: input.channel === 'slack' ? externalId : null,
            telegram_user_id: input.channel === 'telegram' ? externalId : null,
            ...values,
          })
          .returningAll()
          .executeTakeFirstOrThrow()
          .catch((error: unknown) => {
            throw uniqueViolation(error)
              ? conflict(`That ${input.channel} user was linked meanwhile; try again.`)
              : error;
          });
    await recordAudit(tx.db, tx.actor, [
      {
        action: 'staff.link',
        accountId: tx.actor.accountId,
        subject: `${input.channel}:${externalId}`,
        before: existing ? { role: existing.role, status: existing.status } : null,
        after: { role, status: 'active' },
      },
    ]);
    return { user, changed: true };
  });
}

/** `staff unlink`: the chat user stops being staff (the row stays, disabled, for the audit trail). */
export async function unlinkStaff(ctx: Ctx, input: { channel: ChatChannel; user: string }): Promise<User> {
  requirePermission(ctx.actor, 'users.write');
  const externalId = normalizeChatUserId(input.channel, input.user);
  return inTransaction(ctx, async (tx) => {
    const user = await tx.db
      .selectFrom('users')
      .selectAll()
      .where(COLUMN[input.channel], '=', externalId)
      .where('account_id', '=', tx.actor.accountId)
      .forUpdate()
      .executeTakeFirst();
    if (!user) throw notFound(`No staff member with ${input.channel} id ${externalId} on your account.`);
    if (user.id === tx.actor.userId)
      throw invalid('You cannot unlink yourself.', { help: 'Ask another admin.' });
    if (user.role === 'owner') throw forbidden('Owners are changed on the web, not from chat.');
    if (user.status === 'disabled') return user;
    const updated = await tx.db
      .updateTable('users')
      .set({ status: 'disabled' })
      .where('id', '=', user.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(tx.db, tx.actor, [
      {
        action: 'staff.unlink',
        accountId: tx.actor.accountId,
        subject: `${input.channel}:${externalId}`,
        before: { role: user.role, status: user.status },
        after: { status: 'disabled' },
      },
    ]);
    return updated;
  });
}

export interface StaffMember {
  readonly name: string;
  readonly role: UserRole;
  readonly status: 'active' | 'disabled';
  readonly email: string | null;
  readonly slackUserId: string | null;
  readonly telegramUserId: string | null;
}

/** Staff of the actor's own account, admins first. */
export async function listStaff(ctx: Ctx): Promise<StaffMember[]> {
  requirePermission(ctx.actor, 'accounts.read');
  const rows = await ctx.db
    .selectFrom('users')
    .select(['name', 'role', 'status', 'email', 'slack_user_id', 'telegram_user_id'])
    .where('account_id', '=', ctx.actor.accountId)
    .orderBy(sql`array_position(array['owner','admin','operator','viewer'], role)`)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    name: r.name,
    role: r.role,
    status: r.status,
    email: r.email,
    slackUserId: r.slack_user_id,
    telegramUserId: r.telegram_user_id,
  }));
}
