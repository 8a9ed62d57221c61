// Ends an unpaid order when its hold runs out: the numbers go back to the pool.
import { endOrder } from '../../billing/orders.ts';
import { defineJob, idFrom, systemBillingCtx } from '../job-context.ts';

export const expireOrderJob = defineJob({
  name: 'expire-order',
  attempts: 5,
  backoffMs: 10_000,
  async run(deps, payload) {
    const ctx = await systemBillingCtx(deps, 'reservation-expiry');
    return endOrder(ctx, idFrom(payload, 'orderId'), 'expired');
  },
});
