// Renewals and dunning (seed 000 recurring fees, DESIGN: the database, not the queue, knows what is due).
// A sweep finds what is due and enqueues one job per subscription, period and attempt; the job charges
// (saved card off-session, or the postpaid invoice), extends the period and writes the charges in one
// transaction. Running a job twice, or crashing between Stripe and the commit and running it again,
// charges once: the Stripe idempotency key and the ledger keys both name the subscription and period.
// A failed renewal is retried on the policy's schedule (1, 3 and 7 days after it was due, by default),
// the account is told each time, the number is suspended after the last failure and released to the pool
// after a grace period; paying in the meantime restores it.
import type { CompletedCheckout } from '../payments/gateway.ts';
import { recordAudit } from '../audit/audit.ts';
import { inTransaction } from '../context.ts';
import type { Subscription, SubscriptionStatus } from '../db/schema.ts';
import { recordNotification, type NewNotification } from '../notifications/notifications.ts';
import { DAY_MS } from '../shared/clock.ts';
import { daysFrom, type BillingCtx } from './billing-context.ts';
import { wholesaleCharges } from './fulfillment.ts';
import { amountOwed, recordCharges, type NewCharge } from './ledger.ts';
import { periodEnd } from './periods.ts';

export type DueWork =
  | {
      readonly kind: 'renew';
      readonly subscriptionId: number;
      readonly periodEnd: Date;
      readonly attempt: number;
    }
  | { readonly kind: 'release'; readonly subscriptionId: number };

/**
 * Everything due at `now`: renewals (period over, or a dunning retry reached), cancellations at period
 * end (handled by the renewal job), and suspended numbers whose grace is over.
 */
export async function findDueWork(
  ctx: Pick<BillingCtx, 'db' | 'clock'>,
  limit: number,
  /** Keyset paging: only subscriptions with a greater id (a sweep walks all due work page by page). */
  afterId = 0,
): Promise<DueWork[]> {
  const now = ctx.clock.now();
  const renewals = await ctx.db
    .selectFrom('subscriptions')
    .select(['id', 'current_period_end', 'dunning_attempts'])
    .where('id', '>', afterId)
    .where('billing_type', '=', 'recurring')
    .where((eb) =>
      eb.or([
        eb.and([eb('status', '=', 'active'), eb('current_period_end', '<=', now)]),
        eb.and([eb('status', 'in', ['past_due', 'suspended']), eb('next_retry_at', '<=', now)]),
      ]),
    )
    .orderBy('id')
    .limit(limit)
    .execute();
  const releases = await ctx.db
    .selectFrom('subscriptions')
    .select('id')
    .where('id', '>', afterId)
    .where('status', '=', 'suspended')
    .where('release_at', '<=', now)
    .orderBy('id')
    .limit(limit)
    .execute();
  return [
    ...renewals.map((r): DueWork => ({
      kind: 'renew',
      subscriptionId: r.id,
      periodEnd: r.current_period_end,
      attempt: r.dunning_attempts + 1,
    })),
    ...releases.map((r): DueWork => ({ kind: 'release', subscriptionId: r.id })),
  ];
}

/** The job key of a piece of due work: one job per subscription, period and attempt. */
export function dueWorkKey(work: DueWork): string {
  return work.kind === 'renew'
    ? `renew-${work.subscriptionId}-${work.periodEnd.getTime()}-${work.attempt}`
    : `release-${work.subscriptionId}`;
}

export type RenewalOutcome = 'renewed' | 'not_due' | 'canceled' | 'failed' | 'action_required' | 'suspended';

/** The subscription with what a renewal needs of its account and number, in one read. */
async function loadForRenewal(ctx: BillingCtx, subscriptionId: number) {
  return ctx.db
    .selectFrom('subscriptions')
    .innerJoin('accounts', 'accounts.id', 'subscriptions.account_id')
    .innerJoin('dids', 'dids.id', 'subscriptions.did_id')
    .selectAll('subscriptions')
    .select(['accounts.stripe_customer_id', 'accounts.credit_limit', 'dids.number'])
    .where('subscriptions.id', '=', subscriptionId)
    .executeTakeFirst();
}

/**
 * Renews one subscription for the period that ends at `expectedPeriodEnd`. Anything else (renewed already,
 * canceled, not due yet) is a no-op, so stale and duplicate jobs are harmless.
 */
export async function renewSubscription(
  ctx: BillingCtx,
  subscriptionId: number,
  expectedPeriodEnd: Date,
): Promise<RenewalOutcome> {
  const sub = await loadForRenewal(ctx, subscriptionId);
  if (!sub || !isDue(sub, expectedPeriodEnd, ctx.clock.now())) return 'not_due';
  if (sub.cancel_at_period_end) return (await cancelAtPeriodEnd(ctx, sub)) ? 'canceled' : 'not_due';

  const amount = sub.recurring_fee;
  if (amount === 0 || sub.payment_method === 'invoice') {
    return inTransaction(ctx, async (tx) => {
      const locked = await lockDue(tx, subscriptionId, expectedPeriodEnd);
      if (!locked) return 'not_due';
      if (amount > 0) {
        const owed = await amountOwed(tx.db, locked.account_id);
        if (owed + amount > sub.credit_limit) {
          return recordFailure(tx, locked, sub.number, 'over the credit limit: pay the open invoice', null);
        }
      }
      await applyRenewal(tx, locked, sub.number, 'invoice');
      return 'renewed';
    });
  }

  const failWithout = (why: string, kind: 'action' | null) =>
    inTransaction(ctx, async (tx) => {
      const locked = await lockDue(tx, subscriptionId, expectedPeriodEnd);
      return locked ? recordFailure(tx, locked, sub.number, why, kind) : 'not_due';
    });
  if (!ctx.payments || !sub.stripe_customer_id || !sub.stripe_payment_method_id) {
    return failWithout(!ctx.payments ? 'card payments are not set up on this server' : 'no saved card', null);
  }
  // The bank asked for the customer to confirm this period's payment: Stripe says not to retry such a
  // charge off-session, so until they pay on the storefront each retry date only counts as a failure.
  // (Only possible after a failed attempt: the first try skips the lookup.)
  if (sub.dunning_attempts > 0) {
    const awaitingCustomer = await ctx.db
      .selectFrom('payments')
      .select('id')
      .where('subscription_id', '=', sub.id)
      .where('status', '=', 'requires_action')
      .where('idempotency_key', 'like', `renew-${sub.id}-${sub.current_period_end.getTime()}-%`)
      .executeTakeFirst();
    if (awaitingCustomer) return failWithout('your bank asks you to confirm the payment', 'action');
  }

  // One key per subscription, period and attempt, for Stripe and for the payment row: a job retried after
  // a crash between Stripe's answer and our commit asks again with the same key, Stripe replays the same
  // answer, and the commit below happens once.
  const key = `renew-${sub.id}-${sub.current_period_end.getTime()}-${sub.dunning_attempts + 1}`;
  const outcome = await ctx.payments.chargeOffSession({
    customerId: sub.stripe_customer_id,
    paymentMethodId: sub.stripe_payment_method_id,
    amount,
    currency: sub.currency,
    description: `Renewal of ${sub.number}`,
    metadata: {
      subscription_id: String(sub.id),
      period_end: sub.current_period_end.toISOString(),
      payment_key: key,
    },
    idempotencyKey: key,
  });
  return inTransaction(ctx, async (tx) => {
    const locked = await lockDue(tx, subscriptionId, expectedPeriodEnd);
    if (!locked) return 'not_due';
    const status =
      outcome.status === 'succeeded'
        ? 'succeeded'
        : outcome.status === 'requires_action'
          ? 'requires_action'
          : 'failed';
    await tx.db
      .insertInto('payments')
      .values({
        account_id: sub.account_id,
        amount,
        currency: sub.currency,
        method: 'card',
        status,
        provider_ref: outcome.paymentId,
        subscription_id: sub.id,
        idempotency_key: key,
        failure_code: outcome.status === 'succeeded' ? null : outcome.code,
      })
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .execute();
    if (outcome.status === 'succeeded') {
      await applyRenewal(tx, locked, sub.number, 'card');
      return 'renewed';
    }
    const reason =
      outcome.status === 'requires_action'
        ? 'your bank asks you to confirm the payment'
        : `card ${outcome.code.replaceAll('_', ' ')}`;
    return recordFailure(
      tx,
      locked,
      sub.number,
      reason,
      outcome.status === 'requires_action' ? 'action' : null,
    );
  });
}

function isDue(sub: Subscription, expectedPeriodEnd: Date, now: Date): boolean {
  if (sub.billing_type !== 'recurring') return false;
  if (sub.current_period_end.getTime() !== expectedPeriodEnd.getTime()) return false;
  if (sub.status === 'active') return sub.current_period_end <= now;
  if (sub.status === 'past_due' || sub.status === 'suspended')
    return sub.next_retry_at !== null && sub.next_retry_at <= now;
  return false;
}

async function lockDue(ctx: BillingCtx, id: number, expectedPeriodEnd: Date): Promise<Subscription | null> {
  const sub = await ctx.db
    .selectFrom('subscriptions')
    .selectAll()
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  return sub && isDue(sub, expectedPeriodEnd, ctx.clock.now()) ? sub : null;
}

/** Charges the period, moves the subscription on by one period and restores a suspended number. */
async function applyRenewal(
  ctx: BillingCtx,
  sub: Subscription,
  number: string,
  method: 'card' | 'invoice',
): Promise<void> {
  const start = sub.current_period_end;
  const end = periodEnd(start, {
    billingPeriod: sub.billing_period,
    billingDays: sub.billing_days,
    anchorDay: sub.anchor_day,
  });
  const did = { id: sub.did_id, number };
  const keyBase = `sub-${sub.id}-${start.toISOString()}`;
  const common = { currency: sub.currency, didId: sub.did_id, subscriptionId: sub.id, orderId: null };
  const charges: NewCharge[] = [
    {
      ...common,
      accountId: sub.account_id,
      sellerAccountId: sub.seller_account_id,
      kind: 'recurring',
      amount: sub.recurring_fee,
      periodStart: start,
      periodEnd: end,
      description: `${did.number}, ${start.toISOString().slice(0, 10)} to ${end.toISOString().slice(0, 10)}`,
      idempotencyKey: `${keyBase}-recurring`,
      onInvoice: method === 'invoice',
    },
    ...wholesaleCharges(sub.upstream, common, keyBase, did.number, { start, end }, { setup: false }),
  ];
  const now = ctx.clock.now();
  await recordCharges(ctx.db, charges, now);
  const wasSuspended = sub.status === 'suspended';
  await ctx.db
    .updateTable('subscriptions')
    .set({
      status: 'active',
      current_period_start: start,
      current_period_end: end,
      dunning_attempts: 0,
      next_retry_at: null,
      last_failure: null,
      suspended_at: null,
      release_at: null,
    })
    .where('id', '=', sub.id)
    .execute();
  if (wasSuspended) {
    await ctx.db
      .updateTable('dids')
      .set({ status: 'assigned' })
      .where('id', '=', did.id)
      .where('status', '=', 'suspended')
      .execute();
  }
  await recordAudit(ctx.db, ctx.actor, [
    {
      action: wasSuspended ? 'subscription.restore' : 'subscription.renew',
      didId: did.id,
      accountId: sub.account_id,
      subject: did.number,
      before: { status: sub.status, period_end: start },
      after: { status: 'active', period_end: end, amount: sub.recurring_fee, method },
    },
  ]);
  if (sub.recurring_fee > 0) {
    await notify(ctx, {
      accountId: sub.account_id,
      kind: 'renewal_receipt',
      key: `${keyBase}-receipt`,
      data: {
        number: did.number,
        amount: sub.recurring_fee,
        currency: sub.currency,
        periodEnd: end.toISOString(),
      },
    });
  }
}

/**
 * A renewal that could not be charged. Before the last retry: past due, retry on the schedule, tell the
 * account. After it: the subscription and the number are suspended (calls refused) until paid or released.
 */
async function recordFailure(
  ctx: BillingCtx,
  sub: Subscription,
  number: string,
  reason: string,
  kind: 'action' | null,
): Promise<RenewalOutcome> {
  const now = ctx.clock.now();
  const attempts = sub.dunning_attempts + 1;
  const schedule = ctx.policy.dunningRetryDays;
  const did = { id: sub.did_id, number };
  const periodKey = `${sub.id}-${sub.current_period_end.getTime()}`;
  const payUrl = `${ctx.publicUrl}/my/numbers/${did.id}/pay`;
  const base = { number: did.number, amount: sub.recurring_fee, currency: sub.currency, reason, payUrl };

  if (attempts <= schedule.length && sub.status !== 'suspended') {
    const planned = daysFrom(sub.current_period_end, schedule[attempts - 1]!);
    const nextRetry = planned > now ? planned : new Date(now.getTime() + DAY_MS);
    await setStatus(ctx, sub, 'past_due', {
      dunning_attempts: attempts,
      next_retry_at: nextRetry,
      last_failure: reason,
    });
    await notify(ctx, {
      accountId: sub.account_id,
      kind: kind === 'action' ? 'payment_action_required' : 'payment_failed',
      key: `payment-failed-${periodKey}-${attempts}`,
      data: { ...base, nextAttempt: nextRetry.toISOString() },
    });
    return kind === 'action' ? 'action_required' : 'failed';
  }

  if (sub.status === 'suspended') {
    // A retry asked for after a payment, still short: stay suspended, keep the release date.
    await setStatus(ctx, sub, 'suspended', {
      dunning_attempts: attempts,
      next_retry_at: null,
      last_failure: reason,
    });
    return 'suspended';
  }
  const releaseAt = daysFrom(now, ctx.policy.suspensionGraceDays);
  await setStatus(ctx, sub, 'suspended', {
    dunning_attempts: attempts,
    next_retry_at: null,
    last_failure: reason,
    suspended_at: now,
    release_at: releaseAt,
  });
  await ctx.db
    .updateTable('dids')
    .set({ status: 'suspended' })
    .where('id', '=', did.id)
    .where('status', '=', 'assigned')
    .execute();
  await recordAudit(ctx.db, ctx.actor, [
    {
      action: 'did.suspend',
      didId: did.id,
      accountId: sub.account_id,
      subject: did.number,
      before: { status: 'assigned' },
      after: { status: 'suspended', reason, release_at: releaseAt },
    },
  ]);
  await notify(ctx, {
    accountId: sub.account_id,
    kind: 'number_suspended',
    key: `number-suspended-${periodKey}`,
    data: { ...base, releaseOn: releaseAt.toISOString() },
  });
  return 'suspended';
}

async function setStatus(
  ctx: BillingCtx,
  sub: Subscription,
  status: SubscriptionStatus,
  values: Partial<
    Pick<Subscription, 'dunning_attempts' | 'next_retry_at' | 'last_failure' | 'suspended_at' | 'release_at'>
  >,
): Promise<void> {
  await ctx.db
    .updateTable('subscriptions')
    .set({ status, ...values })
    .where('id', '=', sub.id)
    .execute();
  if (status !== sub.status) {
    await recordAudit(ctx.db, ctx.actor, [
      {
        action: 'subscription.status',
        didId: sub.did_id,
        accountId: sub.account_id,
        subject: `subscription ${sub.id}`,
        before: { status: sub.status },
        after: { status, ...values },
      },
    ]);
  }
}

async function notify(ctx: BillingCtx, notice: NewNotification): Promise<void> {
  const id = await recordNotification(ctx.db, notice);
  // Bad news goes out at once (delayed a little: the job must not run before this transaction commits;
  // if it does, the notice is still pending and the sweep sends it). Receipts are not urgent: the sweep
  // sends them within a minute, which keeps a renewal run from doubling its queue traffic.
  if (id !== null && notice.kind !== 'renewal_receipt') {
    await ctx.enqueue(
      'deliver-notification',
      { notificationId: id },
      { key: `notify-${id}`, delayMs: 1_000 },
    );
  }
}

/** At period end of a subscription the customer canceled: it ends and the number goes back to the pool. */
async function cancelAtPeriodEnd(ctx: BillingCtx, sub: Subscription): Promise<boolean> {
  return inTransaction(ctx, async (tx) => {
    const locked = await lockDue(tx, sub.id, sub.current_period_end);
    if (!locked) return false;
    await endSubscription(tx, locked, 'canceled at the end of its period');
    return true;
  });
}

/** Ends a subscription and releases its number (aging first, as every release). */
export async function endSubscription(ctx: BillingCtx, sub: Subscription, why: string): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db
    .updateTable('subscriptions')
    .set({ status: 'canceled', canceled_at: now, next_retry_at: null })
    .where('id', '=', sub.id)
    .execute();
  const did = await ctx.db
    .selectFrom('dids')
    .selectAll()
    .where('id', '=', sub.did_id)
    .forUpdate()
    .executeTakeFirstOrThrow();
  if (did.status === 'assigned' || did.status === 'suspended') {
    const days = ctx.settings.didAgingDays;
    const agingUntil = days > 0 ? daysFrom(now, days) : null;
    await ctx.db
      .updateTable('dids')
      .set({
        status: agingUntil ? 'aging' : 'available',
        owner_account_id: null,
        assigned_account_id: null,
        assigned_at: null,
        freed_at: now,
        aging_until: agingUntil,
        destination_type: null,
        destination: null,
      })
      .where('id', '=', did.id)
      .execute();
    await ctx.db.deleteFrom('call_transfers').where('did_id', '=', did.id).execute();
  }
  await recordAudit(ctx.db, ctx.actor, [
    {
      action: 'subscription.end',
      didId: did.id,
      accountId: sub.account_id,
      subject: did.number,
      before: { status: sub.status, did_status: did.status },
      after: { status: 'canceled', reason: why },
    },
  ]);
}

/** A suspended number whose grace is over goes back to the pool; the account is told. */
export async function releaseUnpaid(ctx: BillingCtx, subscriptionId: number): Promise<boolean> {
  return inTransaction(ctx, async (tx) => {
    const sub = await tx.db
      .selectFrom('subscriptions')
      .selectAll()
      .where('id', '=', subscriptionId)
      .forUpdate()
      .executeTakeFirst();
    if (!sub || sub.status !== 'suspended' || !sub.release_at || sub.release_at > tx.clock.now())
      return false;
    const did = await tx.db
      .selectFrom('dids')
      .select('number')
      .where('id', '=', sub.did_id)
      .executeTakeFirstOrThrow();
    await endSubscription(tx, sub, 'unpaid after the grace period');
    await notify(tx, {
      accountId: sub.account_id,
      kind: 'number_released',
      key: `number-released-${sub.id}`,
      data: { number: did.number },
    });
    return true;
  });
}

const REFUND_DUE = 'refund_due';

/**
 * The customer paid an overdue renewal on Stripe's page (after a decline or a 3-D Secure request). The
 * period it names is renewed and a suspended number restored; if that period was renewed meanwhile (a
 * retry went through), the payment is refunded rather than counted twice.
 */
export async function completeRenewalCheckout(
  ctx: BillingCtx,
  checkout: CompletedCheckout,
): Promise<'renewed' | 'already_done' | 'refunded' | 'unpaid'> {
  if (!checkout.paid) return 'unpaid';
  const subscriptionId = Number(checkout.metadata['subscription_id']);
  const periodEndMs = Date.parse(checkout.metadata['period_end'] ?? '');
  const key = `checkout-${checkout.sessionId}`;
  const outcome = await inTransaction(ctx, async (tx) => {
    const known = await tx.db
      .selectFrom('payments')
      .select(['status', 'failure_code'])
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    // A refund decided earlier but not yet sent (Stripe was down) is sent on the next delivery.
    if (known)
      return known.status === 'succeeded' && known.failure_code === REFUND_DUE
        ? ('refunded' as const)
        : ('already_done' as const);
    const sub = await tx.db
      .selectFrom('subscriptions')
      .selectAll()
      .where('id', '=', subscriptionId)
      .forUpdate()
      .executeTakeFirst();
    if (!sub) return 'already_done' as const;
    const stillOwed =
      sub.current_period_end.getTime() === periodEndMs &&
      (sub.status === 'past_due' || sub.status === 'suspended');
    await tx.db
      .insertInto('payments')
      .values({
        account_id: sub.account_id,
        amount: checkout.amountTotal,
        currency: sub.currency,
        method: 'card',
        status: 'succeeded',
        provider_ref: checkout.paymentId,
        subscription_id: sub.id,
        idempotency_key: key,
        failure_code: stillOwed ? null : REFUND_DUE,
      })
      .execute();
    if (!stillOwed) return 'refunded' as const;
    if (checkout.paymentMethodId) {
      await tx.db
        .updateTable('subscriptions')
        .set({ stripe_payment_method_id: checkout.paymentMethodId, payment_method: 'card' })
        .where('id', '=', sub.id)
        .execute();
    }
    const did = await tx.db
      .selectFrom('dids')
      .select('number')
      .where('id', '=', sub.did_id)
      .executeTakeFirstOrThrow();
    await applyRenewal(tx, sub, did.number, 'card');
    return 'renewed' as const;
  });
  if (outcome === 'refunded' && ctx.payments && checkout.paymentId) {
    await ctx.payments.refund({
      paymentId: checkout.paymentId,
      amount: checkout.amountTotal,
      idempotencyKey: `refund-${key}`,
      reason: 'the renewal had already been paid',
    });
    await ctx.db
      .updateTable('payments')
      .set({ status: 'refunded', refunded_amount: checkout.amountTotal, failure_code: null })
      .where('idempotency_key', '=', key)
      .execute();
  }
  return outcome;
}
