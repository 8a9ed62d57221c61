import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../helpers/database.ts';
import { buildDid, buildGroup, buildPricingBatch } from '../../helpers/factories.ts';
import { adminWorld, serveAdmin, signIn, staffEmail, textOf, type Served } from './harness.ts';
import type { Browser } from './harness.ts';

const t = useTestDatabase();

async function numbers(count: number, prefix = '+1212555', start = 1000) {
  for (let i = 0; i < count; i++) await buildDid(t.db, { number: `${prefix}${start + i}` });
}

/** The checkbox values of the inventory page: "<E.164>@<version>". */
function selectable(html: string): string[] {
  return [...html.matchAll(/name="did" value="([^"]+)"/g)].map((m) => m[1]!);
}

/** The bulk form as the inventory page posts it, with its hidden filter fields. */
async function preview(browser: Browser, fields: Record<string, string | string[]>) {
  return browser.post('/admin/bulk/preview', fields);
}

async function confirm(browser: Browser, confirmation: string) {
  const action = /action="(\/admin\/bulk\/\d+\/start)"/.exec(confirmation)?.[1];
  expect(action, 'the confirmation page has its button').toBeDefined();
  const started = await browser.post(action!, {});
  expect(started.status).toBe(303);
  return started.location!;
}

const statusOf = async (number: string) =>
  await t.db
    .selectFrom('dids')
    .select(['status', 'assigned_account_id'])
    .where('number', '=', number)
    .executeTakeFirstOrThrow();

describe('bulk operations from the inventory page', () => {
  it('assigns three selected rows: the confirmation says exactly 3, the result says what changed', async () => {
    const w = await adminWorld(t.db);
    await numbers(5);
    const { base } = await serveAdmin(t.db);
    const operator = await signIn(base, staffEmail('operator'));
    const page = await operator.get('/admin/inventory?pattern=1212555');
    const boxes = selectable(page.html);
    expect(boxes).toHaveLength(5);

    const confirmation = await preview(operator, {
      pattern: '1212555',
      operation: 'assign',
      assign_to: 'acme',
      apply: 'selected',
      did: boxes.slice(0, 3),
    });
    expect(confirmation.status).toBe(200);
    const text = textOf(confirmation.html);
    expect(text).toContain('3 numbers will change');
    expect(text).toContain('Assign to acme: the 3 selected numbers.');
    expect(text).toContain('Apply to 3 numbers');
    // Nothing changed yet.
    expect((await statusOf('+12125551000')).status).toBe('available');

    const resultUrl = await confirm(operator, confirmation.html);
    const result = await operator.get(resultUrl);
    expect(result.headers.get('refresh')).toBeNull();
    const summary = textOf(result.html);
    expect(summary).toContain('Done');
    expect(summary).toContain('Changed 3 Already so 0 Skipped 0');
    for (const n of ['+12125551000', '+12125551001', '+12125551002']) {
      expect(await statusOf(n)).toEqual({ status: 'assigned', assigned_account_id: w.acme.id });
    }
    expect((await statusOf('+12125551003')).status).toBe('available');
    // Audited: one event per number, with who did it.
    const events = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'did.assign')
      .execute();
    expect(events).toHaveLength(3);
    expect(
      events.every((e) => e.actor_label === 'web:operator@operator.example' && e.channel === 'web'),
    ).toBe(true);
  });

  it('skips and reports numbers that changed since the page loaded, and since the confirmation', async () => {
    await adminWorld(t.db);
    await numbers(4);
    const { base } = await serveAdmin(t.db);
    const operator = await signIn(base, staffEmail('operator'));
    const boxes = selectable((await operator.get('/admin/inventory?pattern=1212555')).html);
    // Someone else assigns one of them meanwhile (a chat command, the storefront).
    const other = await t.db
      .selectFrom('accounts')
      .select('id')
      .where('slug', '=', 'bakery')
      .executeTakeFirstOrThrow();
    await t.db
      .updateTable('dids')
      .set({ status: 'assigned', assigned_account_id: other.id })
      .where('number', '=', '+12125551001')
      .execute();

    const confirmation = await preview(operator, { operation: 'disable', apply: 'selected', did: boxes });
    const text = textOf(confirmation.html);
    expect(text).toContain('3 numbers will change');
    expect(text).toContain(
      '+12125551001 changed since it was shown (it is now assigned to bakery); nothing was done.',
    );

    // One more changes after the confirmation page was shown.
    await t.db
      .updateTable('dids')
      .set({ description: 'edited' })
      .where('number', '=', '+12125551003')
      .execute();
    const result = textOf((await operator.get(await confirm(operator, confirmation.html))).html);
    expect(result).toContain('Changed 2 Already so 0 Skipped 2');
    expect(result).toContain('+12125551001 changed since it was shown (it is now assigned to bakery)');
    expect(result).toContain('+12125551003 changed since it was shown (it is now available)');
    expect((await statusOf('+12125551003')).status).toBe('available');
    expect((await statusOf('+12125551001')).status).toBe('assigned');
  });

  it('assigns the first N of a search and lists why the rest could not be', async () => {
    const w = await adminWorld(t.db);
    await numbers(3);
    await buildDid(t.db, { number: '+12125551003', status: 'disabled' });
    const { base } = await serveAdmin(t.db);
    const operator = await signIn(base, staffEmail('operator'));
    await operator.get('/admin/inventory');
    const confirmation = await preview(operator, {
      pattern: '1212555',
      operation: 'assign',
      assign_to: 'bakery',
      apply: 'first',
      count: '5',
    });
    expect(textOf(confirmation.html)).toContain('3 numbers will change');
    expect(textOf(confirmation.html)).toContain('the first 5 matching numbers that can change');
    const result = textOf((await operator.get(await confirm(operator, confirmation.html))).html);
    expect(result).toContain('Changed 3');
    expect(result).toContain('only 3 of the 5 requested numbers could change with this search');
    const bakery = await t.db
      .selectFrom('dids')
      .select('owner_account_id')
      .where('assigned_account_id', '=', w.bakery.id)
      .execute();
    // Assigned through the reseller that holds the customer.
    expect(bakery.map((r) => r.owner_account_id)).toEqual([w.reseller.id, w.reseller.id, w.reseller.id]);
  });

  it('runs big operations as a queued job with a progress page that reloads itself', async () => {
    await adminWorld(t.db);
    const group = await buildGroup(t.db, { name: 'Bulk' });
    await sql`INSERT INTO dids (number, country) SELECT '+1646' || (2000000 + i)::text, 'US' FROM generate_series(1, 2500) AS i`.execute(
      t.db,
    );
    const served: Served = await serveAdmin(t.db);
    const admin = await signIn(served.base, staffEmail('admin'));
    await admin.get('/admin/inventory');
    const confirmation = await preview(admin, {
      pattern: '1646',
      operation: 'group',
      group_target: 'Bulk',
      apply: 'all',
    });
    expect(textOf(confirmation.html)).toContain('2,500 numbers will change');
    expect(textOf(confirmation.html)).toContain('This runs in the background');
    const url = await confirm(admin, confirmation.html);
    expect(served.queue!.enqueued).toEqual([
      {
        name: 'bulk-operation',
        payload: { bulkOperationId: expect.any(Number) as unknown },
        options: { key: expect.stringMatching(/^bulk-operation-\d+$/) as unknown },
      },
    ]);
    const waiting = await admin.get(url);
    expect(waiting.headers.get('refresh')).toBe('2');
    expect(textOf(waiting.html)).toContain('In progress');
    expect(waiting.html).toContain('<progress max="100" value="0"');

    await served.runQueued();
    const done = await admin.get(url);
    expect(done.headers.get('refresh')).toBeNull();
    expect(textOf(done.html)).toContain('Changed 2,500');
    expect(done.html).toContain('<progress max="100" value="100"');
    const inGroup = await t.db
      .selectFrom('dids')
      .select(sql<string>`count(*)`.as('n'))
      .where('group_id', '=', group.id)
      .executeTakeFirstOrThrow();
    expect(Number(inGroup.n)).toBe(2500);
    // Listed among the bulk operations.
    expect(textOf((await admin.get('/admin/bulk')).html)).toContain(
      'Set the DID group "Bulk" all 2,500 matching numbers admin@operator.example done',
    );
  });

  it('runs big operations right away when this process has no job queue', async () => {
    await adminWorld(t.db);
    await sql`INSERT INTO dids (number, country) SELECT '+1646' || (2000000 + i)::text, 'US' FROM generate_series(1, 2100) AS i`.execute(
      t.db,
    );
    const { base } = await serveAdmin(t.db, { queue: 'none' });
    const operator = await signIn(base, staffEmail('operator'));
    await operator.get('/admin/inventory');
    const confirmation = await preview(operator, { operation: 'disable', apply: 'all' });
    const result = textOf((await operator.get(await confirm(operator, confirmation.html))).html);
    expect(result).toContain('Changed 2,100');
  });

  it('moves to a pricing batch, releases and enables through the same pages', async () => {
    const w = await adminWorld(t.db);
    const batch = await buildPricingBatch(t.db, {
      owner_account_id: w.operator.id,
      name: 'Gold',
      recurring_fee: 999,
    });
    await numbers(2);
    await buildDid(t.db, { number: '+12125551002', status: 'assigned', assigned_account_id: w.acme.id });
    const { base } = await serveAdmin(t.db);
    const operator = await signIn(base, staffEmail('operator'));
    await operator.get('/admin/inventory');
    const run = async (fields: Record<string, string>) => {
      const confirmation = await preview(operator, { pattern: '1212555', apply: 'all', ...fields });
      expect(confirmation.status, textOf(confirmation.html)).toBe(200);
      return textOf((await operator.get(await confirm(operator, confirmation.html))).html);
    };
    expect(await run({ operation: 'pricing_batch', pricing_batch_target: 'Gold' })).toContain('Changed 3');
    expect(
      (
        await t.db
          .selectFrom('dids')
          .select('recurring_fee')
          .where('pricing_batch_id', '=', batch.id)
          .execute()
      ).map((r) => r.recurring_fee),
    ).toEqual([999, 999, 999]);
    const released = await run({ operation: 'release' });
    expect(released).toContain('Changed 1 Already so 2 Skipped 0');
    expect((await statusOf('+12125551002')).status).toBe('aging');
    // Nothing to enable: the confirmation says so and offers no button.
    const nothing = await preview(operator, { pattern: '1212555', apply: 'all', operation: 'enable' });
    expect(textOf(nothing.html)).toContain('Nothing would change');
    expect(nothing.html).not.toContain('/start"');
  });

  it('refuses what cannot be done, and viewers', async () => {
    await adminWorld(t.db);
    await numbers(2);
    const { base } = await serveAdmin(t.db);
    const operator = await signIn(base, staffEmail('operator'));
    await operator.get('/admin/inventory');
    const noAccount = await preview(operator, { operation: 'assign', apply: 'all' });
    expect(noAccount.status).toBe(400);
    expect(textOf(noAccount.html)).toContain('Name the account to assign the numbers to.');
    const noCount = await preview(operator, { operation: 'disable', apply: 'first', count: 'lots' });
    expect(noCount.status).toBe(400);
    expect(textOf(noCount.html)).toContain('Give N, the number of numbers to change, as a whole number.');
    const noneSelected = await preview(operator, { operation: 'disable', apply: 'selected' });
    expect(noneSelected.status).toBe(400);
    const operatorAccount = await preview(operator, {
      operation: 'assign',
      assign_to: 'operator',
      apply: 'all',
    });
    expect(operatorAccount.status).toBe(400);
    expect(textOf(operatorAccount.html)).toContain("operator is the operator's own account");

    // Someone else's draft cannot be started.
    const confirmation = await preview(operator, { operation: 'disable', apply: 'all' });
    const action = /action="(\/admin\/bulk\/\d+\/start)"/.exec(confirmation.html)![1]!;
    const admin = await signIn(base, staffEmail('admin'));
    await admin.get('/admin/inventory');
    expect((await admin.post(action, {})).status).toBe(404);

    const viewer = await signIn(base, staffEmail('viewer'));
    await viewer.get('/admin/inventory');
    const refused = await preview(viewer, { operation: 'disable', apply: 'all' });
    expect(refused.status).toBe(403);
    expect((await viewer.post(action, {})).status).toBe(403);
    expect(await t.db.selectFrom('dids').select('id').where('status', '=', 'disabled').execute()).toEqual([]);
  });
});
