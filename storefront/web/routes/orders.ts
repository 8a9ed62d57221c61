// An order's page: where it stands, honestly. A card order stays "processing" until Stripe's webhook has
// confirmed the payment (the buyer may be back from Stripe first); while it is, the page asks
// /orders/:id/status.json every few seconds (site.js) and reloads once the state changes, and without
// JavaScript it refreshes itself (a <noscript> meta refresh). Stripe's cancel link (a GET anyone could make a
// signed-in buyer follow) only brings the buyer back to the order, where they pay or cancel it with a form.
// Another account's order is "not found".
import { Router } from 'express';
import { cancelOrder } from '../../../core/billing/orders.ts';
import { orderProgress } from '../../../core/billing/order-state.ts';
import { periodLabel } from '../../../core/billing/periods.ts';
import { DomainError } from '../../../core/shared/errors.ts';
import { billingCtx, idParam, readerCtx } from '../contexts.ts';
import type { Web } from '../deps.ts';
import { httpStatusFor } from '../errors.ts';
import { postForm, queryField } from '../form.ts';
import { requireUser } from '../session.ts';

/** How often a processing order's page looks again, in seconds. */
const POLL_SECONDS = 3;

const NOTICES: Readonly<Record<string, string>> = {
  canceled: 'You canceled the payment: the numbers are no longer held for you, and nothing was charged.',
  'left-payment':
    'You left the payment page without paying. The numbers stay held for you for now: continue to payment, or cancel the order to let them go.',
};

export function ordersRoutes(web: Web): Router {
  const router = Router();

  router.get('/orders/:id', requireUser, async (req, res) => {
    const id = idParam(req, 'id');
    const progress = await orderProgress(readerCtx(web, res), id);
    const { order } = progress;
    const fromCheckout = queryField(req, 'from') === 'checkout';
    web.pages.render(req, res, 'orders/show', {
      title: `Order ${order.id}`,
      order,
      state: progress.state,
      final: progress.final,
      items: progress.items.map((i) => ({ ...i, period: periodLabel(i) })),
      fromCheckout,
      // A pending card order the buyer has not paid yet can still be paid, or given up.
      payUrl: payReady(order) && !fromCheckout ? order.checkout_url : null,
      payReady: payReady(order),
      canCancel: order.status === 'pending',
      statusUrl: `/orders/${order.id}/status.json`,
      refreshSeconds: progress.final ? null : POLL_SECONDS,
      notice: NOTICES[queryField(req, 'notice')],
    });
  });

  // The way to Stripe's page for a card order still to be paid; anything else shows the order.
  router.get('/orders/:id/pay', requireUser, async (req, res) => {
    const { order } = await orderProgress(readerCtx(web, res), idParam(req, 'id'));
    if (!payReady(order)) {
      res.redirect(303, `/orders/${order.id}`);
      return;
    }
    web.pages.render(req, res, 'orders/pay', {
      title: 'Opening the payment page',
      redirectTo: order.checkout_url,
      amount: order.total,
      currency: order.currency,
      backUrl: `/orders/${order.id}`,
    });
  });

  router.get('/orders/:id/status.json', requireUser, async (req, res) => {
    try {
      const { state, final, order } = await orderProgress(readerCtx(web, res), idParam(req, 'id'));
      // payReady: the payment page of a card order exists (a double-click's second request can land here
      // while the first is still opening it), so the page reloads to offer it.
      res.set('Cache-Control', 'no-store').json({ state, final, payReady: payReady(order) });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      res.status(httpStatusFor(error)).json({ error: error.code, message: error.message });
    }
  });

  // Stripe's cancel_url: the buyer pressed "back" on Stripe's page. A GET changes nothing.
  router.get('/orders/:id/cancel', requireUser, async (req, res) => {
    const { order } = await orderProgress(readerCtx(web, res), idParam(req, 'id'));
    const notice = order.status === 'pending' ? '?notice=left-payment' : '';
    res.redirect(303, `/orders/${order.id}${notice}`);
  });

  router.post('/orders/:id/cancel', requireUser, ...postForm(web), async (req, res) => {
    const id = idParam(req, 'id');
    const ended = await cancelOrder(billingCtx(web, res), id);
    res.redirect(303, ended ? `/orders/${id}?notice=canceled` : `/orders/${id}`);
  });

  return router;
}

function payReady(order: { status: string; checkout_url: string | null }): boolean {
  return order.status === 'pending' && order.checkout_url !== null;
}
