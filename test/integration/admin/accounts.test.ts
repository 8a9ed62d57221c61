import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../helpers/database.ts';
import { buildAccount, buildDid, buildUser } from '../../helpers/factories.ts';
import { adminWorld, serveAdmin, signIn, staffEmail, textOf } from './harness.ts';

const t = useTestDatabase();

describe('account pages', () => {
  it('shows the hierarchy as a tree, parents before their children', async () => {
    const w = await adminWorld(t.db);
    await buildAccount(t.db, w.reseller, { kind: 'reseller', slug: 'voipco-east', name: 'VoIP Co East' });
    const { base } = await serveAdmin(t.db);
    const viewer = await signIn(base, staffEmail('viewer'));
    const page = await viewer.get('/admin/accounts');
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toMatch(
      /Operator operator admin active.*Acme Corp acme customer active.*VoIP Co voipco reseller active.*Bakery bakery customer.*VoIP Co East voipco-east reseller/,
    );
    expect(page.html).toContain('class="admin-tree__name admin-depth-2"');
    expect(page.html).not.toContain('href="/admin/accounts/new"');
  });

  it('creates an account under a reseller and edits its terms', async () => {
    await adminWorld(t.db);
    const { base } = await serveAdmin(t.db);
    const admin = await signIn(base, staffEmail('admin'));
    const form = await admin.get('/admin/accounts/new');
    expect(form.status).toBe(200);
    const created = await admin.post('/admin/accounts', {
      kind: 'customer',
      parent: 'voipco',
      slug: 'dental',
      name: 'Dental Clinic',
      billing_mode: 'postpaid',
      credit_limit: '250.00',
      currency: 'USD',
      email: 'billing@dental.example',
    });
    expect(created.status, textOf(created.html)).toBe(303);
    expect(created.location).toBe('/admin/accounts/dental?done=created');
    const page = await admin.get(created.location!);
    const text = textOf(page.html);
    expect(text).toContain('The account was created.');
    expect(text).toContain('Operator › VoIP Co ›');
    expect(text).toContain('Billing postpaid, credit limit $250.00');

    const taken = await admin.post('/admin/accounts', { kind: 'customer', slug: 'dental', name: 'Again' });
    expect(taken.status).toBe(409);
    expect(textOf(taken.html)).toContain('The slug "dental" is already taken.');

    const saved = await admin.post('/admin/accounts/dental', {
      name: 'Dental Clinic Ltd',
      email: '',
      billing_mode: 'prepaid',
      credit_limit: '0',
    });
    expect(saved.location).toBe('/admin/accounts/dental?done=saved');
    const account = await t.db
      .selectFrom('accounts')
      .selectAll()
      .where('slug', '=', 'dental')
      .executeTakeFirstOrThrow();
    expect(account).toMatchObject({
      name: 'Dental Clinic Ltd',
      email: null,
      billing_mode: 'prepaid',
      credit_limit: 0,
    });
    const audit = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'account.update')
      .executeTakeFirstOrThrow();
    expect(audit.before).toEqual({
      name: 'Dental Clinic',
      email: 'billing@dental.example',
      billing_mode: 'postpaid',
      credit_limit: 25000,
    });
    const bad = await admin.post('/admin/accounts/dental', { name: 'x', credit_limit: 'lots' });
    expect(bad.status).toBe(400);
    expect(textOf(bad.html)).toContain('The credit limit must be an amount like 1.50');
  });

  it('suspends, switches call transfer off, records a payment and adds a user with chat identities', async () => {
    const w = await adminWorld(t.db);
    await buildUser(t.db, w.acme, {
      role: 'admin',
      name: 'Ann',
      email: 'ann@acme.example',
      slack_user_id: 'U024BE7LH',
      telegram_user_id: '4242',
    });
    await buildDid(t.db, { status: 'assigned', assigned_account_id: w.acme.id });
    await t.db
      .insertInto('charges')
      .values({
        account_id: w.acme.id,
        kind: 'recurring',
        amount: 1500,
        currency: 'USD',
        description: 'Monthly fee',
        idempotency_key: 'c1',
      })
      .execute();
    const { base } = await serveAdmin(t.db);
    const admin = await signIn(base, staffEmail('admin'));
    let page = await admin.get('/admin/accounts/acme');
    let text = textOf(page.html);
    expect(text).toContain('Balance Owes $15.00');
    expect(text).toContain('Numbers 1 in the inventory');
    expect(text).toContain('Ann ann@acme.example admin active U024BE7LH 4242');
    expect(text).toContain('Monthly fee $15.00');

    expect((await admin.post('/admin/accounts/acme/status', { status: 'suspended' })).location).toBe(
      '/admin/accounts/acme?done=suspended',
    );
    expect((await admin.post('/admin/accounts/acme/call-transfer', { enabled: 'off' })).location).toBe(
      '/admin/accounts/acme?done=transfer-off',
    );
    const paid = await admin.post('/admin/accounts/acme/payments', {
      amount: '10.00',
      reference: 'BANK-001',
    });
    expect(paid.location).toBe('/admin/accounts/acme?done=payment');
    const again = await admin.post('/admin/accounts/acme/payments', {
      amount: '10.00',
      reference: 'BANK-001',
    });
    expect(again.status).toBe(409);
    expect(textOf(again.html)).toContain(
      'A payment with the reference "BANK-001" is already recorded for acme.',
    );
    const user = await admin.post('/admin/accounts/acme/users', {
      user_email: 'bob@acme.example',
      user_name: 'Bob',
      role: 'viewer',
      telegram_user_id: '777',
    });
    expect(user.location).toBe('/admin/accounts/acme?done=user');

    page = await admin.get('/admin/accounts/acme');
    text = textOf(page.html);
    expect(text).toContain('Status suspended');
    expect(text).toContain('Call transfer Off for every number of the account');
    expect(text).toContain('Balance Owes $5.00');
    expect(text).toContain('Bob bob@acme.example viewer active — 777');
    expect(text).toContain('manual succeeded $10.00');
    const actions = (await t.db.selectFrom('audit_events').select('action').orderBy('id').execute()).map(
      (a) => a.action,
    );
    expect(actions).toEqual(['account.suspend', 'account.call_transfer', 'payment.record', 'user.create']);

    // Operators read accounts but do not change them.
    const operator = await signIn(base, staffEmail('operator'));
    const readOnly = await operator.get('/admin/accounts/acme');
    expect(readOnly.status).toBe(200);
    expect(readOnly.html).not.toContain('/admin/accounts/acme/status');
    expect((await operator.post('/admin/accounts/acme/status', { status: 'active' })).status).toBe(403);
  });

  it('answers 404 for an unknown account', async () => {
    await adminWorld(t.db);
    const { base } = await serveAdmin(t.db);
    const viewer = await signIn(base, staffEmail('viewer'));
    const page = await viewer.get('/admin/accounts/nobody');
    expect(page.status).toBe(404);
    expect(textOf(page.html)).toContain('No account "nobody".');
  });
});
