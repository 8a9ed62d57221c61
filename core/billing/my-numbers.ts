// "My numbers" on the storefront: the numbers an account uses (core/inventory/account-numbers.ts: assigned
// to it, or held by a reseller without being handed on) joined with what it pays for them (its live
// subscriptions). A number staff assigned without a sale has no subscription and simply shows no renewal.
// Always the actor's own account: a number of anybody else's is "not found", whoever holds it.
import { ratingTermsOf, callCostTable, describeRating } from './rating.ts';
import type { BillingCtx } from './billing-context.ts';
import type { Ctx } from '../context.ts';
import { getAccountNumber, listAccountNumbers, type AccountNumber } from '../inventory/account-numbers.ts';
import { notFound } from '../shared/errors.ts';
import { recurringLabel } from './periods.ts';
import {
  chargeHistory,
  listOwnedNumbers,
  ownedNumber,
  setCancelAtPeriodEnd,
  startRenewalPayment,
  type OwnedNumber,
} from './subscriptions.ts';

/** What the number's row says about its billing. */
export type NumberState = 'active' | 'past_due' | 'suspended' | 'canceling';

export interface MyNumber {
  readonly didId: number;
  readonly number: string;
  readonly country: string;
  readonly city: string;
  readonly state: NumberState;
  /** When the next renewal is charged; null when it never renews or is canceling. */
  readonly renewsAt: Date | null;
  /** When the number goes, for one canceling at period end. */
  readonly endsAt: Date | null;
  /** "$1.50 per month", "no recurring fee", "free of charge"; null without a subscription. */
  readonly price: string | null;
  /** Calls are transferred now. */
  readonly transferOn: boolean;
  readonly subscription: OwnedNumber | null;
}

export interface MyNumberList {
  readonly numbers: readonly MyNumber[];
  /** How many the account has in all (the list stops at its limit). */
  readonly total: number;
}

const LIST_LIMIT = 1000;

export async function listMyNumbers(ctx: Ctx): Promise<MyNumberList> {
  const [used, owned] = await Promise.all([
    listAccountNumbers(ctx, { limit: LIST_LIMIT }),
    listOwnedNumbers(ctx),
  ]);
  const byDid = new Map(owned.map((s) => [s.didId, s]));
  return {
    numbers: used.numbers.map((n) => describe(n, byDid.get(n.didId) ?? null)),
    total: used.total,
  };
}

/** One of the account's numbers with its transfer settings, subscription, charges and call costs. */
export async function myNumber(ctx: Ctx, didId: number) {
  const used = await getAccountNumber(ctx, { didId: checkId(didId) });
  const subscription = await ownSubscription(ctx, used.didId);
  const [charges, did] = await Promise.all([
    subscription ? chargeHistory(ctx, subscription.subscriptionId) : Promise.resolve([]),
    ctx.db
      .selectFrom('dids')
      .select([
        'connection_cost_micros',
        'per_minute_rate_micros',
        'grace_seconds',
        'initial_increment',
        'increment',
        'currency',
        'number_type',
        'capabilities',
      ])
      .where('id', '=', used.didId)
      .executeTakeFirstOrThrow(),
  ]);
  const terms = ratingTermsOf(did);
  return {
    ...describe(used, subscription),
    transfer: used.transfer,
    version: used.version,
    didStatus: used.status,
    description: used.description,
    numberType: did.number_type,
    capabilities: did.capabilities,
    charges,
    ratingSummary: describeRating(terms),
    callCosts: callCostTable(terms),
  };
}

/** Cancel the number at the end of its period, or keep it after all. */
export async function setMyNumberCancellation(ctx: Ctx, didId: number, cancel: boolean) {
  const subscription = await requireSubscription(ctx, didId);
  return setCancelAtPeriodEnd(ctx, subscription.subscriptionId, cancel);
}

/** Stripe's payment page for the overdue renewal of one of the account's numbers (its URL). */
export async function payOverdueRenewal(ctx: BillingCtx, didId: number): Promise<string> {
  const subscription = await requireSubscription(ctx, didId);
  return startRenewalPayment(ctx, subscription.subscriptionId);
}

async function requireSubscription(ctx: Ctx, didId: number): Promise<OwnedNumber> {
  const used = await getAccountNumber(ctx, { didId: checkId(didId) });
  const subscription = await ownSubscription(ctx, used.didId);
  if (!subscription) {
    throw notFound('This number has no subscription of yours: nothing is billed for it here.', {
      help: 'Ask your provider about it.',
    });
  }
  return subscription;
}

/** The account's own live subscription of the number (a reseller's, for a number it passed on, is not). */
async function ownSubscription(ctx: Ctx, didId: number): Promise<OwnedNumber | null> {
  const own = await ctx.db
    .selectFrom('subscriptions')
    .select('id')
    .where('did_id', '=', didId)
    .where('account_id', '=', ctx.actor.accountId)
    .where('status', '<>', 'canceled')
    .executeTakeFirst();
  return own ? ownedNumber(ctx, didId) : null;
}

function describe(used: AccountNumber, subscription: OwnedNumber | null): MyNumber {
  const canceling = subscription?.cancelAtPeriodEnd === true && subscription.status === 'active';
  const state: NumberState = subscription
    ? canceling
      ? 'canceling'
      : subscription.status === 'canceled'
        ? 'active'
        : subscription.status
    : used.status === 'suspended'
      ? 'suspended'
      : 'active';
  const renews = subscription !== null && subscription.billingType === 'recurring' && !canceling;
  return {
    didId: used.didId,
    number: used.number,
    country: used.country,
    city: used.city,
    state,
    renewsAt: renews ? subscription.currentPeriodEnd : null,
    endsAt: canceling ? subscription.currentPeriodEnd : null,
    price: subscription
      ? recurringLabel({
          billing_type: subscription.billingType,
          billing_period: subscription.billingPeriod,
          billing_days: subscription.billingDays,
          setup_fee: subscription.setupFee,
          recurring_fee: subscription.recurringFee,
          currency: subscription.currency,
        })
      : null,
    transferOn: used.transfer.effective,
    subscription,
  };
}

function checkId(didId: number): number {
  if (!Number.isSafeInteger(didId) || didId <= 0) throw notFound('That number is not yours.');
  return didId;
}
