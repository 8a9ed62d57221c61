// Numbers staff hand out from the pool are billed like purchases (never "in use but never billed"), and a
// released number stops renewing (never "billed for a number you no longer have").
import { describe, expect, it } from 'vitest';
import { findDueWork } from '../../../core/billing/renewals.ts';
import { assignDid, assignMany, releaseDid } from '../../../core/inventory/assignment.ts';
import { buildDid, buildHierarchy } from '../../helpers/factories.ts';
import { useBilling } from './billing-fixture.ts';

const billing = useBilling();

describe('staff assignment and billing', () => {
  it("bills a number assigned from the pool on the account's invoice, up the reseller chain too", async () => {
    const h = await buildHierarchy(billing.db);
    const staff = { ...h.staff, clock: billing.clock };
    const did = await buildDid(billing.db, { setup_fee: 300, recurring_fee: 200 });
    await billing.db
      .insertInto('reseller_prices')
      .values({ reseller_account_id: h.reseller.id, pricing_batch_id: null, markup_bp: 5_000 })
      .execute();
    await assignDid(staff, { number: did.number, account: 'bakery' });

    const sub = await billing.db
      .selectFrom('subscriptions')
      .selectAll()
      .where('did_id', '=', did.id)
      .executeTakeFirstOrThrow();
    expect(sub).toMatchObject({
      account_id: h.bakery.id,
      recurring_fee: 300,
      setup_fee: 450,
      payment_method: 'invoice',
      status: 'active',
    });
    expect(sub.current_period_end.toISOString()).toBe('2026-02-28T09:00:00.000Z');
    const charges = await billing.db
      .selectFrom('charges')
      .select(['account_id', 'kind', 'amount'])
      .orderBy('account_id')
      .orderBy('kind')
      .execute();
    expect(charges).toEqual([
      { account_id: h.reseller.id, kind: 'recurring', amount: 200 },
      { account_id: h.reseller.id, kind: 'setup', amount: 300 },
      { account_id: h.bakery.id, kind: 'recurring', amount: 300 },
      { account_id: h.bakery.id, kind: 'setup', amount: 450 },
    ]);
    // Assigning again changes nothing and bills nothing.
    await assignDid(staff, { number: did.number, account: 'bakery' });
    expect(await billing.db.selectFrom('charges').select('id').execute()).toHaveLength(4);
  });

  it('bills a bulk assignment with a handful of statements, and a release ends the renewals', async () => {
    const h = await buildHierarchy(billing.db);
    const staff = { ...h.staff, clock: billing.clock };
    const dids = await Promise.all(
      Array.from({ length: 30 }, () =>
        buildDid(billing.db, { area_code: '646', recurring_fee: 100, setup_fee: 0 }),
      ),
    );
    const result = await assignMany(staff, 'acme', { mode: 'first', count: 30, filter: { areaCode: '646' } });
    expect(result.assigned).toHaveLength(30);
    expect(
      await billing.db.selectFrom('subscriptions').select('id').where('status', '=', 'active').execute(),
    ).toHaveLength(30);

    await releaseDid(staff, { number: dids[0]!.number });
    const ended = await billing.db
      .selectFrom('subscriptions')
      .select(['id', 'status'])
      .where('did_id', '=', dids[0]!.id)
      .executeTakeFirstOrThrow();
    expect(ended.status).toBe('canceled');
    billing.clock.set('2026-03-01T00:00:00Z');
    const due = await findDueWork(billing.ctxFor(h.operator), 100);
    expect(due).toHaveLength(29);
    expect(due.map((d) => d.subscriptionId)).not.toContain(ended.id);
  });
});
