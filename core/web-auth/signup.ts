// Signing up on the storefront: a customer account and its owner user, in one transaction. Without an
// invitation the customer belongs to the operator; with one, to the reseller that sent it (and the
// invitation is spent). The account and user are created through the same use cases staff use, by a
// web actor standing for the parent account, so the same rules and audit entries apply.
import { randomBytes } from 'node:crypto';
import type { Actor } from '../accounts/actor.ts';
import { createAccount, getOperatorAccount } from '../accounts/accounts.ts';
import { createUser } from '../accounts/users.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Ctx, Executor } from '../context.ts';
import type { Account, User } from '../db/schema.ts';
import { conflict, invalid } from '../shared/errors.ts';
import { checkName, checkNewPassword, normalizeEmail } from './fields.ts';
import { openInvitation } from './invitations.ts';

/** A context for someone not signed in yet: everything but the actor. */
export type AnonymousCtx = Omit<Ctx, 'actor'>;

export interface SignupInput {
  readonly name: string;
  /** The account's name; defaults to the person's name. */
  readonly company?: string;
  readonly email: string;
  readonly password: string;
  /** The token of a reseller's invitation link. */
  readonly invite?: string;
}

export interface SignedUp {
  readonly user: User;
  readonly account: Account;
  /** The reseller whose invitation was used, or null for a customer of the operator. */
  readonly reseller: Account | null;
}

export async function signUp(base: AnonymousCtx, input: SignupInput): Promise<SignedUp> {
  const name = checkName(input.name, 'name', 'your name');
  const company = input.company?.trim() ? checkName(input.company, 'company', 'a company name') : name;
  const email = normalizeEmail(input.email);
  const password = checkNewPassword(input.password);
  const invite = input.invite?.trim() || undefined;

  return base.db.transaction().execute(async (trx) => {
    const opened = invite ? await openInvitation(trx, base.clock, invite, { lock: true }) : undefined;
    if (opened && opened.invitation.email !== email) {
      throw invalid(`This invitation is for ${opened.invitation.email}.`, {
        help: 'Sign up with that address, or ask for an invitation for yours.',
        field: 'email',
      });
    }
    const parent = opened?.reseller ?? (await getOperatorAccount(trx));
    const taken = await trx
      .selectFrom('users')
      .select('id')
      .where((eb) => eb(eb.fn('lower', ['email']), '=', email))
      .executeTakeFirst();
    if (taken) {
      throw conflict('There is already an account with this email address.', {
        help: 'Log in instead, or reset your password if you forgot it.',
        field: 'email',
      });
    }
    const ctx: Ctx = { ...base, db: trx, actor: signupActor(parent, email) };
    const account = await createAccount(ctx, {
      kind: 'customer',
      slug: await freeSlug(trx, company, email),
      name: company,
      parent: parent.id,
      currency: parent.currency,
      email,
    });
    const user = await createUser(ctx, { account: account.id, role: 'owner', email, name, password });
    if (opened) {
      await trx
        .updateTable('account_invitations')
        .set({ used_at: base.clock.now(), used_by_account_id: account.id })
        .where('id', '=', opened.invitation.id)
        .execute();
      await recordAudit(trx, ctx.actor, [
        {
          action: 'invitation.accept',
          accountId: account.id,
          subject: email,
          after: { reseller: parent.slug, account: account.slug },
        },
      ]);
    }
    return { user, account, reseller: opened?.reseller ?? null };
  });
}

/**
 * Who creates the account: the web, on behalf of the parent account (the operator or the inviting
 * reseller). The audit trail names the address that signed up.
 */
function signupActor(parent: Account, email: string): Actor {
  return {
    userId: null,
    accountId: parent.id,
    accountKind: parent.kind,
    accountPath: parent.path,
    role: 'owner',
    channel: 'web',
    label: `web:signup ${email}`,
  };
}

/** A slug from the company name (or the address), made unique with a short random suffix when taken. */
async function freeSlug(db: Executor, company: string, email: string): Promise<string> {
  const base = slugify(company) || slugify(email.split('@')[0] ?? '') || 'customer';
  for (let i = 0; i < 8; i++) {
    const slug = i === 0 ? base : `${base.slice(0, 40)}-${randomBytes(3).toString('hex')}`;
    const row = await db.selectFrom('accounts').select('id').where('slug', '=', slug).executeTakeFirst();
    if (!row) return slug;
  }
  throw conflict('Could not find a free account name; please try again.');
}

/** "Ann's Bakery Ltd." → "ann-s-bakery-ltd" (letters outside a-z dropped after folding accents). */
export function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
}
