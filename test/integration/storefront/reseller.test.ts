// The reseller portal through HTTP: customers (list, create, suspend, re-activate, invite), numbers
// (assign to a customer, release to the pool, call transfer), the price list (default markup, per-batch
// overrides, audited, admins only) and margins. Bad input: customers and strangers find nothing, another
// reseller's customer or number by URL is 404 with nothing changed, invalid prices next to their field.
import { describe, expect, it } from 'vitest';
import { listResellerPrices, setResellerPrice } from '../../../core/billing/reseller-prices.ts';
import { errorOf } from '../../helpers/errors.ts';
import {
  actorOf,
  buildAccount,
  buildDid,
  buildOperator,
  buildPricingBatch,
  ctxFor,
} from '../../helpers/factories.ts';
import { buy } from '../billing/billing-fixture.ts';
import { Browser, textOf } from './harness.ts';
import { hidden, signedIn, useShop } from './shop.ts';

const shop = useShop();
const { billing } = shop;

async function world() {
  const operator = await buildOperator(billing.db);
  const reseller = await buildAccount(billing.db, operator, {
    kind: 'reseller',
    slug: 'voipco',
    name: 'VoIP Co',
  });
  const bakery = await buildAccount(billing.db, reseller, {
    slug: 'bakery',
    name: 'The Bakery',
    billing_mode: 'postpaid',
    credit_limit: 100_000,
  });
  const east = await buildAccount(billing.db, reseller, {
    kind: 'reseller',
    slug: 'voipco-east',
    name: 'VoIP East',
  });
  const dental = await buildAccount(billing.db, east, { slug: 'dental', name: 'Dental' });
  const other = await buildAccount(billing.db, operator, {
    kind: 'reseller',
    slug: 'globaltel',
    name: 'GlobalTel',
  });
  const initech = await buildAccount(billing.db, other, { slug: 'initech', name: 'Initech' });
  const stock = await buildDid(billing.db, {
    number: '+12125550100',
    status: 'assigned',
    owner_account_id: reseller.id,
  });
  const bakerys = await buildDid(billing.db, {
    number: '+12125550101',
    status: 'assigned',
    owner_account_id: reseller.id,
    assigned_account_id: bakery.id,
  });
  const foreign = await buildDid(billing.db, {
    number: '+12125550199',
    status: 'assigned',
    owner_account_id: other.id,
  });
  return { operator, reseller, bakery, east, dental, other, initech, stock, bakerys, foreign };
}

const account = (id: number) =>
  billing.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const did = (id: number) =>
  billing.db.selectFrom('dids').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('who sees the portal', () => {
  it('is for resellers only: customers get 404, visitors the log-in page', async () => {
    const { bakery, reseller } = await world();
    const served = await shop.open();
    const customer = await signedIn(served, billing.db, bakery);
    for (const path of ['/reseller', '/reseller/customers', '/reseller/numbers', '/reseller/prices']) {
      expect((await customer.get(path)).status, path).toBe(404);
    }
    await customer.get('/account');
    expect(
      (await customer.post('/reseller/customers', { name: 'X', slug: 'x', billing_mode: 'prepaid' })).status,
    ).toBe(404);
    expect((await new Browser(served.base).get('/reseller')).location).toBe('/login?next=%2Freseller');

    const owner = await signedIn(served, billing.db, reseller);
    const home = await owner.get('/reseller');
    expect(home.status).toBe(200);
    expect(home.html).toContain('<title>Reseller portal · didops</title>');
    expect(home.html).toContain('<a href="/reseller" aria-current="page">Reseller portal</a>');
  });
});

describe('customers', () => {
  it('lists the accounts below the reseller with their numbers, and no one else', async () => {
    const { reseller } = await world();
    const served = await shop.open();
    const owner = await signedIn(served, billing.db, reseller);
    const page = await owner.get('/reseller/customers');
    const text = textOf(page.html);
    expect(text).toContain('The Bakery bakery customer prepaid'.replace('prepaid', 'postpaid'));
    expect(text).toContain('VoIP East');
    expect(text).toContain('Dental');
    expect(text).not.toContain('Initech');
    expect(text).not.toContain('GlobalTel');
  });

  it('creates a customer under the reseller, with errors next to their fields', async () => {
    const { reseller, bakery } = await world();
    const served = await shop.open();
    const owner = await signedIn(served, billing.db, reseller);
    await owner.get('/reseller/customers/new');
    const created = await owner.post('/reseller/customers', {
      name: 'Flower Shop',
      slug: 'flowers',
      email: 'shop@flowers.example',
      billing_mode: 'postpaid',
      credit_limit: '250.00',
    });
    expect(created.status).toBe(303);
    const row = await billing.db
      .selectFrom('accounts')
      .selectAll()
      .where('slug', '=', 'flowers')
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      kind: 'customer',
      parent_id: reseller.id,
      billing_mode: 'postpaid',
      credit_limit: 25_000,
    });
    expect(created.location).toBe(`/reseller/customers/${row.id}?notice=created`);
    const page = await owner.get(created.location!);
    expect(textOf(page.html)).toContain('The customer account is ready.');
    expect(textOf(page.html)).toContain('credit limit $250.00');

    const taken = await owner.post('/reseller/customers', {
      name: 'Again',
      slug: bakery.slug,
      billing_mode: 'prepaid',
    });
    expect(taken.status).toBe(409);
    expect(taken.html).toContain('id="f-slug-error">The slug &quot;bakery&quot; is already taken.');
    expect(taken.html).toContain('value="Again"');
    const bad = await owner.post('/reseller/customers', {
      name: 'Bad',
      slug: 'Not A Slug!',
      billing_mode: 'prepaid',
    });
    expect(bad.status).toBe(400);
    expect(bad.html).toMatch(/id="f-slug-error">&quot;Not A Slug!&quot; is not a valid account slug\./);
    const audit = await billing.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'account.create')
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ channel: 'web', subject: 'flowers' });
  });

  it('suspends and re-activates a customer; an operator-role user may not', async () => {
    const { reseller, bakery } = await world();
    const served = await shop.open();
    const owner = await signedIn(served, billing.db, reseller);
    await owner.get(`/reseller/customers/${bakery.id}`);
    const suspended = await owner.post(`/reseller/customers/${bakery.id}/status`, { status: 'suspended' });
    expect(suspended.location).toBe(`/reseller/customers/${bakery.id}?notice=suspended`);
    expect((await account(bakery.id)).status).toBe('suspended');
    const page = await owner.get(suspended.location!);
    expect(page.html).toContain('Re-activate');
    await owner.post(`/reseller/customers/${bakery.id}/status`, { status: 'active' });
    expect((await account(bakery.id)).status).toBe('active');

    const clerk = await signedIn(served, billing.db, reseller, { role: 'operator' });
    await clerk.get('/reseller/customers');
    const refused = await clerk.post(`/reseller/customers/${bakery.id}/status`, { status: 'suspended' });
    expect(refused.status).toBe(403);
    expect((await account(bakery.id)).status).toBe('active');
  });

  it("another reseller's customer by URL is 404, and nothing changes", async () => {
    const { reseller, initech } = await world();
    const served = await shop.open();
    const owner = await signedIn(served, billing.db, reseller);
    const page = await owner.get(`/reseller/customers/${initech.id}`);
    expect(page.status).toBe(404);
    expect(textOf(page.html)).not.toContain('Initech');
    expect(
      (await owner.post(`/reseller/customers/${initech.id}/status`, { status: 'suspended' })).status,
    ).toBe(404);
    expect((await account(initech.id)).status).toBe('active');
    // Its own account is not one of its customers either.
    expect((await owner.get(`/reseller/customers/${reseller.id}`)).status).toBe(404);
  });

  it('invites someone by email: the one-time link is shown and signs them up under the reseller', async () => {
    const { reseller } = await world();
    const served = await shop.open();
    const owner = await signedIn(served, billing.db, reseller);
    await owner.get('/reseller/invitations/new');
    const bad = await owner.post('/reseller/invitations', { email: 'not an address' });
    expect(bad.status).toBe(400);
    expect(bad.html).toMatch(/id="f-email-error">&quot;not an address&quot; is not an email address\./);

    const made = await owner.post('/reseller/invitations', { email: 'Owner@Pizza.example' });
    expect(made.status).toBe(200);
    const link = /<code data-invite-link>([^<]+)<\/code>/.exec(made.html)?.[1]?.replace(/&#x3D;/g, '=');
    expect(link).toMatch(/^https:\/\/shop\.example\.test\/signup\?invite=/);
    expect(textOf(made.html)).toContain('Send this link to owner@pizza.example.');

    const visitor = new Browser(served.base);
    const signup = new URL(link!);
    const form = await visitor.get(signup.pathname + signup.search);
    expect(textOf(form.html)).toContain('VoIP Co');
    const done = await visitor.post('/signup', {
      name: 'Pat Pizza',
      company: 'Pizza Place',
      email: 'owner@pizza.example',
      password: 'a long enough password',
      invite: signup.searchParams.get('invite')!,
    });
    expect(done.status).toBe(303);
    const created = await billing.db
      .selectFrom('accounts')
      .selectAll()
      .where('name', '=', 'Pizza Place')
      .executeTakeFirstOrThrow();
    expect(created.parent_id).toBe(reseller.id);
  });
});

describe('numbers', () => {
  it('lists what the reseller holds, with who uses each', async () => {
    const { reseller } = await world();
    const served = await shop.open();
    const owner = await signedIn(served, billing.db, reseller);
    const text = textOf((await owner.get('/reseller/numbers')).html);
    expect(text).toContain('+1 212 555 0100 New York In stock (yours)');
    expect(text).toContain('+1 212 555 0101 New York The Bakery');
    expect(text).not.toContain('+1 212 555 0199');
  });

  it('hands a number in stock to a customer, then releases it to the pool', async () => {
    const { reseller, bakery, stock } = await world();
    const served = await shop.open();
    const owner = await signedIn(served, billing.db, reseller);
    const page = await owner.get(`/reseller/numbers/${stock.id}`);
    expect(page.html).toContain(`<option value="${bakery.id}">The Bakery (bakery)</option>`);
    const none = await owner.post(`/reseller/numbers/${stock.id}/assign`, {
      customer: '',
      version: hidden(page.html, 'version'),
    });
    expect(none.status).toBe(400);
    expect(none.html).toContain('id="f-customer-error">Pick the customer to give the number to.');

    const assigned = await owner.post(`/reseller/numbers/${stock.id}/assign`, {
      customer: String(bakery.id),
      version: hidden(page.html, 'version'),
    });
    expect(assigned.location).toBe(`/reseller/numbers/${stock.id}?notice=assigned`);
    expect(await did(stock.id)).toMatchObject({
      status: 'assigned',
      owner_account_id: reseller.id,
      assigned_account_id: bakery.id,
    });

    const shown = await owner.get(assigned.location!);
    const released = await owner.post(`/reseller/numbers/${stock.id}/release`, {
      version: hidden(shown.html, 'version'),
    });
    expect(released.location).toBe('/reseller/numbers?notice=released');
    expect(await did(stock.id)).toMatchObject({
      status: 'aging',
      owner_account_id: null,
      assigned_account_id: null,
    });
    const audit = await billing.db
      .selectFrom('audit_events')
      .select(['action', 'channel'])
      .where('did_id', '=', stock.id)
      .orderBy('id')
      .execute();
    expect(audit).toEqual([
      { action: 'did.assign', channel: 'web' },
      { action: 'did.release', channel: 'web' },
    ]);
  });

  it("releasing a number a customer bought ends the customer's subscription", async () => {
    const { reseller, bakery } = await world();
    const sold = await buildDid(billing.db, { number: '+12125550160' });
    await buy(billing, bakery, [sold.id], 'invoice');
    expect(await did(sold.id)).toMatchObject({
      owner_account_id: reseller.id,
      assigned_account_id: bakery.id,
    });
    const served = await shop.open();
    const owner = await signedIn(served, billing.db, reseller);
    const page = await owner.get(`/reseller/numbers/${sold.id}`);
    expect(textOf(page.html)).toContain('The Bakery loses it, and stops paying for it.');
    await owner.post(`/reseller/numbers/${sold.id}/release`, { version: hidden(page.html, 'version') });
    const sub = await billing.db
      .selectFrom('subscriptions')
      .selectAll()
      .where('did_id', '=', sold.id)
      .executeTakeFirstOrThrow();
    expect(sub.status).toBe('canceled');
  });

  it('refuses a stale page: the number changed since it was shown', async () => {
    const { reseller, bakery, stock } = await world();
    const served = await shop.open();
    const owner = await signedIn(served, billing.db, reseller);
    const page = await owner.get(`/reseller/numbers/${stock.id}`);
    await billing.db
      .updateTable('dids')
      .set({ description: 'changed elsewhere' })
      .where('id', '=', stock.id)
      .execute();
    const stale = await owner.post(`/reseller/numbers/${stock.id}/assign`, {
      customer: String(bakery.id),
      version: hidden(page.html, 'version'),
    });
    expect(stale.status).toBe(409);
    expect(textOf(stale.html)).toContain('changed since it was shown');
    expect((await did(stock.id)).assigned_account_id).toBeNull();
  });

  it("another reseller's number is 404 for every action, and nothing changes", async () => {
    const { reseller, bakery, foreign } = await world();
    const served = await shop.open();
    const owner = await signedIn(served, billing.db, reseller);
    await owner.get('/reseller/numbers');
    expect((await owner.get(`/reseller/numbers/${foreign.id}`)).status).toBe(404);
    expect(
      (await owner.post(`/reseller/numbers/${foreign.id}/assign`, { customer: String(bakery.id) })).status,
    ).toBe(404);
    expect((await owner.post(`/reseller/numbers/${foreign.id}/release`)).status).toBe(404);
    const transfer = await owner.post(`/reseller/numbers/${foreign.id}/transfer`, {
      enabled: 'on',
      busy: '+442079460000',
      ring_timeout: '20',
    });
    expect(transfer.status).toBe(404);
    expect(await did(foreign.id)).toMatchObject({
      status: 'assigned',
      owner_account_id: foreign.owner_account_id,
      assigned_account_id: null,
    });
    expect(await billing.db.selectFrom('call_transfers').selectAll().execute()).toEqual([]);
  });

  it("sets call transfer on a customer's number from the portal", async () => {
    const { reseller, bakerys } = await world();
    const served = await shop.open();
    const owner = await signedIn(served, billing.db, reseller);
    const page = await owner.get(`/reseller/numbers/${bakerys.id}`);
    expect(textOf(page.html)).toContain('The Bakery');
    const saved = await owner.post(`/reseller/numbers/${bakerys.id}/transfer`, {
      version: hidden(page.html, 'version'),
      enabled: 'on',
      always: 'sip:front@bakery.example',
      ring_timeout: '30',
    });
    expect(saved.location).toBe(`/reseller/numbers/${bakerys.id}?notice=transfer#transfer`);
    const row = await billing.db
      .selectFrom('call_transfers')
      .selectAll()
      .where('did_id', '=', bakerys.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      enabled: true,
      always_destination: 'sip:front@bakery.example',
      ring_timeout_seconds: 30,
    });
    const bad = await owner.post(`/reseller/numbers/${bakerys.id}/transfer`, {
      busy: 'sip:nohost',
      ring_timeout: '30',
    });
    expect(bad.status).toBe(400);
    expect(bad.html).toMatch(/id="f-busy-error">[^<]+/);
  });
});

describe('prices and margins', () => {
  async function priced() {
    const w = await world();
    const batch = await buildPricingBatch(billing.db, {
      owner_account_id: w.operator.id,
      name: 'US local',
      setup_fee: 100,
      recurring_fee: 200,
    });
    const forSale = await buildDid(billing.db, {
      number: '+12125550150',
      pricing_batch_id: batch.id,
      setup_fee: 100,
      recurring_fee: 200,
    });
    return { ...w, batch, forSale };
  }

  it('sets a default markup and a per-batch fixed price; the customers see them in the catalog', async () => {
    const { reseller, bakery, batch } = await priced();
    const served = await shop.open();
    const owner = await signedIn(served, billing.db, reseller);
    const before = textOf((await owner.get('/reseller/prices')).html);
    expect(before).toContain('US local $1.00 setup, $2.00 per month Default $1.00 setup, $2.00 per month');

    expect((await owner.post('/reseller/prices', { batch: '', markup: '25' })).location).toBe(
      '/reseller/prices?notice=price',
    );
    const after = textOf((await owner.get('/reseller/prices')).html);
    expect(after).toContain('Default markup: 25 %');
    expect(after).toContain('$1.25 setup, $2.50 per month');
    const customer = await signedIn(served, billing.db, bakery);
    expect(textOf((await customer.get('/numbers')).html)).toContain('$2.50 / month');

    await owner.get('/reseller/prices');
    await owner.post('/reseller/prices', {
      batch: String(batch.id),
      markup: '10',
      setup_fee: '0',
      recurring_fee: '3.99',
    });
    const fixed = textOf((await owner.get('/reseller/prices')).html);
    expect(fixed).toContain('$0.00 setup, $3.99 per month');
    expect(textOf((await customer.get('/numbers')).html)).toContain('$3.99 / month');

    const audit = await billing.db
      .selectFrom('audit_events')
      .select(['action', 'channel', 'subject'])
      .where('action', 'like', 'reseller_price.%')
      .orderBy('id')
      .execute();
    expect(audit).toEqual([
      { action: 'reseller_price.set', channel: 'web', subject: 'voipco: default' },
      { action: 'reseller_price.set', channel: 'web', subject: 'voipco: US local' },
    ]);

    const rule = await billing.db
      .selectFrom('reseller_prices')
      .selectAll()
      .where('pricing_batch_id', '=', batch.id)
      .executeTakeFirstOrThrow();
    expect((await owner.post(`/reseller/prices/${rule.id}/delete`)).location).toBe(
      '/reseller/prices?notice=price-deleted',
    );
    expect(textOf((await customer.get('/numbers')).html)).toContain('$2.50 / month');
  });

  it('shows bad prices next to their field and saves nothing', async () => {
    const { reseller, batch, other } = await priced();
    const served = await shop.open();
    const owner = await signedIn(served, billing.db, reseller);
    await owner.get('/reseller/prices');
    const words = await owner.post('/reseller/prices', { batch: '', markup: 'lots' });
    expect(words.status).toBe(400);
    expect(words.html).toMatch(/id="f-markup-error">The markup must be an amount like 1\.50/);
    expect(textOf(words.html)).toContain('US local');
    const huge = await owner.post('/reseller/prices', { batch: '', markup: '20000' });
    expect(huge.html).toMatch(/id="f-markup-error">A markup of 20000 % is more than/);
    const fixedDefault = await owner.post('/reseller/prices', { batch: '', markup: '5', setup_fee: '1.00' });
    expect(fixedDefault.html).toMatch(/id="f-setup_fee-error">Fixed fees are set per pricing batch/);
    const cents = await owner.post('/reseller/prices', {
      batch: String(batch.id),
      markup: '',
      recurring_fee: '1.999',
    });
    expect(cents.html).toMatch(/id="f-recurring_fee-error">The recurring fee has more than 2 decimal places/);
    // A batch of another reseller's is no batch of this one's.
    const theirs = await buildPricingBatch(billing.db, {
      owner_account_id: other.id,
      name: 'GlobalTel special',
    });
    const foreign = await owner.post('/reseller/prices', { batch: String(theirs.id), markup: '5' });
    expect(foreign.status).toBe(404);
    expect(foreign.html).toContain('id="f-batch-error">There is no such pricing batch.');
    const missing = await owner.post('/reseller/prices', { batch: '999999', markup: '5' });
    expect(missing.status).toBe(404);
    expect(await billing.db.selectFrom('reseller_prices').selectAll().execute()).toEqual([]);
  });

  it("a sub-reseller's cost is its reseller's price (service)", async () => {
    const { reseller, east, dental, batch } = await priced();
    await setResellerPrice(ctxFor(billing.db, actorOf(reseller, 'admin', 'web')), {
      pricingBatchId: null,
      markup: '25',
    });
    const eastCtx = ctxFor(billing.db, actorOf(east, 'owner', 'web'));
    await setResellerPrice(eastCtx, { pricingBatchId: batch.id, markup: '10' });
    const list = await listResellerPrices(eastCtx);
    expect(list.batches).toEqual([
      expect.objectContaining({
        name: 'US local',
        cost: { setupFee: 125, recurringFee: 250 },
        price: { setupFee: 138, recurringFee: 275 },
      }),
    ]);
    // Customers never have a price list, and a viewer of the reseller cannot change one.
    const customerError = await errorOf(
      listResellerPrices(ctxFor(billing.db, actorOf(dental, 'owner', 'web'))),
    );
    expect(customerError.code).toBe('forbidden');
    const viewer = await errorOf(
      setResellerPrice(ctxFor(billing.db, actorOf(reseller, 'viewer', 'web')), {
        pricingBatchId: null,
        markup: '5',
      }),
    );
    expect(viewer.code).toBe('forbidden');
  });

  it('only its admins and owners change prices', async () => {
    const { reseller } = await priced();
    const served = await shop.open();
    const clerk = await signedIn(served, billing.db, reseller, { role: 'operator' });
    expect((await clerk.get('/reseller/prices')).status).toBe(200);
    const refused = await clerk.post('/reseller/prices', { batch: '', markup: '50' });
    expect(refused.status).toBe(403);
    expect(await billing.db.selectFrom('reseller_prices').selectAll().execute()).toEqual([]);
  });

  it('shows the margin per month once its customers buy', async () => {
    const { reseller, bakery, forSale } = await priced();
    const served = await shop.open();
    const owner = await signedIn(served, billing.db, reseller);
    await owner.get('/reseller/prices');
    await owner.post('/reseller/prices', { batch: '', markup: '50' });
    await buy(billing, bakery, [forSale.id], 'invoice');
    const page = await owner.get('/reseller');
    // The bakery paid 1.50 + 3.00; VoIP Co paid the operator 1.00 + 2.00.
    expect(textOf(page.html)).toContain('2026-01 $4.50 $3.00 $1.50');
  });
});
