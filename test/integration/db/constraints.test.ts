// The rules the schema enforces by itself (migrations/…_initial.ts), checked with plain SQL so that no code
// path, present or future, can break them.
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../helpers/database.ts';
import { buildAccount, buildDid, buildOperator } from '../../helpers/factories.ts';

const t = useTestDatabase();

/** The PostgreSQL error a statement fails with (code and constraint), or null when it succeeds. */
async function failure(
  work: Promise<unknown>,
): Promise<{ code: string; constraint?: string; message: string } | null> {
  return work.then(
    () => null,
    (e: unknown) => {
      const error = e as { code?: string; constraint?: string; message: string };
      expect(error.code, `expected a PostgreSQL error, got: ${error.message}`).toMatch(/^[0-9A-Z]{5}$/);
      return { code: error.code!, constraint: error.constraint, message: error.message };
    },
  );
}

async function count(table: 'dids' | 'accounts' | 'audit_events' | 'charges'): Promise<number> {
  const row = await t.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

const CHECK = '23514';
const UNIQUE = '23505';
const RESTRICT = '23001';

describe('dids', () => {
  it('an assigned (or suspended) number must have an account', async () => {
    await buildOperator(t.db);
    expect((await failure(buildDid(t.db, { status: 'assigned' })))?.code).toBe(CHECK);
    expect((await failure(buildDid(t.db, { status: 'suspended' })))?.code).toBe(CHECK);
    expect(await count('dids')).toBe(0);
  });

  it('a pool number (available, aging, disabled) belongs to nobody; only an assigned one has a customer', async () => {
    const operator = await buildOperator(t.db);
    const acme = await buildAccount(t.db, operator, { slug: 'acme' });
    expect((await failure(buildDid(t.db, { status: 'available', assigned_account_id: acme.id })))?.code).toBe(
      CHECK,
    );
    expect((await failure(buildDid(t.db, { status: 'disabled', owner_account_id: acme.id })))?.code).toBe(
      CHECK,
    );
    expect((await failure(buildDid(t.db, { status: 'reserved', assigned_account_id: acme.id })))?.code).toBe(
      CHECK,
    );
    // Aging needs its end date, and only aging has one.
    expect((await failure(buildDid(t.db, { status: 'aging' })))?.code).toBe(CHECK);
    expect((await failure(buildDid(t.db, { status: 'available', aging_until: new Date() })))?.code).toBe(
      CHECK,
    );
    expect(await count('dids')).toBe(0);
    // The valid forms do go in.
    await buildDid(t.db, { status: 'assigned', assigned_account_id: acme.id });
    await buildDid(t.db, { status: 'aging', aging_until: new Date('2026-04-01T00:00:00Z') });
    expect(await count('dids')).toBe(2);
  });

  it('an existing number cannot be moved into an inconsistent state either', async () => {
    const did = await buildDid(t.db);
    expect(
      (await failure(t.db.updateTable('dids').set({ status: 'assigned' }).where('id', '=', did.id).execute()))
        ?.code,
    ).toBe(CHECK);
    const after = await t.db
      .selectFrom('dids')
      .select(['status', 'version'])
      .where('id', '=', did.id)
      .executeTakeFirstOrThrow();
    expect(after).toEqual({ status: 'available', version: 1 });
  });

  it('money and rates cannot be negative', async () => {
    for (const overrides of [
      { setup_fee: -1 },
      { recurring_fee: -150 },
      { activation_cost: -1 },
      { recurring_cost: -1 },
      { per_minute_rate_micros: -1 },
    ]) {
      expect((await failure(buildDid(t.db, overrides)))?.code).toBe(CHECK);
    }
    expect(await count('dids')).toBe(0);
    await buildDid(t.db, { setup_fee: 0, recurring_fee: 0 });
    expect(await count('dids')).toBe(1);
  });

  it('a number is unique', async () => {
    await buildDid(t.db, { number: '+12125550142' });
    const error = await failure(buildDid(t.db, { number: '+12125550142' }));
    expect(error).toMatchObject({ code: UNIQUE, constraint: 'dids_number_key' });
    expect(await count('dids')).toBe(1);
  });

  it('a number is stored in E.164', async () => {
    for (const number of [
      '12125550142',
      '+1 212 555 0142',
      '+01212555014',
      '+1212',
      '+1212555014212345',
      '+1-212-555-0142',
      '',
    ]) {
      expect((await failure(buildDid(t.db, { number })))?.code, number).toBe(CHECK);
    }
    expect(await count('dids')).toBe(0);
  });

  it('capabilities, statuses and destinations are from their lists; a destination has its type', async () => {
    expect((await failure(buildDid(t.db, { capabilities: ['voice', 'telepathy' as 'sms'] })))?.code).toBe(
      CHECK,
    );
    expect((await failure(buildDid(t.db, { status: 'sold' as 'available' })))?.code).toBe(CHECK);
    expect((await failure(buildDid(t.db, { destination_type: 'sip', destination: null })))?.code).toBe(CHECK);
    expect(
      (await failure(buildDid(t.db, { destination_type: null, destination: 'sip:1@pbx.example.com' })))?.code,
    ).toBe(CHECK);
    expect(await count('dids')).toBe(0);
  });

  it('every update bumps the version', async () => {
    const did = await buildDid(t.db);
    await t.db.updateTable('dids').set({ description: 'one' }).where('id', '=', did.id).execute();
    await t.db.updateTable('dids').set({ description: 'two' }).where('id', '=', did.id).execute();
    expect(
      (await t.db.selectFrom('dids').select('version').where('id', '=', did.id).executeTakeFirstOrThrow())
        .version,
    ).toBe(3);
  });
});

describe('accounts', () => {
  it('a customer cannot have an account under it', async () => {
    const operator = await buildOperator(t.db);
    const acme = await buildAccount(t.db, operator, { slug: 'acme', kind: 'customer' });
    const error = await failure(buildAccount(t.db, acme, { slug: 'acme-child' }));
    expect(error?.code).toBe(CHECK);
    expect(error?.message).toContain('a customer account cannot have accounts under it');
    expect(await count('accounts')).toBe(2);
  });

  it('there is exactly one operator, and it alone has no parent', async () => {
    await buildOperator(t.db);
    const second = await failure(buildOperator(t.db, { slug: 'operator-2' }));
    expect(second).toMatchObject({ code: UNIQUE, constraint: 'accounts_one_operator_idx' });
    const operator = await t.db.selectFrom('accounts').selectAll().executeTakeFirstOrThrow();
    expect((await failure(buildAccount(t.db, operator, { kind: 'admin', slug: 'admin-child' })))?.code).toBe(
      CHECK,
    );
    const orphan = t.db
      .insertInto('accounts')
      .values({
        kind: 'customer',
        slug: 'orphan',
        name: 'Orphan',
        parent_id: null,
        stripe_customer_id: null,
        email: null,
      })
      .execute();
    expect((await failure(orphan))?.code).toBe(CHECK);
    expect(await count('accounts')).toBe(1);
  });

  it('the path is built by the trigger, and kind and place are fixed after creation', async () => {
    const operator = await buildOperator(t.db);
    const voipco = await buildAccount(t.db, operator, { kind: 'reseller', slug: 'voipco' });
    const east = await buildAccount(t.db, voipco, {
      kind: 'reseller',
      slug: 'voipco-east',
      path: '/forged/',
    });
    const dental = await buildAccount(t.db, east, { slug: 'dental' });
    expect([operator.path, voipco.path, east.path, dental.path]).toEqual([
      '/1/',
      '/1/2/',
      '/1/2/3/',
      '/1/2/3/4/',
    ]);
    const other = await buildAccount(t.db, operator, { kind: 'reseller', slug: 'globaltel' });
    expect(
      (
        await failure(
          t.db.updateTable('accounts').set({ parent_id: other.id }).where('id', '=', dental.id).execute(),
        )
      )?.code,
    ).toBe(CHECK);
    expect(
      (await failure(t.db.updateTable('accounts').set({ path: '/1/' }).where('id', '=', dental.id).execute()))
        ?.code,
    ).toBe(CHECK);
    expect(
      (
        await failure(
          t.db.updateTable('accounts').set({ kind: 'reseller' }).where('id', '=', dental.id).execute(),
        )
      )?.code,
    ).toBe(CHECK);
    expect(
      await t.db
        .selectFrom('accounts')
        .select(['kind', 'parent_id', 'path'])
        .where('id', '=', dental.id)
        .executeTakeFirstOrThrow(),
    ).toEqual({
      kind: 'customer',
      parent_id: east.id,
      path: '/1/2/3/4/',
    });
    // Other columns still change.
    await t.db.updateTable('accounts').set({ status: 'suspended' }).where('id', '=', dental.id).execute();
  });

  it('slugs are unique and well formed', async () => {
    const operator = await buildOperator(t.db);
    await buildAccount(t.db, operator, { slug: 'acme' });
    expect(await failure(buildAccount(t.db, operator, { slug: 'acme' }))).toMatchObject({
      code: UNIQUE,
      constraint: 'accounts_slug_key',
    });
    for (const slug of ['Acme', 'bad slug', '-acme']) {
      expect((await failure(buildAccount(t.db, operator, { slug })))?.code, slug).toBe(CHECK);
    }
    expect(await count('accounts')).toBe(2);
  });
});

describe('append-only ledger and audit trail', () => {
  async function ledger() {
    const operator = await buildOperator(t.db);
    const acme = await buildAccount(t.db, operator, { slug: 'acme' });
    await t.db
      .insertInto('charges')
      .values({
        account_id: acme.id,
        kind: 'setup',
        amount: 150,
        currency: 'USD',
        did_id: null,
        subscription_id: null,
        invoice_id: null,
        idempotency_key: 'setup:1',
      })
      .execute();
    await t.db
      .insertInto('audit_events')
      .values({
        channel: 'cli',
        actor_user_id: null,
        actor_account_id: operator.id,
        actor_label: 'cli:root',
        action: 'did.assign',
        did_id: null,
        account_id: acme.id,
        after: JSON.stringify({ status: 'assigned' }),
      })
      .execute();
    return { operator, acme };
  }

  it('audit events cannot be updated or deleted', async () => {
    await ledger();
    const update = await failure(t.db.updateTable('audit_events').set({ action: 'did.release' }).execute());
    expect(update?.code).toBe(RESTRICT);
    expect(update?.message).toContain('audit_events is append-only');
    expect((await failure(t.db.deleteFrom('audit_events').execute()))?.code).toBe(RESTRICT);
    expect(await t.db.selectFrom('audit_events').select('action').execute()).toEqual([
      { action: 'did.assign' },
    ]);
  });

  it('charges cannot be updated or deleted', async () => {
    await ledger();
    const update = await failure(t.db.updateTable('charges').set({ amount: 1 }).execute());
    expect(update?.code).toBe(RESTRICT);
    expect(update?.message).toContain('charges is append-only');
    expect((await failure(t.db.deleteFrom('charges').execute()))?.code).toBe(RESTRICT);
    expect(await t.db.selectFrom('charges').select(['amount', 'kind']).execute()).toEqual([
      { amount: 150, kind: 'setup' },
    ]);
  });

  it('charges: one per idempotency key; setup and recurring never negative; refunds never positive', async () => {
    const { acme } = await ledger();
    const charge = (kind: 'setup' | 'recurring' | 'refund' | 'adjustment', amount: number, key: string) =>
      t.db
        .insertInto('charges')
        .values({
          account_id: acme.id,
          kind,
          amount,
          currency: 'USD',
          did_id: null,
          subscription_id: null,
          invoice_id: null,
          idempotency_key: key,
        })
        .execute();
    expect(await failure(charge('setup', 150, 'setup:1'))).toMatchObject({
      code: UNIQUE,
      constraint: 'charges_idempotency_key_key',
    });
    expect((await failure(charge('recurring', -1, 'r:1')))?.code).toBe(CHECK);
    expect((await failure(charge('refund', 100, 'refund:1')))?.code).toBe(CHECK);
    await charge('refund', -150, 'refund:2');
    await charge('adjustment', -20, 'adj:1');
    expect(await count('charges')).toBe(3);
  });
});
