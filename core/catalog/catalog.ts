// Catalog data the inventory refers to: providers (carriers) and their vendor batches, DID groups, and
// pricing batches (price lists owned by the operator or a reseller). Looked up by name or id.
import { sql } from 'kysely';
import type {
  BillingPeriod,
  BillingType,
  DidGroup,
  PricingBatch,
  Provider,
  VendorBatch,
} from '../db/schema.ts';
import { BILLING_PERIODS, BILLING_TYPES } from '../db/schema.ts';
import { recordAudit } from '../audit/audit.ts';
import { findAccount, type AccountRef } from '../accounts/accounts.ts';
import { isOperatorStaff } from '../accounts/actor.ts';
import { requirePermission } from '../accounts/permissions.ts';
import { uniqueViolation } from '../db/errors.ts';
import { inTransaction, type Ctx, type Executor } from '../context.ts';
import { conflict, forbidden, invalid, notFound } from '../shared/errors.ts';
import { isCurrencyCode, parseMoney } from '../shared/money.ts';
import { didYouMean } from '../shared/suggest.ts';

type NamedTable = 'providers' | 'did_groups' | 'pricing_batches' | 'vendor_batches';

const LABEL: Readonly<Record<NamedTable, { one: string; create: string }>> = {
  providers: { one: 'provider', create: 'provider create "<name>"' },
  did_groups: { one: 'DID group', create: 'group create "<name>"' },
  pricing_batches: { one: 'pricing batch', create: 'batch create "<name>" setup=1.00 monthly=2.00' },
  vendor_batches: { one: 'vendor batch', create: 'vendor-batch create <provider> "<name>"' },
};

/**
 * Resolves a name (case-insensitive) or numeric id to a row id; unknown names get a suggestion. Pricing
 * batches are limited to those the actor may see: its own and its subtree's, and its ancestors' (the
 * price lists it buys from).
 */
export async function resolveNamed(
  ctx: Pick<Ctx, 'db' | 'actor'>,
  table: NamedTable,
  ref: string | number,
): Promise<number> {
  const text = String(ref).trim();
  const rows =
    table === 'pricing_batches'
      ? await ctx.db
          .selectFrom('pricing_batches')
          .innerJoin('accounts', 'accounts.id', 'pricing_batches.owner_account_id')
          .select(['pricing_batches.id', 'pricing_batches.name'])
          .where((eb) =>
            eb.or([
              eb('accounts.path', 'like', `${ctx.actor.accountPath}%`),
              sql<boolean>`${ctx.actor.accountPath} LIKE accounts.path || '%'`,
            ]),
          )
          .execute()
      : await ctx.db.selectFrom(table).select(['id', 'name']).execute();
  const match = /^\d+$/.test(text)
    ? rows.find((r) => r.id === Number(text))
    : rows.find((r) => r.name.toLowerCase() === text.toLowerCase());
  if (match) return match.id;
  const { one, create } = LABEL[table];
  throw notFound(
    `No ${one} "${text}".${didYouMean(
      text,
      rows.map((r) => r.name),
    )}`,
    {
      help: rows.length
        ? `Known: ${rows
            .map((r) => r.name)
            .slice(0, 10)
            .join(', ')}.`
        : `Create one with \`${create}\`.`,
      field: table === 'did_groups' ? 'group' : LABEL[table].one.replace(' ', '_'),
    },
  );
}

/** Carriers, their batches and DID groups describe what the operator buys: the operator's to manage. */
function requireOperator(ctx: Ctx, what: string): void {
  requirePermission(ctx.actor, 'catalog.write');
  if (!isOperatorStaff(ctx.actor)) {
    throw forbidden(`Only the operator's staff can add ${what}.`, {
      help: 'Resellers manage their own pricing batches.',
    });
  }
}

/** Inserts a catalog row; a name taken meanwhile by a concurrent create is reported like any duplicate. */
async function insertNamed<T>(table: NamedTable, name: string, insert: () => Promise<T>): Promise<T> {
  try {
    return await insert();
  } catch (error) {
    if (uniqueViolation(error))
      throw conflict(`A ${LABEL[table].one} named "${name}" already exists.`, { field: 'name' });
    throw error;
  }
}

function requireName(name: string, what: string): string {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > 100)
    throw invalid(`The ${what} name must be 1 to 100 characters.`, { field: 'name' });
  return trimmed;
}

async function refuseDuplicate(db: Executor, table: NamedTable, name: string): Promise<void> {
  const existing = await db
    .selectFrom(table)
    .select('id')
    .where((eb) => eb(eb.fn('lower', ['name']), '=', name.toLowerCase()))
    .executeTakeFirst();
  if (existing) throw conflict(`A ${LABEL[table].one} named "${name}" already exists.`, { field: 'name' });
}

export async function createProvider(
  ctx: Ctx,
  input: { name: string; description?: string },
): Promise<Provider> {
  requireOperator(ctx, 'providers');
  const name = requireName(input.name, 'provider');
  return inTransaction(ctx, async (tx) => {
    await refuseDuplicate(tx.db, 'providers', name);
    const row = await insertNamed('providers', name, () =>
      tx.db
        .insertInto('providers')
        .values({ name, description: input.description?.trim() ?? '' })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    await recordAudit(tx.db, tx.actor, [{ action: 'provider.create', subject: name, after: row }]);
    return row;
  });
}

export interface NewVendorBatchInput {
  readonly provider: string | number;
  readonly name: string;
  readonly activationCost?: string;
  readonly recurringCost?: string;
  readonly currency?: string;
}

export async function createVendorBatch(ctx: Ctx, input: NewVendorBatchInput): Promise<VendorBatch> {
  requireOperator(ctx, 'vendor batches');
  const name = requireName(input.name, 'vendor batch');
  const currency = checkCurrency(input.currency);
  const activationCost = parseMoney(input.activationCost ?? '0', currency, 'The activation cost');
  const recurringCost = parseMoney(input.recurringCost ?? '0', currency, 'The recurring cost');
  return inTransaction(ctx, async (tx) => {
    const providerId = await resolveNamed(tx, 'providers', input.provider);
    await refuseDuplicate(tx.db, 'vendor_batches', name);
    const row = await insertNamed('vendor_batches', name, () =>
      tx.db
        .insertInto('vendor_batches')
        .values({
          provider_id: providerId,
          name,
          activation_cost: activationCost,
          recurring_cost: recurringCost,
          currency,
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    await recordAudit(tx.db, tx.actor, [{ action: 'vendor_batch.create', subject: name, after: row }]);
    return row;
  });
}

export async function createGroup(
  ctx: Ctx,
  input: { name: string; description?: string },
): Promise<DidGroup> {
  requireOperator(ctx, 'DID groups');
  const name = requireName(input.name, 'group');
  return inTransaction(ctx, async (tx) => {
    await refuseDuplicate(tx.db, 'did_groups', name);
    const row = await insertNamed('did_groups', name, () =>
      tx.db
        .insertInto('did_groups')
        .values({ name, description: input.description?.trim() ?? '' })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    await recordAudit(tx.db, tx.actor, [{ action: 'group.create', subject: name, after: row }]);
    return row;
  });
}

export interface NewPricingBatchInput {
  readonly name: string;
  /** Defaults to the actor's account: the operator's list, or a reseller's list for its customers. */
  readonly owner?: AccountRef;
  readonly setupFee?: string;
  readonly recurringFee?: string;
  readonly currency?: string;
  readonly billingType?: string;
  readonly billingPeriod?: string;
  readonly billingDays?: number;
}

export async function createPricingBatch(ctx: Ctx, input: NewPricingBatchInput): Promise<PricingBatch> {
  requirePermission(ctx.actor, 'catalog.write');
  const name = requireName(input.name, 'pricing batch');
  const currency = checkCurrency(input.currency);
  const terms = billingTerms(input.billingType, input.billingPeriod, input.billingDays);
  const setupFee = parseMoney(input.setupFee ?? '0', currency, 'The setup fee');
  const recurringFee = parseMoney(input.recurringFee ?? '0', currency, 'The recurring fee');
  return inTransaction(ctx, async (tx) => {
    const owner = await findAccount(tx, input.owner ?? tx.actor.accountId);
    if (owner.kind === 'customer')
      throw invalid('Pricing batches belong to the operator or a reseller, not a customer.');
    await refuseDuplicate(tx.db, 'pricing_batches', name);
    const row = await insertNamed('pricing_batches', name, () =>
      tx.db
        .insertInto('pricing_batches')
        .values({
          owner_account_id: owner.id,
          name,
          setup_fee: setupFee,
          recurring_fee: recurringFee,
          currency,
          billing_type: terms.billingType,
          billing_period: terms.billingPeriod,
          billing_days: terms.billingDays,
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    await recordAudit(tx.db, tx.actor, [{ action: 'pricing_batch.create', subject: name, after: row }]);
    return row;
  });
}

export interface BillingTerms {
  readonly billingType: BillingType;
  readonly billingPeriod: BillingPeriod;
  readonly billingDays: number;
}

/**
 * Validates billing terms. ASTPP bills every N "billing days"; calendar periods (monthly/yearly) renew on
 * the same day of the month. `billingDays` alone implies the days period.
 */
export function billingTerms(type?: string, period?: string, days?: number): BillingTerms {
  const billingType = (type?.trim().toLowerCase().replace('-', '_') || 'recurring') as BillingType;
  if (!BILLING_TYPES.includes(billingType)) {
    throw invalid(`"${type}" is not a billing type.`, {
      help: 'Use recurring or one_time.',
      field: 'billing_type',
    });
  }
  const billingPeriod = (period?.trim().toLowerCase() ||
    (days !== undefined ? 'days' : 'monthly')) as BillingPeriod;
  if (!BILLING_PERIODS.includes(billingPeriod)) {
    throw invalid(`"${period}" is not a billing period.`, {
      help: 'Use monthly, yearly or days.',
      field: 'billing_period',
    });
  }
  const billingDays = days ?? 30;
  if (!Number.isInteger(billingDays) || billingDays < 1 || billingDays > 3660) {
    throw invalid(`Billing days must be a whole number from 1 to 3660 (got ${days}).`, {
      field: 'billing_days',
    });
  }
  return { billingType, billingPeriod, billingDays };
}

export function checkCurrency(currency: string | undefined): string {
  const code = (currency ?? 'USD').trim().toUpperCase();
  if (!isCurrencyCode(code)) {
    throw invalid(`"${currency}" is not a currency code.`, {
      help: 'Use ISO 4217, e.g. USD, EUR, GBP.',
      field: 'currency',
    });
  }
  return code;
}

export async function listCatalog(ctx: Ctx) {
  requirePermission(ctx.actor, 'inventory.read');
  const [providers, vendorBatches, groups, pricingBatches] = await Promise.all([
    ctx.db.selectFrom('providers').selectAll().orderBy('name').execute(),
    ctx.db.selectFrom('vendor_batches').selectAll().orderBy('name').execute(),
    ctx.db.selectFrom('did_groups').selectAll().orderBy('name').execute(),
    ctx.db
      .selectFrom('pricing_batches')
      .innerJoin('accounts', 'accounts.id', 'pricing_batches.owner_account_id')
      .selectAll('pricing_batches')
      .select('accounts.slug as owner_slug')
      .where('accounts.path', 'like', `${ctx.actor.accountPath}%`)
      .orderBy('pricing_batches.name')
      .execute(),
  ]);
  return { providers, vendorBatches, groups, pricingBatches };
}
