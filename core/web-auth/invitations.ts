// A reseller invites a customer: a one-time link (/signup?invite=<token>) whose signup creates the customer
// account under that reseller, so it buys at the reseller's prices. The link names one email address and
// expires; only the token's hash is stored. The reseller portal creates them; the signup page claims them.
import { accountOf, findAccount, type AccountRef } from '../accounts/accounts.ts';
import { requirePermission } from '../accounts/permissions.ts';
import { recordAudit } from '../audit/audit.ts';
import { inTransaction, type Ctx, type Executor } from '../context.ts';
import type { Account, AccountInvitation } from '../db/schema.ts';
import { DAY_MS, type Clock } from '../shared/clock.ts';
import { conflict, invalid } from '../shared/errors.ts';
import { hashToken, isWellFormedToken, newToken } from './secret-token.ts';
import { normalizeEmail } from './fields.ts';

export const DEFAULT_INVITATION_DAYS = 7;
export const MAX_INVITATION_DAYS = 30;

export interface CreatedInvitation {
  readonly invitationId: number;
  /** Shown once, in the link; never stored. */
  readonly token: string;
  readonly email: string;
  readonly reseller: Account;
  readonly expiresAt: Date;
  /** Path of the signup link, to put after PUBLIC_URL. */
  readonly path: string;
}

/**
 * An invitation for `email` to become a customer of `reseller` (default: the actor's own account, which
 * must be a reseller). Needs accounts.write on the reseller, like creating the customer directly would.
 */
export async function createInvitation(
  ctx: Ctx,
  input: { email: string; reseller?: AccountRef; ttlDays?: number },
): Promise<CreatedInvitation> {
  requirePermission(ctx.actor, 'accounts.write');
  const email = normalizeEmail(input.email);
  const days = input.ttlDays ?? DEFAULT_INVITATION_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > MAX_INVITATION_DAYS) {
    throw invalid(`An invitation valid for ${days} days is out of range.`, {
      help: `Use a whole number of days from 1 to ${MAX_INVITATION_DAYS}.`,
      field: 'ttlDays',
    });
  }
  return inTransaction(ctx, async (tx) => {
    const reseller =
      input.reseller === undefined ? await accountOf(tx.db, tx.actor) : await findAccount(tx, input.reseller);
    if (reseller.kind !== 'reseller') {
      throw invalid(`${reseller.slug} is not a reseller; only resellers invite customers.`, {
        field: 'reseller',
      });
    }
    if (reseller.status !== 'active') {
      throw conflict(`${reseller.slug} is ${reseller.status}; it cannot take new customers.`);
    }
    const now = tx.clock.now();
    const token = newToken();
    const expiresAt = new Date(now.getTime() + days * DAY_MS);
    const row = await tx.db
      .insertInto('account_invitations')
      .values({
        token_hash: hashToken(token),
        reseller_account_id: reseller.id,
        email,
        created_by_user_id: tx.actor.userId,
        expires_at: expiresAt,
        created_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await recordAudit(tx.db, tx.actor, [
      {
        action: 'invitation.create',
        accountId: reseller.id,
        subject: email,
        after: { email, reseller: reseller.slug, expires_at: expiresAt.toISOString() },
      },
    ]);
    return {
      invitationId: row.id,
      token,
      email,
      reseller,
      expiresAt,
      path: `/signup?invite=${encodeURIComponent(token)}`,
    };
  });
}

export interface InvitationView {
  readonly email: string;
  readonly resellerName: string;
  readonly expiresAt: Date;
}

/** What the signup page shows for an invitation link; refuses unknown, used and expired ones. */
export async function findInvitation(db: Executor, clock: Clock, token: string): Promise<InvitationView> {
  const { invitation, reseller } = await openInvitation(db, clock, token, { lock: false });
  return { email: invitation.email, resellerName: reseller.name, expiresAt: invitation.expires_at };
}

/**
 * The invitation and its reseller, checked: usable now by whoever holds the token. With `lock`, the row
 * is locked until the caller's transaction ends, so two signups cannot both claim it.
 */
export async function openInvitation(
  db: Executor,
  clock: Clock,
  token: string,
  options: { lock: boolean },
): Promise<{ invitation: AccountInvitation; reseller: Account }> {
  const text = token.trim();
  const invitation = isWellFormedToken(text)
    ? await db
        .selectFrom('account_invitations')
        .selectAll()
        .where('token_hash', '=', hashToken(text))
        .$if(options.lock, (q) => q.forUpdate())
        .executeTakeFirst()
    : undefined;
  if (!invitation) {
    throw invalid('This invitation link is not valid.', {
      help: 'Open the whole link as you got it, or ask your provider for a new one.',
      field: 'invite',
    });
  }
  const reseller = await db
    .selectFrom('accounts')
    .selectAll()
    .where('id', '=', invitation.reseller_account_id)
    .executeTakeFirstOrThrow();
  if (invitation.used_at !== null) {
    throw conflict('This invitation was already used.', {
      help: `Log in with the account it created, or ask ${reseller.name} for a new one.`,
      field: 'invite',
    });
  }
  if (invitation.expires_at.getTime() <= clock.now().getTime()) {
    throw invalid('This invitation has expired.', {
      help: `Ask ${reseller.name} for a new one.`,
      field: 'invite',
    });
  }
  if (reseller.status !== 'active') {
    throw conflict(`${reseller.name} cannot take new customers right now.`, {
      help: `Contact ${reseller.name}.`,
      field: 'invite',
    });
  }
  return { invitation, reseller };
}
