// Stripe webhook events: recorded once by id (the HTTP route verifies the signature, records, enqueues and
// answers 200 at once), then processed by a job. Events arrive twice, late and out of order: each handler
// is idempotent, and where order matters the checkout is read back from Stripe.
import type { Executor } from '../context.ts';
import type { PaymentEvent } from '../payments/gateway.ts';
import type { BillingCtx } from './billing-context.ts';
import { completeCheckout, endOrder } from './orders.ts';
import { completeRenewalCheckout } from './renewals.ts';

/** Stores a verified event; returns its row id when first seen and not yet processed, else null. */
export async function recordPaymentEvent(db: Executor, event: PaymentEvent): Promise<number | null> {
  const inserted = await db
    .insertInto('webhook_events')
    .values({
      provider: 'stripe',
      event_id: event.id,
      type: event.type === 'ignored' ? event.providerType : event.type,
      payload: JSON.stringify(event),
    })
    .onConflict((oc) => oc.columns(['provider', 'event_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return inserted.id;
  // Seen before: hand it to the queue again only if it never got processed (its job may have been lost).
  const seen = await db
    .selectFrom('webhook_events')
    .select(['id', 'processed_at'])
    .where('provider', '=', 'stripe')
    .where('event_id', '=', event.id)
    .executeTakeFirstOrThrow();
  return seen.processed_at === null ? seen.id : null;
}

export type EventOutcome = string;

/** Processes a recorded event once; later runs find it processed and do nothing. */
export async function processPaymentEvent(ctx: BillingCtx, webhookEventId: number): Promise<EventOutcome> {
  const row = await ctx.db
    .selectFrom('webhook_events')
    .selectAll()
    .where('id', '=', webhookEventId)
    .executeTakeFirst();
  if (!row) return 'unknown event';
  if (row.processed_at) return 'already processed';
  const event = row.payload as PaymentEvent;
  const outcome = await handle(ctx, event);
  await ctx.db
    .updateTable('webhook_events')
    .set({ processed_at: ctx.clock.now() })
    .where('id', '=', webhookEventId)
    .where('processed_at', 'is', null)
    .execute();
  return outcome;
}

async function handle(ctx: BillingCtx, event: PaymentEvent): Promise<EventOutcome> {
  switch (event.type) {
    case 'checkout.completed':
      return event.checkout.metadata['purpose'] === 'renewal'
        ? completeRenewalCheckout(ctx, event.checkout)
        : completeCheckout(ctx, event.checkout);
    case 'checkout.expired': {
      // Read the session back: if it was in fact paid (a completed event still on its way), complete it.
      if (ctx.payments) {
        const current = await ctx.payments.retrieveCheckout(event.sessionId);
        if (current.paid) {
          return current.metadata['purpose'] === 'renewal'
            ? completeRenewalCheckout(ctx, current)
            : completeCheckout(ctx, current);
        }
      }
      const orderId = Number(event.metadata['order_id']);
      if (!Number.isSafeInteger(orderId) || orderId <= 0) return 'no order';
      return (await endOrder(ctx, orderId, 'canceled')) ? 'order ended' : 'order already settled';
    }
    case 'payment.succeeded':
    case 'payment.failed': {
      // A renewal charge whose answer the worker never recorded (it crashed): re-run that renewal; Stripe
      // replays the charge's result under the same idempotency key, so nothing is charged twice.
      const subscriptionId = Number(event.metadata['subscription_id']);
      const periodEnd = Date.parse(event.metadata['period_end'] ?? '');
      if (!Number.isSafeInteger(subscriptionId) || Number.isNaN(periodEnd)) return 'not a renewal';
      await ctx.enqueue(
        'renew-subscription',
        { subscriptionId, periodEnd },
        { key: `renew-${subscriptionId}-${periodEnd}-webhook` },
      );
      return 'renewal re-checked';
    }
    case 'ignored':
      return `ignored ${event.providerType}`;
  }
}
