import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../helpers/database.ts';
import {
  buildDid,
  buildGroup,
  buildPricingBatch,
  buildProvider,
  buildVendorBatch,
} from '../../helpers/factories.ts';
import { adminWorld, serveAdmin, signIn, staffEmail, textOf } from './harness.ts';

const t = useTestDatabase();

/** Attribute values as the browser reads them (Handlebars writes = as &#x3D;). */
const unescape = (html: string) => html.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');

async function inventory() {
  const world = await adminWorld(t.db);
  const provider = await buildProvider(t.db, { name: 'NorthStar' });
  const vendorBatch = await buildVendorBatch(t.db, {
    provider_id: provider.id,
    name: 'NS-2026',
    activation_cost: 50,
    recurring_cost: 40,
  });
  const group = await buildGroup(t.db, { name: 'US Toll-Free' });
  const batch = await buildPricingBatch(t.db, {
    owner_account_id: world.operator.id,
    name: 'Toll-Free Gold',
  });
  // 1-800-VOIP-xxx (VOIP = 8647) and friends.
  const vanity = await buildDid(t.db, {
    number: '+18008647123',
    area_code: '800',
    number_type: 'toll_free',
    city: '',
    group_id: group.id,
    pricing_batch_id: batch.id,
    provider_id: provider.id,
    vendor_batch_id: vendorBatch.id,
    recurring_fee: 300,
    activation_cost: 50,
    recurring_cost: 40,
    description: 'Spells VOIP',
  });
  const used = await buildDid(t.db, {
    number: '+12125550100',
    status: 'assigned',
    assigned_account_id: world.acme.id,
    assigned_at: new Date('2026-02-01T00:00:00Z'),
  });
  const freed = await buildDid(t.db, { number: '+12125550101', freed_at: new Date('2026-01-10T00:00:00Z') });
  const aging = await buildDid(t.db, {
    number: '+12125550102',
    status: 'aging',
    freed_at: new Date('2026-02-20T00:00:00Z'),
    aging_until: new Date('2026-03-22T00:00:00Z'),
  });
  for (let i = 0; i < 60; i++)
    await buildDid(t.db, { number: `+1415555${2000 + i}`, area_code: '415', recurring_fee: 100 + i });
  return { world, vanity, used, freed, aging, group, batch, provider, vendorBatch };
}

describe('the inventory page', () => {
  it('shows the PortaBilling columns, with the match count and keyset pages', async () => {
    await inventory();
    const { base } = await serveAdmin(t.db);
    const staff = await signIn(base, staffEmail('viewer'));
    const page = await staff.get('/admin/inventory');
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toContain('64 numbers match');
    for (const header of [
      'Number',
      'Group',
      'Country / Area',
      'Recurring revenue',
      'Customer',
      'Pricing batch',
      'Activation cost',
      'Recurring cost',
      'Status',
      'Description',
    ]) {
      expect(text).toContain(header);
    }
    expect(text).toContain('+1 212 555 0100 US / 212 New York $1.50 / month acme');
    expect(text).toContain('In use');
    expect(text).toContain('Free since 2026-01-10');
    expect(text).toContain('Aging until 2026-03-22');
    // Viewers read: no bulk form, no description form, no selection boxes.
    expect(page.html).not.toContain('action="/admin/bulk/preview"');
    expect(page.html).not.toContain('name="description"');
    // Keyset pages: 50 on the first, the rest after.
    const rows = (html: string) => html.match(/<tr id="n\d+">/g)?.length ?? 0;
    expect(rows(page.html)).toBe(50);
    const next = /href="([^"]*after=[^"]*)" rel="next"/.exec(unescape(page.html))?.[1];
    expect(next).toBeDefined();
    const second = await staff.get(next!);
    expect(rows(second.html)).toBe(14);
    expect(second.html).not.toContain('rel="next"');
    expect(textOf(second.html)).toContain('« First page');
  });

  it('filters by vanity letters, customer, pricing batch (or none), status and price, and sorts', async () => {
    const w = await inventory();
    const { base } = await serveAdmin(t.db);
    const staff = await signIn(base, staffEmail('operator'));
    const numbersOn = async (query: string) => {
      const page = await staff.get(`/admin/inventory?${query}`);
      expect(page.status, query).toBe(200);
      return [...page.html.matchAll(/<tr id="n(\d+)">/g)].map((m) => `+${m[1]}`);
    };
    expect(await numbersOn('pattern=1800%25VOIP')).toEqual([w.vanity.number]);
    expect(await numbersOn('pattern=VOIP')).toEqual([w.vanity.number]);
    expect(await numbersOn('account=acme')).toEqual([w.used.number]);
    expect(await numbersOn('pricing_batch=Toll-Free+Gold')).toEqual([w.vanity.number]);
    expect(await numbersOn('pricing_batch=none&area=212')).toEqual([
      w.used.number,
      w.freed.number,
      w.aging.number,
    ]);
    expect(await numbersOn('status=aging')).toEqual([w.aging.number]);
    expect(
      await numbersOn('group=US+Toll-Free&provider=NorthStar&vendor_batch=NS-2026&type=toll_free'),
    ).toEqual([w.vanity.number]);
    expect(await numbersOn('min_fee=1.55&max_fee=1.57&area=415')).toEqual([
      '+14155552055',
      '+14155552056',
      '+14155552057',
    ]);
    const sorted = await numbersOn('area=415&sort=recurring_fee&order=desc');
    expect(sorted.slice(0, 2)).toEqual(['+14155552059', '+14155552058']);

    const page = await staff.get('/admin/inventory?pattern=VOIP');
    const text = textOf(page.html);
    expect(text).toContain('1 number matches');
    expect(text).toContain(
      '+1 800 864 7123 US Toll-Free US / 800 $3.00 / month — Toll-Free Gold $0.50 $0.40 Free',
    );
    expect(unescape(page.html)).toContain('href="/admin/audit?number=%2B18008647123"');
    // Operators get the bulk form (with the search's filters) and the inline description form.
    expect(page.html).toContain('action="/admin/bulk/preview"');
    expect(page.html).toContain('<input type="hidden" name="pattern" value="VOIP">');
    expect(page.html).toContain('value="Spells VOIP"');
  });

  it('says a bad filter next to the form, with 400', async () => {
    await inventory();
    const { base } = await serveAdmin(t.db);
    const staff = await signIn(base, staffEmail('viewer'));
    const page = await staff.get('/admin/inventory?pattern=12%24%24&account=nobody');
    expect(page.status).toBe(400);
    expect(textOf(page.html)).toContain('"12$$" is not a number pattern.');
    expect(page.html).not.toContain('numbers match');
    const unknown = await staff.get('/admin/inventory?account=nobdy');
    expect(unknown.status).toBe(404);
    expect(textOf(unknown.html)).toContain('No account "nobdy"');
  });

  it('estimates the count beyond 10,000 matches and says so', async () => {
    await adminWorld(t.db);
    // 10,050 numbers +1 646 200 0001 ... in one statement.
    await sql`
      INSERT INTO dids (number, country)
      SELECT '+1646' || (2000000 + i)::text, 'US' FROM generate_series(1, 10050) AS i`.execute(t.db);
    await sql`ANALYZE dids`.execute(t.db);
    const { base } = await serveAdmin(t.db);
    const staff = await signIn(base, staffEmail('viewer'));
    const text = textOf((await staff.get('/admin/inventory')).html);
    expect(text).toMatch(/About [\d,]+ numbers match/);
    expect(text).toContain("More than 10,000 match: the count is the database's estimate");
  });

  it('exports any search as CSV, streamed', async () => {
    await inventory();
    const { base } = await serveAdmin(t.db);
    const staff = await signIn(base, staffEmail('viewer'));
    const page = await staff.get('/admin/inventory/export.csv?area=415');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(page.headers.get('content-disposition')).toMatch(
      /^attachment; filename="didops-numbers-\d+\.csv"$/,
    );
    const lines = page.html.trim().split('\n');
    expect(lines[0]).toMatch(/^number,country,area_code,/);
    expect(lines).toHaveLength(61);
  });

  it('edits a description inline, audited, and refuses viewers', async () => {
    const w = await inventory();
    const { base } = await serveAdmin(t.db);
    const operator = await signIn(base, staffEmail('operator'));
    await operator.get('/admin/inventory?pattern=VOIP');
    const done = await operator.post(`/admin/inventory/${encodeURIComponent(w.vanity.number)}/description`, {
      description: 'Spells VOIP — premium',
      back: '/admin/inventory?pattern=VOIP',
    });
    expect(done.status).toBe(303);
    expect(done.location).toBe('/admin/inventory?pattern=VOIP&done=described#n18008647123');
    const after = await operator.get(done.location!.replace(/#.*/, ''));
    expect(textOf(after.html)).toContain('The description was saved.');
    const row = await t.db
      .selectFrom('dids')
      .select('description')
      .where('id', '=', w.vanity.id)
      .executeTakeFirstOrThrow();
    expect(row.description).toBe('Spells VOIP — premium');
    const audit = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'did.describe')
      .executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ channel: 'web', actor_label: 'web:operator@operator.example' });

    // An offsite "back" is not followed.
    const elsewhere = await operator.post(
      `/admin/inventory/${encodeURIComponent(w.vanity.number)}/description`,
      {
        description: 'x',
        back: 'https://evil.example/',
      },
    );
    expect(elsewhere.location).toMatch(/^\/admin\/inventory\?done=described/);

    const viewer = await signIn(base, staffEmail('viewer'));
    await viewer.get('/admin/inventory');
    const refused = await viewer.post(`/admin/inventory/${encodeURIComponent(w.vanity.number)}/description`, {
      description: 'hacked',
    });
    expect(refused.status).toBe(403);
    expect(textOf(refused.html)).toContain('Your role (viewer) cannot do this: it needs operator or above.');
  });
});
