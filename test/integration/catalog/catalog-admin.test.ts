// Editing and deleting catalog rows (the back office): names stay unique, money is parsed in the row's
// currency, and nothing in use is deleted: the refusal says how many rows use it.
import { describe, expect, it } from 'vitest';
import {
  catalogOverview,
  deleteGroup,
  deletePricingBatch,
  deleteProvider,
  deleteVendorBatch,
  updateGroup,
  updatePricingBatch,
  updateProvider,
  updateVendorBatch,
} from '../../../core/catalog/catalog.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import {
  actorOf,
  buildAccount,
  buildDid,
  buildGroup,
  buildOperator,
  buildPricingBatch,
  buildProvider,
  buildVendorBatch,
  ctxFor,
} from '../../helpers/factories.ts';
import { errorOf } from '../../helpers/errors.ts';

const t = useTestDatabase();

async function world() {
  const operator = await buildOperator(t.db);
  const admin = ctxFor(t.db, actorOf(operator, 'admin'));
  const provider = await buildProvider(t.db, { name: 'NorthStar' });
  const vendorBatch = await buildVendorBatch(t.db, {
    provider_id: provider.id,
    name: 'NS-1',
    activation_cost: 50,
  });
  const group = await buildGroup(t.db, { name: 'US Local' });
  const batch = await buildPricingBatch(t.db, {
    owner_account_id: operator.id,
    name: 'Standard',
    recurring_fee: 150,
  });
  return { operator, admin, provider, vendorBatch, group, batch };
}

const actions = async () =>
  (await t.db.selectFrom('audit_events').select(['action', 'before', 'after']).orderBy('id').execute()).map(
    (a) => [a.action, a.before, a.after],
  );

describe('editing the catalog', () => {
  it('updates each kind of row and audits what changed', async () => {
    const w = await world();
    expect(
      await updateProvider(w.admin, w.provider.id, { name: 'NorthStar Telecom', description: 'Tier 1' }),
    ).toMatchObject({
      name: 'NorthStar Telecom',
      description: 'Tier 1',
    });
    expect(
      await updateVendorBatch(w.admin, w.vendorBatch.id, { name: 'NS-1', activationCost: '0.75' }),
    ).toMatchObject({
      activation_cost: 75,
      recurring_cost: 0,
    });
    expect(
      await updateGroup(w.admin, w.group.id, { name: 'US Local', description: 'Geographic' }),
    ).toMatchObject({
      description: 'Geographic',
    });
    expect(
      await updatePricingBatch(w.admin, w.batch.id, {
        name: 'Standard',
        recurringFee: '1.99',
        billingPeriod: 'yearly',
      }),
    ).toMatchObject({ recurring_fee: 199, billing_period: 'yearly' });
    expect(await actions()).toEqual([
      [
        'provider.update',
        { name: 'NorthStar', description: '' },
        { name: 'NorthStar Telecom', description: 'Tier 1' },
      ],
      ['vendor_batch.update', { activation_cost: 50 }, { activation_cost: 75 }],
      ['group.update', { description: '' }, { description: 'Geographic' }],
      [
        'pricing_batch.update',
        { recurring_fee: 150, billing_period: 'monthly' },
        { recurring_fee: 199, billing_period: 'yearly' },
      ],
    ]);
  });

  it('refuses a name taken by another row, bad money, a currency the batch’s numbers cannot change to, and operators', async () => {
    const w = await world();
    await buildProvider(t.db, { name: 'Atlantic' });
    expect((await errorOf(updateProvider(w.admin, w.provider.id, { name: 'atlantic' }))).message).toBe(
      'A provider named "atlantic" already exists.',
    );
    const money = await errorOf(
      updateVendorBatch(w.admin, w.vendorBatch.id, { name: 'NS-1', recurringCost: '1.234' }),
    );
    expect(money).toMatchObject({ code: 'invalid', field: 'recurring_cost' });
    await buildDid(t.db, { pricing_batch_id: w.batch.id });
    const currency = await errorOf(
      updatePricingBatch(w.admin, w.batch.id, { name: 'Standard', currency: 'EUR' }),
    );
    expect(currency.message).toBe(
      'The pricing batch "Standard" has 1 number priced in USD; its currency cannot change.',
    );
    const operatorRole = ctxFor(t.db, actorOf(w.operator, 'operator'));
    expect((await errorOf(updateGroup(operatorRole, w.group.id, { name: 'x' }))).code).toBe('forbidden');
    expect((await errorOf(updateGroup(w.admin, 999_999, { name: 'x' }))).code).toBe('not_found');
  });
});

describe('deleting from the catalog', () => {
  it('refuses what is in use, saying how many use it, and deletes it once free', async () => {
    const w = await world();
    const did = await buildDid(t.db, {
      provider_id: w.provider.id,
      vendor_batch_id: w.vendorBatch.id,
      group_id: w.group.id,
      pricing_batch_id: w.batch.id,
    });
    await buildDid(t.db, { pricing_batch_id: w.batch.id });
    const reseller = await buildAccount(t.db, w.operator, { kind: 'reseller', slug: 'voipco' });
    await t.db
      .insertInto('reseller_prices')
      .values({ reseller_account_id: reseller.id, pricing_batch_id: w.batch.id })
      .execute();

    expect((await errorOf(deletePricingBatch(w.admin, w.batch.id))).message).toBe(
      'The pricing batch "Standard" is in use by 2 numbers and 1 reseller\'s price rule, so it was not deleted.',
    );
    expect((await errorOf(deleteGroup(w.admin, w.group.id))).message).toBe(
      'The DID group "US Local" is in use by 1 number, so it was not deleted.',
    );
    expect((await errorOf(deleteVendorBatch(w.admin, w.vendorBatch.id))).code).toBe('conflict');
    expect((await errorOf(deleteProvider(w.admin, w.provider.id))).message).toBe(
      'The provider "NorthStar" is in use by 1 vendor batch and 1 number, so it was not deleted.',
    );
    const overview = await catalogOverview(w.admin);
    expect(overview.pricingBatches[0]).toMatchObject({ numbers: 2, resellerRules: 1 });
    expect(overview.providers[0]).toMatchObject({ numbers: 1, vendorBatches: 1 });

    await t.db.deleteFrom('reseller_prices').execute();
    await t.db
      .updateTable('dids')
      .set({ provider_id: null, vendor_batch_id: null, group_id: null, pricing_batch_id: null })
      .execute();
    await deletePricingBatch(w.admin, w.batch.id);
    await deleteGroup(w.admin, w.group.id);
    await deleteVendorBatch(w.admin, w.vendorBatch.id);
    await deleteProvider(w.admin, w.provider.id);
    expect((await actions()).map((a) => a[0])).toEqual([
      'pricing_batch.delete',
      'group.delete',
      'vendor_batch.delete',
      'provider.delete',
    ]);
    void did;
  });
});
