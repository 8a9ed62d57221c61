// What a buyer pays for a number, and what each reseller between the buyer and the operator pays its own
// supplier (seed 003). The operator's price is the number's own setup and recurring fee; each reseller
// sells at its cost plus its rule (a markup, or fixed fees), so a reseller's customer pays the reseller's
// price and the reseller is charged the wholesale price. Nobody's price is 0 unless somebody set it so.
import type { Executor } from '../context.ts';
import type { BillingPeriod, BillingType, Did, ResellerPrice, UpstreamPrice } from '../db/schema.ts';

export type PricedDid = Pick<
  Did,
  | 'id'
  | 'pricing_batch_id'
  | 'setup_fee'
  | 'recurring_fee'
  | 'currency'
  | 'billing_type'
  | 'billing_period'
  | 'billing_days'
>;

export interface BuyerPrice {
  readonly setupFee: number;
  readonly recurringFee: number;
  readonly currency: string;
  /** Who receives the buyer's money: the operator or the buyer's reseller. */
  readonly sellerAccountId: number;
  /** What each reseller above the buyer owes its supplier, nearest first. */
  readonly upstream: readonly UpstreamPrice[];
  readonly billingType: BillingType;
  readonly billingPeriod: BillingPeriod;
  readonly billingDays: number;
}

/** Where the buyer sits: its account id and materialized path (`/1/4/9/`); null for an anonymous visitor. */
export interface BuyerPosition {
  readonly id: number;
  readonly path: string;
}

const BASIS_POINTS = 10_000;

/** A reseller's price from its cost: fixed fees when set, else cost plus markup, rounded half up. */
export function resalePrice(
  cost: { setupFee: number; recurringFee: number },
  rule: Pick<ResellerPrice, 'markup_bp' | 'setup_fee' | 'recurring_fee'> | undefined,
): { setupFee: number; recurringFee: number } {
  if (!rule) return cost;
  const markup = (amount: number) =>
    Math.floor((amount * (BASIS_POINTS + rule.markup_bp) + BASIS_POINTS / 2) / BASIS_POINTS);
  return {
    setupFee: rule.setup_fee ?? markup(cost.setupFee),
    recurringFee: rule.recurring_fee ?? markup(cost.recurringFee),
  };
}

/** Account ids on the path from the root to the account, root first: `/1/4/9/` → [1, 4, 9]. */
export function pathIds(path: string): number[] {
  return path.split('/').filter(Boolean).map(Number);
}

/**
 * Prices for one buyer (or an anonymous visitor, who sees the operator's direct price) for many numbers,
 * with two queries at most whatever the number of numbers.
 */
export async function pricesForBuyer(
  db: Executor,
  operatorId: number,
  buyer: BuyerPosition | null,
  dids: readonly PricedDid[],
): Promise<Map<number, BuyerPrice>> {
  // Resellers between the operator and the buyer, top first (the operator and the buyer excluded).
  const chain = buyer ? pathIds(buyer.path).slice(1, -1) : [];
  const rules = chain.length
    ? await db.selectFrom('reseller_prices').selectAll().where('reseller_account_id', 'in', chain).execute()
    : [];
  const ruleFor = (resellerId: number, batchId: number | null) =>
    rules.find((r) => r.reseller_account_id === resellerId && r.pricing_batch_id === batchId) ??
    rules.find((r) => r.reseller_account_id === resellerId && r.pricing_batch_id === null);

  const prices = new Map<number, BuyerPrice>();
  for (const did of dids) {
    let price = { setupFee: did.setup_fee, recurringFee: did.recurring_fee };
    let seller = operatorId;
    const upstream: UpstreamPrice[] = [];
    for (const reseller of chain) {
      upstream.unshift({
        account_id: reseller,
        seller_account_id: seller,
        setup_fee: price.setupFee,
        recurring_fee: price.recurringFee,
      });
      price = resalePrice(price, ruleFor(reseller, did.pricing_batch_id));
      seller = reseller;
    }
    prices.set(did.id, {
      ...price,
      currency: did.currency,
      sellerAccountId: seller,
      upstream,
      billingType: did.billing_type,
      billingPeriod: did.billing_period,
      billingDays: did.billing_days,
    });
  }
  return prices;
}
