// What an account sees and does about what it pays for: its numbers with their renewal terms, cancel at
// period end, paying an overdue renewal, the charge history, invoices, and (staff) recording a payment
// received by bank transfer. Every read is scoped to what the actor may see: its own account, a
// reseller's subtree, everything for the operator's staff.
import { sql } from 'kysely';
import { isOperatorStaff } from '../accounts/actor.ts';
import { findAccount, type AccountRef } from '../accounts/accounts.ts';
import { reaches, requirePermission } from '../accounts/permissions.ts';
import { recordAudit } from '../audit/audit.ts';
import { inTransaction, type Ctx } from '../context.ts';
import type { Subscription } from '../db/schema.ts';
import { formatNumber } from '../numbers/phone-number.ts';
import { conflict, DomainError, invalid, notFound } from '../shared/errors.ts';
import { parseMoney } from '../shared/money.ts';
import type { BillingCtx } from './billing-context.ts';
import { amountOwed } from './ledger.ts';
import { ensureStripeCustomer } from './stripe-customer.ts';

/** The subscription, locked when asked, if the actor may see it; "not found" otherwise (no probing). */
async function visibleSubscription(
  ctx: Ctx,
  id: number,
  lock = false,
): Promise<Subscription & { path: string }> {
  let query = ctx.db
    .selectFrom('subscriptions')
    .innerJoin('accounts', 'accounts.id', 'subscriptions.account_id')
    .selectAll('subscriptions')
    .select('accounts.path')
    .where('subscriptions.id', '=', id);
  if (lock) query = query.forUpdate('subscriptions');
  const sub = Number.isSafeInteger(id) ? await query.executeTakeFirst() : undefined;
  if (!sub || !(isOperatorStaff(ctx.actor) || reaches(ctx.actor, sub.path))) {
    throw notFound('There is no such number among yours.');
  }
  return sub;
}

export interface OwnedNumber {
  readonly subscriptionId: number;
  readonly didId: number;
  readonly number: string;
  readonly didStatus: string;
  readonly status: Subscription['status'];
  readonly currentPeriodEnd: Date;
  readonly recurringFee: number;
  readonly setupFee: number;
  readonly currency: string;
  readonly billingType: string;
  readonly billingPeriod: string;
  readonly billingDays: number;
  readonly cancelAtPeriodEnd: boolean;
  readonly paymentMethod: string;
  readonly lastFailure: string | null;
  readonly releaseAt: Date | null;
  readonly accountSlug: string;
}

/** The live subscriptions of an account (default: the actor's own), newest first. */
export async function listOwnedNumbers(ctx: Ctx, accountRef?: AccountRef): Promise<OwnedNumber[]> {
  const account = accountRef === undefined ? null : await findAccount(ctx, accountRef);
  if (account && !(isOperatorStaff(ctx.actor) || reaches(ctx.actor, account.path))) {
    throw notFound('There is no such account.');
  }
  const rows = await ctx.db
    .selectFrom('subscriptions')
    .innerJoin('dids', 'dids.id', 'subscriptions.did_id')
    .innerJoin('accounts', 'accounts.id', 'subscriptions.account_id')
    .select([
      'subscriptions.id as subscriptionId',
      'dids.id as didId',
      'dids.number',
      'dids.status as didStatus',
      'subscriptions.status',
      'subscriptions.current_period_end as currentPeriodEnd',
      'subscriptions.recurring_fee as recurringFee',
      'subscriptions.setup_fee as setupFee',
      'subscriptions.currency',
      'subscriptions.billing_type as billingType',
      'subscriptions.billing_period as billingPeriod',
      'subscriptions.billing_days as billingDays',
      'subscriptions.cancel_at_period_end as cancelAtPeriodEnd',
      'subscriptions.payment_method as paymentMethod',
      'subscriptions.last_failure as lastFailure',
      'subscriptions.release_at as releaseAt',
      'accounts.slug as accountSlug',
    ])
    .where('subscriptions.account_id', '=', account?.id ?? ctx.actor.accountId)
    .where('subscriptions.status', '<>', 'canceled')
    .orderBy('subscriptions.id', 'desc')
    .execute();
  return rows;
}

/** One number of the actor's, by DID id, with its subscription (for the number's page). */
export async function ownedNumber(ctx: Ctx, didId: number): Promise<OwnedNumber> {
  const all = Number.isSafeInteger(didId)
    ? await ctx.db
        .selectFrom('subscriptions')
        .select('id')
        .where('did_id', '=', didId)
        .where('status', '<>', 'canceled')
        .executeTakeFirst()
    : undefined;
  if (!all) throw notFound('There is no such number among yours.');
  const sub = await visibleSubscription(ctx, all.id);
  const [row] = (await listOwnedNumbers(ctx, sub.account_id)).filter((r) => r.subscriptionId === sub.id);
  if (!row) throw notFound('There is no such number among yours.');
  return row;
}

/** Cancel at period end, or undo it before the period is over. */
export async function setCancelAtPeriodEnd(
  ctx: Ctx,
  subscriptionId: number,
  cancel: boolean,
): Promise<Subscription> {
  requirePermission(ctx.actor, 'billing.buy');
  return inTransaction(ctx, async (tx) => {
    const sub = await visibleSubscription(tx, subscriptionId, true);
    if (sub.status === 'canceled') throw conflict('This subscription has already ended.');
    if (sub.billing_type === 'one_time') {
      throw invalid('This number was paid once and never renews: there is nothing to cancel.', {
        help: 'Release it instead if you no longer need it.',
      });
    }
    if (sub.cancel_at_period_end === cancel) return sub;
    const updated = await tx.db
      .updateTable('subscriptions')
      .set({ cancel_at_period_end: cancel })
      .where('id', '=', sub.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const did = await tx.db
      .selectFrom('dids')
      .select('number')
      .where('id', '=', sub.did_id)
      .executeTakeFirstOrThrow();
    await recordAudit(tx.db, tx.actor, [
      {
        action: cancel ? 'subscription.cancel_at_period_end' : 'subscription.resume',
        didId: sub.did_id,
        accountId: sub.account_id,
        subject: did.number,
        before: { cancel_at_period_end: sub.cancel_at_period_end },
        after: { cancel_at_period_end: cancel, ends: cancel ? sub.current_period_end : null },
      },
    ]);
    return updated;
  });
}

/** The charges of one number for the account that holds it, newest first. */
export async function chargeHistory(ctx: Ctx, subscriptionId: number) {
  const sub = await visibleSubscription(ctx, subscriptionId);
  return ctx.db
    .selectFrom('charges')
    .select([
      'id',
      'kind',
      'amount',
      'currency',
      'description',
      'period_start',
      'period_end',
      'created_at',
      'invoice_id',
    ])
    .where('account_id', '=', sub.account_id)
    .where('did_id', '=', sub.did_id)
    .orderBy('id', 'desc')
    .limit(200)
    .execute();
}

/**
 * Pay an overdue renewal now, on Stripe's page (a declined card, or a bank that wants 3-D Secure). The
 * webhook renews the period and restores a suspended number (completeRenewalCheckout).
 */
export async function startRenewalPayment(ctx: BillingCtx, subscriptionId: number): Promise<string> {
  requirePermission(ctx.actor, 'billing.buy');
  const sub = await visibleSubscription(ctx, subscriptionId);
  if (sub.status !== 'past_due' && sub.status !== 'suspended') {
    throw conflict('Nothing is overdue on this number.', { help: 'Its renewals are up to date.' });
  }
  if (!ctx.payments) {
    throw new DomainError('unavailable', 'Card payments are not set up on this server.', {
      help: 'Contact your provider to settle the renewal.',
    });
  }
  const account = await ctx.db
    .selectFrom('accounts')
    .selectAll()
    .where('id', '=', sub.account_id)
    .executeTakeFirstOrThrow();
  const did = await ctx.db
    .selectFrom('dids')
    .select('number')
    .where('id', '=', sub.did_id)
    .executeTakeFirstOrThrow();
  const customerId = await ensureStripeCustomer(ctx, account);
  const now = ctx.clock.now();
  const session = await ctx.payments.createCheckout({
    customerId,
    currency: sub.currency,
    lines: [{ name: `Renewal of ${formatNumber(did.number)}`, amount: sub.recurring_fee, quantity: 1 }],
    successUrl: `${ctx.publicUrl}/my/numbers/${sub.did_id}?paid=1`,
    cancelUrl: `${ctx.publicUrl}/my/numbers/${sub.did_id}`,
    expiresAt: new Date(now.getTime() + 60 * 60_000),
    metadata: {
      purpose: 'renewal',
      subscription_id: String(sub.id),
      period_end: sub.current_period_end.toISOString(),
    },
    // One page per period and dunning attempt: a second click reuses it.
    idempotencyKey: `renewal-checkout-${sub.id}-${sub.current_period_end.getTime()}-${sub.dunning_attempts}`,
    saveCard: true,
  });
  return session.url;
}

/**
 * Staff record money received outside Stripe (a bank transfer against a postpaid invoice). Overdue
 * renewals of that account are retried at the next sweep; nothing already charged is charged again.
 */
export async function recordManualPayment(
  ctx: Ctx,
  input: { account: AccountRef; amount: string; reference: string },
): Promise<{ paymentId: number; owed: number }> {
  requirePermission(ctx.actor, 'billing.write');
  const reference = input.reference.trim();
  if (reference.length < 3 || reference.length > 100) {
    throw invalid('Give the payment a reference of 3 to 100 characters (e.g. the bank transfer id).', {
      field: 'reference',
    });
  }
  return inTransaction(ctx, async (tx) => {
    const account = await findAccount(tx, input.account);
    const amount = parseMoney(input.amount, account.currency, 'The amount');
    if (amount <= 0) throw invalid('The amount must be more than 0.', { field: 'amount' });
    const payment = await tx.db
      .insertInto('payments')
      .values({
        account_id: account.id,
        amount,
        currency: account.currency,
        method: 'manual',
        status: 'succeeded',
        provider_ref: null,
        idempotency_key: `manual-${account.id}-${reference}`,
      })
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!payment)
      throw conflict(`A payment with the reference "${reference}" is already recorded for ${account.slug}.`);
    await tx.db
      .updateTable('subscriptions')
      .set({ next_retry_at: tx.clock.now() })
      .where('account_id', '=', account.id)
      .where('payment_method', '=', 'invoice')
      .where('status', 'in', ['past_due', 'suspended'])
      .execute();
    await recordAudit(tx.db, tx.actor, [
      {
        action: 'payment.record',
        accountId: account.id,
        subject: account.slug,
        after: { amount, currency: account.currency, reference },
      },
    ]);
    return { paymentId: payment.id, owed: await amountOwed(tx.db, account.id) };
  });
}

/** The account's invoices (postpaid statements), newest first, with their totals. */
export async function listInvoices(ctx: Ctx, accountRef?: AccountRef) {
  const account = accountRef === undefined ? null : await findAccount(ctx, accountRef);
  const accountId = account?.id ?? ctx.actor.accountId;
  if (account && !(isOperatorStaff(ctx.actor) || reaches(ctx.actor, account.path)))
    throw notFound('There is no such account.');
  return ctx.db
    .selectFrom('invoices')
    .leftJoin('charges', 'charges.invoice_id', 'invoices.id')
    .select([
      'invoices.id',
      'invoices.period_start',
      'invoices.period_end',
      'invoices.status',
      'invoices.currency',
      (eb) => eb.fn.coalesce(eb.fn.sum<number>('charges.amount'), sql<number>`0`).as('total'),
      (eb) => eb.fn.count<number>('charges.id').as('lines'),
    ])
    .where('invoices.account_id', '=', accountId)
    .groupBy('invoices.id')
    .orderBy('invoices.period_start', 'desc')
    .execute();
}

/** One invoice with its lines, if the actor may see its account. */
export async function getInvoice(ctx: Ctx, invoiceId: number) {
  const invoice = Number.isSafeInteger(invoiceId)
    ? await ctx.db
        .selectFrom('invoices')
        .innerJoin('accounts', 'accounts.id', 'invoices.account_id')
        .selectAll('invoices')
        .select(['accounts.path', 'accounts.name as account_name', 'accounts.slug as account_slug'])
        .where('invoices.id', '=', invoiceId)
        .executeTakeFirst()
    : undefined;
  if (!invoice || !(isOperatorStaff(ctx.actor) || reaches(ctx.actor, invoice.path)))
    throw notFound('There is no such invoice.');
  const lines = await ctx.db
    .selectFrom('charges')
    .select(['id', 'kind', 'amount', 'description', 'period_start', 'period_end', 'created_at'])
    .where('invoice_id', '=', invoice.id)
    .orderBy('id')
    .execute();
  const total = lines.reduce((sum, l) => sum + Number(l.amount), 0);
  return { invoice, lines, total };
}

/** Card payments and receipts of the account, newest first. */
export async function listPayments(ctx: Ctx) {
  return ctx.db
    .selectFrom('payments')
    .select([
      'id',
      'amount',
      'currency',
      'method',
      'status',
      'refunded_amount',
      'created_at',
      'order_id',
      'subscription_id',
    ])
    .where('account_id', '=', ctx.actor.accountId)
    .orderBy('id', 'desc')
    .limit(200)
    .execute();
}

export interface MonthlyMargin {
  readonly month: string;
  readonly currency: string;
  /** What the reseller's customers were charged. */
  readonly revenue: number;
  /** What the reseller was charged for those numbers (wholesale). */
  readonly cost: number;
  readonly margin: number;
}

/** A reseller's margin per calendar month (UTC), newest first: its sales minus its wholesale cost. */
export async function resellerMargins(
  ctx: Ctx,
  resellerRef?: AccountRef,
  months = 12,
): Promise<MonthlyMargin[]> {
  const reseller =
    resellerRef === undefined
      ? await findAccount(ctx, ctx.actor.accountId)
      : await findAccount(ctx, resellerRef);
  if (reseller.kind !== 'reseller') throw invalid(`${reseller.slug} is not a reseller.`);
  if (!(isOperatorStaff(ctx.actor) || reaches(ctx.actor, reseller.path)))
    throw notFound('There is no such account.');
  const { rows } = await sql<{ month: string; currency: string; revenue: number; cost: number }>`
    WITH lines AS (
      SELECT date_trunc('month', c.created_at AT TIME ZONE 'UTC') AS month, c.currency,
             CASE WHEN c.seller_account_id = ${reseller.id} THEN c.amount ELSE 0 END AS revenue,
             CASE WHEN c.account_id = ${reseller.id} AND s.account_id <> ${reseller.id} THEN c.amount ELSE 0 END AS cost
      FROM charges c LEFT JOIN subscriptions s ON s.id = c.subscription_id
      WHERE (c.seller_account_id = ${reseller.id} OR c.account_id = ${reseller.id})
        AND c.created_at >= date_trunc('month', ${ctx.clock.now()}::timestamptz AT TIME ZONE 'UTC')
                            - make_interval(months => ${months - 1})
    )
    SELECT to_char(month, 'YYYY-MM') AS month, currency, sum(revenue) AS revenue, sum(cost) AS cost
    FROM lines GROUP BY month, currency ORDER BY month DESC`.execute(ctx.db);
  return rows.map((r) => ({
    month: r.month,
    currency: r.currency,
    revenue: Number(r.revenue),
    cost: Number(r.cost),
    margin: Number(r.revenue) - Number(r.cost),
  }));
}
