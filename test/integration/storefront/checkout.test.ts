// Buying on the storefront, through HTTP: the confirmation page (the server's own prices, the ways to pay),
// placing an order on account and by card (Stripe faked by nock), the order page and its status poll, and
// the bad input issue 5 lists: tampered and foreign ids, a number someone else just bought, an expired
// hold, a double-clicked pay button, a forged CSRF token.
import { describe, expect, it } from 'vitest';
import { endOrder } from '../../../core/billing/orders.ts';
import { buildAccount, buildDid, buildOperator } from '../../helpers/factories.ts';
import { Browser, textOf } from './harness.ts';
import { hidden, signedIn, useShop } from './shop.ts';

const shop = useShop();
const { billing } = shop;

async function world() {
  const operator = await buildOperator(billing.db);
  const prepaid = await buildAccount(billing.db, operator, { slug: 'cardco', name: 'Card Co' });
  const postpaid = await buildAccount(billing.db, operator, {
    slug: 'billco',
    name: 'Bill Co',
    billing_mode: 'postpaid',
    credit_limit: 10_000,
  });
  const a = await buildDid(billing.db, { number: '+12125550100', setup_fee: 500, recurring_fee: 300 });
  const b = await buildDid(billing.db, { number: '+12125550101', setup_fee: 0, recurring_fee: 150 });
  return { operator, prepaid, postpaid, a, b };
}

const orders = () => billing.db.selectFrom('orders').selectAll().orderBy('id').execute();
const sessionsCreated = () =>
  billing.stripe.requests.filter((r) => r === 'POST /v1/checkout/sessions').length;

describe('the checkout page', () => {
  it('sends a visitor to log in and brings the selection back after', async () => {
    const { prepaid, a, b } = await world();
    const served = await shop.open();
    const visitor = new Browser(served.base);
    await visitor.get('/numbers');
    const posted = await visitor.post('/checkout', { did: [String(a.id), String(b.id)] });
    expect(posted.status).toBe(303);
    const next = `/checkout?did=${a.id}&did=${b.id}`;
    expect(posted.location).toBe(`/login?next=${encodeURIComponent(next)}`);

    const user = await signedIn(served, billing.db, prepaid);
    const page = await user.get(next);
    expect(page.status).toBe(200);
    expect(page.html).toContain('<title>Check your order · didops</title>');
    const text = textOf(page.html);
    expect(text).toContain('+1 212 555 0100');
    expect(text).toContain('+1 212 555 0101');
    // 5.00 + 3.00 + 0 + 1.50, and what renews after.
    expect(text).toContain('Total to pay now $9.50');
    expect(text).toContain('Then $4.50 per month');
    expect(text).toContain('Pay $9.50');
    expect(hidden(page.html, 'submit_key')).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(hidden(page.html, 'method')).toBe('card');
  });

  it('sends a buyer who ticked nothing back to the same search, saying so', async () => {
    await world();
    const served = await shop.open();
    const visitor = new Browser(served.base);
    await visitor.get('/numbers?area=212');
    const back = await visitor.post('/checkout', {}, { referer: `${served.base}/numbers?area=212` });
    expect(back.status).toBe(303);
    expect(back.location).toBe('/numbers?area=212&notice=none-selected');
    const page = await visitor.get(back.location!);
    expect(textOf(page.html)).toContain('No numbers were selected');
  });

  it('offers both ways to a postpaid account, with its credit, and only "on account" without card payments', async () => {
    const { postpaid, prepaid, a } = await world();
    const withCards = await shop.open();
    const user = await signedIn(withCards, billing.db, postpaid);
    const both = await user.get(`/checkout?did=${a.id}`);
    expect(both.html).toContain('name="method" value="card" checked');
    expect(both.html).toContain('name="method" value="invoice"');
    expect(textOf(both.html)).toContain('credit limit $100.00, you owe $0.00');

    const noCards = await shop.open({ cardPayments: false });
    const onAccount = await signedIn(noCards, billing.db, postpaid);
    const only = await onAccount.get(`/checkout?did=${a.id}`);
    expect(hidden(only.html, 'method')).toBe('invoice');
    expect(textOf(only.html)).toContain(
      'Card payments are not set up on this server: order on account instead.',
    );

    // Prepaid without card payments: nothing works, and the page says what would.
    const stuck = await signedIn(noCards, billing.db, prepaid);
    const none = await stuck.get(`/checkout?did=${a.id}`);
    expect(none.status).toBe(200);
    expect(none.html).not.toContain('action="/checkout/place"');
    expect(textOf(none.html)).toContain('Card payments are not set up on this server.');
    expect(textOf(none.html)).toContain('Ask your provider to make your account postpaid');
  });

  it('refuses ids that are not for sale, or not numbers at all', async () => {
    const { prepaid, operator } = await world();
    const other = await buildAccount(billing.db, operator);
    const taken = await buildDid(billing.db, { status: 'assigned', assigned_account_id: other.id });
    const served = await shop.open();
    const user = await signedIn(served, billing.db, prepaid);

    const foreign = await user.get(`/checkout?did=${taken.id}`);
    expect(foreign.status).toBe(409);
    expect(textOf(foreign.html)).toContain('is no longer available');
    expect(foreign.html).not.toContain('action="/checkout/place"');

    const missing = await user.get('/checkout?did=999999');
    expect(missing.status).toBe(409);
    expect(textOf(missing.html)).toContain('A number you picked no longer exists.');

    const garbage = await user.get('/checkout?did=abc');
    expect(garbage.status).toBe(400);
    expect(textOf(garbage.html)).toContain('The selection names a number that does not exist.');
  });
});

describe('placing an order', () => {
  it('on account: the numbers are the buyer’s at once, at the server’s price whatever the form says', async () => {
    const { postpaid, a } = await world();
    const served = await shop.open();
    const user = await signedIn(served, billing.db, postpaid);
    const page = await user.get(`/checkout?did=${a.id}`);
    const placed = await user.post('/checkout/place', {
      did: String(a.id),
      method: 'invoice',
      submit_key: hidden(page.html, 'submit_key'),
      // Tampering: fields the server never reads.
      price: '0',
      total: '0',
      setup_fee: '0',
      quantity: '100',
    });
    expect(placed.status).toBe(303);
    const [order] = await orders();
    expect(placed.location).toBe(`/orders/${order!.id}`);
    expect(order).toMatchObject({ status: 'paid', total: 800, method: 'invoice', account_id: postpaid.id });

    const shown = await user.get(placed.location!);
    expect(shown.html).toContain('<title>Order');
    const text = textOf(shown.html);
    expect(text).toContain('Active');
    expect(text).toContain('$8.00 on account');
    // Final: no polling, no refresh.
    expect(shown.html).not.toContain('data-poll');
    expect(shown.html).not.toContain('http-equiv="refresh"');
    expect(JSON.parse((await user.get(`/orders/${order!.id}/status.json`)).html)).toEqual({
      state: 'active',
      final: true,
      payReady: false,
    });
  });

  it('by card: to Stripe Checkout, then "processing" with a status poll until the webhook confirms', async () => {
    const { prepaid, a, b } = await world();
    const served = await shop.open();
    const user = await signedIn(served, billing.db, prepaid);
    const page = await user.get(`/checkout?did=${a.id}&did=${b.id}`);
    const placed = await user.post('/checkout/place', {
      did: [String(a.id), String(b.id)],
      method: 'card',
      submit_key: hidden(page.html, 'submit_key'),
    });
    expect(placed.status).toBe(303);
    const [order] = await orders();
    expect(placed.location).toBe(`/orders/${order!.id}/pay`);
    expect(order).toMatchObject({ status: 'pending', total: 950, method: 'card' });
    const session = [...billing.stripe.sessions.values()][0]!;
    // Our page opens Stripe's at once (a meta refresh, not subject to the CSP form-action list), with a link.
    const opening = await user.get(placed.location!);
    expect(opening.status).toBe(200);
    expect(opening.html).toContain(`<meta http-equiv="refresh" content="0;url=${session.url}">`);
    expect(opening.html).toContain(
      `<a class="button" href="${session.url}" rel="noopener">Continue to payment</a>`,
    );
    expect(textOf(opening.html)).toContain("You pay $9.50 on Stripe's page");
    expect(session.amount_total).toBe(950);
    expect(session.success_url).toBe(`https://shop.example.test/orders/${order!.id}?from=checkout`);
    const held = await billing.db
      .selectFrom('dids')
      .select('status')
      .where('id', 'in', [a.id, b.id])
      .execute();
    expect(held.map((d) => d.status)).toEqual(['reserved', 'reserved']);

    const back = await user.get(`/orders/${order!.id}?from=checkout`);
    expect(back.status).toBe(200);
    expect(textOf(back.html)).toContain(
      'Processing Thank you! We are waiting for Stripe to confirm your payment.',
    );
    expect(back.html).toContain(`data-order-status="/orders/${order!.id}/status.json"`);
    expect(back.html).toContain('data-poll');
    expect(back.html).toContain('<noscript><meta http-equiv="refresh" content="3"></noscript>');
    const status = await user.get(`/orders/${order!.id}/status.json`);
    expect(status.headers.get('content-type')).toContain('application/json');
    expect(JSON.parse(status.html)).toEqual({ state: 'processing', final: false, payReady: true });

    // Coming back to the order later (not from Stripe): the way back to the payment page.
    const later = await user.get(`/orders/${order!.id}`);
    expect(later.html).toContain(`href="${session.url}"`);
  });

  it('a double-clicked "Place order" makes one order and one payment page', async () => {
    const { prepaid, a } = await world();
    const served = await shop.open();
    const user = await signedIn(served, billing.db, prepaid);
    const page = await user.get(`/checkout?did=${a.id}`);
    const form = { did: String(a.id), method: 'card', submit_key: hidden(page.html, 'submit_key') };
    const [first, second] = await Promise.all([
      user.post('/checkout/place', form),
      user.post('/checkout/place', form),
    ]);
    expect(await orders()).toHaveLength(1);
    const [order] = await orders();
    const stripeUrl = [...billing.stripe.sessions.values()][0]!.url;
    // Each click lands on the way to the payment page, or (the one that came while the other was opening
    // it) on the order's page, which offers the payment page as soon as it exists.
    for (const click of [first, second]) {
      expect(click.status).toBe(303);
      expect([`/orders/${order!.id}/pay`, `/orders/${order!.id}`]).toContain(click.location);
    }
    expect(sessionsCreated()).toBe(1);
    // A click after the fact finds the same payment page.
    expect((await user.post('/checkout/place', form)).location).toBe(`/orders/${order!.id}/pay`);
    expect(JSON.parse((await user.get(`/orders/${order!.id}/status.json`)).html)).toEqual({
      state: 'processing',
      final: false,
      payReady: true,
    });
    expect((await user.get(`/orders/${order!.id}`)).html).toContain(`href="${stripeUrl}"`);
  });

  it('someone else just bought the number: a clear message, no order, no payment page', async () => {
    const { prepaid, postpaid, a } = await world();
    const served = await shop.open();
    const slow = await signedIn(served, billing.db, prepaid);
    const fast = await signedIn(served, billing.db, postpaid);
    const slowPage = await slow.get(`/checkout?did=${a.id}`);
    const fastPage = await fast.get(`/checkout?did=${a.id}`);
    await fast.post('/checkout/place', {
      did: String(a.id),
      method: 'invoice',
      submit_key: hidden(fastPage.html, 'submit_key'),
    });

    const refused = await slow.post('/checkout/place', {
      did: String(a.id),
      method: 'card',
      submit_key: hidden(slowPage.html, 'submit_key'),
    });
    expect(refused.status).toBe(409);
    const text = textOf(refused.html);
    expect(text).toContain('+1 212 555 0100 was just taken by another buyer.');
    expect(text).toContain('Nothing was charged.');
    expect(refused.html).toContain('<title>Check your order · didops</title>');
    expect((await orders()).filter((o) => o.account_id === prepaid.id)).toHaveLength(0);
    expect(sessionsCreated()).toBe(0);
    expect(billing.stripe.customers.size).toBe(0);
  });

  it('an expired hold: the order says so, the number is for sale again and the payment page is closed', async () => {
    const { prepaid, a } = await world();
    const served = await shop.open();
    const user = await signedIn(served, billing.db, prepaid);
    const page = await user.get(`/checkout?did=${a.id}`);
    await user.post('/checkout/place', {
      did: String(a.id),
      method: 'card',
      submit_key: hidden(page.html, 'submit_key'),
    });
    const [order] = await orders();
    billing.clock.advance(16 * 60_000);
    // What the expire-order job does when the hold runs out.
    expect(await endOrder(billing.ctxFor(prepaid), order!.id, 'expired')).toBe(true);

    const shown = await user.get(`/orders/${order!.id}`);
    const text = textOf(shown.html);
    expect(text).toContain('Expired The payment did not arrive in time, so the numbers went back on sale.');
    expect(text).toContain('Not bought');
    expect(shown.html).not.toContain('checkout.stripe.test');
    expect(shown.html).not.toContain('data-poll');
    const did = await billing.db
      .selectFrom('dids')
      .select('status')
      .where('id', '=', a.id)
      .executeTakeFirstOrThrow();
    expect(did.status).toBe('available');
    expect([...billing.stripe.sessions.values()][0]!.status).toBe('expired');

    // Its way to Stripe is closed too.
    expect((await user.get(`/orders/${order!.id}/pay`)).location).toBe(`/orders/${order!.id}`);
    // Placing the same form again finds the same (ended) order: nothing new is held or charged.
    const again = await user.post('/checkout/place', {
      did: String(a.id),
      method: 'card',
      submit_key: hidden(page.html, 'submit_key'),
    });
    expect(again.location).toBe(`/orders/${order!.id}`);
    expect(await orders()).toHaveLength(1);
  });

  it('refuses a forged CSRF token with 403 and changes nothing', async () => {
    const { postpaid, a } = await world();
    const served = await shop.open();
    const user = await signedIn(served, billing.db, postpaid);
    const page = await user.get(`/checkout?did=${a.id}`);
    const forged = await user.post('/checkout/place', {
      _csrf: 'forged-token',
      did: String(a.id),
      method: 'invoice',
      submit_key: hidden(page.html, 'submit_key'),
    });
    expect(forged.status).toBe(403);
    expect(await orders()).toHaveLength(0);
    const missing = await user.post('/checkout/place', {
      _csrf: '',
      did: String(a.id),
      method: 'invoice',
      submit_key: 'abcdefgh12',
    });
    expect(missing.status).toBe(403);
    expect(await orders()).toHaveLength(0);
  });

  it('refuses "on account" for a prepaid account, next to the choice', async () => {
    const { prepaid, a } = await world();
    const served = await shop.open();
    const user = await signedIn(served, billing.db, prepaid);
    const page = await user.get(`/checkout?did=${a.id}`);
    const refused = await user.post('/checkout/place', {
      did: String(a.id),
      method: 'invoice',
      submit_key: hidden(page.html, 'submit_key'),
    });
    expect(refused.status).toBe(400);
    expect(refused.html).toMatch(/id="f-method-error"[^>]*>Only postpaid accounts can order on account\./);
    // The page around the form is back: the quote and the button.
    expect(textOf(refused.html)).toContain('Total to pay now $8.00');
    expect(await orders()).toHaveLength(0);
  });
});

describe('the order page', () => {
  it('is not found for another account, also as JSON', async () => {
    const { postpaid, prepaid, a } = await world();
    const served = await shop.open();
    const owner = await signedIn(served, billing.db, postpaid);
    const page = await owner.get(`/checkout?did=${a.id}`);
    await owner.post('/checkout/place', {
      did: String(a.id),
      method: 'invoice',
      submit_key: hidden(page.html, 'submit_key'),
    });
    const [order] = await orders();

    const stranger = await signedIn(served, billing.db, prepaid);
    expect((await stranger.get(`/orders/${order!.id}`)).status).toBe(404);
    const json = await stranger.get(`/orders/${order!.id}/status.json`);
    expect(json.status).toBe(404);
    expect(JSON.parse(json.html)).toMatchObject({ error: 'not_found' });
    expect((await stranger.get(`/orders/${order!.id}/cancel`)).status).toBe(404);
    expect((await stranger.get('/orders/abc')).status).toBe(404);
  });

  it('Stripe’s cancel link brings the buyer back to the order; only its form ends the hold', async () => {
    const { prepaid, a } = await world();
    const served = await shop.open();
    const user = await signedIn(served, billing.db, prepaid);
    const page = await user.get(`/checkout?did=${a.id}`);
    await user.post('/checkout/place', {
      did: String(a.id),
      method: 'card',
      submit_key: hidden(page.html, 'submit_key'),
    });
    const [order] = await orders();
    const didStatus = async () =>
      (await billing.db.selectFrom('dids').select('status').where('id', '=', a.id).executeTakeFirstOrThrow())
        .status;

    // A GET (Stripe's link, or one planted on another site) changes nothing.
    const back = await user.get(`/orders/${order!.id}/cancel`);
    expect(back.status).toBe(303);
    const shown = await user.get(back.location!);
    expect(textOf(shown.html)).toContain('You left the payment page without paying');
    expect(shown.html).toContain('Continue to payment');
    expect(shown.html).toContain('Cancel this order');
    expect(await didStatus()).toBe('reserved');

    const canceled = await user.submit(back.location!, `/orders/${order!.id}/cancel`, {});
    expect(canceled.status).toBe(303);
    const after = await user.get(canceled.location!);
    expect(textOf(after.html)).toContain('You canceled the payment');
    expect(textOf(after.html)).toContain('Canceled');
    expect(await didStatus()).toBe('available');
  });
});
