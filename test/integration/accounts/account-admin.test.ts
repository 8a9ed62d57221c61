// Editing an account's terms and reading its overview (the back office's account page).
import { describe, expect, it } from 'vitest';
import { accountOverview } from '../../../core/accounts/account-overview.ts';
import { updateAccount } from '../../../core/accounts/accounts.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import {
  actorOf,
  buildAccount,
  buildDid,
  buildOperator,
  buildUser,
  ctxFor,
} from '../../helpers/factories.ts';
import { errorOf } from '../../helpers/errors.ts';

const t = useTestDatabase();

describe('account terms and overview', () => {
  it('changes name, email, billing mode and credit limit, audited; kind and currency stay', async () => {
    const operator = await buildOperator(t.db);
    const admin = ctxFor(t.db, actorOf(operator, 'admin'));
    await buildAccount(t.db, operator, { slug: 'acme', name: 'Acme', currency: 'EUR' });
    const updated = await updateAccount(admin, 'acme', {
      name: 'Acme GmbH',
      email: 'Billing@Acme.example',
      billingMode: 'postpaid',
      creditLimit: '500',
    });
    expect(updated).toMatchObject({
      name: 'Acme GmbH',
      email: 'billing@acme.example',
      billing_mode: 'postpaid',
      credit_limit: 50000,
      currency: 'EUR',
    });
    const audit = await t.db.selectFrom('audit_events').selectAll().executeTakeFirstOrThrow();
    expect(audit).toMatchObject({
      action: 'account.update',
      before: { name: 'Acme', email: null, billing_mode: 'prepaid', credit_limit: 0 },
      after: {
        name: 'Acme GmbH',
        email: 'billing@acme.example',
        billing_mode: 'postpaid',
        credit_limit: 50000,
      },
    });
    // Nothing to change: nothing audited.
    await updateAccount(admin, 'acme', { name: 'Acme GmbH' });
    expect(await t.db.selectFrom('audit_events').select('id').execute()).toHaveLength(1);
    expect((await errorOf(updateAccount(admin, 'acme', { billingMode: 'monthly' }))).field).toBe(
      'billing_mode',
    );
    expect((await errorOf(updateAccount(admin, 'acme', { email: 'nope' }))).field).toBe('email');
    expect(
      (await errorOf(updateAccount(ctxFor(t.db, actorOf(operator, 'operator')), 'acme', { name: 'x' }))).code,
    ).toBe('forbidden');
  });

  it('gathers the tree position, users with chat identities, balance, charges, payments and numbers', async () => {
    const operator = await buildOperator(t.db);
    const viewer = ctxFor(t.db, actorOf(operator, 'viewer'));
    const reseller = await buildAccount(t.db, operator, { kind: 'reseller', slug: 'voipco' });
    const bakery = await buildAccount(t.db, reseller, { slug: 'bakery' });
    await buildUser(t.db, bakery, {
      role: 'admin',
      email: 'ann@bakery.example',
      slack_user_id: 'U1',
      telegram_user_id: '42',
    });
    await buildDid(t.db, {
      status: 'assigned',
      owner_account_id: reseller.id,
      assigned_account_id: bakery.id,
    });
    await t.db
      .insertInto('charges')
      .values({
        account_id: bakery.id,
        kind: 'setup',
        amount: 700,
        currency: 'USD',
        description: 'Setup',
        idempotency_key: 'k1',
      })
      .execute();
    await t.db
      .insertInto('payments')
      .values({
        account_id: bakery.id,
        amount: 200,
        currency: 'USD',
        method: 'manual',
        status: 'succeeded',
        idempotency_key: 'p1',
        provider_ref: null,
      })
      .execute();
    const o = await accountOverview(viewer, 'bakery');
    expect(o.ancestors.map((a) => a.slug)).toEqual(['operator', 'voipco']);
    expect(o.users).toEqual([
      expect.objectContaining({
        email: 'ann@bakery.example',
        role: 'admin',
        slackUserId: 'U1',
        telegramUserId: '42',
      }),
    ]);
    expect(o).toMatchObject({ owed: 500, numbers: 1, children: 0 });
    expect(o.charges.map((c) => [c.kind, c.amount])).toEqual([['setup', 700]]);
    expect(o.payments.map((p) => [p.method, p.amount])).toEqual([['manual', 200]]);
    expect((await accountOverview(viewer, 'voipco')).numbers).toBe(1);
  });
});
