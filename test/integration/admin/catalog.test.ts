import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../helpers/database.ts';
import { buildDid, buildPricingBatch, buildProvider } from '../../helpers/factories.ts';
import { adminWorld, serveAdmin, signIn, staffEmail, textOf } from './harness.ts';

const t = useTestDatabase();

describe('catalog pages', () => {
  it('creates a provider, a vendor batch, a group and a pricing batch, and lists them with their use', async () => {
    await adminWorld(t.db);
    const { base } = await serveAdmin(t.db);
    const admin = await signIn(base, staffEmail('admin'));
    await admin.get('/admin/catalog');
    const post = async (kind: string, fields: Record<string, string>) => {
      const page = await admin.post(`/admin/catalog/${kind}`, fields);
      expect(page.status, textOf(page.html)).toBe(303);
      return page.location;
    };
    expect(await post('providers', { name: 'NorthStar', description: 'Tier 1' })).toBe(
      '/admin/catalog?done=providers-created',
    );
    const provider = await t.db.selectFrom('providers').selectAll().executeTakeFirstOrThrow();
    await post('vendor-batches', {
      provider: String(provider.id),
      name: 'NS-2026',
      activation_cost: '0.50',
      recurring_cost: '0.40',
    });
    await post('groups', { name: 'US Local' });
    await post('pricing-batches', {
      name: 'Standard',
      setup_fee: '1.00',
      recurring_fee: '1.50',
      billing_type: 'recurring',
      billing_period: 'days',
      billing_days: '90',
    });
    const batch = await t.db.selectFrom('pricing_batches').selectAll().executeTakeFirstOrThrow();
    expect(batch).toMatchObject({
      setup_fee: 100,
      recurring_fee: 150,
      billing_period: 'days',
      billing_days: 90,
    });
    await buildDid(t.db, { pricing_batch_id: batch.id, provider_id: provider.id });

    const page = await admin.get('/admin/catalog?done=groups-created');
    const text = textOf(page.html);
    expect(text).toContain('The DID group was created.');
    expect(text).toContain('NorthStar Tier 1 1 1');
    expect(text).toContain('NS-2026 NorthStar 0.50 USD 0.40 USD 0');
    expect(text).toContain('Standard operator 1.00 USD 1.50 USD every 90 days 1');
    expect(
      (await t.db.selectFrom('audit_events').select('action').orderBy('id').execute()).map((a) => a.action),
    ).toEqual(['provider.create', 'vendor_batch.create', 'group.create', 'pricing_batch.create']);
  });

  it('edits a row and shows the form again with the problem when refused', async () => {
    const w = await adminWorld(t.db);
    const batch = await buildPricingBatch(t.db, {
      owner_account_id: w.operator.id,
      name: 'Standard',
      recurring_fee: 150,
    });
    await buildPricingBatch(t.db, { owner_account_id: w.operator.id, name: 'Gold' });
    const { base } = await serveAdmin(t.db);
    const admin = await signIn(base, staffEmail('admin'));
    const edit = await admin.get(`/admin/catalog/pricing-batches/${batch.id}`);
    expect(edit.status).toBe(200);
    expect(edit.html).toContain('value="1.50"');
    const saved = await admin.post(`/admin/catalog/pricing-batches/${batch.id}`, {
      name: 'Standard',
      recurring_fee: '1.75',
      setup_fee: '0',
    });
    expect(saved.location).toBe('/admin/catalog?done=pricing-batches-saved');
    expect(
      (
        await t.db
          .selectFrom('pricing_batches')
          .select('recurring_fee')
          .where('id', '=', batch.id)
          .executeTakeFirstOrThrow()
      ).recurring_fee,
    ).toBe(175);
    const clash = await admin.post(`/admin/catalog/pricing-batches/${batch.id}`, { name: 'gold' });
    expect(clash.status).toBe(409);
    expect(textOf(clash.html)).toContain('A pricing batch named "gold" already exists.');
    expect(clash.html).toContain('value="gold"');
    const bad = await admin.post(`/admin/catalog/pricing-batches/${batch.id}`, {
      name: 'Standard',
      setup_fee: '-2',
    });
    expect(bad.status).toBe(400);
    expect(textOf(bad.html)).toContain('The setup fee cannot be negative');
  });

  it('refuses to delete a pricing batch in use, saying how many numbers use it, and deletes it once free', async () => {
    const w = await adminWorld(t.db);
    const batch = await buildPricingBatch(t.db, { owner_account_id: w.operator.id, name: 'Standard' });
    const dids = [];
    for (let i = 0; i < 3; i++) dids.push(await buildDid(t.db, { pricing_batch_id: batch.id }));
    const { base } = await serveAdmin(t.db);
    const admin = await signIn(base, staffEmail('admin'));
    await admin.get(`/admin/catalog/pricing-batches/${batch.id}`);
    const refused = await admin.post(`/admin/catalog/pricing-batches/${batch.id}/delete`, {
      name: 'Standard',
    });
    expect(refused.status).toBe(409);
    const text = textOf(refused.html);
    expect(text).toContain('The pricing batch "Standard" is in use by 3 numbers, so it was not deleted.');
    expect(text).toContain('Move its numbers to another pricing batch first');
    expect(await t.db.selectFrom('pricing_batches').select('id').execute()).toHaveLength(1);

    await t.db.updateTable('dids').set({ pricing_batch_id: null }).execute();
    const deleted = await admin.post(`/admin/catalog/pricing-batches/${batch.id}/delete`, {
      name: 'Standard',
    });
    expect(deleted.location).toBe('/admin/catalog?done=pricing-batches-deleted');
    expect(await t.db.selectFrom('pricing_batches').select('id').execute()).toHaveLength(0);
    const audit = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'pricing_batch.delete')
      .execute();
    expect(audit).toHaveLength(1);
  });

  it('refuses providers in use by vendor batches and numbers, and operators (catalog changes are for admins)', async () => {
    await adminWorld(t.db);
    const provider = await buildProvider(t.db, { name: 'NorthStar' });
    await t.db
      .insertInto('vendor_batches')
      .values({ provider_id: provider.id, name: 'B1', activation_cost: 0, recurring_cost: 0 })
      .execute();
    await buildDid(t.db, { provider_id: provider.id });
    const { base } = await serveAdmin(t.db);
    const admin = await signIn(base, staffEmail('admin'));
    await admin.get('/admin/catalog');
    const refused = await admin.post(`/admin/catalog/providers/${provider.id}/delete`, { name: 'NorthStar' });
    expect(refused.status).toBe(409);
    expect(textOf(refused.html)).toContain(
      'The provider "NorthStar" is in use by 1 vendor batch and 1 number, so it was not deleted.',
    );

    const operator = await signIn(base, staffEmail('operator'));
    const page = await operator.get('/admin/catalog');
    expect(page.status).toBe(200);
    expect(page.html).not.toContain('action="/admin/catalog/providers"');
    expect((await operator.post('/admin/catalog/providers', { name: 'Sneaky' })).status).toBe(403);
    expect((await operator.get(`/admin/catalog/providers/${provider.id}`)).status).toBe(403);
  });
});
