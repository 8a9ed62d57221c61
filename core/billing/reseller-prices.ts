// A reseller's own price list for its customers (seed 003): one default rule (a markup over what the
// reseller pays) and, per pricing batch, an override with a markup or fixed setup and recurring fees.
// pricing.ts applies the rules at sale; this module lists them next to the reseller's cost and the price
// its customers would pay, and changes them. Only the reseller's own admins and owners change its prices,
// and every change is audited.
import type { Actor } from '../accounts/actor.ts';
import { accountOf, getOperatorAccount } from '../accounts/accounts.ts';
import { requirePermission } from '../accounts/permissions.ts';
import { recordAudit } from '../audit/audit.ts';
import { inTransaction, type Ctx } from '../context.ts';
import type { Account, PricingBatch, ResellerPrice } from '../db/schema.ts';
import { uniqueViolation } from '../db/errors.ts';
import { conflict, DomainError, forbidden, invalid, notFound } from '../shared/errors.ts';
import { parseDecimalUnits, parseMoney, unitsToDecimal } from '../shared/money.ts';
import { periodLabel } from './periods.ts';
import { pathIds, pricesForBuyer, resalePrice } from './pricing.ts';

/** The largest markup the table allows: 10,000 %. */
const MAX_MARKUP_BP = 1_000_000;

export interface Fees {
  readonly setupFee: number;
  readonly recurringFee: number;
}

export interface ResellerRule {
  readonly id: number;
  readonly markupBp: number;
  readonly setupFee: number | null;
  readonly recurringFee: number | null;
}

export interface BatchPrice {
  readonly pricingBatchId: number;
  readonly name: string;
  readonly currency: string;
  /** "per month", "every 30 days", "one-time" */
  readonly period: string;
  /** What the reseller pays for a number of this batch. */
  readonly cost: Fees;
  /** This batch's own rule, if any (else the default applies). */
  readonly rule: ResellerRule | null;
  /** What the reseller's customers pay, under the rule that applies. */
  readonly price: Fees;
}

export interface ResellerPriceList {
  readonly defaultRule: ResellerRule | null;
  readonly batches: readonly BatchPrice[];
}

/** The reseller's rules with its cost and its customers' price for every pricing batch it can sell. */
export async function listResellerPrices(ctx: Ctx): Promise<ResellerPriceList> {
  requireReseller(ctx.actor);
  const reseller = await accountOf(ctx.db, ctx.actor);
  const [rules, batches] = await Promise.all([
    ctx.db.selectFrom('reseller_prices').selectAll().where('reseller_account_id', '=', reseller.id).execute(),
    saleableBatches(ctx, reseller).orderBy('name').orderBy('id').execute(),
  ]);
  const defaultRow = rules.find((r) => r.pricing_batch_id === null);
  const costs = await resellerCosts(ctx, reseller, batches);
  return {
    defaultRule: defaultRow ? toRule(defaultRow) : null,
    batches: batches.map((batch) => {
      const own = rules.find((r) => r.pricing_batch_id === batch.id);
      const cost = costs.get(batch.id)!;
      return {
        pricingBatchId: batch.id,
        name: batch.name,
        currency: batch.currency,
        period: periodLabel(batch),
        cost,
        rule: own ? toRule(own) : null,
        price: resalePrice(cost, own ?? defaultRow),
      };
    }),
  };
}

export interface ResellerPriceInput {
  /** A pricing batch id; empty or null for the default rule. */
  readonly pricingBatchId: number | string | null;
  /** Percent over cost, as typed: "25", "12.5". Empty means 0. */
  readonly markup: string;
  /** Fixed fees in the batch's currency, as typed; empty means "cost plus markup". Batches only. */
  readonly setupFee?: string;
  readonly recurringFee?: string;
}

/** Creates or replaces the default rule or one batch's rule. */
export async function setResellerPrice(ctx: Ctx, input: ResellerPriceInput): Promise<ResellerRule> {
  requireResellerAdmin(ctx.actor);
  const batchText = input.pricingBatchId === null ? '' : String(input.pricingBatchId).trim();
  const markupText = input.markup.trim();
  // Percent with two decimals is basis points: "12.5" → 1250.
  const markupBp =
    markupText === ''
      ? 0
      : withField('markup', () => parseDecimalUnits(markupText.replace(/\s*%$/, ''), 2, 'The markup'));
  if (markupBp > MAX_MARKUP_BP) {
    throw invalid(`A markup of ${markupText} % is more than the ${MAX_MARKUP_BP / 100} % allowed.`, {
      field: 'markup',
    });
  }
  const setupText = input.setupFee?.trim() ?? '';
  const recurringText = input.recurringFee?.trim() ?? '';
  try {
    return await inTransaction(ctx, async (tx) => {
      const reseller = await accountOf(tx.db, tx.actor);
      const batch = batchText === '' ? null : await findBatch(tx, reseller, batchText);
      if (!batch && (setupText !== '' || recurringText !== '')) {
        throw invalid('Fixed fees are set per pricing batch; the default rule is a markup only.', {
          help: 'Pick a pricing batch for fixed fees.',
          field: setupText !== '' ? 'setup_fee' : 'recurring_fee',
        });
      }
      const fee = (text: string, field: string, what: string) =>
        text === '' || !batch ? null : withField(field, () => parseMoney(text, batch.currency, what));
      const values = {
        markup_bp: markupBp,
        setup_fee: fee(setupText, 'setup_fee', 'The setup fee'),
        recurring_fee: fee(recurringText, 'recurring_fee', 'The recurring fee'),
      };
      let query = tx.db
        .selectFrom('reseller_prices')
        .selectAll()
        .where('reseller_account_id', '=', reseller.id)
        .forUpdate();
      query = batch
        ? query.where('pricing_batch_id', '=', batch.id)
        : query.where('pricing_batch_id', 'is', null);
      const before = await query.executeTakeFirst();
      const row = before
        ? await tx.db
            .updateTable('reseller_prices')
            .set(values)
            .where('id', '=', before.id)
            .returningAll()
            .executeTakeFirstOrThrow()
        : await tx.db
            .insertInto('reseller_prices')
            .values({ reseller_account_id: reseller.id, pricing_batch_id: batch?.id ?? null, ...values })
            .returningAll()
            .executeTakeFirstOrThrow();
      await recordAudit(tx.db, tx.actor, [
        {
          action: 'reseller_price.set',
          accountId: reseller.id,
          subject: batch ? `${reseller.slug}: ${batch.name}` : `${reseller.slug}: default`,
          before: before ? snapshot(before) : null,
          after: snapshot(row),
        },
      ]);
      return toRule(row);
    });
  } catch (error) {
    // Two admins creating the same rule at once: the unique index lets one in.
    if (uniqueViolation(error)) {
      throw conflict('This price was changed at the same moment by someone else.', {
        help: 'Reload the page and look again.',
      });
    }
    throw error;
  }
}

/** Removes one of the reseller's rules (a batch falls back to the default; no default means cost). */
export async function deleteResellerPrice(ctx: Ctx, ruleId: number): Promise<void> {
  requireResellerAdmin(ctx.actor);
  await inTransaction(ctx, async (tx) => {
    const row = Number.isSafeInteger(ruleId)
      ? await tx.db
          .deleteFrom('reseller_prices')
          .where('id', '=', ruleId)
          .where('reseller_account_id', '=', tx.actor.accountId)
          .returningAll()
          .executeTakeFirst()
      : undefined;
    if (!row) throw notFound('There is no such price rule of yours.');
    const batch =
      row.pricing_batch_id === null
        ? null
        : await tx.db
            .selectFrom('pricing_batches')
            .select('name')
            .where('id', '=', row.pricing_batch_id)
            .executeTakeFirst();
    await recordAudit(tx.db, tx.actor, [
      {
        action: 'reseller_price.delete',
        accountId: tx.actor.accountId,
        subject: batch ? batch.name : 'default',
        before: snapshot(row),
      },
    ]);
  });
}

function requireReseller(actor: Actor): void {
  if (actor.accountKind !== 'reseller') {
    throw forbidden('Only resellers have a price list of their own.');
  }
}

function requireResellerAdmin(actor: Actor): void {
  requireReseller(actor);
  requirePermission(actor, 'billing.write');
}

/** Pricing batches of the operator and of the accounts above the reseller (and its own). */
function saleableBatches(ctx: Ctx, reseller: Account) {
  return ctx.db
    .selectFrom('pricing_batches')
    .selectAll()
    .where('owner_account_id', 'in', pathIds(reseller.path));
}

async function findBatch(ctx: Ctx, reseller: Account, text: string): Promise<PricingBatch> {
  const id = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  const batch = Number.isSafeInteger(id)
    ? await saleableBatches(ctx, reseller).where('id', '=', id).executeTakeFirst()
    : undefined;
  if (!batch)
    throw notFound('There is no such pricing batch.', { help: 'Pick one from the list.', field: 'batch' });
  return batch;
}

/** What the reseller pays for a number of each batch: the operator's price through its suppliers' rules. */
async function resellerCosts(
  ctx: Ctx,
  reseller: Account,
  batches: readonly PricingBatch[],
): Promise<Map<number, Fees>> {
  if (batches.length === 0) return new Map();
  const operator = await getOperatorAccount(ctx.db);
  const prices = await pricesForBuyer(
    ctx.db,
    operator.id,
    { id: reseller.id, path: reseller.path },
    batches.map((b) => ({ ...b, pricing_batch_id: b.id })),
  );
  return new Map([...prices].map(([id, p]) => [id, { setupFee: p.setupFee, recurringFee: p.recurringFee }]));
}

/** Runs a parser whose refusal names no field, naming `field` for the form. */
function withField<T>(field: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof DomainError)
      throw new DomainError(error.code, error.message, { help: error.help, field });
    throw error;
  }
}

function toRule(row: ResellerPrice): ResellerRule {
  return { id: row.id, markupBp: row.markup_bp, setupFee: row.setup_fee, recurringFee: row.recurring_fee };
}

function snapshot(row: ResellerPrice) {
  return {
    pricing_batch_id: row.pricing_batch_id,
    markup: `${unitsToDecimal(row.markup_bp, 2)} %`,
    setup_fee: row.setup_fee,
    recurring_fee: row.recurring_fee,
  };
}
