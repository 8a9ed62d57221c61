// Renews one subscription for one period (and dunning attempt). Retries are for infrastructure failures
// (Stripe unreachable, the database restarting): a declined card is an outcome, recorded by the use case.
import { renewSubscription } from '../../billing/renewals.ts';
import { defineJob, idFrom, systemBillingCtx } from '../job-context.ts';

export const renewSubscriptionJob = defineJob({
  name: 'renew-subscription',
  attempts: 6,
  backoffMs: 15_000,
  concurrency: 4,
  async run(deps, payload) {
    const ctx = await systemBillingCtx(deps, 'renewal');
    return renewSubscription(ctx, idFrom(payload, 'subscriptionId'), new Date(idFrom(payload, 'periodEnd')));
  },
});
