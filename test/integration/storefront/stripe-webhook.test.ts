// Stripe's webhook through HTTP on the real app: a genuinely signed checkout.session.completed posted to
// /stripe/webhook is recorded, queued and processed by the real worker (pg-boss on the test database), and
// the buyer's order page turns active. The same event ten times fulfils the order once; forged and stale
// signatures are refused with 400 and record nothing.
import { beforeAll, describe, expect, it } from 'vitest';
import { startJobWorker } from '../../../core/jobs/registry.ts';
import { buildAccount, buildDid, buildOperator } from '../../helpers/factories.ts';
import { signedEvent } from '../../helpers/fake-stripe.ts';
import { textOf, type Served } from './harness.ts';
import { hidden, signedIn, useShop } from './shop.ts';

const shop = useShop();
const { billing } = shop;

beforeAll(async () => {
  await startJobWorker(billing.queue, billing.jobDeps());
});

async function until<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A prepaid buyer who placed a card order on the site and is now on Stripe's page. */
async function cardOrder(served: Served) {
  const operator = await buildOperator(billing.db);
  const buyer = await buildAccount(billing.db, operator, { slug: 'cardco' });
  const did = await buildDid(billing.db, { number: '+12125550100', setup_fee: 500, recurring_fee: 300 });
  const browser = await signedIn(served, billing.db, buyer);
  const page = await browser.get(`/checkout?did=${did.id}`);
  const placed = await browser.post('/checkout/place', {
    did: String(did.id),
    method: 'card',
    submit_key: hidden(page.html, 'submit_key'),
  });
  const order = await billing.db.selectFrom('orders').selectAll().executeTakeFirstOrThrow();
  expect(placed.location).toBe(`/orders/${order.id}/pay`);
  return { buyer, did, browser, order };
}

function postWebhook(served: Served, payload: string, signature: string) {
  return fetch(`${served.base}/stripe/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body: payload,
  });
}

const idle = async () => {
  const [counts] = await billing.queue.counts(['process-stripe-event']);
  return counts!.waiting + counts!.active + counts!.delayed === 0;
};

describe('the Stripe webhook, end to end through the queue', () => {
  it('a signed checkout.session.completed turns the order page active', async () => {
    const served = await shop.open();
    const { browser, order, did, buyer } = await cardOrder(served);
    const processing = await browser.get(`/orders/${order.id}?from=checkout`);
    expect(textOf(processing.html)).toContain('Processing');

    const { payload, signature } = signedEvent(billing.stripe.payCheckout(order.checkout_session_id!));
    const response = await postWebhook(served, payload, signature);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true });

    const status = await until(
      'the order to turn active',
      async () =>
        JSON.parse((await browser.get(`/orders/${order.id}/status.json`)).html) as { state: string },
      (s) => s.state === 'active',
    );
    expect(status).toEqual({ state: 'active', final: true, payReady: false });
    const page = await browser.get(`/orders/${order.id}?from=checkout`);
    expect(textOf(page.html)).toContain('Active Paid. The numbers are yours');
    expect(page.html).not.toContain('data-poll');
    const number = await billing.db
      .selectFrom('dids')
      .selectAll()
      .where('id', '=', did.id)
      .executeTakeFirstOrThrow();
    expect(number).toMatchObject({ status: 'assigned', assigned_account_id: buyer.id });
    // The number is on the buyer's list at once.
    expect(textOf((await browser.get('/my/numbers')).html)).toContain('+1 212 555 0100');
  });

  it('the same event delivered ten times fulfils the order once, with one set of charges', async () => {
    const served = await shop.open();
    const { browser, order, buyer } = await cardOrder(served);
    const { payload, signature } = signedEvent(billing.stripe.payCheckout(order.checkout_session_id!));
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => postWebhook(served, payload, signature)),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));

    await until(
      'the order to turn active',
      async () =>
        JSON.parse((await browser.get(`/orders/${order.id}/status.json`)).html) as { state: string },
      (s) => s.state === 'active',
    );
    await until('the queue to settle', idle, Boolean);

    const events = await billing.db.selectFrom('webhook_events').selectAll().execute();
    expect(events).toHaveLength(1);
    expect(events[0]!.processed_at).not.toBeNull();
    const charges = await billing.db
      .selectFrom('charges')
      .selectAll()
      .where('account_id', '=', buyer.id)
      .execute();
    expect(charges.map((c) => [c.kind, c.amount]).sort()).toEqual([
      ['recurring', 300],
      ['setup', 500],
    ]);
    expect(await billing.db.selectFrom('payments').selectAll().execute()).toHaveLength(1);
    expect(await billing.db.selectFrom('subscriptions').selectAll().execute()).toHaveLength(1);
    expect(billing.stripe.refunds).toEqual([]);
  });

  it('refuses forged and stale signatures with 400 and records nothing', async () => {
    const served = await shop.open();
    const { order } = await cardOrder(served);
    const event = billing.stripe.payCheckout(order.checkout_session_id!);

    const forged = signedEvent(event, 'whsec_not_the_real_secret');
    expect((await postWebhook(served, forged.payload, forged.signature)).status).toBe(400);
    const stale = signedEvent(event, undefined, Math.floor(Date.now() / 1000) - 3600);
    expect((await postWebhook(served, stale.payload, stale.signature)).status).toBe(400);
    // A genuine signature over other bytes than the ones sent.
    const genuine = signedEvent(event);
    const tampered = genuine.payload.replace('"amount_total":800', '"amount_total":1');
    expect(tampered).not.toBe(genuine.payload);
    expect((await postWebhook(served, tampered, genuine.signature)).status).toBe(400);
    expect((await postWebhook(served, genuine.payload, '')).status).toBe(400);

    expect(await billing.db.selectFrom('webhook_events').selectAll().execute()).toEqual([]);
    const after = await billing.db.selectFrom('orders').selectAll().executeTakeFirstOrThrow();
    expect(after.status).toBe('pending');
    expect(await billing.db.selectFrom('charges').selectAll().execute()).toEqual([]);
  });
});
