// Where an order stands, in the words its page and its status poll use. An order paid by card stays
// "processing" until the webhook confirms the payment (the buyer may be back from Stripe before Stripe has
// told us), so the page never claims numbers the buyer does not have yet. Paid orders say whether every
// number was delivered or some were refunded because another buyer took them after the hold expired.
import type { Order, OrderItem } from '../db/schema.ts';
import type { BillingCtx } from './billing-context.ts';
import { getOrder } from './orders.ts';

export type OrderState =
  'processing' | 'active' | 'partly_refunded' | 'refunded' | 'expired' | 'canceled' | 'failed';

export interface OrderProgress {
  readonly state: OrderState;
  /** Nothing will change any more: pages stop polling. */
  readonly final: boolean;
}

/** The state of an order from its row and its items' outcomes. */
export function orderState(
  order: Pick<Order, 'status'>,
  items: readonly Pick<OrderItem, 'outcome'>[],
): OrderProgress {
  switch (order.status) {
    case 'pending':
      return { state: 'processing', final: false };
    case 'expired':
    case 'canceled':
    case 'failed':
      return { state: order.status, final: true };
    case 'paid': {
      const refunded = items.filter((i) => i.outcome === 'refunded').length;
      const state = refunded === 0 ? 'active' : refunded === items.length ? 'refunded' : 'partly_refunded';
      return { state, final: true };
    }
  }
}

/** The buyer's order with its items and state; another account's order is "not found". */
export async function orderProgress(ctx: BillingCtx, orderId: number) {
  const { order, items } = await getOrder(ctx, orderId);
  return { order, items, ...orderState(order, items) };
}
