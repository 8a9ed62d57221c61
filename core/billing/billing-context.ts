// What billing use cases receive beyond the usual context: the payments port (null when card payments are
// not configured: postpaid ordering still works), a way to enqueue follow-up jobs once a transaction has
// committed, the public URL for Stripe's return links, and the billing policy.
import type { Ctx } from '../context.ts';
import type { JobPayload, EnqueueOptions } from '../jobs/queue.ts';
import type { PaymentGateway } from '../payments/gateway.ts';
import { DAY_MS } from '../shared/clock.ts';

export type Enqueue = (name: string, payload: JobPayload, options?: EnqueueOptions) => Promise<unknown>;

export interface BillingPolicy {
  /** How long a number is held for a buyer who is paying (Stripe allows at least 30 minutes for Checkout). */
  readonly reservationMinutes: number;
  /** Days after the first failed renewal at which it is tried again; after the last, the number is suspended. */
  readonly dunningRetryDays: readonly number[];
  /** Days a suspended number waits for payment before it goes back to the pool. */
  readonly suspensionGraceDays: number;
}

export const DEFAULT_BILLING_POLICY: BillingPolicy = {
  reservationMinutes: 15,
  dunningRetryDays: [1, 3, 7],
  suspensionGraceDays: 14,
};

export interface BillingCtx extends Ctx {
  readonly payments: PaymentGateway | null;
  readonly enqueue: Enqueue;
  /** Absolute base for links in Stripe return URLs and notices, without a trailing slash. */
  readonly publicUrl: string;
  readonly policy: BillingPolicy;
}

export function daysFrom(at: Date, days: number): Date {
  return new Date(at.getTime() + days * DAY_MS);
}
