// The account hierarchy (seed 003): the operator at the root, resellers nested without limit, customers
// under the operator or a reseller. Accounts are named in commands by slug or id.
import { sql } from 'kysely';
import type { Account, AccountKind, AccountStatus, BillingMode } from '../db/schema.ts';
import { recordAudit } from '../audit/audit.ts';
import { inTransaction, type Ctx, type Executor } from '../context.ts';
import { conflict, invalid, notFound } from '../shared/errors.ts';
import { isCurrencyCode, parseMoney } from '../shared/money.ts';
import { didYouMean } from '../shared/suggest.ts';
import { isOperatorStaff, type Actor } from './actor.ts';
import { reaches, requirePermission } from './permissions.ts';

export type AccountRef = string | number;

export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The root account. Throws when the database has not been initialised. */
export async function getOperatorAccount(db: Executor): Promise<Account> {
  const account = await db.selectFrom('accounts').selectAll().where('kind', '=', 'admin').executeTakeFirst();
  if (!account) {
    throw notFound('This database has no operator account yet.', {
      help: 'Run `npm run seed` for demo data, or `npm run did -- init <slug> "<name>"` to start empty.',
    });
  }
  return account;
}

/**
 * Creates the root account on an empty database (`npm run did -- init`). The operator is whoever runs the
 * server; there is exactly one, enforced by a unique index.
 */
export async function createOperatorAccount(
  db: Executor,
  input: { slug: string; name: string },
): Promise<Account> {
  const slug = input.slug.trim().toLowerCase();
  if (!SLUG_PATTERN.test(slug)) {
    throw invalid(`"${input.slug}" is not a valid account slug.`, {
      help: 'Use lowercase letters, digits and dashes.',
    });
  }
  const name = input.name.trim();
  if (name === '' || name.length > 200) throw invalid('The operator name must be 1 to 200 characters.');
  return db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom('accounts')
      .select('slug')
      .where('kind', '=', 'admin')
      .executeTakeFirst();
    if (existing) throw conflict(`This database already has its operator account (${existing.slug}).`);
    const account = await trx
      .insertInto('accounts')
      .values({ kind: 'admin', slug, name, parent_id: null, stripe_customer_id: null, email: null })
      .returningAll()
      .executeTakeFirstOrThrow();
    const founder: Actor = {
      userId: null,
      accountId: account.id,
      accountKind: 'admin',
      accountPath: account.path,
      role: 'owner',
      channel: 'cli',
      label: 'cli:init',
    };
    await recordAudit(trx, founder, [
      { action: 'account.create', accountId: account.id, subject: slug, after: accountSnapshot(account) },
    ]);
    return account;
  });
}

/** Finds an account by slug or id among those the actor may see. */
export async function findAccount(ctx: Ctx, ref: AccountRef): Promise<Account> {
  const text = String(ref).trim();
  if (text === '') throw invalid('No account given.', { help: 'Name the account by its slug, e.g. acme.' });
  const byId = /^\d+$/.test(text);
  const account = await ctx.db
    .selectFrom('accounts')
    .selectAll()
    .where(byId ? 'id' : 'slug', '=', byId ? Number(text) : text.toLowerCase())
    .where('path', 'like', `${ctx.actor.accountPath}%`)
    .executeTakeFirst();
  if (account) return account;
  const slugs = await ctx.db
    .selectFrom('accounts')
    .select('slug')
    .where('path', 'like', `${ctx.actor.accountPath}%`)
    .execute();
  throw notFound(
    `No account "${text}".${didYouMean(
      text,
      slugs.map((s) => s.slug),
    )}`,
    {
      help: 'Accounts are named by their slug (e.g. acme) or id.',
      field: 'account',
    },
  );
}

export interface NewAccountInput {
  readonly kind: Exclude<AccountKind, 'admin'>;
  readonly slug: string;
  readonly name: string;
  /** Defaults to the actor's own account. */
  readonly parent?: AccountRef;
  readonly billingMode?: BillingMode;
  /** Decimal text in the account's currency, e.g. "500.00". */
  readonly creditLimit?: string;
  readonly currency?: string;
  readonly email?: string;
}

export async function createAccount(ctx: Ctx, input: NewAccountInput): Promise<Account> {
  requirePermission(ctx.actor, 'accounts.write');
  const slug = input.slug.trim().toLowerCase();
  if (!SLUG_PATTERN.test(slug)) {
    throw invalid(`"${input.slug}" is not a valid account slug.`, {
      help: 'Use lowercase letters, digits and dashes, starting with a letter or digit (e.g. acme-corp).',
      field: 'slug',
    });
  }
  const name = input.name.trim();
  if (name === '' || name.length > 200)
    throw invalid('The account name must be 1 to 200 characters.', { field: 'name' });
  const currency = (input.currency ?? 'USD').trim().toUpperCase();
  if (!isCurrencyCode(currency)) {
    throw invalid(`"${input.currency}" is not a currency code.`, {
      help: 'Use ISO 4217, e.g. USD.',
      field: 'currency',
    });
  }
  const creditLimit =
    input.creditLimit === undefined ? 0 : parseMoney(input.creditLimit, currency, 'The credit limit');
  if (input.kind !== 'reseller' && input.kind !== 'customer') {
    throw invalid(`"${String(input.kind)}" is not an account kind.`, { help: 'Use reseller or customer.' });
  }

  return inTransaction(ctx, async (tx) => {
    const parent =
      input.parent === undefined ? await accountOf(tx.db, tx.actor) : await findAccount(tx, input.parent);
    if (parent.kind === 'customer') {
      throw invalid(
        `${parent.slug} is a customer; accounts can only be created under the operator or a reseller.`,
        {
          field: 'parent',
        },
      );
    }
    const taken = await tx.db.selectFrom('accounts').select('id').where('slug', '=', slug).executeTakeFirst();
    if (taken)
      throw conflict(`The slug "${slug}" is already taken.`, { help: 'Choose another slug.', field: 'slug' });
    const account = await tx.db
      .insertInto('accounts')
      .values({
        kind: input.kind,
        slug,
        name,
        parent_id: parent.id,
        billing_mode: input.billingMode ?? 'prepaid',
        credit_limit: creditLimit,
        currency,
        email: input.email?.trim() || null,
        stripe_customer_id: null,
      })
      // A concurrent create may take the slug between the check above and this insert.
      .onConflict((oc) => oc.column('slug').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!account)
      throw conflict(`The slug "${slug}" is already taken.`, { help: 'Choose another slug.', field: 'slug' });
    await recordAudit(tx.db, tx.actor, [
      { action: 'account.create', accountId: account.id, subject: slug, after: accountSnapshot(account) },
    ]);
    return account;
  });
}

export async function setAccountStatus(ctx: Ctx, ref: AccountRef, status: AccountStatus): Promise<Account> {
  requirePermission(ctx.actor, 'accounts.write');
  return inTransaction(ctx, async (tx) => {
    const account = await findAccount(tx, ref);
    if (account.kind === 'admin') throw invalid('The operator account cannot be suspended or closed.');
    if (account.id === tx.actor.accountId) throw invalid('You cannot change the status of your own account.');
    if (account.status === status) return account;
    const updated = await tx.db
      .updateTable('accounts')
      .set({ status })
      .where('id', '=', account.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(tx.db, tx.actor, [
      {
        action: `account.${status === 'active' ? 'activate' : status === 'suspended' ? 'suspend' : 'close'}`,
        accountId: account.id,
        subject: account.slug,
        before: { status: account.status },
        after: { status },
      },
    ]);
    return updated;
  });
}

export interface AccountNode extends Account {
  readonly depth: number;
}

/** The accounts the actor may see, in tree order (each parent before its children). */
export async function listAccounts(ctx: Ctx): Promise<AccountNode[]> {
  requirePermission(ctx.actor, 'accounts.read');
  const rows = await ctx.db
    .selectFrom('accounts')
    .selectAll()
    .where('path', 'like', `${ctx.actor.accountPath}%`)
    .execute();
  const children = new Map<number | null, Account[]>();
  for (const row of rows) {
    const key = rows.some((r) => r.id === row.parent_id) ? row.parent_id : null;
    children.set(key, [...(children.get(key) ?? []), row]);
  }
  const out: AccountNode[] = [];
  const walk = (parent: number | null, depth: number) => {
    for (const account of (children.get(parent) ?? []).sort((a, b) => a.slug.localeCompare(b.slug))) {
      out.push({ ...account, depth });
      walk(account.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

export async function accountOf(db: Executor, actor: Actor): Promise<Account> {
  return db.selectFrom('accounts').selectAll().where('id', '=', actor.accountId).executeTakeFirstOrThrow();
}

/**
 * The reseller that holds numbers on behalf of an account: the account itself when it is a reseller, else
 * its nearest reseller ancestor, or null when it is a direct customer of the operator.
 */
export async function holdingReseller(db: Executor, account: Account): Promise<Account | null> {
  if (account.kind === 'reseller') return account;
  if (account.kind === 'admin') return null;
  const ancestorIds = account.path.split('/').filter(Boolean).map(Number).slice(0, -1);
  if (ancestorIds.length === 0) return null;
  const nearest = await db
    .selectFrom('accounts')
    .selectAll()
    .where('id', 'in', ancestorIds)
    .where('kind', '=', 'reseller')
    .orderBy(sql`length(path)`, 'desc')
    .executeTakeFirst();
  return nearest ?? null;
}

export function canActOnAccount(actor: Actor, account: Pick<Account, 'path'>): boolean {
  return isOperatorStaff(actor) || reaches(actor, account.path);
}

export function accountSnapshot(account: Account) {
  return {
    kind: account.kind,
    slug: account.slug,
    name: account.name,
    parent_id: account.parent_id,
    billing_mode: account.billing_mode,
    credit_limit: account.credit_limit,
    currency: account.currency,
    status: account.status,
  };
}

export interface AccountChange {
  readonly name?: string;
  /** Blank clears it. */
  readonly email?: string;
  readonly billingMode?: string;
  /** Decimal text in the account's currency. */
  readonly creditLimit?: string;
}

/**
 * Edits an account's name, contact email, billing mode and credit limit (seed 003). Kind, place in the
 * tree and currency are fixed at creation: the ledger and the numbers' prices depend on them.
 */
export async function updateAccount(ctx: Ctx, ref: AccountRef, change: AccountChange): Promise<Account> {
  requirePermission(ctx.actor, 'accounts.write');
  return inTransaction(ctx, async (tx) => {
    const account = await findAccount(tx, ref);
    if (account.id === tx.actor.accountId && !isOperatorStaff(tx.actor)) {
      throw invalid('You cannot change your own account’s terms.', {
        help: 'The account above yours sets them.',
      });
    }
    const name = change.name === undefined ? account.name : change.name.trim();
    if (name === '' || name.length > 200) {
      throw invalid('The account name must be 1 to 200 characters.', { field: 'name' });
    }
    const email = change.email === undefined ? account.email : change.email.trim().toLowerCase() || null;
    if (email !== null && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
      throw invalid(`"${change.email}" is not an email address.`, { field: 'email' });
    }
    const billingMode = (change.billingMode?.trim().toLowerCase() || account.billing_mode) as BillingMode;
    if (billingMode !== 'prepaid' && billingMode !== 'postpaid') {
      throw invalid(`"${change.billingMode}" is not a billing mode.`, {
        help: 'Use prepaid or postpaid.',
        field: 'billing_mode',
      });
    }
    let creditLimit = account.credit_limit;
    if (change.creditLimit !== undefined && change.creditLimit.trim() !== '') {
      try {
        creditLimit = parseMoney(change.creditLimit, account.currency, 'The credit limit');
      } catch (error) {
        throw invalid(error instanceof Error ? error.message : String(error), { field: 'credit_limit' });
      }
    }
    const updated = await tx.db
      .updateTable('accounts')
      .set({ name, email, billing_mode: billingMode, credit_limit: creditLimit })
      .where('id', '=', account.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const before: Record<string, unknown> = { ...accountSnapshot(account), email: account.email };
    const after: Record<string, unknown> = { ...accountSnapshot(updated), email: updated.email };
    const keys = Object.keys(after).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
    if (keys.length > 0) {
      const pick = (source: Record<string, unknown>) => Object.fromEntries(keys.map((k) => [k, source[k]]));
      await recordAudit(tx.db, tx.actor, [
        {
          action: 'account.update',
          accountId: account.id,
          subject: account.slug,
          before: pick(before),
          after: pick(after),
        },
      ]);
    }
    return updated;
  });
}
