// The numbers an account uses, as its own people see them: only the actor's own account, with each
// number's call transfer; another account's number is not found.
import { describe, expect, it } from 'vitest';
import { getAccountNumber, listAccountNumbers } from '../../../core/inventory/account-numbers.ts';
import { errorOf } from '../../helpers/errors.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { actorOf, buildDid, buildHierarchy, ctxFor } from '../../helpers/factories.ts';

const t = useTestDatabase();

async function setup() {
  const h = await buildHierarchy(t.db);
  const inUse = { status: 'assigned' as const, assigned_at: new Date() };
  const b1 = await buildDid(t.db, {
    number: '+12125550101',
    owner_account_id: h.reseller.id,
    assigned_account_id: h.bakery.id,
    ...inUse,
  });
  const b2 = await buildDid(t.db, {
    number: '+12125550102',
    owner_account_id: h.reseller.id,
    assigned_account_id: h.bakery.id,
    status: 'suspended',
    assigned_at: new Date(),
  });
  const held = await buildDid(t.db, { number: '+12125550103', owner_account_id: h.reseller.id, ...inUse });
  const dental = await buildDid(t.db, {
    number: '+12125550104',
    owner_account_id: h.subReseller.id,
    assigned_account_id: h.dental.id,
    ...inUse,
  });
  await buildDid(t.db, { number: '+12125550105' });
  await t.db
    .insertInto('call_transfers')
    .values({ did_id: b1.id, enabled: true, busy_destination: '+442079460000', updated_at: new Date() })
    .execute();
  return { ...h, b1, b2, held, dental };
}

describe('listAccountNumbers', () => {
  it("lists a customer's own numbers with their call transfer, nobody else's", async () => {
    const { bakery, b1, b2 } = await setup();
    const list = await listAccountNumbers(ctxFor(t.db, actorOf(bakery, 'owner')));
    expect(list.total).toBe(2);
    expect(list.numbers.map((n) => n.didId)).toEqual([b1.id, b2.id]);
    expect(list.numbers[0]).toMatchObject({
      number: '+12125550101',
      status: 'assigned',
      transfer: {
        enabled: true,
        accountEnabled: true,
        effective: true,
        destinations: { busy: { type: 'pstn', value: '+442079460000' }, no_answer: null },
        ringTimeoutSeconds: 20,
      },
    });
    expect(list.numbers[1]).toMatchObject({
      status: 'suspended',
      transfer: { enabled: false, effective: false },
    });
  });

  it("gives a reseller the numbers it holds and has not assigned on, not its customers' ones", async () => {
    const { reseller, held } = await setup();
    const list = await listAccountNumbers(ctxFor(t.db, actorOf(reseller, 'admin')));
    expect(list.numbers.map((n) => n.didId)).toEqual([held.id]);
  });

  it('counts all but returns at most limit, and sees the account switches above', async () => {
    const { bakery, reseller } = await setup();
    await t.db
      .updateTable('accounts')
      .set({ call_transfer_enabled: false })
      .where('id', '=', reseller.id)
      .execute();
    const list = await listAccountNumbers(ctxFor(t.db, actorOf(bakery, 'owner')), { limit: 1 });
    expect(list).toMatchObject({
      total: 2,
      numbers: [{ transfer: { enabled: true, accountEnabled: false, effective: false } }],
    });
  });
});

describe('getAccountNumber', () => {
  it("finds an own number by DID id or as typed; another account's is not found", async () => {
    const { bakery, b1, dental } = await setup();
    const ctx = ctxFor(t.db, actorOf(bakery, 'viewer'));
    expect((await getAccountNumber(ctx, { didId: b1.id })).number).toBe('+12125550101');
    expect((await getAccountNumber(ctx, { number: '+1 (212) 555-0101' })).didId).toBe(b1.id);
    expect(await errorOf(getAccountNumber(ctx, { didId: dental.id }))).toMatchObject({
      code: 'not_found',
      message: 'That number is not yours.',
    });
    expect(await errorOf(getAccountNumber(ctx, { number: '12125550104' }))).toMatchObject({
      code: 'not_found',
      message: '+1 212 555 0104 is not one of your numbers.',
    });
  });
});
