// Handing a paid-for number to its buyer: the number changes hands, a subscription starts with the price
// the buyer saw, and the ledger gets the setup fee and the first period for the buyer and, up the reseller
// chain, each reseller's wholesale price. All inside the caller's transaction; every charge carries a key
// derived from the order and the number, so doing it twice writes nothing the second time.
import { holdingReseller } from '../accounts/accounts.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Executor } from '../context.ts';
import type { Account, Order, OrderItem, PaymentMethod, UpstreamPrice } from '../db/schema.ts';
import { recordCharges, type NewCharge } from './ledger.ts';
import { anchorDayFor, periodEnd } from './periods.ts';
import type { Actor } from '../accounts/actor.ts';

export interface FulfillInput {
  readonly buyer: Account;
  readonly order: Pick<Order, 'id' | 'currency'>;
  readonly item: Pick<OrderItem, 'did_id' | 'seller_account_id' | 'setup_fee' | 'recurring_fee' | 'upstream'>;
  readonly did: {
    readonly id: number;
    readonly number: string;
    readonly billing_type: 'one_time' | 'recurring';
    readonly billing_period: 'days' | 'monthly' | 'yearly';
    readonly billing_days: number;
  };
  readonly method: PaymentMethod;
  readonly stripePaymentMethodId: string | null;
  readonly now: Date;
}

/** Assigns the number, starts its subscription and writes the first charges. Returns the subscription id. */
export async function fulfillItem(db: Executor, actor: Actor, input: FulfillInput): Promise<number> {
  const { buyer, order, item, did, now } = input;
  const reseller = await holdingReseller(db, buyer);
  await db
    .updateTable('dids')
    .set({
      status: 'assigned',
      owner_account_id: reseller?.id ?? null,
      assigned_account_id: buyer.kind === 'customer' ? buyer.id : null,
      assigned_at: now,
      freed_at: null,
      aging_until: null,
    })
    .where('id', '=', did.id)
    .execute();

  const terms = { billingPeriod: did.billing_period, billingDays: did.billing_days };
  const end = periodEnd(now, terms);
  const subscription = await db
    .insertInto('subscriptions')
    .values({
      did_id: did.id,
      account_id: buyer.id,
      seller_account_id: item.seller_account_id,
      order_id: order.id,
      billing_type: did.billing_type,
      billing_period: did.billing_period,
      billing_days: did.billing_days,
      setup_fee: item.setup_fee,
      recurring_fee: item.recurring_fee,
      currency: order.currency,
      anchor_day: anchorDayFor(now, did.billing_period),
      current_period_start: now,
      current_period_end: end,
      upstream: JSON.stringify(item.upstream),
      payment_method: input.method,
      stripe_payment_method_id: input.stripePaymentMethodId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();

  const base = `order-${order.id}-did-${did.id}`;
  const common = {
    currency: order.currency,
    didId: did.id,
    subscriptionId: subscription.id,
    orderId: order.id,
  };
  const charges: NewCharge[] = [
    {
      ...common,
      accountId: buyer.id,
      sellerAccountId: item.seller_account_id,
      kind: 'setup',
      amount: item.setup_fee,
      description: `Setup of ${did.number}`,
      idempotencyKey: `${base}-setup`,
      onInvoice: input.method === 'invoice',
    },
    {
      ...common,
      accountId: buyer.id,
      sellerAccountId: item.seller_account_id,
      kind: 'recurring',
      amount: item.recurring_fee,
      periodStart: now,
      periodEnd: end,
      description: `${did.number}, first period`,
      idempotencyKey: `${base}-period-1`,
      onInvoice: input.method === 'invoice',
    },
    ...wholesaleCharges(item.upstream, common, base, did.number, { start: now, end }),
  ];
  await recordCharges(db, charges, now);

  await recordAudit(db, actor, [
    {
      action: 'did.purchase',
      didId: did.id,
      accountId: buyer.id,
      subject: did.number,
      after: {
        status: 'assigned',
        account: buyer.slug,
        order: order.id,
        subscription: subscription.id,
        setup_fee: item.setup_fee,
        recurring_fee: item.recurring_fee,
        method: input.method,
      },
    },
  ]);
  return subscription.id;
}

/**
 * What each reseller above the buyer owes for the same number and period, on the reseller's own invoice.
 * The recurring part is charged for every period the buyer is charged for, with a key of its own.
 */
export function wholesaleCharges(
  upstream: readonly UpstreamPrice[],
  common: Pick<NewCharge, 'currency' | 'didId' | 'subscriptionId' | 'orderId'>,
  keyBase: string,
  number: string,
  period: { start: Date; end: Date },
  include: { setup: boolean } = { setup: true },
): NewCharge[] {
  return upstream.flatMap((u): NewCharge[] => [
    ...(include.setup
      ? [
          {
            ...common,
            accountId: u.account_id,
            sellerAccountId: u.seller_account_id,
            kind: 'setup' as const,
            amount: u.setup_fee,
            description: `Wholesale setup of ${number}`,
            idempotencyKey: `${keyBase}-setup-acct-${u.account_id}`,
            onInvoice: true,
          },
        ]
      : []),
    {
      ...common,
      accountId: u.account_id,
      sellerAccountId: u.seller_account_id,
      kind: 'recurring',
      amount: u.recurring_fee,
      periodStart: period.start,
      periodEnd: period.end,
      description: `Wholesale ${number}, ${period.start.toISOString().slice(0, 10)} to ${period.end.toISOString().slice(0, 10)}`,
      idempotencyKey: `${keyBase}-${include.setup ? 'period-1' : 'recurring'}-acct-${u.account_id}`,
      onInvoice: true,
    },
  ]);
}
