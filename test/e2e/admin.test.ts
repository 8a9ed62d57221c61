// The back office in a real browser: a staff member searches with vanity letters, assigns three selected
// rows and the first N of a search, imports a CSV with bad rows, and reads a number's audit trail. Each
// page is saved as a screenshot (test-artifacts/screenshots/admin-*.png); no page may log a console error
// or a CSP violation.
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { hashPassword } from '../../core/accounts/users.ts';
import { useTestDatabase } from '../helpers/database.ts';
import {
  buildAccount,
  buildDid,
  buildGroup,
  buildOperator,
  buildPricingBatch,
  buildProvider,
  buildUser,
  buildVendorBatch,
} from '../helpers/factories.ts';
import { MOBILE, describeInBrowser, screenshot, scrollWidth, useBrowser } from './browser.ts';

const t = useTestDatabase();
const PASSWORD = 'correct horse battery';

async function world() {
  const operator = await buildOperator(t.db, { name: 'Operator' });
  await buildUser(t.db, operator, {
    role: 'operator',
    email: 'ops@operator.example',
    name: 'Olga Ops',
    password_hash: await hashPassword(PASSWORD),
  });
  await buildUser(t.db, operator, {
    role: 'admin',
    email: 'admin@operator.example',
    name: 'Ada Admin',
    password_hash: await hashPassword(PASSWORD),
  });
  const reseller = await buildAccount(t.db, operator, { kind: 'reseller', slug: 'voipco', name: 'VoIP Co' });
  await buildAccount(t.db, reseller, { slug: 'bakery', name: 'Bakery' });
  await buildAccount(t.db, operator, { slug: 'acme', name: 'Acme Corp' });
  const provider = await buildProvider(t.db, { name: 'NorthStar' });
  const vendorBatch = await buildVendorBatch(t.db, {
    provider_id: provider.id,
    name: 'NS-2026',
    activation_cost: 50,
    recurring_cost: 40,
  });
  const group = await buildGroup(t.db, { name: 'US Toll-Free' });
  const batch = await buildPricingBatch(t.db, {
    owner_account_id: operator.id,
    name: 'Toll-Free Gold',
    setup_fee: 200,
    recurring_fee: 300,
  });
  // Five 1-800 numbers spelling VOIP (8647), and ordinary ones.
  for (const tail of ['100', '101', '102', '103', '104']) {
    await buildDid(t.db, {
      number: `+18008647${tail}`,
      area_code: '800',
      number_type: 'toll_free',
      city: '',
      province: '',
      provider_id: provider.id,
      vendor_batch_id: vendorBatch.id,
      group_id: group.id,
      pricing_batch_id: batch.id,
      setup_fee: 200,
      recurring_fee: 300,
      activation_cost: 50,
      recurring_cost: 40,
      description: 'Spells VOIP',
    });
  }
  for (let i = 0; i < 12; i++)
    await buildDid(t.db, { number: `+1212555${1000 + i}`, description: i === 0 ? 'Main office' : '' });
  await buildDid(t.db, { number: '+12125551012', status: 'disabled' });
}

async function logIn(page: Page, email: string) {
  await page.goto('/login?next=/admin/inventory');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(/\/admin\/inventory$/);
}

const numbersShown = (page: Page) => page.locator('.admin-table tbody th.admin-number a').allTextContents();

describeInBrowser('back office in a browser', () => {
  const e2e = useBrowser(t);

  it('searches with vanity letters, assigns three selected rows, and shows the result', async () => {
    await world();
    const page = await e2e.newPage();
    await logIn(page, 'ops@operator.example');
    await screenshot(page, 'admin-inventory');

    await page.getByLabel('Number', { exact: true }).fill('1800%VOIP');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/pattern=1800%25VOIP/);
    expect(await numbersShown(page)).toEqual([
      '+1 800 864 7100',
      '+1 800 864 7101',
      '+1 800 864 7102',
      '+1 800 864 7103',
      '+1 800 864 7104',
    ]);
    expect(await page.getByRole('heading', { name: '5 numbers match' }).isVisible()).toBe(true);
    await screenshot(page, 'admin-inventory-vanity');

    for (const n of ['+1 800 864 7100', '+1 800 864 7102', '+1 800 864 7104'])
      await page.getByLabel(`Select ${n}`).check();
    await page.getByLabel('Operation').selectOption('assign');
    await page.getByLabel('Account (to assign to)').fill('acme');
    await page.getByRole('button', { name: 'Review…' }).click();
    await page.waitForURL(/\/admin\/bulk\/preview$/);
    expect(await page.getByRole('heading', { name: '3 numbers will change' }).isVisible()).toBe(true);
    await screenshot(page, 'admin-bulk-confirm');

    await page.getByRole('button', { name: 'Apply to 3 numbers' }).click();
    await page.waitForURL(/\/admin\/bulk\/\d+$/);
    expect(await page.getByRole('heading', { name: 'Done' }).isVisible()).toBe(true);
    expect(await page.locator('[data-count="changed"]').textContent()).toBe('3');
    await screenshot(page, 'admin-bulk-result');

    await page.goto('/admin/inventory?pattern=VOIP');
    const statuses = await page.locator('.admin-table tbody .admin-status').allTextContents();
    expect(statuses).toEqual(['In use', 'Free', 'In use', 'Free', 'In use']);
    expect(e2e.consoleErrors).toEqual([]);
  });

  it('assigns the first N numbers of a search and lists what was left and why', async () => {
    await world();
    const page = await e2e.newPage();
    await logIn(page, 'ops@operator.example');
    await page.getByLabel('Number', { exact: true }).fill('1212555101');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/pattern=1212555101/);
    // +1 212 555 1010 … 1012: the last is disabled.
    await page.getByLabel('Operation').selectOption('assign');
    await page.getByLabel('Account (to assign to)').fill('bakery');
    await page.getByLabel('The first').check();
    await page.getByLabel('How many numbers').fill('5');
    await page.getByRole('button', { name: 'Review…' }).click();
    expect(await page.getByRole('heading', { name: '2 numbers will change' }).isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Apply to 2 numbers' }).click();
    await page.waitForURL(/\/admin\/bulk\/\d+$/);
    expect(await page.locator('[data-count="changed"]').textContent()).toBe('2');
    expect(
      await page.getByText('only 2 of the 5 requested numbers could change with this search').isVisible(),
    ).toBe(true);
    await screenshot(page, 'admin-bulk-first-n');
    await page.getByRole('link', { name: 'All bulk operations' }).click();
    await page.waitForURL(/\/admin\/bulk$/);
    await screenshot(page, 'admin-bulk-list');
    expect(e2e.consoleErrors).toEqual([]);
  });

  it('imports a CSV with bad rows: previews the errors by line, imports the good rows', async () => {
    await world();
    const page = await e2e.newPage();
    await logIn(page, 'ops@operator.example');
    await page.getByRole('link', { name: 'Import' }).click();
    await page.waitForURL(/\/admin\/import$/);
    await screenshot(page, 'admin-import');
    const csv = [
      'number,city,provider,group,setup_fee',
      '+1 415 555 0100,San Francisco,NorthStar,US Toll-Free,1.00',
      'hello,San Francisco,,,',
      '+1 415 555 0101,San Francisco,Nobody,,',
      '+1 415 555 0102,San Francisco,,,-5',
      '+1 415 555 0103,San Francisco,,,',
    ].join('\n');
    await page
      .getByLabel('CSV file')
      .setInputFiles({ name: 'carrier.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.waitForURL(/\/admin\/import\/preview$/);
    expect(await page.locator('[data-count="to-import"]').textContent()).toBe('2');
    expect(await page.locator('[data-count="errors"]').textContent()).toBe('3');
    const lines = await page.locator('.admin-problems tbody tr td:first-child').allTextContents();
    expect(lines).toEqual(['3', '4', '5']);
    await screenshot(page, 'admin-import-preview');
    await page.getByRole('button', { name: 'Import 2 numbers' }).click();
    await page.waitForURL(/\/admin\/bulk\/\d+$/);
    expect(await page.locator('[data-count="changed"]').textContent()).toBe('2');
    expect(await page.locator('[data-count="skipped"]').textContent()).toBe('3');
    await screenshot(page, 'admin-import-result');
    expect(e2e.consoleErrors).toEqual([]);
  });

  it("opens a number's audit trail from the inventory", async () => {
    await world();
    const page = await e2e.newPage();
    await logIn(page, 'ops@operator.example');
    // Edit the description inline, then look at the trail of that number.
    const row = page.locator('#n12125551000');
    await row.getByLabel('Description of +1 212 555 1000').fill('Main office, 3rd floor');
    await row.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/done=described/);
    expect(await page.getByText('The description was saved.').isVisible()).toBe(true);
    await page.getByRole('link', { name: '+1 212 555 1000' }).click();
    await page.waitForURL(/\/admin\/audit\?number=/);
    expect(await page.getByRole('heading', { name: 'Audit trail of +12125551000' }).isVisible()).toBe(true);
    const event = page.locator('.admin-event').first();
    expect(await event.locator('strong').textContent()).toBe('did.describe');
    expect(await event.locator('.admin-diff tbody tr').first().textContent()).toContain(
      'Main office, 3rd floor',
    );
    await screenshot(page, 'admin-audit-number');
    expect(e2e.consoleErrors).toEqual([]);
  });

  it('shows the catalog, accounts and queue pages, and fits a phone', async () => {
    await world();
    const page = await e2e.newPage();
    await logIn(page, 'admin@operator.example');
    for (const [path, name] of [
      ['/admin/catalog', 'admin-catalog'],
      ['/admin/accounts', 'admin-accounts'],
      ['/admin/accounts/acme', 'admin-account'],
      ['/admin/accounts/new', 'admin-account-new'],
      ['/admin/audit', 'admin-audit'],
      ['/admin/queues', 'admin-queues'],
    ] as const) {
      const response = await page.goto(path);
      expect(response?.status(), path).toBe(200);
      await screenshot(page, name);
    }
    await page.goto('/admin/catalog');
    await page.getByRole('link', { name: 'Toll-Free Gold' }).click();
    await page.getByRole('button', { name: 'Delete' }).click();
    expect(
      await page
        .getByText('The pricing batch "Toll-Free Gold" is in use by 5 numbers, so it was not deleted.')
        .isVisible(),
    ).toBe(true);
    await screenshot(page, 'admin-catalog-delete-refused');
    // The refusal is a 409 page, which the browser reports as a failed load: that one is expected.
    expect(e2e.consoleErrors).toEqual([expect.stringContaining('status of 409 (Conflict)')]);
    e2e.consoleErrors.length = 0;

    const phone = await e2e.newPage({ mobile: true });
    await logIn(phone, 'ops@operator.example');
    expect(await scrollWidth(phone)).toBeLessThanOrEqual(MOBILE.width);
    await screenshot(phone, 'admin-inventory-mobile');
    expect(e2e.consoleErrors).toEqual([]);
  });
});
