import { describe, expect, it } from 'vitest';
import {
  billingTerms,
  checkCurrency,
  createGroup,
  createPricingBatch,
  createProvider,
  createVendorBatch,
  listCatalog,
  resolveNamed,
} from '../../../core/catalog/catalog.ts';
import { DomainError } from '../../../core/shared/errors.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { actorOf, buildAccount, buildOperator, ctxFor } from '../../helpers/factories.ts';
import { errorOf, syncErrorOf } from '../../helpers/errors.ts';

const t = useTestDatabase();

async function world() {
  const operator = await buildOperator(t.db);
  const reseller = await buildAccount(t.db, operator, { kind: 'reseller', slug: 'voipco' });
  const subReseller = await buildAccount(t.db, reseller, { kind: 'reseller', slug: 'voipco-east' });
  const bakery = await buildAccount(t.db, reseller, { slug: 'bakery' });
  const otherReseller = await buildAccount(t.db, operator, { kind: 'reseller', slug: 'globaltel' });
  const admin = ctxFor(t.db, actorOf(operator, 'admin'));
  return { operator, reseller, subReseller, bakery, otherReseller, admin };
}
type CatalogTable = 'providers' | 'vendor_batches' | 'did_groups' | 'pricing_batches' | 'audit_events';
async function count(table: CatalogTable): Promise<number> {
  const row = await t.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('providers, vendor batches and groups', () => {
  it('creates each, trimmed, with an audit event', async () => {
    const w = await world();
    const provider = await createProvider(w.admin, { name: '  NorthStar ', description: ' Tier-1 carrier ' });
    expect(provider).toMatchObject({ name: 'NorthStar', description: 'Tier-1 carrier' });
    const batch = await createVendorBatch(w.admin, {
      provider: 'northstar',
      name: 'NS-2026-01',
      activationCost: '0.25',
      recurringCost: '1.10',
      currency: 'usd',
    });
    expect(batch).toMatchObject({
      provider_id: provider.id,
      name: 'NS-2026-01',
      activation_cost: 25,
      recurring_cost: 110,
      currency: 'USD',
    });
    const byId = await createVendorBatch(w.admin, { provider: provider.id, name: 'NS-2026-02' });
    expect(byId).toMatchObject({
      provider_id: provider.id,
      activation_cost: 0,
      recurring_cost: 0,
      currency: 'USD',
    });
    const group = await createGroup(w.admin, { name: 'Toll Free' });
    expect(group).toMatchObject({ name: 'Toll Free', description: '' });

    const audit = await t.db.selectFrom('audit_events').selectAll().orderBy('id').execute();
    expect(audit.map((a) => [a.action, a.subject, a.actor_account_id])).toEqual([
      ['provider.create', 'NorthStar', w.operator.id],
      ['vendor_batch.create', 'NS-2026-01', w.operator.id],
      ['vendor_batch.create', 'NS-2026-02', w.operator.id],
      ['group.create', 'Toll Free', w.operator.id],
    ]);
    expect(audit[1]!.after).toMatchObject({ activation_cost: 25, recurring_cost: 110 });
  });

  it('duplicates in any case are conflicts, and nothing is added', async () => {
    const w = await world();
    await createProvider(w.admin, { name: 'NorthStar' });
    await createVendorBatch(w.admin, { provider: 'NorthStar', name: 'NS-2026-01' });
    await createGroup(w.admin, { name: 'Toll Free' });

    const provider = await errorOf(createProvider(w.admin, { name: 'northSTAR' }));
    expect(provider.code).toBe('conflict');
    expect(provider.message).toBe('A provider named "northSTAR" already exists.');
    expect(provider.field).toBe('name');
    expect(
      (await errorOf(createVendorBatch(w.admin, { provider: 'NorthStar', name: 'ns-2026-01' }))).code,
    ).toBe('conflict');
    expect((await errorOf(createGroup(w.admin, { name: ' TOLL FREE ' }))).code).toBe('conflict');

    expect(await count('providers')).toBe(1);
    expect(await count('vendor_batches')).toBe(1);
    expect(await count('did_groups')).toBe(1);
    expect(await count('audit_events')).toBe(3);
  });

  it('refuses empty or long names, unknown providers, bad currencies and negative costs', async () => {
    const w = await world();
    await createProvider(w.admin, { name: 'NorthStar' });
    expect((await errorOf(createProvider(w.admin, { name: '   ' }))).field).toBe('name');
    expect((await errorOf(createGroup(w.admin, { name: 'x'.repeat(101) }))).field).toBe('name');
    const unknown = await errorOf(createVendorBatch(w.admin, { provider: 'NorthStr', name: 'B1' }));
    expect(unknown.code).toBe('not_found');
    expect(unknown.message).toBe('No provider "NorthStr". Did you mean NorthStar?');
    const currency = await errorOf(
      createVendorBatch(w.admin, { provider: 'NorthStar', name: 'B1', currency: 'ZZZ' }),
    );
    expect(currency.code).toBe('invalid');
    expect(currency.field).toBe('currency');
    expect(
      (
        await errorOf(
          createVendorBatch(w.admin, { provider: 'NorthStar', name: 'B1', activationCost: '-0.10' }),
        )
      ).code,
    ).toBe('invalid');
    expect(
      (
        await errorOf(
          createVendorBatch(w.admin, { provider: 'NorthStar', name: 'B1', recurringCost: '1.005' }),
        )
      ).code,
    ).toBe('invalid');
    expect(await count('vendor_batches')).toBe(0);
    expect(await count('did_groups')).toBe(0);
    expect(await count('audit_events')).toBe(1);
  });

  it('operator viewers and operators cannot change the catalog', async () => {
    const w = await world();
    for (const role of ['viewer', 'operator'] as const) {
      const ctx = ctxFor(t.db, actorOf(w.operator, role));
      expect((await errorOf(createProvider(ctx, { name: 'NorthStar' }))).code).toBe('forbidden');
      expect((await errorOf(createGroup(ctx, { name: 'Toll Free' }))).code).toBe('forbidden');
      expect((await errorOf(createPricingBatch(ctx, { name: 'Retail' }))).code).toBe('forbidden');
    }
    expect(await count('providers')).toBe(0);
    expect(await count('pricing_batches')).toBe(0);
  });

  it('a reseller admin cannot add providers, vendor batches or DID groups, only its own pricing batches', async () => {
    const w = await world();
    await createProvider(w.admin, { name: 'NorthStar' });
    const resellerAdmin = ctxFor(t.db, actorOf(w.reseller, 'admin'));
    const before = await count('audit_events');
    for (const attempt of [
      createProvider(resellerAdmin, { name: 'Toll Free' }),
      createVendorBatch(resellerAdmin, { provider: 'NorthStar', name: 'Q1' }),
      createGroup(resellerAdmin, { name: 'Toll Free' }),
    ]) {
      const error = await errorOf(attempt);
      expect(error.code).toBe('forbidden');
      expect(error.message).toMatch(/^Only the operator's staff can add/);
    }
    expect(await count('providers')).toBe(1);
    expect(await count('did_groups')).toBe(0);
    expect(await count('audit_events')).toBe(before);
    const own = await createPricingBatch(resellerAdmin, { name: 'VoipCo Retail', recurringFee: '4.00' });
    expect(own.owner_account_id).toBe(w.reseller.id);
  });

  it('concurrent creates of one name, in any case: one wins, the others get a conflict', async () => {
    const w = await world();
    const names = ['NorthStar', 'northstar', 'NORTHSTAR', 'NorthStar', 'northStar'];
    const outcomes = await Promise.allSettled(
      names.map((name) => createProvider(ctxFor(t.db, actorOf(w.operator, 'admin')), { name })),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const loser of outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')) {
      expect(loser.reason).toBeInstanceOf(DomainError);
      expect((loser.reason as DomainError).code).toBe('conflict');
    }
    expect(await count('providers')).toBe(1);
  });

  it("does not show one reseller's pricing batches to another", async () => {
    const w = await world();
    await createPricingBatch(ctxFor(t.db, actorOf(w.otherReseller, 'admin')), {
      name: 'Globaltel Secret Rates',
    });
    await createPricingBatch(w.admin, { name: 'Wholesale' });
    const voipco = ctxFor(t.db, actorOf(w.reseller, 'admin'));
    expect(await resolveNamed(voipco, 'pricing_batches', 'wholesale')).toBeGreaterThan(0);
    const hidden = await errorOf(resolveNamed(voipco, 'pricing_batches', 'Globaltel Secret Rate'));
    expect(hidden.code).toBe('not_found');
    expect(hidden.message).toBe('No pricing batch "Globaltel Secret Rate".');
    expect(hidden.help).toBe('Known: Wholesale.');
  });
});

describe('pricing batches', () => {
  it('creates an operator batch with fees from decimal text and explicit billing terms', async () => {
    const w = await world();
    const batch = await createPricingBatch(w.admin, {
      name: 'Retail',
      setupFee: '1.00',
      recurringFee: '2.50',
      billingType: 'recurring',
      billingPeriod: 'days',
      billingDays: 28,
    });
    expect(batch).toMatchObject({
      owner_account_id: w.operator.id,
      name: 'Retail',
      setup_fee: 100,
      recurring_fee: 250,
      currency: 'USD',
      billing_type: 'recurring',
      billing_period: 'days',
      billing_days: 28,
    });
    const audit = await t.db.selectFrom('audit_events').selectAll().execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'pricing_batch.create', subject: 'Retail' });
  });

  it('defaults: free, recurring monthly; billing days alone imply the days period; one-time accepted with a dash', async () => {
    const w = await world();
    expect(await createPricingBatch(w.admin, { name: 'Free' })).toMatchObject({
      setup_fee: 0,
      recurring_fee: 0,
      billing_type: 'recurring',
      billing_period: 'monthly',
      billing_days: 30,
    });
    expect(await createPricingBatch(w.admin, { name: 'Every 90', billingDays: 90 })).toMatchObject({
      billing_period: 'days',
      billing_days: 90,
    });
    expect(
      await createPricingBatch(w.admin, { name: 'Once', billingType: 'One-Time', setupFee: '10' }),
    ).toMatchObject({ billing_type: 'one_time', setup_fee: 1000 });
    expect(
      await createPricingBatch(w.admin, { name: 'Yen', currency: 'jpy', recurringFee: '500' }),
    ).toMatchObject({ currency: 'JPY', recurring_fee: 500 });
  });

  it('refuses bad billing terms, currencies and fees, naming the field; nothing is created', async () => {
    const w = await world();
    const type = await errorOf(createPricingBatch(w.admin, { name: 'B', billingType: 'weekly' }));
    expect(type.code).toBe('invalid');
    expect(type.field).toBe('billing_type');
    expect(type.message).toBe('"weekly" is not a billing type.');
    expect(
      (await errorOf(createPricingBatch(w.admin, { name: 'B', billingPeriod: 'fortnightly' }))).field,
    ).toBe('billing_period');
    for (const days of [0, 3661, 1.5, -30]) {
      expect((await errorOf(createPricingBatch(w.admin, { name: 'B', billingDays: days }))).field).toBe(
        'billing_days',
      );
    }
    expect((await errorOf(createPricingBatch(w.admin, { name: 'B', currency: 'EURO' }))).field).toBe(
      'currency',
    );
    expect(
      (await errorOf(createPricingBatch(w.admin, { name: 'B', currency: 'JPY', setupFee: '1.5' }))).code,
    ).toBe('invalid');
    expect(
      (await errorOf(createPricingBatch(w.admin, { name: 'B', recurringFee: '-2.00' }))).message,
    ).toContain('cannot be negative');
    expect(await count('pricing_batches')).toBe(0);
    expect(await count('audit_events')).toBe(0);
  });

  it('a duplicate name in any case is a conflict', async () => {
    const w = await world();
    await createPricingBatch(w.admin, { name: 'Retail', recurringFee: '2.00' });
    const error = await errorOf(createPricingBatch(w.admin, { name: 'RETAIL', recurringFee: '9.00' }));
    expect(error.code).toBe('conflict');
    expect(await count('pricing_batches')).toBe(1);
    expect(
      (await t.db.selectFrom('pricing_batches').select('recurring_fee').executeTakeFirstOrThrow())
        .recurring_fee,
    ).toBe(200);
  });

  it('a reseller admin creates a batch owned by itself or by an account below it, never above or beside', async () => {
    const w = await world();
    const voipco = ctxFor(t.db, actorOf(w.reseller, 'admin'));
    const own = await createPricingBatch(voipco, {
      name: 'Voipco Retail',
      setupFee: '3.00',
      recurringFee: '4.00',
    });
    expect(own).toMatchObject({ owner_account_id: w.reseller.id, setup_fee: 300, recurring_fee: 400 });
    const audit = await t.db.selectFrom('audit_events').selectAll().executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ action: 'pricing_batch.create', actor_account_id: w.reseller.id });
    const sub = await createPricingBatch(voipco, { name: 'East Retail', owner: 'voipco-east' });
    expect(sub.owner_account_id).toBe(w.subReseller.id);

    expect((await errorOf(createPricingBatch(voipco, { name: 'Sneaky', owner: 'operator' }))).code).toBe(
      'not_found',
    );
    expect((await errorOf(createPricingBatch(voipco, { name: 'Sneaky', owner: 'globaltel' }))).code).toBe(
      'not_found',
    );
    const customer = await errorOf(createPricingBatch(voipco, { name: 'Sneaky', owner: 'bakery' }));
    expect(customer.code).toBe('invalid');
    expect(customer.message).toBe('Pricing batches belong to the operator or a reseller, not a customer.');
    expect(await count('pricing_batches')).toBe(2);
  });

  it('a reseller operator or viewer, and any customer, may not create batches', async () => {
    const w = await world();
    for (const actor of [
      actorOf(w.reseller, 'operator'),
      actorOf(w.reseller, 'viewer'),
      actorOf(w.bakery, 'owner'),
    ]) {
      const error = await errorOf(createPricingBatch(ctxFor(t.db, actor), { name: 'Nope' }));
      expect(error.code).toBe('forbidden');
    }
    expect(await count('pricing_batches')).toBe(0);
  });

  it("listCatalog shows a reseller its own subtree's batches, not the operator's or another reseller's", async () => {
    const w = await world();
    await createPricingBatch(w.admin, { name: 'Operator Retail' });
    await createPricingBatch(ctxFor(t.db, actorOf(w.reseller, 'admin')), { name: 'Voipco Retail' });
    await createPricingBatch(ctxFor(t.db, actorOf(w.subReseller, 'admin')), { name: 'East Retail' });
    await createPricingBatch(ctxFor(t.db, actorOf(w.otherReseller, 'admin')), { name: 'Globaltel Gold' });
    const voipco = await listCatalog(ctxFor(t.db, actorOf(w.reseller, 'viewer')));
    expect(voipco.pricingBatches.map((b) => [b.name, b.owner_slug])).toEqual([
      ['East Retail', 'voipco-east'],
      ['Voipco Retail', 'voipco'],
    ]);
    const operator = await listCatalog(ctxFor(t.db, actorOf(w.operator, 'viewer')));
    expect(operator.pricingBatches.map((b) => b.name)).toEqual([
      'East Retail',
      'Globaltel Gold',
      'Operator Retail',
      'Voipco Retail',
    ]);
  });
});

describe('billingTerms and checkCurrency', () => {
  it('validates and normalizes', () => {
    expect(billingTerms()).toEqual({ billingType: 'recurring', billingPeriod: 'monthly', billingDays: 30 });
    expect(billingTerms(undefined, 'days', 7)).toEqual({
      billingType: 'recurring',
      billingPeriod: 'days',
      billingDays: 7,
    });
    expect(billingTerms('one_time', 'YEARLY')).toEqual({
      billingType: 'one_time',
      billingPeriod: 'yearly',
      billingDays: 30,
    });
    expect(syncErrorOf(() => billingTerms('monthly')).field).toBe('billing_type');
    expect(syncErrorOf(() => billingTerms('recurring', 'days', 0)).field).toBe('billing_days');
    expect(checkCurrency(' gbp ')).toBe('GBP');
    expect(checkCurrency(undefined)).toBe('USD');
    expect(syncErrorOf(() => checkCurrency('US')).field).toBe('currency');
    expect(syncErrorOf(() => checkCurrency('QQQ')).code).toBe('invalid');
  });
});

describe('resolveNamed', () => {
  it('resolves a name in any case or an id, and suggests on a typo', async () => {
    const w = await world();
    const northstar = await createProvider(w.admin, { name: 'NorthStar' });
    const bluewave = await createProvider(w.admin, { name: 'BlueWave' });
    const tollFree = await createGroup(w.admin, { name: 'Toll Free' });
    expect(await resolveNamed(w.admin, 'providers', 'northstar')).toBe(northstar.id);
    expect(await resolveNamed(w.admin, 'providers', ' BlueWave ')).toBe(bluewave.id);
    expect(await resolveNamed(w.admin, 'providers', bluewave.id)).toBe(bluewave.id);
    expect(await resolveNamed(w.admin, 'did_groups', String(tollFree.id))).toBe(tollFree.id);

    const typo = await errorOf(resolveNamed(w.admin, 'providers', 'Bluewav'));
    expect(typo.code).toBe('not_found');
    expect(typo.message).toBe('No provider "Bluewav". Did you mean BlueWave?');
    expect(typo.help).toBe('Known: NorthStar, BlueWave.');
    expect(typo.field).toBe('provider');
    const group = await errorOf(resolveNamed(w.admin, 'did_groups', 'Toll'));
    expect(group.message).toBe('No DID group "Toll". Did you mean Toll Free?');
    expect(group.field).toBe('group');
    expect((await errorOf(resolveNamed(w.admin, 'providers', 999))).code).toBe('not_found');
  });

  it('with nothing to choose from, tells how to create one', async () => {
    const w = await world();
    const error = await errorOf(resolveNamed(w.admin, 'pricing_batches', 'Retail'));
    expect(error.message).toBe('No pricing batch "Retail".');
    expect(error.help).toBe('Create one with `batch create "<name>" setup=1.00 monthly=2.00`.');
    expect(error.field).toBe('pricing_batch');
  });
});
