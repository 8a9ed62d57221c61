// Catalog data the inventory refers to: providers (carriers) and their vendor batches, DID groups, and
// pricing batches (price lists owned by the operator or a reseller). Looked up by name or id.
import { sql, type Selectable } from 'kysely';
import type {
  BillingPeriod,
  Database,
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

// -- Editing and deleting (the back office) ---------------------------------------------------------------
// Numbers keep the costs and prices they were given: editing a vendor batch's costs or a pricing batch's
// fees applies to numbers added (or moved into the batch) from then on. Deleting refuses anything still
// in use and says how much uses it, so nothing is left pointing at a row that is gone.

/** How many numbers (and other rows) use each catalog row, for the catalog pages and delete checks. */
export interface CatalogUsage {
  readonly providers: ReadonlyMap<number, { readonly numbers: number; readonly vendorBatches: number }>;
  readonly vendorBatches: ReadonlyMap<number, number>;
  readonly groups: ReadonlyMap<number, number>;
  readonly pricingBatches: ReadonlyMap<number, { readonly numbers: number; readonly resellerRules: number }>;
}

/** The catalog with what uses each row: listCatalog plus counts (index-only scans of the dids indexes). */
export async function catalogOverview(ctx: Ctx) {
  const catalog = await listCatalog(ctx);
  const countBy = async (column: 'provider_id' | 'vendor_batch_id' | 'group_id' | 'pricing_batch_id') => {
    const rows = await ctx.db
      .selectFrom('dids')
      .select([column, sql<string>`count(*)`.as('n')])
      .where(column, 'is not', null)
      .groupBy(column)
      .execute();
    return new Map(rows.map((r) => [Number(r[column]), Number(r.n)]));
  };
  const [byProvider, byVendorBatch, byGroup, byPricingBatch, batchesByProvider, rules] = await Promise.all([
    countBy('provider_id'),
    countBy('vendor_batch_id'),
    countBy('group_id'),
    countBy('pricing_batch_id'),
    ctx.db
      .selectFrom('vendor_batches')
      .select(['provider_id', sql<string>`count(*)`.as('n')])
      .groupBy('provider_id')
      .execute(),
    ctx.db
      .selectFrom('reseller_prices')
      .select(['pricing_batch_id', sql<string>`count(*)`.as('n')])
      .where('pricing_batch_id', 'is not', null)
      .groupBy('pricing_batch_id')
      .execute(),
  ]);
  const vendorBatchCount = new Map(batchesByProvider.map((r) => [r.provider_id, Number(r.n)]));
  const ruleCount = new Map(rules.map((r) => [Number(r.pricing_batch_id), Number(r.n)]));
  const providerNames = new Map(catalog.providers.map((p) => [p.id, p.name]));
  return {
    providers: catalog.providers.map((p) => ({
      ...p,
      numbers: byProvider.get(p.id) ?? 0,
      vendorBatches: vendorBatchCount.get(p.id) ?? 0,
    })),
    vendorBatches: catalog.vendorBatches.map((b) => ({
      ...b,
      providerName: providerNames.get(b.provider_id) ?? '',
      numbers: byVendorBatch.get(b.id) ?? 0,
    })),
    groups: catalog.groups.map((g) => ({ ...g, numbers: byGroup.get(g.id) ?? 0 })),
    pricingBatches: catalog.pricingBatches.map((b) => ({
      ...b,
      numbers: byPricingBatch.get(b.id) ?? 0,
      resellerRules: ruleCount.get(b.id) ?? 0,
    })),
  };
}

/** A catalog row by id, locked for the change; not found otherwise. */
async function lockRow<T extends NamedTable>(
  ctx: Ctx,
  table: T,
  id: number,
): Promise<Selectable<Database[T]>> {
  // Plain SQL: Kysely cannot type a select over a union of tables.
  const row = Number.isSafeInteger(id)
    ? (
        await sql<
          Selectable<Database[T]>
        >`SELECT * FROM ${sql.table(table)} WHERE id = ${id} FOR UPDATE`.execute(ctx.db)
      ).rows[0]
    : undefined;
  if (!row)
    throw notFound(`There is no such ${LABEL[table].one}.`, { help: 'It may have been deleted meanwhile.' });
  return row;
}

/** Refuses a name another row of the table has (case-insensitive), the row itself excepted. */
async function refuseDuplicateOf(db: Executor, table: NamedTable, name: string, id: number): Promise<void> {
  const existing = await db
    .selectFrom(table)
    .select('id')
    .where((eb) => eb(eb.fn('lower', ['name']), '=', name.toLowerCase()))
    .where('id', '<>', id)
    .executeTakeFirst();
  if (existing) throw conflict(`A ${LABEL[table].one} named "${name}" already exists.`, { field: 'name' });
}

async function numbersUsing(
  db: Executor,
  column: 'provider_id' | 'vendor_batch_id' | 'group_id' | 'pricing_batch_id',
  id: number,
): Promise<number> {
  const row = await db
    .selectFrom('dids')
    .select(sql<string>`count(*)`.as('n'))
    .where(column, '=', id)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

const plural = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

function pickChanged<T extends object>(before: T, after: T): { before: Partial<T>; after: Partial<T> } {
  // The touch trigger's timestamp is not a change anyone made.
  const keys = (Object.keys(after) as (keyof T)[]).filter(
    (k) => k !== 'updated_at' && JSON.stringify(before[k]) !== JSON.stringify(after[k]),
  );
  return {
    before: Object.fromEntries(keys.map((k) => [k, before[k]])) as Partial<T>,
    after: Object.fromEntries(keys.map((k) => [k, after[k]])) as Partial<T>,
  };
}

export async function updateProvider(
  ctx: Ctx,
  id: number,
  input: { name: string; description?: string },
): Promise<Provider> {
  requireOperator(ctx, 'providers');
  const name = requireName(input.name, 'provider');
  return inTransaction(ctx, async (tx) => {
    const row = await lockRow(tx, 'providers', id);
    await refuseDuplicateOf(tx.db, 'providers', name, row.id);
    const updated = await insertNamed('providers', name, () =>
      tx.db
        .updateTable('providers')
        .set({ name, description: input.description?.trim() ?? row.description })
        .where('id', '=', row.id)
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    await recordAudit(tx.db, tx.actor, [
      { action: 'provider.update', subject: name, ...pickChanged(row, updated) },
    ]);
    return updated;
  });
}

/** Refuses while vendor batches or numbers refer to the provider, saying how many. */
export async function deleteProvider(ctx: Ctx, id: number): Promise<void> {
  requireOperator(ctx, 'providers');
  await inTransaction(ctx, async (tx) => {
    const row = await lockRow(tx, 'providers', id);
    const numbers = await numbersUsing(tx.db, 'provider_id', row.id);
    const batches = Number(
      (
        await tx.db
          .selectFrom('vendor_batches')
          .select(sql<string>`count(*)`.as('n'))
          .where('provider_id', '=', row.id)
          .executeTakeFirstOrThrow()
      ).n,
    );
    if (numbers > 0 || batches > 0) {
      const uses = [
        ...(batches ? [plural(batches, 'vendor batch', 'vendor batches')] : []),
        ...(numbers ? [plural(numbers, 'number')] : []),
      ].join(' and ');
      throw conflict(`The provider "${row.name}" is in use by ${uses}, so it was not deleted.`, {
        help: 'Delete its vendor batches and move or delete its numbers first.',
      });
    }
    await tx.db.deleteFrom('providers').where('id', '=', row.id).execute();
    await recordAudit(tx.db, tx.actor, [{ action: 'provider.delete', subject: row.name, before: row }]);
  });
}

export async function updateVendorBatch(
  ctx: Ctx,
  id: number,
  input: { name: string; activationCost?: string; recurringCost?: string },
): Promise<VendorBatch> {
  requireOperator(ctx, 'vendor batches');
  const name = requireName(input.name, 'vendor batch');
  return inTransaction(ctx, async (tx) => {
    const row = await lockRow(tx, 'vendor_batches', id);
    await refuseDuplicateOf(tx.db, 'vendor_batches', name, row.id);
    const money = (text: string | undefined, fallback: number, what: string, field: string) => {
      if (text === undefined || text.trim() === '') return fallback;
      try {
        return parseMoney(text, row.currency, what);
      } catch (error) {
        throw invalid(error instanceof Error ? error.message : String(error), { field });
      }
    };
    const updated = await insertNamed('vendor_batches', name, () =>
      tx.db
        .updateTable('vendor_batches')
        .set({
          name,
          activation_cost: money(
            input.activationCost,
            row.activation_cost,
            'The activation cost',
            'activation_cost',
          ),
          recurring_cost: money(
            input.recurringCost,
            row.recurring_cost,
            'The recurring cost',
            'recurring_cost',
          ),
        })
        .where('id', '=', row.id)
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    await recordAudit(tx.db, tx.actor, [
      { action: 'vendor_batch.update', subject: name, ...pickChanged(row, updated) },
    ]);
    return updated;
  });
}

/** Refuses while numbers came from the batch, saying how many. */
export async function deleteVendorBatch(ctx: Ctx, id: number): Promise<void> {
  requireOperator(ctx, 'vendor batches');
  await inTransaction(ctx, async (tx) => {
    const row = await lockRow(tx, 'vendor_batches', id);
    const numbers = await numbersUsing(tx.db, 'vendor_batch_id', row.id);
    if (numbers > 0) {
      throw conflict(
        `The vendor batch "${row.name}" is in use by ${plural(numbers, 'number')}, so it was not deleted.`,
        {
          help: 'Its numbers name the batch they were bought in; delete the batch once none is left.',
        },
      );
    }
    await tx.db.deleteFrom('vendor_batches').where('id', '=', row.id).execute();
    await recordAudit(tx.db, tx.actor, [{ action: 'vendor_batch.delete', subject: row.name, before: row }]);
  });
}

export async function updateGroup(
  ctx: Ctx,
  id: number,
  input: { name: string; description?: string },
): Promise<DidGroup> {
  requireOperator(ctx, 'DID groups');
  const name = requireName(input.name, 'group');
  return inTransaction(ctx, async (tx) => {
    const row = await lockRow(tx, 'did_groups', id);
    await refuseDuplicateOf(tx.db, 'did_groups', name, row.id);
    const updated = await insertNamed('did_groups', name, () =>
      tx.db
        .updateTable('did_groups')
        .set({ name, description: input.description?.trim() ?? row.description })
        .where('id', '=', row.id)
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    await recordAudit(tx.db, tx.actor, [
      { action: 'group.update', subject: name, ...pickChanged(row, updated) },
    ]);
    return updated;
  });
}

/** Refuses while numbers are in the group, saying how many. */
export async function deleteGroup(ctx: Ctx, id: number): Promise<void> {
  requireOperator(ctx, 'DID groups');
  await inTransaction(ctx, async (tx) => {
    const row = await lockRow(tx, 'did_groups', id);
    const numbers = await numbersUsing(tx.db, 'group_id', row.id);
    if (numbers > 0) {
      throw conflict(
        `The DID group "${row.name}" is in use by ${plural(numbers, 'number')}, so it was not deleted.`,
        {
          help: 'Move them to another group first (inventory: filter by this group, then "Set DID group").',
        },
      );
    }
    await tx.db.deleteFrom('did_groups').where('id', '=', row.id).execute();
    await recordAudit(tx.db, tx.actor, [{ action: 'group.delete', subject: row.name, before: row }]);
  });
}

/** A pricing batch the actor may change: its own account's, or (operator staff) anyone's. */
async function lockOwnBatch(ctx: Ctx, id: number): Promise<PricingBatch> {
  const row = await lockRow(ctx, 'pricing_batches', id);
  if (!isOperatorStaff(ctx.actor) && row.owner_account_id !== ctx.actor.accountId) {
    throw notFound('There is no such pricing batch.');
  }
  return row;
}

export interface PricingBatchChange {
  readonly name: string;
  readonly setupFee?: string;
  readonly recurringFee?: string;
  readonly currency?: string;
  readonly billingType?: string;
  readonly billingPeriod?: string;
  readonly billingDays?: number;
}

export async function updatePricingBatch(
  ctx: Ctx,
  id: number,
  input: PricingBatchChange,
): Promise<PricingBatch> {
  requirePermission(ctx.actor, 'catalog.write');
  const name = requireName(input.name, 'pricing batch');
  return inTransaction(ctx, async (tx) => {
    const row = await lockOwnBatch(tx, id);
    const currency = input.currency?.trim() ? checkCurrency(input.currency) : row.currency;
    if (currency !== row.currency) {
      const numbers = await numbersUsing(tx.db, 'pricing_batch_id', row.id);
      if (numbers > 0) {
        throw conflict(
          `The pricing batch "${row.name}" has ${plural(numbers, 'number')} priced in ${row.currency}; its currency cannot change.`,
          { help: 'Create a batch in the new currency and move the numbers to it.', field: 'currency' },
        );
      }
    }
    const terms = billingTerms(
      input.billingType ?? row.billing_type,
      input.billingPeriod ?? row.billing_period,
      input.billingDays ?? row.billing_days,
    );
    const fee = (text: string | undefined, fallback: number, what: string, field: string) => {
      if (text === undefined || text.trim() === '') return fallback;
      try {
        return parseMoney(text, currency, what);
      } catch (error) {
        throw invalid(error instanceof Error ? error.message : String(error), { field });
      }
    };
    await refuseDuplicateOf(tx.db, 'pricing_batches', name, row.id);
    const updated = await insertNamed('pricing_batches', name, () =>
      tx.db
        .updateTable('pricing_batches')
        .set({
          name,
          currency,
          setup_fee: fee(input.setupFee, row.setup_fee, 'The setup fee', 'setup_fee'),
          recurring_fee: fee(input.recurringFee, row.recurring_fee, 'The recurring fee', 'recurring_fee'),
          billing_type: terms.billingType,
          billing_period: terms.billingPeriod,
          billing_days: terms.billingDays,
        })
        .where('id', '=', row.id)
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    await recordAudit(tx.db, tx.actor, [
      { action: 'pricing_batch.update', subject: name, ...pickChanged(row, updated) },
    ]);
    return updated;
  });
}

/** Refuses while numbers are in the batch or resellers' price rules refer to it, saying how many. */
export async function deletePricingBatch(ctx: Ctx, id: number): Promise<void> {
  requirePermission(ctx.actor, 'catalog.write');
  await inTransaction(ctx, async (tx) => {
    const row = await lockOwnBatch(tx, id);
    const numbers = await numbersUsing(tx.db, 'pricing_batch_id', row.id);
    const rules = Number(
      (
        await tx.db
          .selectFrom('reseller_prices')
          .select(sql<string>`count(*)`.as('n'))
          .where('pricing_batch_id', '=', row.id)
          .executeTakeFirstOrThrow()
      ).n,
    );
    if (numbers > 0 || rules > 0) {
      const uses = [
        ...(numbers ? [plural(numbers, 'number')] : []),
        ...(rules ? [plural(rules, "reseller's price rule", "resellers' price rules")] : []),
      ].join(' and ');
      throw conflict(`The pricing batch "${row.name}" is in use by ${uses}, so it was not deleted.`, {
        help: numbers
          ? 'Move its numbers to another pricing batch first (inventory: filter by this batch, then "Move to pricing batch").'
          : 'Remove the price rules that name it first.',
      });
    }
    await tx.db.deleteFrom('pricing_batches').where('id', '=', row.id).execute();
    await recordAudit(tx.db, tx.actor, [{ action: 'pricing_batch.delete', subject: row.name, before: row }]);
  });
}
