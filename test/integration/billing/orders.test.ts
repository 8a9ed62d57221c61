// Buying numbers: on account (postpaid), by card through Stripe Checkout (faked over HTTP), with holds,
// double submits, races, reseller chains, free numbers and payments that arrive after the hold expired.
import { describe, expect, it } from 'vitest';
import { completeCheckout, endOrder, placeOrder, quoteOrder } from '../../../core/billing/orders.ts';
import { resellerMargins } from '../../../core/billing/subscriptions.ts';
import { amountOwed } from '../../../core/billing/ledger.ts';
import type { CompletedCheckout } from '../../../core/payments/gateway.ts';
import { buildDid, buildHierarchy } from '../../helpers/factories.ts';
import { errorOf } from '../../helpers/errors.ts';
import { signedEvent } from '../../helpers/fake-stripe.ts';
import { useBilling } from './billing-fixture.ts';

const billing = useBilling();

async function setup() {
  const h = await buildHierarchy(billing.db);
  const postpaid = await billing.db
    .updateTable('accounts')
    .set({ billing_mode: 'postpaid', credit_limit: 10_000 })
    .where('id', '=', h.acme.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { ...h, acme: postpaid };
}

/** What the webhook would hand to billing after the buyer paid on Stripe's page. */
function paid(sessionId: string): CompletedCheckout {
  const { payload, signature } = signedEvent(billing.stripe.payCheckout(sessionId));
  const event = billing.payments.parseWebhook(Buffer.from(payload), signature);
  if (event.type !== 'checkout.completed') throw new Error(`unexpected ${event.type}`);
  return event.checkout;
}

const charges = (accountId: number) =>
  billing.db.selectFrom('charges').selectAll().where('account_id', '=', accountId).orderBy('id').execute();

describe('ordering on account (postpaid)', () => {
  it('hands the numbers over at once and puts setup and the first period on the monthly invoice', async () => {
    const { acme } = await setup();
    const did = await buildDid(billing.db, { setup_fee: 500, recurring_fee: 300 });
    const { order, checkoutUrl } = await placeOrder(billing.ctxFor(acme), {
      didIds: [did.id],
      method: 'invoice',
      submitKey: 'submit-key-0001',
    });
    expect(checkoutUrl).toBeNull();
    expect(order).toMatchObject({ status: 'paid', total: 800, currency: 'USD' });
    const number = await billing.db
      .selectFrom('dids')
      .selectAll()
      .where('id', '=', did.id)
      .executeTakeFirstOrThrow();
    expect(number).toMatchObject({
      status: 'assigned',
      assigned_account_id: acme.id,
      owner_account_id: null,
    });
    const sub = await billing.db
      .selectFrom('subscriptions')
      .selectAll()
      .where('did_id', '=', did.id)
      .executeTakeFirstOrThrow();
    // Bought on 31 January: calendar monthly renews on the last day of February, not after 30 days.
    expect(sub.current_period_end.toISOString()).toBe('2026-02-28T09:00:00.000Z');
    expect(sub.anchor_day).toBe(31);
    const lines = await charges(acme.id);
    expect(lines.map((c) => [c.kind, c.amount])).toEqual([
      ['setup', 500],
      ['recurring', 300],
    ]);
    expect(lines.every((c) => c.invoice_id !== null)).toBe(true);
    expect(await amountOwed(billing.db, acme.id)).toBe(800);
    expect(billing.stripe.requests).toEqual([]);
  });

  it('refuses an order over the credit limit and changes nothing', async () => {
    const { acme } = await setup();
    const did = await buildDid(billing.db, { setup_fee: 9_000, recurring_fee: 2_000 });
    const error = await errorOf(
      placeOrder(billing.ctxFor(acme), { didIds: [did.id], method: 'invoice', submitKey: 'submit-key-0002' }),
    );
    expect(error).toMatchObject({ code: 'payment_failed' });
    expect(error.message).toContain('credit limit');
    const number = await billing.db
      .selectFrom('dids')
      .select('status')
      .where('id', '=', did.id)
      .executeTakeFirstOrThrow();
    expect(number.status).toBe('available');
    expect(await billing.db.selectFrom('orders').selectAll().execute()).toEqual([]);
    expect(await charges(acme.id)).toEqual([]);
  });

  it('tells a prepaid account to pay by card', async () => {
    const { bakery } = await setup();
    const did = await buildDid(billing.db);
    const error = await errorOf(
      placeOrder(billing.ctxFor(bakery), {
        didIds: [did.id],
        method: 'invoice',
        submitKey: 'submit-key-0003',
      }),
    );
    expect(error).toMatchObject({ code: 'invalid', field: 'method' });
  });

  it('gives a free number to an account with no credit at all', async () => {
    const { operator } = await setup();
    const { buildAccount } = await import('../../helpers/factories.ts');
    const broke = await buildAccount(billing.db, operator, { billing_mode: 'postpaid', credit_limit: 0 });
    const free = await buildDid(billing.db, { setup_fee: 0, recurring_fee: 0 });
    const { order } = await placeOrder(billing.ctxFor(broke), {
      didIds: [free.id],
      method: 'invoice',
      submitKey: 'submit-key-free1',
    });
    expect(order.status).toBe('paid');
    expect(await charges(broke.id)).toEqual([]);
  });

  it('refuses staff, bad ids, too many numbers and numbers no longer available', async () => {
    const { acme, staff } = await setup();
    const taken = await buildDid(billing.db, { status: 'disabled' });
    const staffCtx = { ...billing.ctxFor(acme), actor: staff.actor };
    expect(
      await errorOf(
        placeOrder(staffCtx, { didIds: [taken.id], method: 'invoice', submitKey: 'submit-key-0004' }),
      ),
    ).toMatchObject({ code: 'invalid' });
    expect(await errorOf(quoteOrder(billing.ctxFor(acme), ['abc']))).toMatchObject({ code: 'invalid' });
    expect(
      await errorOf(
        quoteOrder(
          billing.ctxFor(acme),
          Array.from({ length: 51 }, (_, i) => i + 1),
        ),
      ),
    ).toMatchObject({ code: 'invalid' });
    const error = await errorOf(quoteOrder(billing.ctxFor(acme), [taken.id]));
    expect(error).toMatchObject({ code: 'conflict' });
    expect(error.message).toContain('no longer available');
  });
});

describe('paying by card (Stripe Checkout)', () => {
  it('holds the numbers, then hands them over when the payment is confirmed, once', async () => {
    const { bakery } = await setup();
    const did = await buildDid(billing.db, { setup_fee: 200, recurring_fee: 100 });
    const ctx = billing.ctxFor(bakery);
    const { order, checkoutUrl } = await placeOrder(ctx, {
      didIds: [did.id],
      method: 'card',
      submitKey: 'submit-key-card1',
    });
    expect(checkoutUrl).toMatch(/^https:\/\/checkout\.stripe\.test\/pay\/cs_test_/);
    expect(order.status).toBe('pending');
    const held = await billing.db
      .selectFrom('dids')
      .select('status')
      .where('id', '=', did.id)
      .executeTakeFirstOrThrow();
    expect(held.status).toBe('reserved');
    const [session] = [...billing.stripe.sessions.values()];
    expect(session!.amount_total).toBe(300);
    expect(session!.metadata).toMatchObject({ order_id: String(order.id) });

    const checkout = paid(session!.id);
    expect(await completeCheckout(ctx, checkout)).toBe('fulfilled');
    expect(await completeCheckout(ctx, checkout)).toBe('already_done');

    const number = await billing.db
      .selectFrom('dids')
      .selectAll()
      .where('id', '=', did.id)
      .executeTakeFirstOrThrow();
    expect(number).toMatchObject({ status: 'assigned', assigned_account_id: bakery.id });
    const lines = await charges(bakery.id);
    expect(lines.map((c) => c.amount)).toEqual([200, 100]);
    expect(lines.every((c) => c.invoice_id === null)).toBe(true);
    const payments = await billing.db.selectFrom('payments').selectAll().execute();
    expect(payments).toHaveLength(1);
    expect(payments[0]).toMatchObject({ amount: 300, status: 'succeeded', method: 'card' });
    // Card-paid: nothing owed afterwards.
    expect(await amountOwed(billing.db, bakery.id)).toBe(0);
    const sub = await billing.db
      .selectFrom('subscriptions')
      .selectAll()
      .where('did_id', '=', did.id)
      .executeTakeFirstOrThrow();
    expect(sub).toMatchObject({ payment_method: 'card', stripe_payment_method_id: 'pm_card_visa_saved' });
  });

  it('a double-clicked pay button places one order and opens one payment page', async () => {
    const { bakery } = await setup();
    const did = await buildDid(billing.db);
    const ctx = billing.ctxFor(bakery);
    const input = { didIds: [did.id], method: 'card' as const, submitKey: 'double-click-0001' };
    const [a, b] = await Promise.all([placeOrder(ctx, input), placeOrder(ctx, input)]);
    expect(a.order.id).toBe(b.order.id);
    const again = await placeOrder(ctx, input);
    expect(again.checkoutUrl).toBe(a.checkoutUrl ?? b.checkoutUrl);
    expect(await billing.db.selectFrom('orders').selectAll().execute()).toHaveLength(1);
    expect(await billing.db.selectFrom('reservations').selectAll().execute()).toHaveLength(1);
    expect(billing.stripe.sessions.size).toBe(1);
  });

  it('two buyers racing for one number: one gets it, the other is told and pays nothing', async () => {
    const { bakery, initech } = await setup();
    const did = await buildDid(billing.db);
    const results = await Promise.allSettled([
      placeOrder(billing.ctxFor(bakery), { didIds: [did.id], method: 'card', submitKey: 'race-buyer-0001' }),
      placeOrder(billing.ctxFor(initech), { didIds: [did.id], method: 'card', submitKey: 'race-buyer-0002' }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toMatchObject({ code: 'conflict' });
    expect(String((lost[0]!.reason as Error).message)).toContain('just taken by another buyer');
    expect(billing.stripe.sessions.size).toBe(1);
  });

  it('an expired hold puts the number back; a late payment still gets it when nobody else did', async () => {
    const { bakery } = await setup();
    const did = await buildDid(billing.db);
    const ctx = billing.ctxFor(bakery);
    const { order } = await placeOrder(ctx, {
      didIds: [did.id],
      method: 'card',
      submitKey: 'late-payer-0001',
    });
    expect(await endOrder(ctx, order.id, 'expired')).toBe(false); // not yet: the hold runs 15 minutes
    billing.clock.advance(16 * 60_000);
    expect(await endOrder(ctx, order.id, 'expired')).toBe(true);
    const back = await billing.db
      .selectFrom('dids')
      .select('status')
      .where('id', '=', did.id)
      .executeTakeFirstOrThrow();
    expect(back.status).toBe('available');
    // The payment page was closed too.
    expect([...billing.stripe.sessions.values()][0]!.status).toBe('expired');

    const session = [...billing.stripe.sessions.values()][0]!;
    expect(await completeCheckout(ctx, paid(session.id))).toBe('fulfilled');
    const number = await billing.db
      .selectFrom('dids')
      .selectAll()
      .where('id', '=', did.id)
      .executeTakeFirstOrThrow();
    expect(number).toMatchObject({ status: 'assigned', assigned_account_id: bakery.id });
    expect(billing.stripe.refunds).toEqual([]);
  });

  it('a payment for an expired hold on a number someone else bought is refunded, not double-assigned', async () => {
    const { bakery, acme } = await setup();
    const did = await buildDid(billing.db, { setup_fee: 250, recurring_fee: 150 });
    const ctx = billing.ctxFor(bakery);
    const { order } = await placeOrder(ctx, { didIds: [did.id], method: 'card', submitKey: 'too-late-0001' });
    billing.clock.advance(16 * 60_000);
    await endOrder(ctx, order.id, 'expired');
    await placeOrder(billing.ctxFor(acme), {
      didIds: [did.id],
      method: 'invoice',
      submitKey: 'second-buyer-01',
    });

    const session = [...billing.stripe.sessions.values()][0]!;
    const checkout = paid(session.id);
    expect(await completeCheckout(ctx, checkout)).toBe('fulfilled');
    expect(await completeCheckout(ctx, checkout)).toBe('already_done');
    const number = await billing.db
      .selectFrom('dids')
      .selectAll()
      .where('id', '=', did.id)
      .executeTakeFirstOrThrow();
    expect(number.assigned_account_id).toBe(acme.id);
    expect(billing.stripe.refunds).toEqual([{ paymentIntent: checkout.paymentId, amount: 400 }]);
    expect(await charges(bakery.id)).toEqual([]);
    const payment = await billing.db
      .selectFrom('payments')
      .selectAll()
      .where('account_id', '=', bakery.id)
      .executeTakeFirstOrThrow();
    expect(payment).toMatchObject({ status: 'refunded', refunded_amount: 400 });
    expect(await amountOwed(billing.db, bakery.id)).toBe(0);
  });

  it('says so when card payments are not set up, and a free number needs no card', async () => {
    const { bakery } = await setup();
    const did = await buildDid(billing.db);
    const noCards = billing.ctxFor(bakery, { payments: null });
    const error = await errorOf(
      placeOrder(noCards, { didIds: [did.id], method: 'card', submitKey: 'no-cards-00001' }),
    );
    expect(error).toMatchObject({ code: 'unavailable' });
    expect(error.message).toContain('not set up');
    const free = await buildDid(billing.db, { setup_fee: 0, recurring_fee: 0 });
    // Even with card payments off: a free number asks for no money at all.
    const { order } = await placeOrder(noCards, {
      didIds: [free.id],
      method: 'card',
      submitKey: 'free-card-0001',
    });
    expect(order.status).toBe('paid');
    expect(billing.stripe.sessions.size).toBe(0);
  });
});

describe('reseller chains', () => {
  it("charges the customer the reseller's price and each reseller its supplier's price", async () => {
    const { dental, reseller, subReseller, operator } = await setup();
    const did = await buildDid(billing.db, { setup_fee: 1_000, recurring_fee: 400 });
    // voipco marks up 25%; voipco-east sells at fixed prices.
    await billing.db
      .insertInto('reseller_prices')
      .values([
        { reseller_account_id: reseller.id, pricing_batch_id: null, markup_bp: 2_500 },
        { reseller_account_id: subReseller.id, pricing_batch_id: null, setup_fee: 2_000, recurring_fee: 900 },
      ])
      .execute();
    await billing.db
      .updateTable('accounts')
      .set({ billing_mode: 'postpaid', credit_limit: 100_000 })
      .where('id', '=', dental.id)
      .execute();
    const buyer = await billing.db
      .selectFrom('accounts')
      .selectAll()
      .where('id', '=', dental.id)
      .executeTakeFirstOrThrow();

    const quote = await quoteOrder(billing.ctxFor(buyer), [did.id]);
    expect(quote.total).toBe(2_900);
    await placeOrder(billing.ctxFor(buyer), {
      didIds: [did.id],
      method: 'invoice',
      submitKey: 'chain-order-01',
    });

    const byAccount = async (id: number) =>
      (await charges(id)).map((c) => [c.kind, c.amount, c.seller_account_id]);
    expect(await byAccount(dental.id)).toEqual([
      ['setup', 2_000, subReseller.id],
      ['recurring', 900, subReseller.id],
    ]);
    expect(await byAccount(subReseller.id)).toEqual([
      ['setup', 1_250, reseller.id],
      ['recurring', 500, reseller.id],
    ]);
    expect(await byAccount(reseller.id)).toEqual([
      ['setup', 1_000, operator.id],
      ['recurring', 400, operator.id],
    ]);
    const number = await billing.db
      .selectFrom('dids')
      .selectAll()
      .where('id', '=', did.id)
      .executeTakeFirstOrThrow();
    expect(number).toMatchObject({ owner_account_id: subReseller.id, assigned_account_id: dental.id });

    const [month] = await resellerMargins(billing.ctxFor(subReseller));
    expect(month).toMatchObject({ month: '2026-01', revenue: 2_900, cost: 1_750, margin: 1_150 });
    const [upper] = await resellerMargins(billing.ctxFor(reseller));
    expect(upper).toMatchObject({ revenue: 1_750, cost: 1_400, margin: 350 });
  });

  it("a reseller's customer is never charged 0 or given a 1970 due date by a reseller without prices", async () => {
    const { bakery } = await setup();
    await billing.db
      .updateTable('accounts')
      .set({ billing_mode: 'postpaid', credit_limit: 100_000 })
      .where('id', '=', bakery.id)
      .execute();
    const buyer = await billing.db
      .selectFrom('accounts')
      .selectAll()
      .where('id', '=', bakery.id)
      .executeTakeFirstOrThrow();
    const did = await buildDid(billing.db, { setup_fee: 300, recurring_fee: 200 });
    await placeOrder(billing.ctxFor(buyer), {
      didIds: [did.id],
      method: 'invoice',
      submitKey: 'no-rules-0001',
    });
    const sub = await billing.db
      .selectFrom('subscriptions')
      .selectAll()
      .where('did_id', '=', did.id)
      .executeTakeFirstOrThrow();
    expect(sub.recurring_fee).toBe(200);
    expect(sub.setup_fee).toBe(300);
    expect(sub.current_period_end.getTime()).toBeGreaterThan(billing.clock.now().getTime());
    expect(sub.current_period_end.getUTCFullYear()).toBe(2026);
  });
});
