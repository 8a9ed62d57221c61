import { describe, expect, it } from 'vitest';
import { searchDids, type DidFilter, type SearchOptions } from '../../../core/inventory/search-dids.ts';
import type { Ctx } from '../../../core/context.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import {
  actorOf,
  buildDid,
  buildGroup,
  buildHierarchy,
  buildPricingBatch,
  buildProvider,
  buildVendorBatch,
  ctxFor,
} from '../../helpers/factories.ts';
import { errorOf } from '../../helpers/errors.ts';

const t = useTestDatabase();

const world = () => buildHierarchy(t.db);

/** The numbers one page of a search returns, in order. */
async function numbers(ctx: Ctx, filter: DidFilter, options: SearchOptions = {}): Promise<string[]> {
  const page = await searchDids(ctx, filter, { limit: 1000, ...options });
  return page.items.map((d) => d.number);
}

/** Follows nextCursor to the end; returns every page's numbers. */
async function allPages(ctx: Ctx, filter: DidFilter, options: SearchOptions): Promise<string[][]> {
  const pages: string[][] = [];
  let after: string | undefined;
  for (let guard = 0; guard < 100; guard++) {
    const page = await searchDids(ctx, filter, { ...options, ...(after ? { after } : {}) });
    pages.push(page.items.map((d) => d.number));
    if (page.nextCursor === null) return pages;
    after = page.nextCursor;
  }
  throw new Error('pagination did not end');
}

describe('vanity and prefix patterns', () => {
  it('1800%VOIP finds 1800 numbers with 8647 further on, and nothing else', async () => {
    const w = await world();
    for (const number of ['+18008647000', '+18001238647', '+18668647000', '+18001234567', '+12128647123']) {
      await buildDid(t.db, { number });
    }
    expect(await numbers(w.staff, { pattern: '1800%VOIP' })).toEqual(['+18001238647', '+18008647000']);
  });

  it('VOIP alone matches 8647 anywhere in the number', async () => {
    const w = await world();
    for (const number of ['+18008647000', '+18668647000', '+12128647123', '+18001234567', '+12125550100']) {
      await buildDid(t.db, { number });
    }
    expect(await numbers(w.staff, { pattern: 'VOIP' })).toEqual([
      '+12128647123',
      '+18008647000',
      '+18668647000',
    ]);
    expect(await numbers(w.staff, { pattern: 'voip' })).toEqual([
      '+12128647123',
      '+18008647000',
      '+18668647000',
    ]);
  });

  it('a digit prefix is anchored at the start: 1866 does not find 866 later in the number', async () => {
    const w = await world();
    for (const number of ['+18665550100', '+18665550101', '+12128660000', '+18005551866', '+18775550100']) {
      await buildDid(t.db, { number });
    }
    expect(await numbers(w.staff, { pattern: '1866' })).toEqual(['+18665550100', '+18665550101']);
    expect(await numbers(w.staff, { pattern: '+1 (866)' })).toEqual(['+18665550100', '+18665550101']);
  });

  it('refuses a pattern that is not a number pattern', async () => {
    const w = await world();
    const error = await errorOf(searchDids(w.staff, { pattern: '1866!!' }));
    expect(error.code).toBe('invalid');
    expect(error.message).toContain('is not a number pattern');
  });
});

describe('filters', () => {
  async function catalog(ownerId: number) {
    const northstar = await buildProvider(t.db, { name: 'NorthStar' });
    const bluewave = await buildProvider(t.db, { name: 'BlueWave' });
    const batchA = await buildVendorBatch(t.db, {
      provider_id: northstar.id,
      name: 'NS-2026-01',
      activation_cost: 10,
      recurring_cost: 20,
    });
    const batchB = await buildVendorBatch(t.db, {
      provider_id: bluewave.id,
      name: 'BW-2026-02',
      activation_cost: 10,
      recurring_cost: 20,
    });
    const tollFree = await buildGroup(t.db, { name: 'Toll Free' });
    const newYork = await buildGroup(t.db, { name: 'New York' });
    const retail = await buildPricingBatch(t.db, {
      owner_account_id: ownerId,
      name: 'Retail',
      setup_fee: 100,
      recurring_fee: 200,
    });
    const wholesale = await buildPricingBatch(t.db, {
      owner_account_id: ownerId,
      name: 'Wholesale',
      setup_fee: 0,
      recurring_fee: 50,
    });
    return { northstar, bluewave, batchA, batchB, tollFree, newYork, retail, wholesale };
  }

  it('country, area code, city, province and number type', async () => {
    const w = await world();
    await buildDid(t.db, { number: '+12125550001', area_code: '212', city: 'New York', province: 'NY' });
    await buildDid(t.db, { number: '+13125550002', area_code: '312', city: 'Chicago', province: 'IL' });
    await buildDid(t.db, {
      number: '+18665550003',
      area_code: '866',
      city: '',
      province: '',
      number_type: 'toll_free',
    });
    await buildDid(t.db, {
      number: '+442079460004',
      country: 'GB',
      area_code: '20',
      city: 'London',
      province: 'England',
    });

    expect(await numbers(w.staff, { country: 'gb' })).toEqual(['+442079460004']);
    expect(await numbers(w.staff, { country: 'US' })).toEqual([
      '+12125550001',
      '+13125550002',
      '+18665550003',
    ]);
    expect(await numbers(w.staff, { areaCode: '312' })).toEqual(['+13125550002']);
    expect(await numbers(w.staff, { city: 'New York' })).toEqual(['+12125550001']);
    expect(await numbers(w.staff, { province: 'IL' })).toEqual(['+13125550002']);
    expect(await numbers(w.staff, { numberType: 'toll-free' })).toEqual(['+18665550003']);
    expect(await numbers(w.staff, { country: 'US', city: 'Chicago' })).toEqual(['+13125550002']);
    expect(await numbers(w.staff, { country: 'US', city: 'London' })).toEqual([]);
  });

  it('group, provider, vendor batch and pricing batch by name (any case) or id; pricing batch none = unallocated', async () => {
    const w = await world();
    const c = await catalog(w.operator.id);
    await buildDid(t.db, {
      number: '+18005550001',
      group_id: c.tollFree.id,
      provider_id: c.northstar.id,
      vendor_batch_id: c.batchA.id,
      pricing_batch_id: c.retail.id,
    });
    await buildDid(t.db, {
      number: '+12125550002',
      group_id: c.newYork.id,
      provider_id: c.bluewave.id,
      vendor_batch_id: c.batchB.id,
      pricing_batch_id: c.wholesale.id,
    });
    await buildDid(t.db, {
      number: '+12125550003',
      group_id: c.newYork.id,
      provider_id: c.northstar.id,
      vendor_batch_id: c.batchA.id,
      pricing_batch_id: null,
    });

    expect(await numbers(w.staff, { group: 'Toll Free' })).toEqual(['+18005550001']);
    expect(await numbers(w.staff, { group: 'new york' })).toEqual(['+12125550002', '+12125550003']);
    expect(await numbers(w.staff, { group: String(c.tollFree.id) })).toEqual(['+18005550001']);
    expect(await numbers(w.staff, { provider: 'NorthStar' })).toEqual(['+12125550003', '+18005550001']);
    expect(await numbers(w.staff, { provider: 'bluewave' })).toEqual(['+12125550002']);
    expect(await numbers(w.staff, { vendorBatch: 'NS-2026-01' })).toEqual(['+12125550003', '+18005550001']);
    expect(await numbers(w.staff, { vendorBatch: 'BW-2026-02' })).toEqual(['+12125550002']);
    expect(await numbers(w.staff, { pricingBatch: 'Retail' })).toEqual(['+18005550001']);
    expect(await numbers(w.staff, { pricingBatch: 'wholesale' })).toEqual(['+12125550002']);
    expect(await numbers(w.staff, { pricingBatch: 'none' })).toEqual(['+12125550003']);
    expect(await numbers(w.staff, { pricingBatch: 'NONE', vendorBatch: 'NS-2026-01' })).toEqual([
      '+12125550003',
    ]);
    expect(await numbers(w.staff, { group: 'New York', provider: 'NorthStar' })).toEqual(['+12125550003']);
  });

  it('an unknown group, provider or batch name is not_found with a suggestion', async () => {
    const w = await world();
    await catalog(w.operator.id);
    const group = await errorOf(searchDids(w.staff, { group: 'Toll Fre' }));
    expect(group.code).toBe('not_found');
    expect(group.message).toBe('No DID group "Toll Fre". Did you mean Toll Free?');
    const provider = await errorOf(searchDids(w.staff, { provider: 'Northstr' }));
    expect(provider.code).toBe('not_found');
    expect(provider.message).toContain('Did you mean NorthStar?');
    const batch = await errorOf(searchDids(w.staff, { pricingBatch: 'Retial' }));
    expect(batch.code).toBe('not_found');
    expect(batch.message).toContain('Did you mean Retail?');
    const vendor = await errorOf(searchDids(w.staff, { vendorBatch: 'XX-1999' }));
    expect(vendor.code).toBe('not_found');
    expect(vendor.message).toContain('No vendor batch "XX-1999"');
  });

  it('status, one or a comma list', async () => {
    const w = await world();
    await buildDid(t.db, { number: '+12125550001' });
    await buildDid(t.db, { number: '+12125550002', status: 'disabled' });
    await buildDid(t.db, { number: '+12125550003', status: 'assigned', assigned_account_id: w.acme.id });
    await buildDid(t.db, {
      number: '+12125550004',
      status: 'aging',
      aging_until: new Date('2026-03-20T00:00:00Z'),
    });

    expect(await numbers(w.staff, { status: 'available' })).toEqual(['+12125550001']);
    expect(await numbers(w.staff, { status: 'Disabled' })).toEqual(['+12125550002']);
    expect(await numbers(w.staff, { status: 'assigned, aging' })).toEqual(['+12125550003', '+12125550004']);
    expect(await numbers(w.staff, { status: ['available', 'disabled'] })).toEqual([
      '+12125550001',
      '+12125550002',
    ]);
    expect(await numbers(w.staff, { status: 'reserved' })).toEqual([]);
  });

  it('account: numbers the account holds as reseller or uses as customer', async () => {
    const w = await world();
    await buildDid(t.db, { number: '+12125550001', status: 'assigned', owner_account_id: w.reseller.id });
    await buildDid(t.db, {
      number: '+12125550002',
      status: 'assigned',
      owner_account_id: w.reseller.id,
      assigned_account_id: w.bakery.id,
    });
    await buildDid(t.db, { number: '+12125550003', status: 'assigned', assigned_account_id: w.acme.id });
    await buildDid(t.db, { number: '+12125550004' });

    expect(await numbers(w.staff, { account: 'voipco' })).toEqual(['+12125550001', '+12125550002']);
    expect(await numbers(w.staff, { account: 'bakery' })).toEqual(['+12125550002']);
    expect(await numbers(w.staff, { account: w.acme.id })).toEqual(['+12125550003']);
    const typo = await errorOf(searchDids(w.staff, { account: 'acmee' }));
    expect(typo.code).toBe('not_found');
    expect(typo.message).toContain('Did you mean acme?');
  });

  it('price range on the recurring fee, given as decimal text, bounds included', async () => {
    const w = await world();
    await buildDid(t.db, { number: '+12125550001', recurring_fee: 50 });
    await buildDid(t.db, { number: '+12125550002', recurring_fee: 100 });
    await buildDid(t.db, { number: '+12125550003', recurring_fee: 250 });
    await buildDid(t.db, { number: '+12125550004', recurring_fee: 300 });
    await buildDid(t.db, { number: '+12125550005', recurring_fee: 0 });

    expect(await numbers(w.staff, { minRecurringFee: '1.00' })).toEqual([
      '+12125550002',
      '+12125550003',
      '+12125550004',
    ]);
    expect(await numbers(w.staff, { maxRecurringFee: '1' })).toEqual([
      '+12125550001',
      '+12125550002',
      '+12125550005',
    ]);
    expect(await numbers(w.staff, { minRecurringFee: '1.00', maxRecurringFee: '2.50' })).toEqual([
      '+12125550002',
      '+12125550003',
    ]);
    expect(await numbers(w.staff, { maxRecurringFee: '0' })).toEqual(['+12125550005']);
    const bad = await errorOf(searchDids(w.staff, { minRecurringFee: 'cheap' }));
    expect(bad.code).toBe('invalid');
    const negative = await errorOf(searchDids(w.staff, { maxRecurringFee: '-1' }));
    expect(negative.code).toBe('invalid');
  });

  it('bad status, country, number type or area code is invalid', async () => {
    const w = await world();
    const status = await errorOf(searchDids(w.staff, { status: 'available,sold' }));
    expect(status.code).toBe('invalid');
    expect(status.message).toBe('status=sold is not a number status.');
    const country = await errorOf(searchDids(w.staff, { country: 'USA' }));
    expect(country.code).toBe('invalid');
    expect(country.message).toContain('not a two-letter country code');
    expect((await errorOf(searchDids(w.staff, { numberType: 'premium' }))).code).toBe('invalid');
    expect((await errorOf(searchDids(w.staff, { areaCode: '2x2' }))).code).toBe('invalid');
  });
});

describe('keyset pagination', () => {
  it('25 numbers by 10: pages of 10, 10 and 5, in number order, no duplicates or gaps', async () => {
    const w = await world();
    const all: string[] = [];
    // Inserted out of order so the order comes from the sort, not from insertion.
    for (const i of [...Array(25).keys()].reverse()) {
      const number = `+1212555${String(1000 + i * 7).padStart(4, '0')}`;
      await buildDid(t.db, { number });
      all.push(number);
    }
    const first = await searchDids(w.staff, {}, { limit: 10 });
    expect(first.items).toHaveLength(10);
    expect(first.nextCursor).not.toBeNull();
    const pages = await allPages(w.staff, {}, { limit: 10 });
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    const flat = pages.flat();
    expect(new Set(flat).size).toBe(25);
    expect(flat).toEqual([...all].sort());
    expect(flat[0]).toBe('+12125551000');
    expect(flat[24]).toBe('+12125551168');
  });

  it('an exact multiple of the limit ends with a null cursor, not an empty page', async () => {
    const w = await world();
    for (let i = 0; i < 20; i++) await buildDid(t.db, { number: `+1212555${1000 + i}` });
    const pages = await allPages(w.staff, {}, { limit: 10 });
    expect(pages.map((p) => p.length)).toEqual([10, 10]);
  });

  it('number order descending pages backwards through the same set', async () => {
    const w = await world();
    for (let i = 0; i < 12; i++) await buildDid(t.db, { number: `+1212555${1000 + i}` });
    const flat = (await allPages(w.staff, {}, { limit: 5, order: 'desc' })).flat();
    expect(flat).toHaveLength(12);
    expect(flat[0]).toBe('+12125551011');
    expect(flat).toEqual([...flat].sort().reverse());
  });

  it('by recurring fee, ascending and descending, ties broken by number; paging yields the full ordered list', async () => {
    const w = await world();
    const rows: { number: string; fee: number }[] = [];
    const fees = [300, 100, 200, 100, 0, 300, 200, 100, 50, 300, 100, 0, 200];
    for (const [i, fee] of fees.entries()) {
      const number = `+1212555${2000 + ((i * 5) % 13)}`;
      await buildDid(t.db, { number, recurring_fee: fee });
      rows.push({ number, fee });
    }
    const asc = [...rows]
      .sort((a, b) => a.fee - b.fee || (a.number < b.number ? -1 : 1))
      .map((r) => r.number);
    const desc = [...rows]
      .sort((a, b) => b.fee - a.fee || (a.number < b.number ? 1 : -1))
      .map((r) => r.number);

    const ascPages = await allPages(w.staff, {}, { sort: 'recurring_fee', limit: 4 });
    expect(ascPages.map((p) => p.length)).toEqual([4, 4, 4, 1]);
    expect(ascPages.flat()).toEqual(asc);
    const descPages = await allPages(w.staff, {}, { sort: 'recurring_fee', order: 'desc', limit: 4 });
    expect(descPages.flat()).toEqual(desc);
    // The cheap end and the dear end are what a buyer sees first.
    expect(
      (await searchDids(w.staff, {}, { sort: 'recurring_fee', limit: 2 })).items.map((d) => d.recurring_fee),
    ).toEqual([0, 0]);
    expect(
      (await searchDids(w.staff, {}, { sort: 'recurring_fee', order: 'desc', limit: 1 })).items[0]
        ?.recurring_fee,
    ).toBe(300);
  });

  it('by updated_at, paging yields every number exactly once', async () => {
    const w = await world();
    for (let i = 0; i < 12; i++) await buildDid(t.db, { number: `+1212555${3000 + i}` });
    const asc = (await allPages(w.staff, {}, { sort: 'updated_at', limit: 5 })).flat();
    expect(asc).toHaveLength(12);
    expect(new Set(asc).size).toBe(12);
    const desc = (await allPages(w.staff, {}, { sort: 'updated_at', order: 'desc', limit: 5 })).flat();
    expect(desc).toHaveLength(12);
    expect(desc).toEqual([...asc].reverse());
  });

  it('available numbers of one area code page in number order both ways, and only that area', async () => {
    const w = await world();
    const wanted: string[] = [];
    for (let i = 0; i < 9; i++) {
      const number = `+1212555${String(2000 + i * 11)}`;
      // Every third one is taken or resting: the area code's page is of available numbers only.
      const resting = i % 3 === 1;
      await buildDid(t.db, {
        number,
        area_code: '212',
        ...(resting ? { status: 'aging', aging_until: new Date('2030-01-01') } : {}),
      });
      if (!resting) wanted.push(number);
    }
    // Neighbours in number order and in area code, and an area code stored apart from its number.
    await buildDid(t.db, { number: '+12115550000', area_code: '211' });
    await buildDid(t.db, { number: '+12135550000', area_code: '213' });
    await buildDid(t.db, { number: '+999999999999999', area_code: '212' });
    wanted.push('+999999999999999');

    const filter: DidFilter = { areaCode: '212', status: 'available' };
    expect((await allPages(w.staff, filter, { limit: 2 })).flat()).toEqual(wanted);
    expect((await allPages(w.staff, filter, { limit: 2, order: 'desc' })).flat()).toEqual(
      [...wanted].reverse(),
    );
    expect(await numbers(w.staff, { ...filter, city: 'Nowhere' })).toEqual([]);
    // Any status: the same area code, the aging numbers too.
    expect(await numbers(w.staff, { areaCode: '212' })).toHaveLength(10);
  });

  it('filters apply on every page', async () => {
    const w = await world();
    for (let i = 0; i < 15; i++) {
      await buildDid(t.db, { number: `+1212555${4000 + i}`, city: i % 3 === 0 ? 'Albany' : 'New York' });
    }
    const pages = await allPages(w.staff, { city: 'Albany' }, { limit: 2 });
    expect(pages.flat()).toEqual([
      '+12125554000',
      '+12125554003',
      '+12125554006',
      '+12125554009',
      '+12125554012',
    ]);
  });

  it('refuses a cursor from another sort, a forged cursor, and limits outside 1..1000', async () => {
    const w = await world();
    for (let i = 0; i < 5; i++) await buildDid(t.db, { number: `+1212555${5000 + i}` });
    const page = await searchDids(w.staff, {}, { limit: 2 });
    expect(page.nextCursor).not.toBeNull();
    const otherSort = await errorOf(
      searchDids(w.staff, {}, { sort: 'recurring_fee', limit: 2, after: page.nextCursor! }),
    );
    expect(otherSort.code).toBe('invalid');
    expect(otherSort.message).toBe('That page link is not valid for this search.');
    expect((await errorOf(searchDids(w.staff, {}, { after: 'not-a-cursor' }))).code).toBe('invalid');
    for (const limit of [0, 1001, -1, 2.5]) {
      const error = await errorOf(searchDids(w.staff, {}, { limit }));
      expect(error.code).toBe('invalid');
      expect(error.message).toBe(`limit=${limit} is out of range.`);
    }
    expect((await searchDids(w.staff, {}, { limit: 1 })).items).toHaveLength(1);
    expect((await searchDids(w.staff, {}, { limit: 1000 })).items).toHaveLength(5);
  });
});

describe('scope', () => {
  async function inventory(w: Awaited<ReturnType<typeof world>>) {
    await buildDid(t.db, { number: '+12125550001' }); // pool
    await buildDid(t.db, { number: '+12125550002', status: 'disabled' }); // pool, not for sale
    await buildDid(t.db, { number: '+12125550003', status: 'assigned', owner_account_id: w.reseller.id }); // voipco's stock
    await buildDid(t.db, {
      number: '+12125550004',
      status: 'assigned',
      owner_account_id: w.reseller.id,
      assigned_account_id: w.bakery.id,
    });
    await buildDid(t.db, {
      number: '+12125550005',
      status: 'assigned',
      owner_account_id: w.subReseller.id,
      assigned_account_id: w.dental.id,
    });
    await buildDid(t.db, {
      number: '+12125550006',
      status: 'assigned',
      owner_account_id: w.otherReseller.id,
      assigned_account_id: w.initech.id,
    });
    await buildDid(t.db, {
      number: '+12125550007',
      status: 'assigned',
      owner_account_id: w.otherReseller.id,
    });
    await buildDid(t.db, { number: '+12125550008', status: 'assigned', assigned_account_id: w.acme.id });
  }

  it('operator staff see everything', async () => {
    const w = await world();
    await inventory(w);
    expect(await numbers(w.staff, {})).toHaveLength(8);
  });

  it("a reseller sees the pool and its subtree's numbers, not another reseller's or the operator's direct customers'", async () => {
    const w = await world();
    await inventory(w);
    const voipco = ctxFor(t.db, actorOf(w.reseller, 'operator'));
    expect(await numbers(voipco, {})).toEqual([
      '+12125550001',
      '+12125550003',
      '+12125550004',
      '+12125550005',
    ]);
    // Filters cannot widen the scope.
    expect(await numbers(voipco, { status: 'assigned' })).toEqual([
      '+12125550003',
      '+12125550004',
      '+12125550005',
    ]);
    expect(await numbers(voipco, { pattern: '12125550006' })).toEqual([]);
    // And another reseller's customer cannot even be named.
    const outside = await errorOf(searchDids(voipco, { account: 'initech' }));
    expect(outside.code).toBe('not_found');
    expect(outside.message).not.toContain('initech?');

    const east = ctxFor(t.db, actorOf(w.subReseller, 'viewer'));
    expect(await numbers(east, {})).toEqual(['+12125550001', '+12125550005']);
  });

  it('a customer sees its own numbers and the available pool', async () => {
    const w = await world();
    await inventory(w);
    expect(await numbers(ctxFor(t.db, actorOf(w.bakery, 'owner')), {})).toEqual([
      '+12125550001',
      '+12125550004',
    ]);
    expect(await numbers(ctxFor(t.db, actorOf(w.acme, 'viewer')), {})).toEqual([
      '+12125550001',
      '+12125550008',
    ]);
    expect(await numbers(ctxFor(t.db, actorOf(w.dental, 'owner')), { status: 'assigned' })).toEqual([
      '+12125550005',
    ]);
  });

  it('scope holds across pages', async () => {
    const w = await world();
    for (let i = 0; i < 6; i++) {
      await buildDid(t.db, {
        number: `+1212555${6000 + i}`,
        status: 'assigned',
        owner_account_id: w.otherReseller.id,
        assigned_account_id: w.initech.id,
      });
      await buildDid(t.db, { number: `+1212555${6100 + i}` });
    }
    const voipco = ctxFor(t.db, actorOf(w.reseller, 'operator'));
    const pages = await allPages(voipco, {}, { limit: 4 });
    expect(pages.flat()).toEqual([
      '+12125556100',
      '+12125556101',
      '+12125556102',
      '+12125556103',
      '+12125556104',
      '+12125556105',
    ]);
  });
});
