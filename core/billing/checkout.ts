// What the storefront's checkout page needs before the buyer commits: the server's own quote for the picked
// numbers (the form carries ids only, so a tampered price or quantity has nothing to change) and the ways
// this buyer can pay right now: by card when card payments are set up, on account when the account is
// postpaid and the order fits its credit limit. Nothing is held here; placeOrder holds and charges.
import { accountOf } from '../accounts/accounts.ts';
import type { BillingMode } from '../db/schema.ts';
import type { BillingCtx } from './billing-context.ts';
import { amountOwed } from './ledger.ts';
import { quoteOrder, type Quote } from './orders.ts';

export interface PaymentOption {
  readonly available: boolean;
  /** Why not, for people, when it is not available. */
  readonly reason: string | null;
}

export interface CheckoutPlan {
  readonly quote: Quote;
  readonly billingMode: BillingMode;
  readonly card: PaymentOption;
  readonly invoice: PaymentOption & {
    readonly creditLimit: number;
    /** What the account owes now (open invoices), in the account's currency. */
    readonly owed: number;
    readonly currency: string;
  };
  /** The number of ways to pay that work; 0 means the page explains what to do instead. */
  readonly methods: number;
}

/** The quote for `didIds` and how the current buyer may pay for it. Refuses what quoteOrder refuses. */
export async function prepareCheckout(
  ctx: BillingCtx,
  didIds: readonly (number | string)[],
): Promise<CheckoutPlan> {
  const quote = await quoteOrder(ctx, didIds);
  const account = await accountOf(ctx.db, ctx.actor);
  const postpaid = account.billing_mode === 'postpaid';
  const owed = postpaid ? await amountOwed(ctx.db, account.id) : 0;
  const withinLimit = quote.total === 0 || owed + quote.total <= account.credit_limit;
  const card: PaymentOption = ctx.payments
    ? { available: true, reason: null }
    : {
        available: false,
        reason: postpaid
          ? 'Card payments are not set up on this server: order on account instead.'
          : 'Card payments are not set up on this server.',
      };
  const invoice = {
    available: postpaid && withinLimit,
    reason: !postpaid
      ? 'Only postpaid accounts can order on account.'
      : withinLimit
        ? null
        : 'This order would take your account over its credit limit.',
    creditLimit: account.credit_limit,
    owed,
    currency: account.currency,
  };
  return {
    quote,
    billingMode: account.billing_mode,
    card,
    invoice,
    methods: Number(card.available) + Number(invoice.available),
  };
}
