// "My numbers" through HTTP: the list with state, renewal and price; a number's page with call transfer
// (saved through the same core use cases as the chat bots, audited as web), cancel at period end and undo,
// charges, call costs, and "Pay now" for an overdue renewal. Bad input: invalid destinations next to their
// field with nothing saved, another customer's number (404, nothing changed), a forged CSRF token (403).
import { describe, expect, it } from 'vitest';
import { buildAccount, buildDid, buildOperator } from '../../helpers/factories.ts';
import { buy } from '../billing/billing-fixture.ts';
import { textOf } from './harness.ts';
import { hidden, signedIn, useShop } from './shop.ts';

const shop = useShop();
const { billing } = shop;

async function world() {
  const operator = await buildOperator(billing.db);
  const customer = await buildAccount(billing.db, operator, {
    slug: 'acme',
    name: 'Acme',
    billing_mode: 'postpaid',
    credit_limit: 100_000,
  });
  const other = await buildAccount(billing.db, operator, {
    slug: 'initech',
    billing_mode: 'postpaid',
    credit_limit: 100_000,
  });
  const did = await buildDid(billing.db, {
    number: '+12125550100',
    setup_fee: 500,
    recurring_fee: 150,
    per_minute_rate_micros: 10_000,
    initial_increment: 60,
    increment: 6,
  });
  const theirs = await buildDid(billing.db, { number: '+12125550199' });
  await buy(billing, customer, [did.id], 'invoice');
  await buy(billing, other, [theirs.id], 'invoice');
  return { operator, customer, other, did, theirs };
}

const transferRow = (didId: number) =>
  billing.db.selectFrom('call_transfers').selectAll().where('did_id', '=', didId).executeTakeFirst();

describe('my numbers', () => {
  it('lists the numbers with their state, renewal date and price', async () => {
    const { customer, did } = await world();
    const served = await shop.open();
    const browser = await signedIn(served, billing.db, customer);
    const page = await browser.get('/my/numbers');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<title>My numbers · didops</title>');
    expect(page.html).toContain(`<a href="/my/numbers/${did.id}">+1 212 555 0100</a>`);
    const text = textOf(page.html);
    expect(text).toContain('Active');
    // Bought on 31 January: renews on the last day of February.
    expect(text).toContain('2026-02-28');
    expect(text).toContain('$1.50 per month');
    expect(text).not.toContain('+1 212 555 0199');
  });

  it('shows a number with its billing, charges and what calls cost', async () => {
    const { customer, did } = await world();
    const served = await shop.open();
    const browser = await signedIn(served, billing.db, customer);
    const page = await browser.get(`/my/numbers/${did.id}`);
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toContain('Renews on 2026-02-28');
    expect(text).toContain('Invoice (on account)');
    expect(text).toContain('Setup of +12125550100');
    expect(text).toContain('$5.00');
    expect(text).toContain('What a call costs');
    expect(text).toContain('$0.01/min');
    expect(page.html).toContain('action="/my/numbers/' + did.id + '/transfer"');
  });

  it('saves call transfer like the bots do, audited as a web change', async () => {
    const { customer, did } = await world();
    const served = await shop.open();
    const browser = await signedIn(served, billing.db, customer);
    const page = await browser.get(`/my/numbers/${did.id}`);
    const saved = await browser.post(`/my/numbers/${did.id}/transfer`, {
      version: hidden(page.html, 'version'),
      enabled: 'on',
      busy: '+44 20 7946 0000',
      no_answer: 'sip:desk@pbx.example.com',
      unreachable: '',
      always: '',
      ring_timeout: '25',
    });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe(`/my/numbers/${did.id}?saved=transfer#transfer`);
    expect(await transferRow(did.id)).toMatchObject({
      enabled: true,
      busy_destination: '+442079460000',
      no_answer_destination: 'sip:desk@pbx.example.com',
      unreachable_destination: null,
      always_destination: null,
      ring_timeout_seconds: 25,
    });
    const audit = await billing.db
      .selectFrom('audit_events')
      .select(['action', 'channel'])
      .where('did_id', '=', did.id)
      .where('action', 'like', 'transfer.%')
      .orderBy('id')
      .execute();
    expect(audit).toEqual([
      { action: 'transfer.destination', channel: 'web' },
      { action: 'transfer.destination', channel: 'web' },
      { action: 'transfer.ring_timeout', channel: 'web' },
      { action: 'transfer.enable', channel: 'web' },
    ]);

    const after = await browser.get(saved.location!);
    expect(textOf(after.html)).toContain('Call transfer saved.');
    expect(textOf(after.html)).toContain('Calls are transferred now.');
    expect(after.html).toContain('value="+442079460000"');
    expect(after.html).toMatch(/id="f-enabled" name="enabled" value="on" checked/);

    // The same form again changes nothing, and says so.
    const again = await browser.post(`/my/numbers/${did.id}/transfer`, {
      version: hidden(after.html, 'version'),
      enabled: 'on',
      busy: '+442079460000',
      no_answer: 'sip:desk@pbx.example.com',
      ring_timeout: '25',
    });
    expect(again.location).toBe(`/my/numbers/${did.id}?saved=transfer-unchanged#transfer`);

    // Turning it off and clearing everything in one go.
    const off = await browser.post(`/my/numbers/${did.id}/transfer`, { ring_timeout: '25' });
    expect(off.status).toBe(303);
    expect(await transferRow(did.id)).toMatchObject({
      enabled: false,
      busy_destination: null,
      no_answer_destination: null,
    });
  });

  it('shows a bad destination next to its field, keeps what was typed and saves nothing', async () => {
    const { customer, did } = await world();
    const served = await shop.open();
    const browser = await signedIn(served, billing.db, customer);
    await browser.get(`/my/numbers/${did.id}`);
    const refused = await browser.post(`/my/numbers/${did.id}/transfer`, {
      enabled: 'on',
      busy: '+44 20 7946 0000',
      no_answer: 'call-me-maybe',
      ring_timeout: '20',
    });
    expect(refused.status).toBe(400);
    expect(refused.html).toMatch(/<p class="field__error" id="f-no_answer-error">[^<]+/);
    expect(refused.html).toContain('value="call-me-maybe"');
    expect(refused.html).toContain('<p class="field__error" id="f-busy-error"></p>');
    // The page around the form is back, with its charges and call costs.
    expect(textOf(refused.html)).toContain('What a call costs');
    // One invalid field and nothing is saved, not even the valid one.
    expect(await transferRow(did.id)).toBeUndefined();

    const self = await browser.post(`/my/numbers/${did.id}/transfer`, {
      enabled: 'on',
      always: '+1 212 555 0100',
      ring_timeout: '20',
    });
    expect(self.status).toBe(400);
    expect(self.html).toMatch(/id="f-always-error">\+1 212 555 0100 cannot forward to itself\./);

    const timeout = await browser.post(`/my/numbers/${did.id}/transfer`, {
      busy: '+442079460000',
      ring_timeout: '3',
    });
    expect(timeout.status).toBe(400);
    expect(timeout.html).toMatch(/id="f-ring_timeout-error">A ring timeout of 3 seconds is out of range\./);
    const words = await browser.post(`/my/numbers/${did.id}/transfer`, { ring_timeout: 'soon' });
    expect(words.html).toMatch(/id="f-ring_timeout-error">&quot;soon&quot; is not a number of seconds\./);

    const nowhere = await browser.post(`/my/numbers/${did.id}/transfer`, {
      enabled: 'on',
      ring_timeout: '20',
    });
    expect(nowhere.status).toBe(400);
    expect(nowhere.html).toMatch(/id="f-enabled-error">\+1 212 555 0100 has no transfer destination/);
    expect(await transferRow(did.id)).toBeUndefined();
  });

  it("another customer's number: 404 for its page and its forms, and nothing changes", async () => {
    const { customer, theirs } = await world();
    const served = await shop.open();
    const browser = await signedIn(served, billing.db, customer);
    await browser.get('/my/numbers');
    expect((await browser.get(`/my/numbers/${theirs.id}`)).status).toBe(404);
    const posted = await browser.post(`/my/numbers/${theirs.id}/transfer`, {
      enabled: 'on',
      busy: '+442079460000',
      ring_timeout: '20',
    });
    expect(posted.status).toBe(404);
    expect(textOf(posted.html)).not.toContain('+1 212 555 0199');
    expect((await browser.post(`/my/numbers/${theirs.id}/cancel`, { cancel: 'yes' })).status).toBe(404);
    expect((await browser.post(`/my/numbers/${theirs.id}/pay`)).status).toBe(404);
    expect((await browser.get('/my/numbers/99999')).status).toBe(404);
    expect((await browser.get('/my/numbers/nope')).status).toBe(404);
    expect(await transferRow(theirs.id)).toBeUndefined();
    const sub = await billing.db
      .selectFrom('subscriptions')
      .selectAll()
      .where('did_id', '=', theirs.id)
      .executeTakeFirstOrThrow();
    expect(sub.cancel_at_period_end).toBe(false);
  });

  it('refuses a forged CSRF token with 403', async () => {
    const { customer, did } = await world();
    const served = await shop.open();
    const browser = await signedIn(served, billing.db, customer);
    const forged = await browser.post(`/my/numbers/${did.id}/transfer`, {
      _csrf: 'not-the-token',
      enabled: 'on',
      busy: '+442079460000',
      ring_timeout: '20',
    });
    expect(forged.status).toBe(403);
    expect(await transferRow(did.id)).toBeUndefined();
  });

  it('cancels at the end of the period, and undoes it', async () => {
    const { customer, did } = await world();
    const served = await shop.open();
    const browser = await signedIn(served, billing.db, customer);
    await browser.get(`/my/numbers/${did.id}`);
    const canceled = await browser.post(`/my/numbers/${did.id}/cancel`, { cancel: 'yes' });
    expect(canceled.location).toBe(`/my/numbers/${did.id}?saved=cancel`);
    const sub = () =>
      billing.db
        .selectFrom('subscriptions')
        .selectAll()
        .where('did_id', '=', did.id)
        .executeTakeFirstOrThrow();
    expect((await sub()).cancel_at_period_end).toBe(true);
    const page = await browser.get(canceled.location!);
    expect(textOf(page.html)).toContain('Canceling');
    expect(textOf(page.html)).toContain('Ends on 2026-02-28');
    expect(textOf((await browser.get('/my/numbers')).html)).toContain('Ends 2026-02-28');

    const kept = await browser.post(`/my/numbers/${did.id}/cancel`, { cancel: 'no' });
    expect(kept.location).toBe(`/my/numbers/${did.id}?saved=resume`);
    expect((await sub()).cancel_at_period_end).toBe(false);
  });

  it('offers "Pay now" for an overdue renewal and sends the buyer to Stripe', async () => {
    const { customer, did } = await world();
    await billing.db
      .updateTable('subscriptions')
      .set({ status: 'past_due', last_failure: 'card insufficient funds', dunning_attempts: 1 })
      .where('did_id', '=', did.id)
      .execute();
    const served = await shop.open();
    const browser = await signedIn(served, billing.db, customer);
    const list = await browser.get('/my/numbers');
    expect(textOf(list.html)).toContain('Past due');
    const page = await browser.get(`/my/numbers/${did.id}/pay`);
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toContain('The renewal of this number is overdue.');
    expect(textOf(page.html)).toContain('card insufficient funds');
    expect(page.html).toContain(`action="/my/numbers/${did.id}/pay"`);
    const paying = await browser.post(`/my/numbers/${did.id}/pay`);
    expect(paying.status).toBe(200);
    const session = [...billing.stripe.sessions.values()][0]!;
    expect(paying.html).toContain(`<meta http-equiv="refresh" content="0;url=${session.url}">`);
    // Pressed twice: the same payment page.
    await browser.post(`/my/numbers/${did.id}/pay`);
    expect(billing.stripe.sessions.size).toBe(1);
    expect(session.amount_total).toBe(150);
    expect(session.metadata).toMatchObject({ purpose: 'renewal' });
  });

  it('says nothing is overdue when nothing is, and refuses to charge', async () => {
    const { customer, did } = await world();
    const served = await shop.open();
    const browser = await signedIn(served, billing.db, customer);
    const page = await browser.get(`/my/numbers/${did.id}/pay`);
    expect(textOf(page.html)).toContain('Nothing is overdue on this number');
    expect((await browser.post(`/my/numbers/${did.id}/pay`)).status).toBe(409);
    expect(billing.stripe.sessions.size).toBe(0);
  });

  it('lets a suspended account look but not change anything', async () => {
    const { customer, did } = await world();
    const served = await shop.open();
    const browser = await signedIn(served, billing.db, customer);
    await billing.db
      .updateTable('accounts')
      .set({ status: 'suspended' })
      .where('id', '=', customer.id)
      .execute();
    expect((await browser.get('/my/numbers')).status).toBe(200);
    const page = await browser.get(`/my/numbers/${did.id}`);
    expect(page.status).toBe(200);
    const refused = await browser.post(`/my/numbers/${did.id}/transfer`, {
      enabled: 'on',
      busy: '+442079460000',
      ring_timeout: '20',
    });
    expect(refused.status).toBe(403);
    expect(textOf(refused.html)).toContain('Your account is suspended.');
    expect(await transferRow(did.id)).toBeUndefined();
  });

  it('says so when there are no numbers yet', async () => {
    const operator = await buildOperator(billing.db);
    const fresh = await buildAccount(billing.db, operator);
    const served = await shop.open();
    const browser = await signedIn(served, billing.db, fresh);
    const page = await browser.get('/my/numbers');
    expect(textOf(page.html)).toContain('You have no numbers yet.');
  });
});
