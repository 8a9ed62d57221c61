// Invoices and receipts through HTTP: the list, a printable invoice (account name, lines, total, currency,
// the print stylesheet) and a printable receipt for a card payment; another account's are "not found".
import { describe, expect, it } from 'vitest';
import { buildAccount, buildDid, buildOperator } from '../../helpers/factories.ts';
import { buy } from '../billing/billing-fixture.ts';
import { Browser, textOf } from './harness.ts';
import { signedIn, useShop } from './shop.ts';

const shop = useShop();
const { billing } = shop;

async function world() {
  const operator = await buildOperator(billing.db);
  const postpaid = await buildAccount(billing.db, operator, {
    slug: 'acme',
    name: 'Acme Calls Ltd',
    billing_mode: 'postpaid',
    credit_limit: 100_000,
  });
  const prepaid = await buildAccount(billing.db, operator, { slug: 'cardco', name: 'Card Co' });
  const a = await buildDid(billing.db, { number: '+12125550100', setup_fee: 500, recurring_fee: 300 });
  const c = await buildDid(billing.db, { number: '+12125550102', setup_fee: 100, recurring_fee: 200 });
  await buy(billing, postpaid, [a.id], 'invoice');
  await buy(billing, prepaid, [c.id], 'card');
  return { postpaid, prepaid, a, c };
}

describe('invoices and receipts', () => {
  it('lists the invoices of a postpaid account and prints one with its lines and total', async () => {
    const { postpaid } = await world();
    const served = await shop.open();
    const browser = await signedIn(served, billing.db, postpaid);
    const list = await browser.get('/my/invoices');
    expect(list.status).toBe(200);
    expect(list.html).toContain('<title>Invoices and receipts · didops</title>');
    const text = textOf(list.html);
    expect(text).toContain('You owe $8.00 now.');
    const invoice = await billing.db
      .selectFrom('invoices')
      .selectAll()
      .where('account_id', '=', postpaid.id)
      .executeTakeFirstOrThrow();
    expect(list.html).toContain(`<a href="/my/invoices/${invoice.id}">Invoice ${invoice.id}</a>`);
    expect(text).toContain('2026-01-01 to 2026-02-01');

    const page = await browser.get(`/my/invoices/${invoice.id}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain(`<title>Invoice ${invoice.id}, 2026-01 · didops</title>`);
    const printed = textOf(page.html);
    expect(printed).toContain('Acme Calls Ltd');
    expect(printed).toContain('Setup of +12125550100 $5.00');
    expect(printed).toContain('+12125550100, first period $3.00');
    expect(printed).toContain('Total $8.00');
    expect(printed).toContain('All amounts in USD.');
    expect(page.html).toContain('class="breadcrumb no-print"');
    expect(page.html).toContain('data-print');
  });

  it('lists card payments with a printable receipt of what they paid for', async () => {
    const { prepaid } = await world();
    const served = await shop.open();
    const browser = await signedIn(served, billing.db, prepaid);
    const list = await browser.get('/my/invoices');
    const text = textOf(list.html);
    expect(text).toContain('you pay by card, so your receipts are below');
    const payment = await billing.db
      .selectFrom('payments')
      .selectAll()
      .where('account_id', '=', prepaid.id)
      .executeTakeFirstOrThrow();
    expect(list.html).toContain(`<a href="/my/receipts/${payment.id}">Receipt ${payment.id}</a>`);
    expect(text).toContain('$3.00');

    const receipt = await browser.get(`/my/receipts/${payment.id}`);
    expect(receipt.status).toBe(200);
    const printed = textOf(receipt.html);
    expect(printed).toContain('Card Co');
    expect(printed).toContain('Setup of +1 212 555 0102 $1.00');
    expect(printed).toContain('+1 212 555 0102, first period $2.00');
    expect(printed).toContain('Paid $3.00');
  });

  it("another account's invoice or receipt is not found", async () => {
    const { postpaid, prepaid } = await world();
    const served = await shop.open();
    const stranger = await signedIn(served, billing.db, prepaid);
    const invoice = await billing.db
      .selectFrom('invoices')
      .select('id')
      .where('account_id', '=', postpaid.id)
      .executeTakeFirstOrThrow();
    expect((await stranger.get(`/my/invoices/${invoice.id}`)).status).toBe(404);
    const owner = await signedIn(served, billing.db, postpaid);
    const payment = await billing.db
      .selectFrom('payments')
      .select('id')
      .where('account_id', '=', prepaid.id)
      .executeTakeFirstOrThrow();
    expect((await owner.get(`/my/receipts/${payment.id}`)).status).toBe(404);
    expect((await owner.get('/my/invoices/x1')).status).toBe(404);
  });

  it('needs a signed-in user', async () => {
    await world();
    const served = await shop.open();
    const page = await new Browser(served.base).get('/my/invoices');
    expect(page.status).toBe(303);
    expect(page.location).toBe('/login?next=%2Fmy%2Finvoices');
  });
});
