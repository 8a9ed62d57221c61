// One account as the back office shows it: where it sits in the tree, its users with their linked Slack and
// Telegram identities, what it owes (derived from the ledger), its recent charges and payments, and how
// many numbers it holds or uses.
import { sql } from 'kysely';
import { amountOwed } from '../billing/ledger.ts';
import type { Ctx } from '../context.ts';
import type { Account } from '../db/schema.ts';
import { notFound } from '../shared/errors.ts';
import { canActOnAccount, findAccount, type AccountRef } from './accounts.ts';
import { requirePermission } from './permissions.ts';

export interface AccountOverview {
  readonly account: Account;
  /** The accounts above it, root first (the operator, resellers). */
  readonly ancestors: readonly Pick<Account, 'id' | 'slug' | 'name' | 'kind'>[];
  readonly children: number;
  readonly users: readonly {
    readonly id: number;
    readonly name: string;
    readonly email: string | null;
    readonly role: string;
    readonly status: string;
    readonly slackUserId: string | null;
    readonly telegramUserId: string | null;
  }[];
  /** Charges minus settled payments, in the account's currency (minor units); negative is credit. */
  readonly owed: number;
  readonly charges: readonly {
    readonly id: number;
    readonly kind: string;
    readonly amount: number;
    readonly currency: string;
    readonly description: string;
    readonly createdAt: Date;
  }[];
  readonly payments: readonly {
    readonly id: number;
    readonly amount: number;
    readonly currency: string;
    readonly method: string;
    readonly status: string;
    readonly createdAt: Date;
  }[];
  /** Numbers the account holds (as reseller) or uses (as customer). */
  readonly numbers: number;
}

const RECENT = 20;

export async function accountOverview(ctx: Ctx, ref: AccountRef): Promise<AccountOverview> {
  requirePermission(ctx.actor, 'accounts.read');
  const account = await findAccount(ctx, ref);
  if (!canActOnAccount(ctx.actor, account)) throw notFound('There is no such account.');
  const ancestorIds = account.path.split('/').filter(Boolean).map(Number).slice(0, -1);
  const [ancestors, children, users, owed, charges, payments, numbers] = await Promise.all([
    ancestorIds.length
      ? ctx.db
          .selectFrom('accounts')
          .select(['id', 'slug', 'name', 'kind'])
          .where('id', 'in', ancestorIds)
          .orderBy(sql`length(path)`)
          .execute()
      : Promise.resolve([]),
    ctx.db
      .selectFrom('accounts')
      .select(sql<string>`count(*)`.as('n'))
      .where('parent_id', '=', account.id)
      .executeTakeFirstOrThrow(),
    ctx.db
      .selectFrom('users')
      .select(['id', 'name', 'email', 'role', 'status', 'slack_user_id', 'telegram_user_id'])
      .where('account_id', '=', account.id)
      .orderBy(sql`array_position(array['owner','admin','operator','viewer'], role)`)
      .orderBy('id')
      .execute(),
    amountOwed(ctx.db, account.id),
    ctx.db
      .selectFrom('charges')
      .select(['id', 'kind', 'amount', 'currency', 'description', 'created_at'])
      .where('account_id', '=', account.id)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(RECENT)
      .execute(),
    ctx.db
      .selectFrom('payments')
      .select(['id', 'amount', 'currency', 'method', 'status', 'created_at'])
      .where('account_id', '=', account.id)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(RECENT)
      .execute(),
    sql<{ n: string }>`
      SELECT count(*) AS n FROM dids
      WHERE owner_account_id = ${account.id} OR assigned_account_id = ${account.id}`.execute(ctx.db),
  ]);
  return {
    account,
    ancestors,
    children: Number(children.n),
    users: users.map((u) => ({
      id: u.id,
      name: u.name,
      email: u.email,
      role: u.role,
      status: u.status,
      slackUserId: u.slack_user_id,
      telegramUserId: u.telegram_user_id,
    })),
    owed,
    charges: charges.map((c) => ({
      id: c.id,
      kind: c.kind,
      amount: Number(c.amount),
      currency: c.currency,
      description: c.description,
      createdAt: c.created_at,
    })),
    payments: payments.map((p) => ({
      id: p.id,
      amount: Number(p.amount),
      currency: p.currency,
      method: p.method,
      status: p.status,
      createdAt: p.created_at,
    })),
    numbers: Number(numbers.rows[0]?.n ?? 0),
  };
}
