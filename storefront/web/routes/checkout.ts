// Buying numbers (issue 5, deliverable 3). The catalog's "Buy selected" posts only DID ids; they travel on
// to GET /checkout in the query string, so a reload, a log-in on the way (the selection rides along in
// `next`) and the back button all keep them. The confirmation page shows the server's own quote and the
// ways this buyer can pay, with a random submit key in the form: a double-clicked "Place order" sends the
// key twice and finds the first order. Placing it either sends the buyer on to Stripe Checkout (through
// /orders/:id/pay) or, on account, straight to the order's page.
import { randomBytes } from 'node:crypto';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { prepareCheckout } from '../../../core/billing/checkout.ts';
import { MAX_ORDER_NUMBERS, placeOrder } from '../../../core/billing/orders.ts';
import { invalid } from '../../../core/shared/errors.ts';
import { billingCtx, billingPolicy } from '../contexts.ts';
import type { Web } from '../deps.ts';
import { formPage, setFormData } from '../errors.ts';
import { withPageOnError } from '../form-page.ts';
import { bodyField, formBody } from '../form.ts';
import { requireUser } from '../session.ts';
import { currentSession } from '../state.ts';

const VIEW = 'checkout/show';
const TITLE = 'Check your order';

export function checkoutRoutes(web: Web): Router {
  const router = Router();

  router.post('/checkout', formBody, web.csrf.verify, (req, res) => {
    const ids = selectedIds(req.body);
    if (ids.length === 0) {
      res.redirect(303, backToCatalog(req));
      return;
    }
    const url = checkoutPath(ids);
    res.redirect(303, currentSession(res) ? url : `/login?next=${encodeURIComponent(url)}`);
  });

  router.get('/checkout', requireUser, formPage(VIEW, TITLE, []), async (req, res) => {
    const ids = selectedIds(req.query);
    if (ids.length === 0) {
      res.redirect(303, '/numbers?notice=none-selected');
      return;
    }
    setFormData(res, { ids, retryUrl: checkoutPath(ids) });
    web.pages.render(req, res, VIEW, await checkoutPage(web, res, ids));
  });

  router.post(
    '/checkout/place',
    formBody,
    loginWithSelection,
    web.csrf.verify,
    formPage(VIEW, TITLE, ['method']),
    async (req, res) => {
      const ids = selectedIds(req.body);
      // Without the page (the numbers are gone): the way back to a fresh confirmation of the selection.
      setFormData(res, { ids, retryUrl: ids.length ? checkoutPath(ids) : null });
      const placed = await withPageOnError(
        res,
        () => checkoutPage(web, res, ids),
        () =>
          placeOrder(billingCtx(web, res), {
            didIds: ids,
            method: paymentMethod(bodyField(req, 'method')),
            submitKey: bodyField(req, 'submit_key'),
          }),
      );
      // To Stripe by way of our own page: see templates/orders/pay.hbs for why not a redirect.
      res.redirect(303, `/orders/${placed.order.id}${placed.checkoutUrl ? '/pay' : ''}`);
    },
  );

  return router;
}

/** The confirmation page: the server's quote for the selection and the ways to pay it. */
async function checkoutPage(web: Web, res: Response, ids: readonly string[]) {
  const plan = await prepareCheckout(billingCtx(web, res), ids);
  const only = plan.card.available !== plan.invoice.available;
  return {
    title: TITLE,
    ids,
    plan,
    lines: plan.quote.lines,
    submitKey: newSubmitKey(),
    holdMinutes: billingPolicy(web).reservationMinutes,
    onlyMethod: only ? (plan.card.available ? 'card' : 'invoice') : null,
    values: { method: plan.card.available ? 'card' : 'invoice' },
  };
}

/** A session that ended while the page was open: log in again, then see the same selection confirmed. */
const loginWithSelection: RequestHandler = (req, res, next) => {
  if (currentSession(res)) {
    next();
    return;
  }
  const ids = selectedIds(req.body);
  const url = ids.length ? checkoutPath(ids) : '/numbers';
  res.redirect(303, `/login?next=${encodeURIComponent(url)}`);
};

/** The `did` fields of a form or query: what they are is core's business, how many is ours (a URL). */
function selectedIds(source: unknown): string[] {
  const raw = (source as Record<string, unknown> | undefined)?.did;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  const ids = list.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => v.trim());
  // More than an order takes is refused by core with its own message; the URL only has to stay sane.
  return [...new Set(ids)].slice(0, MAX_ORDER_NUMBERS + 1);
}

function checkoutPath(ids: readonly string[]): string {
  const query = new URLSearchParams(ids.map((id): [string, string] => ['did', id]));
  return `/checkout?${query.toString()}`;
}

function paymentMethod(text: string): 'card' | 'invoice' {
  if (text === 'card' || text === 'invoice') return text;
  throw invalid('Choose how to pay.', { field: 'method' });
}

/** Nothing ticked: back to the search the buyer came from (same site only), saying why. */
function backToCatalog(req: Request): string {
  let target = '/numbers';
  const referer = req.get('referer');
  if (referer) {
    try {
      const url = new URL(referer);
      if (url.host === req.get('host') && url.pathname === '/numbers') {
        url.searchParams.delete('notice');
        target = `/numbers${url.search}`;
      }
    } catch {
      // not a URL: the catalog's first page will do
    }
  }
  return `${target}${target.includes('?') ? '&' : '?'}notice=none-selected`;
}

/** Long enough that nobody guesses another buyer's key; placeOrder accepts [A-Za-z0-9_-]{8,100}. */
function newSubmitKey(): string {
  return randomBytes(18).toString('base64url');
}
