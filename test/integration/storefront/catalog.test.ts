import { describe, expect, it } from 'vitest';
import { hashPassword } from '../../../core/accounts/users.ts';
import type { Account } from '../../../core/db/schema.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import {
  buildAccount,
  buildDid,
  buildOperator,
  buildPricingBatch,
  buildUser,
} from '../../helpers/factories.ts';
import { Browser, PASSWORD, serve, textOf } from './harness.ts';

const t = useTestDatabase();

/** The numbers a results page lists, in order (E.164, from their links). */
function listed(html: string): string[] {
  return [...html.matchAll(/<a href="\/numbers\/(\d+)">/g)].map((m) => `+${m[1]}`);
}

function nextLink(html: string): string | null {
  const href = /<a href="([^"]+)" rel="next">/.exec(html)?.[1];
  return href ? href.replace(/&amp;/g, '&').replace(/&#x3D;/g, '=') : null;
}

async function loggedIn(base: string, account: Account, email: string): Promise<Browser> {
  await buildUser(t.db, account, { email, password_hash: await hashPassword(PASSWORD) });
  const browser = new Browser(base);
  const page = await browser.submit('/login', '/login', { email, password: PASSWORD });
  expect(page.status).toBe(303);
  return browser;
}

describe('the catalog', () => {
  it('shows only numbers for sale, with the operator price, a checkbox each and a Buy form', async () => {
    const operator = await buildOperator(t.db);
    const customer = await buildAccount(t.db, operator);
    const free = await buildDid(t.db, { number: '+12125550100', setup_fee: 100, recurring_fee: 150 });
    await buildDid(t.db, {
      number: '+12125550101',
      status: 'assigned',
      owner_account_id: customer.id,
      assigned_account_id: customer.id,
    });
    await buildDid(t.db, { number: '+12125550102', status: 'disabled' });
    await buildDid(t.db, { number: '+12125550103', status: 'aging', aging_until: new Date('2030-01-01') });

    const { base } = await serve(t.db);
    const page = await new Browser(base).get('/numbers');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<title>Find a phone number · didops</title>');
    expect(listed(page.html)).toEqual(['+12125550100']);
    const text = textOf(page.html);
    expect(text).toContain('+1 212 555 0100');
    expect(text).toContain('New York, NY · United States');
    expect(text).toContain('$1.00');
    expect(text).toContain('$1.50 / month');
    expect(text).toContain('Voice');
    expect(page.html).toContain(`<input type="checkbox" name="did" value="${free.id}" id="did-${free.id}">`);
    expect(page.html).toMatch(
      /<form method="post" action="\/checkout"[^>]*>\s*<input type="hidden" name="_csrf" value="[^"]+">/,
    );
    expect(text).toContain('Buy selected');
  });

  it('filters by country, area code, city (any case) and type, with the filters kept in the form', async () => {
    await buildOperator(t.db);
    await buildDid(t.db, { number: '+12125550100', area_code: '212', city: 'New York' });
    await buildDid(t.db, { number: '+13125550100', area_code: '312', city: 'Chicago', province: 'IL' });
    await buildDid(t.db, {
      number: '+18005550100',
      area_code: '800',
      city: '',
      province: '',
      number_type: 'toll_free',
    });
    await buildDid(t.db, {
      number: '+442079460000',
      country: 'GB',
      area_code: '20',
      city: 'London',
      province: '',
      currency: 'GBP',
      setup_fee: 200,
      recurring_fee: 300,
    });
    const { base } = await serve(t.db);
    const browser = new Browser(base);

    expect(listed((await browser.get('/numbers?country=GB')).html)).toEqual(['+442079460000']);
    expect(listed((await browser.get('/numbers?area=312')).html)).toEqual(['+13125550100']);
    expect(listed((await browser.get('/numbers?type=toll_free')).html)).toEqual(['+18005550100']);
    const city = await browser.get('/numbers?city=new%20york&country=us');
    expect(listed(city.html)).toEqual(['+12125550100']);
    expect(city.html).toContain('<option value="US" selected>United States</option>');
    expect(city.html).toContain('value="new york"');

    const london = await browser.get('/numbers?city=London');
    expect(textOf(london.html)).toContain('£2.00');
    expect(textOf(london.html)).toContain('£3.00 / month');
    expect(london.html).toContain('<option value="London"></option>');
  });

  it('finds vanity numbers by their letters, anywhere or after a prefix', async () => {
    await buildOperator(t.db);
    await buildDid(t.db, { number: '+18003569377', area_code: '800', number_type: 'toll_free' }); // 1-800-FLOWERS
    await buildDid(t.db, { number: '+18665558647', area_code: '866', number_type: 'toll_free' }); // ...VOIP
    await buildDid(t.db, { number: '+12128647000', area_code: '212' }); // 212-VOIP-000
    await buildDid(t.db, { number: '+12125550100', area_code: '212' });
    const { base } = await serve(t.db);
    const browser = new Browser(base);

    expect(listed((await browser.get('/numbers?contains=VOIP')).html)).toEqual([
      '+12128647000',
      '+18665558647',
    ]);
    expect(listed((await browser.get('/numbers?contains=voip&area=866')).html)).toEqual(['+18665558647']);
    expect(listed((await browser.get('/numbers?contains=1800%25FLOWERS')).html)).toEqual(['+18003569377']);
    expect(listed((await browser.get('/numbers?contains=555')).html)).toEqual([
      '+12125550100',
      '+18665558647',
    ]);
    const none = await browser.get('/numbers?contains=ZZZZ');
    expect(none.status).toBe(200);
    expect(textOf(none.html)).toContain('No numbers match');
  });

  it('shows a bad filter next to its field', async () => {
    await buildOperator(t.db);
    const { base } = await serve(t.db);
    const page = await new Browser(base).get('/numbers?area=abc&contains=VOIP');
    expect(page.status).toBe(400);
    expect(page.html).toContain(
      '<p class="field__error" id="f-area-error">&quot;abc&quot; is not an area code.',
    );
    expect(page.html).toContain('value="VOIP"');
    const pattern = await new Browser(base).get('/numbers?contains=%3Cb%3E');
    expect(pattern.status).toBe(400);
    expect(pattern.html).toMatch(/id="f-contains-error">&quot;%&lt;b&gt;&quot; is not a number pattern/);
  });

  it('pages with a cursor in the query string, keeping the filters, without repeats', async () => {
    await buildOperator(t.db);
    for (let i = 0; i < 30; i++) {
      await buildDid(t.db, { number: `+1212555${String(1000 + i)}`, area_code: '212' });
    }
    await buildDid(t.db, { number: '+13125550100', area_code: '312' });
    const { base } = await serve(t.db);
    const browser = new Browser(base);

    const first = await browser.get('/numbers?area=212');
    const page1 = listed(first.html);
    expect(page1).toHaveLength(25);
    const next = nextLink(first.html)!;
    expect(next).toMatch(/^\/numbers\?area=212&after=[A-Za-z0-9_-]+$/);

    // The link works on its own (a shared URL), in another browser.
    const second = await new Browser(base).get(next);
    const page2 = listed(second.html);
    expect(page2).toHaveLength(5);
    expect(nextLink(second.html)).toBeNull();
    expect(second.html).toContain('href="/numbers?area&#x3D;212"');
    expect(new Set([...page1, ...page2]).size).toBe(30);
    expect([...page1, ...page2]).toEqual([...page1, ...page2].sort());
  });

  it("prices numbers for a reseller's customer at the reseller's price, for the direct customer at the operator's", async () => {
    const operator = await buildOperator(t.db);
    const reseller = await buildAccount(t.db, operator, { kind: 'reseller', slug: 'voipco' });
    const bakery = await buildAccount(t.db, reseller, { slug: 'bakery' });
    const acme = await buildAccount(t.db, operator, { slug: 'acme' });
    const batch = await buildPricingBatch(t.db, {
      owner_account_id: operator.id,
      setup_fee: 100,
      recurring_fee: 150,
    });
    await buildDid(t.db, {
      number: '+12125550100',
      setup_fee: 100,
      recurring_fee: 150,
      pricing_batch_id: batch.id,
    });
    await t.db
      .insertInto('reseller_prices')
      .values({ reseller_account_id: reseller.id, markup_bp: 2000 })
      .execute();
    const { base } = await serve(t.db);

    const visitor = textOf((await new Browser(base).get('/numbers')).html);
    expect(visitor).toContain('$1.00');
    expect(visitor).toContain('$1.50 / month');

    const customer = await loggedIn(base, bakery, 'owner@bakery.example');
    const theirs = textOf((await customer.get('/numbers')).html);
    expect(theirs).toContain('$1.20');
    expect(theirs).toContain('$1.80 / month');
    const numberPage = textOf((await customer.get('/numbers/12125550100')).html);
    expect(numberPage).toContain('Setup, once $1.20');
    expect(numberPage).toContain('Recurring $1.80 / month');

    const direct = await loggedIn(base, acme, 'owner@acme.example');
    expect(textOf((await direct.get('/numbers')).html)).toContain('$1.50 / month');
  });
});

describe('a number page', () => {
  it('shows the number, the buyer price and what calls cost', async () => {
    await buildOperator(t.db);
    const did = await buildDid(t.db, {
      number: '+18665550100',
      area_code: '866',
      city: '',
      province: '',
      number_type: 'toll_free',
      capabilities: ['voice', 'sms'],
      description: 'Easy to remember',
      connection_cost_micros: 10_000,
      per_minute_rate_micros: 4_500,
      grace_seconds: 5,
      initial_increment: 30,
      increment: 6,
    });
    const { base } = await serve(t.db);
    const browser = new Browser(base);
    for (const path of ['/numbers/18665550100', '/numbers/%2B18665550100', '/numbers/1-866-555-0100']) {
      const page = await browser.get(path);
      expect(page.status, path).toBe(200);
    }
    const page = await browser.get('/numbers/18665550100');
    expect(page.html).toContain('<title>+1 866 555 0100, United States · didops</title>');
    const text = textOf(page.html);
    expect(text).toContain('Toll-free number, United States');
    expect(text).toContain('Voice, SMS');
    expect(text).toContain('Easy to remember');
    expect(text).toContain('$0.0045/min, billed 30 s then 6 s; $0.01 connection; first 5 s free');
    // 30 s: 25 s after grace → one 30 s block: 1 ¢ + 30 × 0.0045 / 60 = 1.225 ¢ → $0.01
    expect(text).toContain('30 s 30 s $0.01');
    // 10 min: 595 s → 30 + ceil(565 / 6) × 6 = 600 s → 1 ¢ + 4.5 ¢ = $0.06 (5.5 ¢ rounded half up)
    expect(text).toContain('10 min 600 s $0.06');
    expect(page.html).toContain(`<input type="hidden" name="did" value="${did.id}">`);
  });

  it('answers 404 with a page for unknown numbers, numbers not for sale and non-numbers', async () => {
    const operator = await buildOperator(t.db);
    const customer = await buildAccount(t.db, operator);
    await buildDid(t.db, {
      number: '+12125550101',
      status: 'assigned',
      owner_account_id: customer.id,
      assigned_account_id: customer.id,
    });
    const { base } = await serve(t.db);
    const browser = new Browser(base);
    for (const path of ['/numbers/12125559999', '/numbers/12125550101', '/numbers/not-a-number']) {
      const page = await browser.get(path);
      expect(page.status, path).toBe(404);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(textOf(page.html)).toContain('is not for sale');
    }
  });
});
