// Buying and managing numbers in a real Chromium: on account (postpaid) from the catalog to the invoice;
// by card through a faked Stripe Checkout (the browser's trip to Stripe is intercepted, the signed webhook
// posted by the test, and the order page turns active by itself); call transfer; cancel at period end;
// and the reseller portal. The app runs with a real pg-boss worker and FakeStripe served over HTTP
// (STRIPE_API_BASE). Screenshots of the key pages at 375 px and desktop go to test-artifacts/screenshots.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashPassword } from '../../core/accounts/users.ts';
import { DEFAULT_BILLING_POLICY } from '../../core/billing/billing-context.ts';
import { loadConfig } from '../../core/config.ts';
import type { Account } from '../../core/db/schema.ts';
import { createPgBossQueue } from '../../core/jobs/pgboss-queue.ts';
import type { JobQueue } from '../../core/jobs/queue.ts';
import { bulkEnqueuerFor, enqueuerFor, JOB_NAMES, startJobWorker } from '../../core/jobs/registry.ts';
import { paymentsFromConfig } from '../../core/runtime/jobs.ts';
import { silentLogger } from '../../core/runtime/logger.ts';
import { systemClock } from '../../core/shared/clock.ts';
import type { PaymentGateway } from '../../core/payments/gateway.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { buildAccount, buildDid, buildOperator, buildPricingBatch, buildUser } from '../helpers/factories.ts';
import { FakeStripe, signedEvent, TEST_SECRET_KEY, TEST_WEBHOOK_SECRET } from '../helpers/fake-stripe.ts';
import { MOBILE, describeInBrowser, screenshot, scrollWidth, useBrowser } from './browser.ts';

const t = useTestDatabase();
const PASSWORD = 'correct horse battery';

const stripe = new FakeStripe();
let stripeServer: { url: string; close: () => Promise<void> } | undefined;
let queue: JobQueue | undefined;
let payments: PaymentGateway | null = null;
let env: Record<string, string> = {};

// Before useBrowser's hooks: the app is built with this Stripe and this queue.
beforeAll(async () => {
  stripeServer = await stripe.listen();
  env = {
    STRIPE_SECRET_KEY: TEST_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    STRIPE_API_BASE: stripeServer.url,
  };
  const config = loadConfig({ NODE_ENV: 'test', ...env });
  payments = paymentsFromConfig(config);
  queue = createPgBossQueue({ connectionString: t.url, log: silentLogger, pollingIntervalMs: 500 });
  await queue.start(JOB_NAMES);
  await startJobWorker(queue, {
    db: t.db,
    clock: systemClock,
    settings: { didAgingDays: config.didAgingDays },
    policy: DEFAULT_BILLING_POLICY,
    payments,
    publicUrl: config.publicUrl,
    enqueue: enqueuerFor(queue),
    enqueueMany: bulkEnqueuerFor(queue),
    channels: [],
    log: silentLogger,
  });
});

afterAll(async () => {
  await queue?.stop(1_000);
  await stripeServer?.close();
});

describeInBrowser('buying and managing numbers in a browser', () => {
  const e2e = useBrowser(t, {
    env: () => env,
    jobs: () => ({ queue: queue!, enqueue: enqueuerFor(queue!), payments, policy: DEFAULT_BILLING_POLICY }),
  });

  async function customer(options: { postpaid: boolean; email: string }) {
    const operator = await buildOperator(t.db, { name: 'Operator' });
    const account = await buildAccount(t.db, operator, {
      slug: options.postpaid ? 'acme' : 'cardco',
      name: options.postpaid ? 'Acme Calls' : 'Card Co',
      ...(options.postpaid ? { billing_mode: 'postpaid' as const, credit_limit: 100_000 } : {}),
    });
    await buildUser(t.db, account, {
      email: options.email,
      name: 'Ada',
      password_hash: await hashPassword(PASSWORD),
    });
    await buildDid(t.db, { number: '+12128647000', area_code: '212', setup_fee: 500, recurring_fee: 300 }); // 212-VOIP-000
    await buildDid(t.db, { number: '+12125550100', area_code: '212', setup_fee: 100, recurring_fee: 150 });
    return { operator, account };
  }

  async function logIn(page: Page, email: string) {
    await page.goto('/login');
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/account$/);
  }

  /** Both sizes of a page: a phone (no horizontal scrolling) and a desktop. */
  async function bothSizes(path: string, name: string) {
    const phone = await e2e.newPage({ mobile: true });
    await phone.context().addCookies(await cookiesOf(current!));
    await phone.goto(path);
    expect(await scrollWidth(phone), `${path} at 375 px`).toBeLessThanOrEqual(MOBILE.width);
    await screenshot(phone, `${name}-mobile`);
    await screenshot(current!, `${name}-desktop`);
  }

  let current: Page | undefined;
  const cookiesOf = (page: Page) => page.context().cookies();

  it('buys on account (postpaid): catalog, checkout, order, my numbers, invoice', async () => {
    await customer({ postpaid: true, email: 'ada@acme.example' });
    const page = (current = await e2e.newPage());
    await logIn(page, 'ada@acme.example');

    await page.goto('/numbers?contains=VOIP');
    await page.getByLabel('Select +1 212 864 7000').check();
    await page.getByRole('button', { name: 'Buy selected' }).click();
    await page.waitForURL(/\/checkout\?did=\d+$/);
    expect(await page.getByText('Total to pay now').textContent()).toContain('Total to pay now');
    expect(await page.locator('tfoot').textContent()).toContain('$8.00');
    await bothSizes(new URL(page.url()).pathname + new URL(page.url()).search, 'checkout');

    await page.getByLabel(/On account/).check();
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.waitForURL(/\/orders\/\d+$/);
    expect(await page.locator('.order-state').textContent()).toContain('Active');
    await bothSizes(new URL(page.url()).pathname, 'order-active');

    await page.getByRole('link', { name: 'My numbers', exact: true }).first().click();
    await page.waitForURL(/\/my\/numbers$/);
    expect(await page.locator('table').textContent()).toContain('+1 212 864 7000');
    await bothSizes('/my/numbers', 'my-numbers');

    await page.getByRole('link', { name: '+1 212 864 7000' }).click();
    await page.waitForURL(/\/my\/numbers\/\d+$/);
    expect(await page.getByRole('heading', { name: 'Call transfer' }).isVisible()).toBe(true);
    await bothSizes(new URL(page.url()).pathname, 'number-detail');

    await page.getByRole('link', { name: 'Invoices' }).click();
    await page.getByRole('link', { name: /^Invoice \d+$/ }).click();
    await page.waitForURL(/\/my\/invoices\/\d+$/);
    expect(await page.locator('.document').textContent()).toContain('Acme Calls');
    expect(await page.locator('.document tfoot').textContent()).toContain('$8.00');
    await bothSizes(new URL(page.url()).pathname, 'invoice');
    // The print stylesheet keeps the document and drops the site's chrome.
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('.site-header').isVisible()).toBe(false);
    expect(await page.locator('.document').isVisible()).toBe(true);
    await page.emulateMedia({ media: 'screen' });
    expect(e2e.consoleErrors).toEqual([]);
  });

  it('buys by card: Stripe Checkout (faked), a signed webhook, and the order turns active by itself', async () => {
    await customer({ postpaid: false, email: 'ada@cardco.example' });
    const page = (current = await e2e.newPage());
    await logIn(page, 'ada@cardco.example');
    // The trip to Stripe's hosted page stays in the test.
    let stripePage = '';
    await page.route('https://checkout.stripe.test/**', async (route) => {
      stripePage = route.request().url();
      await route.fulfill({
        status: 200,
        contentType: 'text/html',
        body: '<title>Stripe Checkout</title><p>Pay here</p>',
      });
    });

    await page.goto('/numbers/12125550100');
    await page.getByRole('button', { name: 'Buy this number' }).click();
    await page.waitForURL(/\/checkout\?did=\d+$/);
    await page.getByRole('button', { name: 'Pay $2.50' }).click();
    await page.waitForURL(/^https:\/\/checkout\.stripe\.test\/pay\/cs_test_/);
    const session = [...stripe.sessions.values()].find((s) => stripePage.endsWith(s.id))!;
    expect(session.amount_total).toBe(250);

    // Back from Stripe before Stripe has told us: "processing", and the page keeps looking.
    const success = new URL(session.success_url);
    await page.goto(success.pathname + success.search);
    expect(await page.locator('.order-state').textContent()).toContain('Processing');
    await screenshot(page, 'order-processing-desktop');

    const { payload, signature } = signedEvent(stripe.payCheckout(session.id));
    const answer = await fetch(`${e2e.baseUrl}/stripe/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      body: payload,
    });
    expect(answer.status).toBe(200);
    // No reload from here: the page's own poll notices the change.
    await page.locator('.badge--ok', { hasText: 'Active' }).waitFor({ timeout: 20_000 });
    expect(await page.locator('.order-state').textContent()).toContain('The numbers are yours');
    await screenshot(page, 'order-card-active-desktop');
    expect(e2e.consoleErrors).toEqual([]);
  });

  it('sets call transfer on a bought number, with a bad destination shown next to its field', async () => {
    await customer({ postpaid: true, email: 'ada@acme.example' });
    const page = (current = await e2e.newPage({ mobile: true }));
    await logIn(page, 'ada@acme.example');
    await buyOnAccount(page, '+1 212 555 0100');

    await page.getByRole('link', { name: 'My numbers', exact: true }).first().click();
    await page.getByRole('link', { name: '+1 212 555 0100' }).click();
    await page.getByLabel('Busy', { exact: true }).fill('+44 20 7946 0000');
    await page.getByLabel('No answer', { exact: true }).fill('not a destination');
    await page.getByLabel('Transfer calls').check();
    await page.getByRole('button', { name: 'Save call transfer' }).click();
    const error = page.locator('#f-no_answer-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/\S/);
    expect(await page.getByLabel('No answer', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await scrollWidth(page)).toBeLessThanOrEqual(MOBILE.width);
    await screenshot(page, 'transfer-error-mobile');

    await page.getByLabel('No answer', { exact: true }).fill('sip:desk@pbx.example.com');
    await page.getByRole('button', { name: 'Save call transfer' }).click();
    await page.getByText('Call transfer saved.').waitFor();
    expect(await page.getByText('Calls are transferred now.').isVisible()).toBe(true);
    const row = await t.db.selectFrom('call_transfers').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      enabled: true,
      busy_destination: '+442079460000',
      no_answer_destination: 'sip:desk@pbx.example.com',
    });
    await screenshot(page, 'transfer-saved-mobile');
    // Chromium logs the refused form's 400 answer; nothing else may show up.
    expect(e2e.consoleErrors.filter((e) => !/\/transfer: Failed to load resource: .* 400/.test(e))).toEqual(
      [],
    );
  });

  it('cancels a number at the end of its period, and keeps it after all', async () => {
    await customer({ postpaid: true, email: 'ada@acme.example' });
    const page = (current = await e2e.newPage());
    await logIn(page, 'ada@acme.example');
    await buyOnAccount(page, '+1 212 555 0100');
    await page.getByRole('link', { name: 'My numbers', exact: true }).first().click();
    await page.getByRole('link', { name: '+1 212 555 0100' }).click();

    await page.getByRole('button', { name: 'Cancel at the end of the period' }).click();
    await page.getByText('This number will be canceled at the end of its period.').waitFor();
    expect(await page.locator('.lead .badge').textContent()).toBe('Canceling');
    await screenshot(page, 'number-canceling-desktop');
    const sub = () =>
      t.db.selectFrom('subscriptions').select('cancel_at_period_end').executeTakeFirstOrThrow();
    expect((await sub()).cancel_at_period_end).toBe(true);

    await page.getByRole('button', { name: 'Keep this number' }).click();
    await page.getByText('This number will renew as usual.').waitFor();
    expect((await sub()).cancel_at_period_end).toBe(false);
    expect(e2e.consoleErrors).toEqual([]);
  });

  it('shows the reseller portal on a phone and a desktop', async () => {
    const operator = await buildOperator(t.db, { name: 'Operator' });
    const reseller = await buildAccount(t.db, operator, {
      kind: 'reseller',
      slug: 'voipco',
      name: 'VoIP Co',
    });
    const bakery: Account = await buildAccount(t.db, reseller, {
      slug: 'bakery',
      name: 'The Bakery with a rather long name',
    });
    await buildUser(t.db, reseller, {
      email: 'owner@voipco.example',
      name: 'Vic',
      password_hash: await hashPassword(PASSWORD),
    });
    await buildPricingBatch(t.db, {
      owner_account_id: operator.id,
      name: 'US local',
      setup_fee: 100,
      recurring_fee: 200,
    });
    await buildDid(t.db, { number: '+12125550100', status: 'assigned', owner_account_id: reseller.id });
    await buildDid(t.db, {
      number: '+12125550101',
      status: 'assigned',
      owner_account_id: reseller.id,
      assigned_account_id: bakery.id,
    });
    const page = (current = await e2e.newPage());
    await logIn(page, 'owner@voipco.example');

    await page.getByRole('link', { name: 'Reseller portal' }).click();
    await page.waitForURL(/\/reseller$/);
    await bothSizes('/reseller', 'reseller-home');
    await page.goto('/reseller/prices');
    await page.getByLabel('Markup (%)').fill('25');
    await page.getByRole('button', { name: 'Save price' }).click();
    await page.getByText('Price saved.').waitFor();
    await bothSizes('/reseller/prices', 'reseller-prices');
    await page.goto('/reseller/customers');
    await bothSizes('/reseller/customers', 'reseller-customers');
    await page.goto('/reseller/numbers');
    await page.getByRole('link', { name: '+1 212 555 0100' }).click();
    await page
      .getByLabel('Give it to')
      .selectOption({ label: 'The Bakery with a rather long name (bakery)' });
    await page.getByRole('button', { name: 'Assign' }).click();
    await page.getByText('The number now belongs to the customer.').waitFor();
    await bothSizes(new URL(page.url()).pathname, 'reseller-number');
    await page.goto('/reseller/numbers');
    await bothSizes('/reseller/numbers', 'reseller-numbers');
    expect(e2e.consoleErrors).toEqual([]);
  });

  async function buyOnAccount(page: Page, number: string) {
    await page.goto('/numbers?area=212');
    await page.getByLabel(`Select ${number}`).check();
    await page.getByRole('button', { name: 'Buy selected' }).click();
    await page.waitForURL(/\/checkout\?/);
    await page.getByLabel(/On account/).check();
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.waitForURL(/\/orders\/\d+$/);
  }
});
