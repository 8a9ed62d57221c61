// `POST /stripe/webhook` (DESIGN §4): verify Stripe's signature over the raw body, record the event by id,
// hand it to the queue and answer 200 at once. A forged or stale signature gets 400 and changes nothing;
// an event delivered ten times is recorded once and processed once (core/billing/stripe-events.ts).
import express, { type Router } from 'express';
import type { Enqueue } from '../../core/billing/billing-context.ts';
import { recordPaymentEvent } from '../../core/billing/stripe-events.ts';
import type { Executor } from '../../core/context.ts';
import { InvalidSignatureError, type PaymentGateway } from '../../core/payments/gateway.ts';
import type { Logger } from '../../core/runtime/logger.ts';
import { countStripeWebhookEvent } from '../../core/runtime/metrics.ts';

export const STRIPE_WEBHOOK_PATH = '/stripe/webhook';

export interface StripeWebhookDeps {
  readonly db: Executor;
  readonly payments: PaymentGateway;
  readonly enqueue: Enqueue;
  readonly log: Logger;
}

export function stripeWebhook(deps: StripeWebhookDeps): Router {
  const router = express.Router();
  // The raw body on this route only: the signature covers the exact bytes Stripe sent.
  router.post(STRIPE_WEBHOOK_PATH, express.raw({ type: '*/*', limit: '1mb' }), async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let event;
    try {
      event = deps.payments.parseWebhook(body, req.get('stripe-signature'));
    } catch (error) {
      if (error instanceof InvalidSignatureError) {
        countStripeWebhookEvent('unknown', 'invalid_signature');
        deps.log.warn({ reason: error.message, ip: req.ip }, 'Stripe webhook refused: bad signature');
        res
          .status(400)
          .json({ error: 'invalid_signature', message: 'The Stripe signature does not verify.' });
        return;
      }
      throw error;
    }
    const rowId = await recordPaymentEvent(deps.db, event);
    if (rowId !== null) {
      await deps.enqueue('process-stripe-event', { webhookEventId: rowId }, { key: `stripe-event-${rowId}` });
    }
    countStripeWebhookEvent(event.type, rowId === null ? 'duplicate' : 'received');
    deps.log.info(
      { eventId: event.id, type: event.type, duplicate: rowId === null },
      'Stripe event received',
    );
    res.json({ received: true });
  });
  return router;
}
