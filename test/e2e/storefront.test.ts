import { expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { buildDid, buildOperator } from '../helpers/factories.ts';
import { MOBILE, describeInBrowser, screenshot, scrollWidth, useBrowser } from './browser.ts';

const t = useTestDatabase();

/** A small inventory with vanity numbers, long city names and both types, plenty for a second page. */
async function inventory() {
  await buildOperator(t.db, { name: 'Operator' });
  await buildDid(t.db, { number: '+12128647000', area_code: '212' }); // 212-VOIP-000
  await buildDid(t.db, {
    number: '+18665558647',
    area_code: '866',
    city: '',
    province: '',
    number_type: 'toll_free',
  });
  await buildDid(t.db, {
    number: '+18003569377',
    area_code: '800',
    city: '',
    province: '',
    number_type: 'toll_free',
  });
  for (let i = 0; i < 30; i++) {
    await buildDid(t.db, {
      number: `+1415555${String(1000 + i)}`,
      area_code: '415',
      city: 'San Francisco',
      province: 'CA',
      capabilities: ['voice', 'sms', 'mms', 'fax'],
      description: 'A long description that should wrap rather than widen the page on a small phone',
    });
  }
}

describeInBrowser('storefront in a browser', () => {
  const e2e = useBrowser(t);

  it('finds numbers by the word they spell', async () => {
    await inventory();
    const page = await e2e.newPage();
    await page.goto('/');
    await page.getByLabel('Number contains').fill('VOIP');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\/numbers\?contains=VOIP/);
    const rows = page.locator('table.results tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    const numbers = await page.locator('.results__number a').allTextContents();
    expect(numbers).toEqual(['+1 212 864 7000', '+1 866 555 8647']);

    // Refine on the results page: toll-free only.
    await page.getByLabel('Type').selectOption('toll_free');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/type=toll_free/);
    expect(await page.locator('.results__number a').allTextContents()).toEqual(['+1 866 555 8647']);

    // Selecting a number says so (the page's little script).
    await page.getByLabel('Select +1 866 555 8647').check();
    await expect.poll(() => page.locator('[data-selected-count]').textContent()).toBe('1 number selected');
    await screenshot(page, 'catalog-vanity');

    await page.getByRole('link', { name: '+1 866 555 8647' }).click();
    await page.waitForURL(/\/numbers\/18665558647$/);
    expect(await page.getByRole('heading', { name: 'What a call costs' }).isVisible()).toBe(true);
    expect(e2e.consoleErrors).toEqual([]);
  });

  it('signs up and lands on the account page, logged in', async () => {
    await inventory();
    const page = await e2e.newPage();
    await page.goto('/signup');
    await page.getByLabel('Your name').fill('Grace Hopper');
    await page.getByLabel('Company (optional)').fill('Cobol Calls');
    await page.getByLabel('Email address').fill('grace@cobol.example');
    await page.getByLabel('Password').fill('a long enough password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(/\/account\?welcome=1$/);
    expect(await page.getByText('Welcome, Grace Hopper! Your account is ready.').isVisible()).toBe(true);
    expect(await page.getByRole('navigation', { name: 'Main' }).textContent()).toContain('Grace Hopper');
    await screenshot(page, 'signup-done');

    const user = await t.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', 'grace@cobol.example')
      .executeTakeFirst();
    expect(user?.role).toBe('owner');

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/login\?notice=logged-out$/);
    expect(await page.getByText('You are logged out.').isVisible()).toBe(true);
    expect(e2e.consoleErrors).toEqual([]);
  });

  it('fits a 375 px phone without horizontal scrolling', async () => {
    await inventory();
    const page = await e2e.newPage({ mobile: true });
    for (const [path, name] of [
      ['/numbers?area=415', 'catalog-mobile'],
      ['/numbers/14155551000', 'number-mobile'],
      ['/', 'home-mobile'],
      ['/signup', 'signup-mobile'],
    ] as const) {
      await page.goto(path);
      expect(await scrollWidth(page), path).toBeLessThanOrEqual(MOBILE.width);
      await screenshot(page, name);
    }
    // The results are still usable: the checkbox and the buy button are on screen.
    await page.goto('/numbers?area=415');
    await page.evaluate("document.querySelector('#results-heading').scrollIntoView()");
    await screenshot(page, 'catalog-mobile-results', { fullPage: false });
    const firstBox = page.locator('input[name="did"]').first();
    const box = await firstBox.boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(MOBILE.width);
    const buy = await page.getByRole('button', { name: 'Buy selected' }).boundingBox();
    expect(buy!.x + buy!.width).toBeLessThanOrEqual(MOBILE.width);
    expect(e2e.consoleErrors).toEqual([]);
  });
});
