// Releases a suspended number whose grace period ended unpaid.
import { releaseUnpaid } from '../../billing/renewals.ts';
import { defineJob, idFrom, systemBillingCtx } from '../job-context.ts';

export const releaseSubscriptionJob = defineJob({
  name: 'release-subscription',
  attempts: 5,
  backoffMs: 30_000,
  async run(deps, payload) {
    const ctx = await systemBillingCtx(deps, 'release-unpaid');
    return releaseUnpaid(ctx, idFrom(payload, 'subscriptionId'));
  },
});
