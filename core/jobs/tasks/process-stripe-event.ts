// Processes one recorded Stripe webhook event (see core/billing/stripe-events.ts).
import { processPaymentEvent } from '../../billing/stripe-events.ts';
import { defineJob, idFrom, systemBillingCtx } from '../job-context.ts';

export const processStripeEventJob = defineJob({
  name: 'process-stripe-event',
  attempts: 8,
  backoffMs: 5_000,
  concurrency: 2,
  async run(deps, payload) {
    const ctx = await systemBillingCtx(deps, 'stripe-webhook');
    return processPaymentEvent(ctx, idFrom(payload, 'webhookEventId'));
  },
});
