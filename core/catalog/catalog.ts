// Catalog data the inventory refers to: providers (carriers) and their vendor batches, DID groups, and
// pricing batches (price lists owned by the operator or a reseller). Looked up by name or id.
import type { BillingPeriod, BillingType, DidGroup, PricingBatch, Provider, VendorBatch } from '../db/schema.ts';
import { BILLING_PERIODS, BILLING_TYPES } from '../db/schema.ts';
import { recordAudit } from '../audit/audit.ts';
import { findAccount, type AccountRef } from '../accounts/accounts.ts';
import { requirePermission } from '../accounts/permissions.ts';
import { inTransaction, type Ctx, type Executor } from '../context.ts';
import { conflict, invalid, notFound } from '../shared/errors.ts';
import { isCurrencyCode, parseMoney } from '../shared/money.ts';
import { didYouMean } from '../shared/suggest.ts';

type NamedTable = 'providers' | 'did_groups' | 'pricing_batches' | 'vendor_batches';

const LABEL: Readonly<Record<NamedTable, { one: string; create: string }>> = {
  providers: { one: 'provider', create: 'provider create "<name>"' },
  did_groups: { one: 'DID group', create: 'group create "<name>"' },
  pricing_batches: { one: 'pricing batch', create: 'batch create "<name>" setup=1.00 monthly=2.00' },
  vendor_batches: { one: 'vendor batch', create: 'vendor-batch create <provider> "<name>"' },
};

/** Resolves a name (case-insensitive) or numeric id to a row id; unknown names get a suggestion. */
export async function resolveNamed(db: Executor, table: NamedTable, ref: string | number): Promise<number> {
  const text = String(ref).trim();
  const rows = await db.selectFrom(table).select(['id', 'name']).execute();
  const match = /^\d+$/.test(text)
    ? rows.find((r) => r.id === Number(text))
    : rows.find((r) => r.name.toLowerCase() === text.toLowerCase());
  if (match) return match.id;
  const { one, create } = LABEL[table];
  throw notFound(`No ${one} "${text}".${didYouMean(text, rows.map((r) => r.name))}`, {
    help: rows.length ? `Known: ${rows.map((r) => r.name).slice(0, 10).join(', ')}.` : `Create one with \`${create}\`.`,
    field: table === 'did_groups' ? 'group' : LABEL[table].one.replace(' ', '_'),
  });
}

function requireName(name: string, what: string): string {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > 100) throw invalid(`The ${what} name must be 1 to 100 characters.`, { field: 'name' });
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

export async function createProvider(ctx: Ctx, input: { name: string; description?: string }): Promise<Provider> {
  requirePermission(ctx.actor, 'catalog.write');
  const name = requireName(input.name, 'provider');
  return inTransaction(ctx, async (tx) => {
    await refuseDuplicate(tx.db, 'providers', name);
    const row = await tx.db
      .insertInto('providers')
      .values({ name, description: input.description?.trim() ?? '' })
      .returningAll()
      .executeTakeFirstOrThrow();
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
  requirePermission(ctx.actor, 'catalog.write');
  const name = requireName(input.name, 'vendor batch');
  const currency = checkCurrency(input.currency);
  const activationCost = parseMoney(input.activationCost ?? '0', currency, 'The activation cost');
  const recurringCost = parseMoney(input.recurringCost ?? '0', currency, 'The recurring cost');
  return inTransaction(ctx, async (tx) => {
    const providerId = await resolveNamed(tx.db, 'providers', input.provider);
    await refuseDuplicate(tx.db, 'vendor_batches', name);
    const row = await tx.db
      .insertInto('vendor_batches')
      .values({ provider_id: providerId, name, activation_cost: activationCost, recurring_cost: recurringCost, currency })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(tx.db, tx.actor, [{ action: 'vendor_batch.create', subject: name, after: row }]);
    return row;
  });
}

export async function createGroup(ctx: Ctx, input: { name: string; description?: string }): Promise<DidGroup> {
  requirePermission(ctx.actor, 'catalog.write');
  const name = requireName(input.name, 'group');
  return inTransaction(ctx, async (tx) => {
    await refuseDuplicate(tx.db, 'did_groups', name);
    const row = await tx.db
      .insertInto('did_groups')
      .values({ name, description: input.description?.trim() ?? '' })
      .returningAll()
      .executeTakeFirstOrThrow();
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
    if (owner.kind === 'customer') throw invalid('Pricing batches belong to the operator or a reseller, not a customer.');
    await refuseDuplicate(tx.db, 'pricing_batches', name);
    const row = await tx.db
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
      .executeTakeFirstOrThrow();
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
    throw invalid(`"${type}" is not a billing type.`, { help: 'Use recurring or one_time.', field: 'billing_type' });
  }
  const billingPeriod = (period?.trim().toLowerCase() || (days !== undefined ? 'days' : 'monthly')) as BillingPeriod;
  if (!BILLING_PERIODS.includes(billingPeriod)) {
    throw invalid(`"${period}" is not a billing period.`, { help: 'Use monthly, yearly or days.', field: 'billing_period' });
  }
  const billingDays = days ?? 30;
  if (!Number.isInteger(billingDays) || billingDays < 1 || billingDays > 3660) {
    throw invalid(`Billing days must be a whole number from 1 to 3660 (got ${days}).`, { field: 'billing_days' });
  }
  return { billingType, billingPeriod, billingDays };
}

export function checkCurrency(currency: string | undefined): string {
  const code = (currency ?? 'USD').trim().toUpperCase();
  if (!isCurrencyCode(code)) {
    throw invalid(`"${currency}" is not a currency code.`, { help: 'Use ISO 4217, e.g. USD, EUR, GBP.', field: 'currency' });
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
