// Linking a Telegram chat to a user, so customers manage their numbers from Telegram. The storefront (or an
// operator, with `telegram link` in the console) creates a one-time token; the customer opens
// t.me/<bot>?start=<token>, and the bot hands the token to linkTelegramChat, which sets the user's
// telegram_user_id. A Telegram account is linked to one user at most: staff or customer, never both.
//
// Tokens are 24 random bytes (32 base64url characters: Telegram's /start payload allows 64 of
// A-Za-z0-9_-). Only their SHA-256 is stored: they are random, so a fast hash is right.
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { recordAudit } from '../audit/audit.ts';
import { inTransaction, type Ctx, type Executor } from '../context.ts';
import { uniqueViolation } from '../db/errors.ts';
import type { Account, AccountKind, User } from '../db/schema.ts';
import { USER_ROLES } from '../db/schema.ts';
import { systemClock, type Clock, DAY_MS } from '../shared/clock.ts';
import { conflict, forbidden, invalid, notFound } from '../shared/errors.ts';
import { findAccount, type AccountRef } from './accounts.ts';
import type { Actor } from './actor.ts';
import { reaches, requirePermission } from './permissions.ts';
import { actorForUser } from './users.ts';

export const DEFAULT_LINK_TTL_MINUTES = 15;
/** A week: long enough for a link sent by email, short enough that a forgotten one dies. */
export const MAX_LINK_TTL_MINUTES = 7 * 24 * 60;
/** Spent and expired tokens are kept this long (so a reused link says "already used"), then pruned. */
const KEEP_SPENT_TOKENS_MS = 7 * DAY_MS;

const TOKEN_BYTES = 24;
const TOKEN_TEXT = /^[A-Za-z0-9_-]{1,64}$/;
const TELEGRAM_USER_ID = /^\d{1,20}$/;
const BOT_USERNAME = /^[A-Za-z][A-Za-z0-9_]{3,31}$/;
const NEW_LINK_HELP = 'Get a new link from the website (or from your provider).';

export interface TelegramLinkOffer {
  /** 32 characters of A-Za-z0-9_-: the /start payload. Shown once, never stored. */
  readonly token: string;
  readonly expiresAt: Date;
  /** The user the link is for. */
  readonly userId: number;
  /** https://t.me/<bot>?start=<token>: opens the bot and links the chat with one tap. */
  deepLink(botUsername: string): string;
}

/**
 * A one-time link for `user` (default: the actor's own user). Anyone may create one for themselves; admins
 * (operator or reseller, accounts.write) for users of accounts in their reach, but not for someone of
 * their own account who outranks them (the link would let them act as that person).
 */
export async function createTelegramLinkToken(
  ctx: Ctx,
  input: { user?: number; ttlMinutes?: number } = {},
): Promise<TelegramLinkOffer> {
  const ttl = input.ttlMinutes ?? DEFAULT_LINK_TTL_MINUTES;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_LINK_TTL_MINUTES) {
    throw invalid(`A link valid for ${ttl} minutes is out of range.`, {
      help: `Use a whole number of minutes from 1 to ${MAX_LINK_TTL_MINUTES} (a week).`,
      field: 'ttlMinutes',
    });
  }
  const userId = input.user ?? ctx.actor.userId;
  if (userId === null) {
    throw invalid('Say which user the link is for.', {
      help: 'In the console: telegram link <account> [email=<user email>].',
      field: 'user',
    });
  }
  const own = userId === ctx.actor.userId;
  if (!own) requirePermission(ctx.actor, 'accounts.write');
  return inTransaction(ctx, async (tx) => {
    const { user, account } = await loadUser(tx.db, userId, { lock: false });
    // Users outside the actor's reach are not revealed: they do not exist, as far as the actor knows.
    if (!user || !account || (!own && !reaches(tx.actor, account.path))) {
      throw notFound('No such user.', { field: 'user' });
    }
    if (!own && account.id === tx.actor.accountId && outranks(user.role, tx.actor.role)) {
      throw forbidden(`You cannot create a Telegram link for an ${user.role} of your own account.`, {
        help: 'They create their own, or someone of their rank does.',
      });
    }
    if (user.status !== 'active') throw conflict('That user is disabled; enable it first.');
    if (account.status !== 'active') {
      throw conflict(`${account.slug} is ${account.status}; a Telegram link would not work.`, {
        help: 'Re-activate the account first.',
      });
    }
    const now = tx.clock.now();
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const expiresAt = new Date(now.getTime() + ttl * 60_000);
    await tx.db
      .deleteFrom('telegram_link_tokens')
      .where('user_id', '=', user.id)
      .where('expires_at', '<', new Date(now.getTime() - KEEP_SPENT_TOKENS_MS))
      .execute();
    await tx.db
      .insertInto('telegram_link_tokens')
      .values({ user_id: user.id, token_hash: hashToken(token), expires_at: expiresAt, created_at: now })
      .execute();
    await recordAudit(tx.db, tx.actor, [
      {
        action: 'telegram.link_token',
        accountId: account.id,
        subject: user.email ?? `user ${user.id}`,
        after: { user_id: user.id, expires_at: expiresAt.toISOString() },
      },
    ]);
    return { token, expiresAt, userId: user.id, deepLink: (bot: string) => deepLinkFor(bot, token) };
  });
}

/** https://t.me/<bot>?start=<token>, for a bot username with or without its @. */
export function deepLinkFor(botUsername: string, token: string): string {
  return `https://t.me/${checkBotUsername(botUsername)}?start=${encodeURIComponent(token)}`;
}

/** A bot's username as t.me links use it (without the @); throws for anything else. */
export function checkBotUsername(botUsername: string): string {
  const bot = botUsername.trim().replace(/^@/, '');
  if (!BOT_USERNAME.test(bot)) {
    throw invalid(`"${botUsername}" is not a Telegram bot username.`, {
      help: 'Give the name after t.me/, e.g. didops_bot.',
      field: 'bot',
    });
  }
  return bot;
}

/**
 * The user of an account a link is for, for the console: the one with that email, or the account's only
 * active user. Only accounts in the actor's reach.
 */
export async function findUserToLink(
  ctx: Ctx,
  input: { account: AccountRef; email?: string },
): Promise<{ user: User; account: Account }> {
  requirePermission(ctx.actor, 'accounts.write');
  const account = await findAccount(ctx, input.account);
  const email = input.email?.trim().toLowerCase();
  const users = await ctx.db
    .selectFrom('users')
    .selectAll()
    .where('account_id', '=', account.id)
    .where('status', '=', 'active')
    .$if(email !== undefined, (q) => q.where(sql<string>`lower(email)`, '=', email!))
    .orderBy('id')
    .execute();
  const [only, ...more] = users;
  if (!only) {
    throw notFound(
      email ? `${account.slug} has no active user ${email}.` : `${account.slug} has no active users.`,
      {
        help: email
          ? 'Check the email, or leave email= out to pick its only user.'
          : `Create one first: user create ${account.slug} owner email=<their email>.`,
        field: email ? 'email' : 'account',
      },
    );
  }
  if (more.length > 0) {
    const emails = users.map((u) => u.email ?? `user ${u.id} (no email)`).join(', ');
    throw invalid(`${account.slug} has ${users.length} users; say which with email=.`, {
      help: `Its users: ${emails}.`,
      field: 'email',
    });
  }
  return { user: only, account };
}

/**
 * Links a Telegram account to the user a /start token names, once: the token is marked used in the same
 * transaction. Refused, with nothing changed and the token still good, when the Telegram account is
 * linked to another user or the user or its account is not active.
 */
export async function linkTelegramChat(
  db: Executor,
  input: { token: string; telegramUserId: string; displayName?: string },
  clock: Clock = systemClock,
): Promise<User> {
  const telegramUserId = checkTelegramUserId(input.telegramUserId);
  const token = input.token.trim();
  if (!TOKEN_TEXT.test(token)) throw notValid();
  const work = async (trx: Executor): Promise<User> => {
    const now = clock.now();
    const link = await trx
      .selectFrom('telegram_link_tokens')
      .selectAll()
      .where('token_hash', '=', hashToken(token))
      .forUpdate()
      .executeTakeFirst();
    if (!link) throw notValid();
    if (link.used_at !== null) {
      throw conflict('This link was already used.', { help: `Each link works once. ${NEW_LINK_HELP}` });
    }
    if (link.expires_at.getTime() <= now.getTime()) {
      throw invalid('This link has expired; get a new one from the website.', { field: 'token' });
    }
    const { user, account } = await loadUser(trx, link.user_id, { lock: true });
    if (!user || !account) throw notValid();
    refuseInactive(user, account);
    const holder = await trx
      .selectFrom('users')
      .innerJoin('accounts', 'accounts.id', 'users.account_id')
      .select(['users.id', 'accounts.slug', 'accounts.kind'])
      .where('users.telegram_user_id', '=', telegramUserId)
      .executeTakeFirst();
    if (holder && holder.id !== user.id) throw linkedElsewhere(holder);

    const updated = await trx
      .updateTable('users')
      .set({
        telegram_user_id: telegramUserId,
        ...(user.name === '' && input.displayName?.trim() ? { name: input.displayName.trim() } : {}),
      })
      .where('id', '=', user.id)
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch((error: unknown) => {
        if (uniqueViolation(error) === 'users_telegram_user_id_key') {
          throw conflict('This Telegram account was linked to another user meanwhile.', {
            help: 'Send /unlink, then open the link again.',
          });
        }
        throw error;
      });
    await trx.updateTable('telegram_link_tokens').set({ used_at: now }).where('id', '=', link.id).execute();
    await recordAudit(trx, telegramActor(updated, account), [
      {
        action: 'telegram.link',
        accountId: account.id,
        subject: `telegram:${telegramUserId}`,
        before: { telegram_user_id: user.telegram_user_id },
        after: { telegram_user_id: telegramUserId },
      },
    ]);
    return updated;
  };
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}

/** `/unlink`: the Telegram account is no longer linked to anyone. The user row stays. Null when it was not. */
export async function unlinkTelegram(db: Executor, telegramUserId: string): Promise<User | null> {
  const id = checkTelegramUserId(telegramUserId);
  const work = async (trx: Executor): Promise<User | null> => {
    const row = await trx
      .selectFrom('users')
      .select('id')
      .where('telegram_user_id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    if (!row) return null;
    const { user, account } = await loadUser(trx, row.id, { lock: false });
    if (!user || !account) return null;
    const updated = await trx
      .updateTable('users')
      .set({ telegram_user_id: null })
      .where('id', '=', user.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, telegramActor(user, account), [
      {
        action: 'telegram.unlink',
        accountId: account.id,
        subject: `telegram:${id}`,
        before: { telegram_user_id: id },
        after: { telegram_user_id: null },
      },
    ]);
    return updated;
  };
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}

export interface LinkedTelegramUser {
  readonly actor: Actor;
  readonly user: User;
  readonly account: Account;
}

/**
 * The user a Telegram account is linked to, with the actor to act as them, or null when it is linked to
 * nobody. A disabled user, or a suspended or closed account, is refused with what to do.
 */
export async function actorForTelegramUser(
  db: Executor,
  telegramUserId: string,
): Promise<LinkedTelegramUser | null> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where('telegram_user_id', '=', checkTelegramUserId(telegramUserId))
    .executeTakeFirst();
  if (!row) return null;
  const { user, account } = await loadUser(db, row.id, { lock: false });
  if (!user || !account) return null;
  refuseInactive(user, account);
  return { actor: await actorForUser(db, user.id, 'telegram'), user, account };
}

/**
 * Whether a Telegram account is linked to staff (a user of the operator or a reseller) or to a customer,
 * whatever their status; null when linked to nobody. Lets the bot send each to their own commands.
 */
export async function telegramUserKind(
  db: Executor,
  telegramUserId: string,
): Promise<'staff' | 'customer' | null> {
  if (!TELEGRAM_USER_ID.test(telegramUserId)) return null;
  const row = await db
    .selectFrom('users')
    .innerJoin('accounts', 'accounts.id', 'users.account_id')
    .select('accounts.kind')
    .where('users.telegram_user_id', '=', telegramUserId)
    .executeTakeFirst();
  if (!row) return null;
  return row.kind === 'customer' ? 'customer' : 'staff';
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function notValid() {
  return invalid('This link is not valid.', {
    help: `Open the whole link as you got it. ${NEW_LINK_HELP}`,
    field: 'token',
  });
}

function checkTelegramUserId(id: string): string {
  const text = id.trim();
  if (!TELEGRAM_USER_ID.test(text)) throw invalid(`"${id}" is not a Telegram user id.`);
  return text;
}

function refuseInactive(user: User, account: Account): void {
  if (account.status !== 'active') {
    throw forbidden(`Your account is ${account.status}; contact your provider.`);
  }
  if (user.status !== 'active') {
    throw forbidden('Your user is disabled.', {
      help: "Ask your account's admin, or your provider, to re-enable it.",
    });
  }
}

function linkedElsewhere(holder: { slug: string; kind: AccountKind }) {
  if (holder.kind === 'customer') {
    return conflict(`This Telegram account is already linked to ${holder.slug}.`, {
      help: 'Send /unlink first, then open the link again.',
    });
  }
  return conflict(`This Telegram account is already linked to staff of ${holder.slug}.`, {
    help: 'A Telegram account is either staff or a customer: open the link from another Telegram account, or ask your provider to remove the staff link.',
  });
}

/** Roles grade power: owner > admin > operator > viewer. */
function outranks(role: User['role'], than: User['role']): boolean {
  return USER_ROLES.indexOf(role) < USER_ROLES.indexOf(than);
}

async function loadUser(
  db: Executor,
  userId: number,
  options: { lock: boolean },
): Promise<{ user?: User; account?: Account }> {
  const user = await db
    .selectFrom('users')
    .selectAll()
    .where('id', '=', userId)
    .$if(options.lock, (q) => q.forUpdate())
    .executeTakeFirst();
  if (!user) return {};
  const account = await db
    .selectFrom('accounts')
    .selectAll()
    .where('id', '=', user.account_id)
    .executeTakeFirstOrThrow();
  return { user, account };
}

/** The user acting through Telegram, for the audit trail (also when disabled: unlinking is always allowed). */
function telegramActor(user: User, account: Account): Actor {
  return {
    userId: user.id,
    accountId: account.id,
    accountKind: account.kind,
    accountPath: account.path,
    role: user.role,
    channel: 'telegram',
    label: `telegram:${user.telegram_user_id ?? user.id}`,
  };
}
