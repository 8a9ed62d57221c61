// The reseller portal's view of a reseller's customers: every account below the reseller (its customers,
// its sub-resellers and theirs), with how many numbers each uses, and one customer's page. Reaching an
// account outside the reseller's subtree, or the reseller itself, is "not found" (nothing is revealed).
// Creating, suspending and inviting go through the use cases staff use (accounts.ts, invitations.ts).
import { sql } from 'kysely';
import type { Ctx } from '../context.ts';
import type { Account } from '../db/schema.ts';
import { forbidden, notFound } from '../shared/errors.ts';
import type { Actor } from './actor.ts';
import { findAccount, listAccounts } from './accounts.ts';
import { requirePermission } from './permissions.ts';

export interface CustomerRow {
  readonly id: number;
  readonly slug: string;
  readonly name: string;
  readonly kind: Account['kind'];
  readonly status: Account['status'];
  readonly billingMode: Account['billing_mode'];
  readonly email: string | null;
  /** 0 for the reseller's direct customers, 1 for a sub-reseller's, and so on. */
  readonly depth: number;
  /** Numbers the account uses (assigned to it, or held by it as a sub-reseller). */
  readonly numbers: number;
}

/** Only a reseller's own people use the portal; the operator's staff have the back office. */
export function requireResellerPortal(actor: Actor): void {
  if (actor.accountKind !== 'reseller') throw forbidden('Only resellers have a reseller portal.');
}

export async function listCustomers(ctx: Ctx): Promise<CustomerRow[]> {
  requireResellerPortal(ctx.actor);
  const below = (await listAccounts(ctx)).filter((a) => a.id !== ctx.actor.accountId);
  if (below.length === 0) return [];
  const counts = await ctx.db
    .selectFrom('dids')
    .select([
      sql<number>`coalesce(assigned_account_id, owner_account_id)`.as('account_id'),
      (eb) => eb.fn.countAll<string>().as('n'),
    ])
    .where('status', 'in', ['assigned', 'suspended'])
    .where(
      sql<boolean>`coalesce(assigned_account_id, owner_account_id) = any(${below.map((a) => a.id)}::bigint[])`,
    )
    .groupBy(sql`coalesce(assigned_account_id, owner_account_id)`)
    .execute();
  const byAccount = new Map(counts.map((c) => [Number(c.account_id), Number(c.n)]));
  const top = Math.min(...below.map((a) => a.depth));
  return below.map((a) => ({
    id: a.id,
    slug: a.slug,
    name: a.name,
    kind: a.kind,
    status: a.status,
    billingMode: a.billing_mode,
    email: a.email,
    depth: a.depth - top,
    numbers: byAccount.get(a.id) ?? 0,
  }));
}

/** One account below the reseller, with its numbers and users. */
export async function getCustomer(ctx: Ctx, accountId: number) {
  requireResellerPortal(ctx.actor);
  requirePermission(ctx.actor, 'accounts.read');
  if (!Number.isSafeInteger(accountId) || accountId <= 0 || accountId === ctx.actor.accountId) {
    throw notFound('There is no such customer of yours.');
  }
  let account: Account;
  try {
    account = await findAccount(ctx, accountId);
  } catch {
    throw notFound('There is no such customer of yours.');
  }
  const [numbers, users, parent] = await Promise.all([
    ctx.db
      .selectFrom('dids')
      .select(['id', 'number', 'status', 'city', 'country'])
      .where('status', 'in', ['assigned', 'suspended'])
      .where((eb) =>
        eb.or([
          eb('assigned_account_id', '=', account.id),
          eb.and([eb('owner_account_id', '=', account.id), eb('assigned_account_id', 'is', null)]),
        ]),
      )
      .orderBy('number')
      .limit(1000)
      .execute(),
    ctx.db
      .selectFrom('users')
      .select(['id', 'email', 'name', 'role', 'status'])
      .where('account_id', '=', account.id)
      .orderBy('id')
      .execute(),
    account.parent_id === null
      ? Promise.resolve(undefined)
      : ctx.db
          .selectFrom('accounts')
          .select(['id', 'slug', 'name'])
          .where('id', '=', account.parent_id)
          .executeTakeFirst(),
  ]);
  return {
    account,
    numbers,
    users,
    parent: parent ?? null,
    direct: account.parent_id === ctx.actor.accountId,
  };
}
