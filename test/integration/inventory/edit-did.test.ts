import { describe, expect, it } from 'vitest';
import {
  createDid,
  endAging,
  getDidInfo,
  promoteAgedNumbers,
  setDescription,
  setDestination,
  setEnabled,
  setPricingBatch,
} from '../../../core/inventory/edit-did.ts';
import type { DidFieldValues } from '../../../core/inventory/did-fields.ts';
import { ManualClock } from '../../../core/shared/clock.ts';
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
  const reseller = await buildAccount(t.db, operator, { kind: 'reseller', slug: 'voipco' });
  const bakery = await buildAccount(t.db, reseller, { slug: 'bakery' });
  const acme = await buildAccount(t.db, operator, { slug: 'acme' });
  const northstar = await buildProvider(t.db, { name: 'NorthStar' });
  const bluewave = await buildProvider(t.db, { name: 'BlueWave' });
  const vendorBatch = await buildVendorBatch(t.db, {
    provider_id: northstar.id,
    name: 'NS-2026-01',
    activation_cost: 30,
    recurring_cost: 45,
  });
  const group = await buildGroup(t.db, { name: 'New York' });
  const retail = await buildPricingBatch(t.db, {
    owner_account_id: operator.id,
    name: 'Retail',
    setup_fee: 500,
    recurring_fee: 300,
  });
  const wholesale = await buildPricingBatch(t.db, {
    owner_account_id: operator.id,
    name: 'Wholesale',
    setup_fee: 0,
    recurring_fee: 50,
    billing_type: 'recurring',
    billing_period: 'days',
    billing_days: 28,
  });
  const euro = await buildPricingBatch(t.db, {
    owner_account_id: operator.id,
    name: 'Euro',
    setup_fee: 100,
    recurring_fee: 100,
    currency: 'EUR',
  });
  const resellerBatch = await buildPricingBatch(t.db, {
    owner_account_id: reseller.id,
    name: 'Voipco Retail',
    setup_fee: 900,
    recurring_fee: 700,
  });
  const staff = ctxFor(t.db, actorOf(operator, 'operator'));
  return {
    operator,
    reseller,
    bakery,
    acme,
    northstar,
    bluewave,
    vendorBatch,
    group,
    retail,
    wholesale,
    euro,
    resellerBatch,
    staff,
  };
}

async function count(table: 'dids' | 'audit_events', action?: string): Promise<number> {
  let query = t.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n'));
  if (action !== undefined && table === 'audit_events') query = query.where('action', '=', action);
  return Number((await query.executeTakeFirstOrThrow()).n);
}

async function didRow(number: string) {
  return t.db.selectFrom('dids').selectAll().where('number', '=', number).executeTakeFirstOrThrow();
}

async function auditsOf(didId: number) {
  return t.db.selectFrom('audit_events').selectAll().where('did_id', '=', didId).orderBy('id').execute();
}

const FULL: DidFieldValues = {
  number: '+1 212 555 0142',
  country: 'us',
  area_code: '212',
  number_type: 'local',
  city: 'New York',
  province: 'NY',
  provider: 'northstar',
  vendor_batch: 'NS-2026-01',
  group: 'New York',
  pricing_batch: 'Retail',
  activation_cost: '0.25',
  recurring_cost: '0.40',
  setup_fee: '1.50',
  recurring_fee: '2.00',
  currency: 'USD',
  billing_type: 'recurring',
  billing_period: 'days',
  billing_days: '28',
  connection_cost: '0.01',
  per_minute_rate: '0.0045',
  grace_seconds: '6',
  initial_increment: '30',
  increment: '6',
  call_timeout: '45',
  max_concurrent_calls: '4',
  capabilities: 'voice;sms',
  description: 'Main line',
  status: 'available',
  destination: 'sip:100@pbx.example.com',
};

describe('createDid', () => {
  it('creates a number from text fields, resolving names and parsing money, rates and lists', async () => {
    const w = await world();
    const view = await createDid(w.staff, FULL);
    expect(view).toMatchObject({
      number: '+12125550142',
      group_name: 'New York',
      provider_name: 'NorthStar',
      pricing_batch_name: 'Retail',
    });
    const row = await didRow('+12125550142');
    expect(row).toMatchObject({
      country: 'US',
      area_code: '212',
      number_type: 'local',
      city: 'New York',
      province: 'NY',
      provider_id: w.northstar.id,
      vendor_batch_id: w.vendorBatch.id,
      group_id: w.group.id,
      pricing_batch_id: w.retail.id,
      activation_cost: 25,
      recurring_cost: 40,
      setup_fee: 150,
      recurring_fee: 200,
      currency: 'USD',
      billing_type: 'recurring',
      billing_period: 'days',
      billing_days: 28,
      connection_cost_micros: 10_000,
      per_minute_rate_micros: 4500,
      grace_seconds: 6,
      initial_increment: 30,
      increment: 6,
      call_timeout_seconds: 45,
      max_concurrent_calls: 4,
      capabilities: ['voice', 'sms'],
      description: 'Main line',
      status: 'available',
      owner_account_id: null,
      assigned_account_id: null,
      destination_type: 'sip',
      destination: 'sip:100@pbx.example.com',
    });

    const audit = await auditsOf(row.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      action: 'did.create',
      subject: '+12125550142',
      channel: 'cli',
      actor_account_id: w.operator.id,
      before: null,
    });
    expect(audit[0]!.after).toMatchObject({
      number: '+12125550142',
      setup_fee: 150,
      per_minute_rate_micros: 4500,
      pricing_batch_id: w.retail.id,
    });
  });

  it("blank fees take the pricing batch's fees and terms; blank costs take the vendor batch's costs", async () => {
    const w = await world();
    await createDid(w.staff, {
      number: '+12125550143',
      pricing_batch: 'Wholesale',
      vendor_batch: 'NS-2026-01',
      setup_fee: '',
      recurring_fee: ' ',
    });
    expect(await didRow('+12125550143')).toMatchObject({
      setup_fee: 0,
      recurring_fee: 50,
      billing_period: 'days',
      billing_days: 28,
      activation_cost: 30,
      recurring_cost: 45,
      provider_id: w.northstar.id,
      capabilities: ['voice'],
      status: 'available',
      destination: null,
    });
    await createDid(w.staff, { number: '12125550144', pricing_batch: 'Retail' });
    expect(await didRow('+12125550144')).toMatchObject({
      setup_fee: 500,
      recurring_fee: 300,
      billing_period: 'monthly',
      pricing_batch_id: w.retail.id,
    });
  });

  it('a duplicate number, however typed, is a conflict and changes nothing', async () => {
    const w = await world();
    await createDid(w.staff, { number: '+12125550142', description: 'first' });
    const error = await errorOf(createDid(w.staff, { number: '1 (212) 555-0142', description: 'second' }));
    expect(error.code).toBe('conflict');
    expect(error.message).toBe('+1 212 555 0142 is already in the inventory.');
    expect(error.field).toBe('number');
    expect(await count('dids')).toBe(1);
    expect((await didRow('+12125550142')).description).toBe('first');
    expect(await count('audit_events', 'did.create')).toBe(1);
  });

  const badFields: [string, DidFieldValues, string][] = [
    ['a negative fee', { setup_fee: '-1' }, 'setup_fee'],
    ['a fee that is not money', { recurring_fee: 'free' }, 'recurring_fee'],
    ['grace that is not a number', { grace_seconds: 'abc' }, 'grace_seconds'],
    ['an increment out of range', { increment: '0' }, 'increment'],
    ['an unknown provider', { provider: 'Nobody Telecom' }, 'provider'],
    ['an unknown group', { group: 'Atlantis' }, 'group'],
    ["another reseller's pricing batch", { pricing_batch: 'Voipco Retail' }, 'pricing_batch'],
    [
      'a vendor batch of another provider',
      { provider: 'BlueWave', vendor_batch: 'NS-2026-01' },
      'vendor_batch',
    ],
    ['an unknown capability', { capabilities: 'voice;telepathy' }, 'capabilities'],
    ['status assigned', { status: 'assigned' }, 'status'],
    ['a country that does not match the number', { country: 'GB' }, 'country'],
    ['a number that is not one', { number: '1-800-FLOWERS' }, 'number'],
    ['an unknown currency', { currency: 'ABC' }, 'currency'],
    ['a currency other than the batch', { pricing_batch: 'Retail', currency: 'EUR' }, 'currency'],
    ['a bad billing type', { billing_type: 'weekly' }, 'billing_type'],
    ['a bad SIP destination', { destination: 'sip:nobody' }, 'destination'],
    ['a rate finer than a micro-unit', { per_minute_rate: '0.0000001' }, 'per_minute_rate'],
    ['a bad number type', { number_type: 'premium' }, 'number_type'],
  ];
  for (const [what, values, field] of badFields) {
    it(`refuses ${what}, naming ${field}, and inserts nothing`, async () => {
      const w = await world();
      const error = await errorOf(createDid(w.staff, { number: '+12125550142', ...values }));
      expect(error.code).toBe('invalid');
      expect(error.field).toBe(field);
      expect(await count('dids')).toBe(0);
      expect(await count('audit_events')).toBe(0);
    });
  }

  // Billing period and days are validated inside the billing-terms parser; their errors must still name
  // their own column, not billing_type (an import reports the column to fix).
  it('refuses bad billing days and periods naming their own field', async () => {
    const w = await world();
    const days = await errorOf(createDid(w.staff, { number: '+12125550142', billing_days: 'abc' }));
    expect(days.code).toBe('invalid');
    expect(days.field).toBe('billing_days');
    const period = await errorOf(createDid(w.staff, { number: '+12125550142', billing_period: 'weekly' }));
    expect(period.code).toBe('invalid');
    expect(period.field).toBe('billing_period');
    expect(await count('dids')).toBe(0);
  });

  it('only the operator adds numbers: a reseller admin is refused, a viewer is forbidden', async () => {
    const w = await world();
    const reseller = await errorOf(
      createDid(ctxFor(t.db, actorOf(w.reseller, 'admin')), { number: '+12125550142' }),
    );
    expect(reseller.code).toBe('invalid');
    expect(reseller.message).toBe('Only the operator adds numbers to the inventory.');
    const viewer = await errorOf(
      createDid(ctxFor(t.db, actorOf(w.operator, 'viewer')), { number: '+12125550142' }),
    );
    expect(viewer.code).toBe('forbidden');
    const customer = await errorOf(
      createDid(ctxFor(t.db, actorOf(w.acme, 'owner')), { number: '+12125550142' }),
    );
    expect(customer.code).toBe('forbidden');
    expect(await count('dids')).toBe(0);
    expect(await count('audit_events')).toBe(0);
  });
});

describe('setDescription', () => {
  it('writes one audit event with only the description, and none for a no-op', async () => {
    const w = await world();
    const did = await buildDid(t.db, { description: '' });
    const result = await setDescription(w.staff, did.number, '  Front desk  ');
    expect(result.changed).toBe(true);
    expect(result.did.description).toBe('Front desk');
    const audit = await auditsOf(did.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      action: 'did.describe',
      before: { description: '' },
      after: { description: 'Front desk' },
    });

    const again = await setDescription(w.staff, did.number, 'Front desk');
    expect(again.changed).toBe(false);
    expect(await auditsOf(did.id)).toHaveLength(1);
  });

  it('refuses more than 500 characters and unknown numbers', async () => {
    const w = await world();
    const did = await buildDid(t.db, { description: 'old' });
    const long = await errorOf(setDescription(w.staff, did.number, 'x'.repeat(501)));
    expect(long.code).toBe('invalid');
    expect(long.field).toBe('description');
    const unknown = await errorOf(setDescription(w.staff, '+12125559999', 'hello'));
    expect(unknown.code).toBe('not_found');
    expect((await didRow(did.number)).description).toBe('old');
    expect(await count('audit_events')).toBe(0);
  });
});

describe('setEnabled', () => {
  it('disables an available number and enables it back, auditing only the status', async () => {
    const w = await world();
    const did = await buildDid(t.db);
    const off = await setEnabled(w.staff, did.number, false);
    expect(off.did.status).toBe('disabled');
    const on = await setEnabled(w.staff, did.number, true);
    expect(on.did.status).toBe('available');
    const audit = await auditsOf(did.id);
    expect(audit.map((a) => [a.action, a.before, a.after])).toEqual([
      ['did.disable', { status: 'available' }, { status: 'disabled' }],
      ['did.enable', { status: 'disabled' }, { status: 'available' }],
    ]);
  });

  it('no-ops write nothing: enabling an available number, disabling a disabled one', async () => {
    const w = await world();
    const did = await buildDid(t.db);
    expect((await setEnabled(w.staff, did.number, true)).changed).toBe(false);
    await setEnabled(w.staff, did.number, false);
    expect((await setEnabled(w.staff, did.number, false)).changed).toBe(false);
    expect(await auditsOf(did.id)).toHaveLength(1);
  });

  it('disabling an aging number ends its aging too', async () => {
    const w = await world();
    const did = await buildDid(t.db, { status: 'aging', aging_until: new Date('2026-03-20T00:00:00Z') });
    await setEnabled(w.staff, did.number, false);
    expect(await didRow(did.number)).toMatchObject({ status: 'disabled', aging_until: null });
    const [audit] = await auditsOf(did.id);
    expect(audit!.after).toEqual({ status: 'disabled', aging_until: null });
    expect(audit!.before).toEqual({ status: 'aging', aging_until: '2026-03-20T00:00:00.000Z' });
  });

  it('refuses to disable an assigned number, telling to release it first, and changes nothing', async () => {
    const w = await world();
    const did = await buildDid(t.db, {
      number: '+12125550142',
      status: 'assigned',
      assigned_account_id: w.acme.id,
    });
    const error = await errorOf(setEnabled(w.staff, did.number, false));
    expect(error.code).toBe('conflict');
    expect(error.message).toBe('+1 212 555 0142 is assigned (acme); release it before disabling it.');
    expect(await didRow(did.number)).toMatchObject({
      status: 'assigned',
      assigned_account_id: w.acme.id,
      version: did.version,
    });
    expect(await count('audit_events')).toBe(0);
  });

  it('only the operator enables and disables', async () => {
    const w = await world();
    const did = await buildDid(t.db, { status: 'assigned', owner_account_id: w.reseller.id });
    const error = await errorOf(setEnabled(ctxFor(t.db, actorOf(w.reseller, 'admin')), did.number, false));
    expect(error.code).toBe('invalid');
    expect(error.message).toBe('Only the operator can disable numbers.');
    expect((await didRow(did.number)).status).toBe('assigned');
  });
});

describe('setPricingBatch', () => {
  it('moves a number into a batch: fees and billing terms follow; the audit holds only what changed', async () => {
    const w = await world();
    const did = await buildDid(t.db, { setup_fee: 100, recurring_fee: 150 });
    const result = await setPricingBatch(w.staff, did.number, 'wholesale');
    expect(result.did).toMatchObject({
      pricing_batch_name: 'Wholesale',
      setup_fee: 0,
      recurring_fee: 50,
      billing_period: 'days',
      billing_days: 28,
    });
    const [audit, ...rest] = await auditsOf(did.id);
    expect(rest).toHaveLength(0);
    expect(audit!.action).toBe('did.pricing_batch');
    expect(audit!.before).toEqual({
      pricing_batch_id: null,
      setup_fee: 100,
      recurring_fee: 150,
      billing_period: 'monthly',
      billing_days: 30,
    });
    expect(audit!.after).toEqual({
      pricing_batch_id: w.wholesale.id,
      setup_fee: 0,
      recurring_fee: 50,
      billing_period: 'days',
      billing_days: 28,
    });
  });

  it("'none' takes the number out of its batch, keeping its price; moving again to the same batch is a no-op", async () => {
    const w = await world();
    const did = await buildDid(t.db);
    await setPricingBatch(w.staff, did.number, 'Retail');
    expect((await setPricingBatch(w.staff, did.number, String(w.retail.id))).changed).toBe(false);
    await setPricingBatch(w.staff, did.number, 'none');
    expect(await didRow(did.number)).toMatchObject({
      pricing_batch_id: null,
      setup_fee: 500,
      recurring_fee: 300,
    });
    const audit = await auditsOf(did.id);
    expect(audit).toHaveLength(2);
    expect(audit[1]).toMatchObject({
      before: { pricing_batch_id: w.retail.id },
      after: { pricing_batch_id: null },
    });
    expect((await setPricingBatch(w.staff, did.number, 'NONE')).changed).toBe(false);
    expect(await auditsOf(did.id)).toHaveLength(2);
  });

  it('refuses an unknown batch with a suggestion, and a currency change on a number in use', async () => {
    const w = await world();
    const did = await buildDid(t.db, { status: 'assigned', assigned_account_id: w.acme.id });
    const unknown = await errorOf(setPricingBatch(w.staff, did.number, 'Retial'));
    expect(unknown.code).toBe('not_found');
    expect(unknown.message).toContain('Did you mean Retail?');
    const currency = await errorOf(setPricingBatch(w.staff, did.number, 'Euro'));
    expect(currency.code).toBe('conflict');
    expect(currency.message).toContain('is billed in USD; "Euro" is in EUR');
    expect(await didRow(did.number)).toMatchObject({
      pricing_batch_id: null,
      currency: 'USD',
      setup_fee: 100,
    });
    expect(await count('audit_events')).toBe(0);
  });

  it("a reseller moves its own number into its own batch, but not into the operator's", async () => {
    const w = await world();
    const did = await buildDid(t.db, {
      status: 'assigned',
      owner_account_id: w.reseller.id,
      assigned_account_id: w.bakery.id,
    });
    const voipco = ctxFor(t.db, actorOf(w.reseller, 'operator'));
    const error = await errorOf(setPricingBatch(voipco, did.number, 'Retail'));
    expect(error.message).toBe('The pricing batch "Retail" is not yours.');
    await setPricingBatch(voipco, did.number, 'Voipco Retail');
    expect(await didRow(did.number)).toMatchObject({
      pricing_batch_id: w.resellerBatch.id,
      setup_fee: 900,
      recurring_fee: 700,
    });
  });
});

describe('a reseller cannot edit numbers it does not hold', () => {
  it("leaves the operator's pool numbers alone: description, destination and pricing batch are refused", async () => {
    const w = await world();
    const pool = await buildDid(t.db, { description: 'pool', setup_fee: 100, recurring_fee: 150 });
    const voipco = ctxFor(t.db, actorOf(w.reseller, 'admin'));
    expect((await errorOf(setDescription(voipco, pool.number, 'mine now'))).code).toBe('conflict');
    expect((await errorOf(setDestination(voipco, pool.number, 'sip:100@pbx.voipco.example'))).code).toBe(
      'conflict',
    );
    expect((await errorOf(setPricingBatch(voipco, pool.number, 'Voipco Retail'))).code).toBe('conflict');
    expect(await didRow(pool.number)).toMatchObject({
      description: 'pool',
      destination: null,
      pricing_batch_id: null,
      setup_fee: 100,
      recurring_fee: 150,
      version: pool.version,
    });
    expect(await count('audit_events')).toBe(0);
  });

  it("does not even see another reseller's numbers", async () => {
    const w = await world();
    const other = await buildAccount(t.db, w.operator, { kind: 'reseller', slug: 'globaltel' });
    const theirs = await buildDid(t.db, { status: 'assigned', owner_account_id: other.id });
    const error = await errorOf(
      setDescription(ctxFor(t.db, actorOf(w.reseller, 'admin')), theirs.number, 'x'),
    );
    expect(error.code).toBe('not_found');
  });

  it('edits the numbers it holds', async () => {
    const w = await world();
    const mine = await buildDid(t.db, {
      status: 'assigned',
      owner_account_id: w.reseller.id,
      assigned_account_id: w.bakery.id,
    });
    const voipco = ctxFor(t.db, actorOf(w.reseller, 'operator'));
    await setDescription(voipco, mine.number, 'Bakery main line');
    await setDestination(voipco, mine.number, 'sip:200@pbx.bakery.example');
    expect(await didRow(mine.number)).toMatchObject({
      description: 'Bakery main line',
      destination: 'sip:200@pbx.bakery.example',
    });
    const audit = await auditsOf(mine.id);
    expect(audit.map((a) => [a.action, a.account_id, a.actor_account_id])).toEqual([
      ['did.describe', w.bakery.id, w.reseller.id],
      ['did.destination', w.bakery.id, w.reseller.id],
    ]);
  });
});

describe('setDestination', () => {
  it('routes to SIP, PSTN and an extension, then clears; each change one audit event of the changed fields', async () => {
    const w = await world();
    const did = await buildDid(t.db, { number: '+12125550142' });
    await setDestination(w.staff, '+1 212 555 0142', 'sip:100@pbx.example.com');
    expect(await didRow(did.number)).toMatchObject({
      destination_type: 'sip',
      destination: 'sip:100@pbx.example.com',
    });
    await setDestination(w.staff, did.number, '+44 20 7946 0000');
    expect(await didRow(did.number)).toMatchObject({
      destination_type: 'pstn',
      destination: '+442079460000',
    });
    await setDestination(w.staff, did.number, '1001');
    expect(await didRow(did.number)).toMatchObject({
      destination_type: 'extension',
      destination: 'ext:1001',
    });
    await setDestination(w.staff, did.number, 'ext:1002');
    expect(await didRow(did.number)).toMatchObject({
      destination_type: 'extension',
      destination: 'ext:1002',
    });
    await setDestination(w.staff, did.number, 'none');
    expect(await didRow(did.number)).toMatchObject({ destination_type: null, destination: null });

    const audit = await auditsOf(did.id);
    expect(audit.map((a) => [a.action, a.before, a.after])).toEqual([
      [
        'did.destination',
        { destination_type: null, destination: null },
        { destination_type: 'sip', destination: 'sip:100@pbx.example.com' },
      ],
      [
        'did.destination',
        { destination_type: 'sip', destination: 'sip:100@pbx.example.com' },
        { destination_type: 'pstn', destination: '+442079460000' },
      ],
      [
        'did.destination',
        { destination_type: 'pstn', destination: '+442079460000' },
        { destination_type: 'extension', destination: 'ext:1001' },
      ],
      ['did.destination', { destination: 'ext:1001' }, { destination: 'ext:1002' }],
      [
        'did.destination',
        { destination_type: 'extension', destination: 'ext:1002' },
        { destination_type: null, destination: null },
      ],
    ]);
  });

  it('the same destination again, or none on a number without one, writes nothing', async () => {
    const w = await world();
    const did = await buildDid(t.db);
    expect((await setDestination(w.staff, did.number, 'none')).changed).toBe(false);
    await setDestination(w.staff, did.number, 'sip:100@pbx.example.com');
    expect((await setDestination(w.staff, did.number, 'sip:100@pbx.example.com')).changed).toBe(false);
    expect(await auditsOf(did.id)).toHaveLength(1);
  });

  it('refuses forwarding a number to itself, and bad destinations, changing nothing', async () => {
    const w = await world();
    const did = await buildDid(t.db, {
      number: '+12125550142',
      destination_type: 'sip',
      destination: 'sip:1@pbx.example.com',
    });
    const self = await errorOf(setDestination(w.staff, did.number, '+1 (212) 555-0142'));
    expect(self.code).toBe('invalid');
    expect(self.message).toBe('+1 212 555 0142 cannot forward to itself.');
    expect(self.field).toBe('destination');
    for (const bad of ['sip:nohost', 'call-me-maybe', '+1 212']) {
      const error = await errorOf(setDestination(w.staff, did.number, bad));
      expect(error.code).toBe('invalid');
      expect(error.field).toBe('destination');
    }
    expect(await didRow(did.number)).toMatchObject({
      destination_type: 'sip',
      destination: 'sip:1@pbx.example.com',
      version: did.version,
    });
    expect(await count('audit_events')).toBe(0);
  });
});

describe('aging', () => {
  it('endAging puts an aging number on sale now; a number that is not aging is refused', async () => {
    const w = await world();
    const aging = await buildDid(t.db, {
      status: 'aging',
      aging_until: new Date('2026-03-20T00:00:00Z'),
      freed_at: new Date('2026-02-18T00:00:00Z'),
    });
    const result = await endAging(w.staff, aging.number);
    expect(result.did).toMatchObject({ status: 'available', aging_until: null });
    const [audit] = await auditsOf(aging.id);
    expect(audit).toMatchObject({
      action: 'did.aging_end',
      before: { status: 'aging', aging_until: '2026-03-20T00:00:00.000Z' },
      after: { status: 'available', aging_until: null },
    });

    const available = await buildDid(t.db);
    const error = await errorOf(endAging(w.staff, available.number));
    expect(error.code).toBe('conflict');
    expect(error.message).toContain('is available, not aging');
    expect(await count('audit_events')).toBe(1);
  });

  it('promoteAgedNumbers puts back on sale exactly the numbers whose aging ran out', async () => {
    const w = await world();
    const clock = new ManualClock('2026-03-15T10:00:00Z');
    const system = ctxFor(
      t.db,
      { ...actorOf(w.operator, 'owner', 'system'), label: 'system:aging' },
      { clock },
    );
    const past = await buildDid(t.db, { status: 'aging', aging_until: new Date('2026-03-10T00:00:00Z') });
    const exactlyNow = await buildDid(t.db, {
      status: 'aging',
      aging_until: new Date('2026-03-15T10:00:00Z'),
    });
    const future = await buildDid(t.db, { status: 'aging', aging_until: new Date('2026-03-20T00:00:00Z') });
    const assigned = await buildDid(t.db, { status: 'assigned', assigned_account_id: w.acme.id });

    expect(await promoteAgedNumbers(system)).toBe(2);
    expect(await didRow(past.number)).toMatchObject({ status: 'available', aging_until: null });
    expect(await didRow(exactlyNow.number)).toMatchObject({ status: 'available', aging_until: null });
    expect(await didRow(future.number)).toMatchObject({ status: 'aging' });
    expect((await didRow(assigned.number)).status).toBe('assigned');
    const audit = await t.db.selectFrom('audit_events').selectAll().orderBy('id').execute();
    expect(audit.map((a) => [a.did_id, a.action, a.actor_label, a.channel])).toEqual([
      [past.id, 'did.aging_end', 'system:aging', 'system'],
      [exactlyNow.id, 'did.aging_end', 'system:aging', 'system'],
    ]);

    expect(await promoteAgedNumbers(system)).toBe(0);
    clock.set('2026-03-20T00:00:01Z');
    expect(await promoteAgedNumbers(system)).toBe(1);
    expect((await didRow(future.number)).status).toBe('available');
    expect(await count('audit_events', 'did.aging_end')).toBe(3);
  });
});

describe('getDidInfo', () => {
  it('shows operator staff the last five changes, most recent first', async () => {
    const w = await world();
    const did = await buildDid(t.db, { number: '+12125550142' });
    await setDescription(w.staff, did.number, 'one');
    await setEnabled(w.staff, did.number, false);
    await setEnabled(w.staff, did.number, true);
    await setDestination(w.staff, did.number, 'sip:100@pbx.example.com');
    await setPricingBatch(w.staff, did.number, 'Retail');
    await setDescription(ctxFor(t.db, actorOf(w.operator, 'admin', 'slack')), did.number, 'two');

    const info = await getDidInfo(w.staff, '+1 212 555 0142');
    expect(info.did).toMatchObject({
      number: '+12125550142',
      description: 'two',
      pricing_batch_name: 'Retail',
    });
    expect(info.history.map((h) => h.action)).toEqual([
      'did.describe',
      'did.pricing_batch',
      'did.destination',
      'did.enable',
      'did.disable',
    ]);
    expect(info.history[0]!.by).toBe('slack:test-operator-admin');
    expect(info.history[1]!.by).toBe('cli:test-operator-operator');
    expect(info.history[0]!.at).toBeInstanceOf(Date);
  });

  it('shows a reseller its number without the history, and hides numbers outside its reach', async () => {
    const w = await world();
    const mine = await buildDid(t.db, {
      status: 'assigned',
      owner_account_id: w.reseller.id,
      assigned_account_id: w.bakery.id,
    });
    const direct = await buildDid(t.db, { status: 'assigned', assigned_account_id: w.acme.id });
    await setDescription(w.staff, mine.number, 'noted');
    const voipco = ctxFor(t.db, actorOf(w.reseller, 'operator'));
    const info = await getDidInfo(voipco, mine.number);
    expect(info.did.customer_slug).toBe('bakery');
    expect(info.history).toEqual([]);
    const hidden = await errorOf(getDidInfo(voipco, direct.number));
    expect(hidden.code).toBe('not_found');
    expect(hidden.message).toContain('is not in the inventory');
  });
});
