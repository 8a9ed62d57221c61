import { describe, expect, it } from 'vitest';
import { assignDid, assignMany, releaseDid } from '../../../core/inventory/assignment.ts';
import { getDidInfo } from '../../../core/inventory/edit-did.ts';
import { DomainError } from '../../../core/shared/errors.ts';
import { ManualClock } from '../../../core/shared/clock.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { actorOf, buildAccount, buildDid, buildHierarchy, ctxFor } from '../../helpers/factories.ts';
import { errorOf } from '../../helpers/errors.ts';

const t = useTestDatabase();

const world = () => buildHierarchy(t.db);

async function auditCount(action: string) {
  const row = await t.db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('action', '=', action)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('assign', () => {
  it('assigns an available number typed as people type it to a direct customer, and audits it', async () => {
    const w = await world();
    await buildDid(t.db, { number: '+18665550100', area_code: '866', number_type: 'toll_free' });
    const result = await assignDid(w.staff, { number: '+1 (866) 555-0100', account: 'acme' });
    expect(result.assigned).toEqual(['+18665550100']);
    const did = await t.db
      .selectFrom('dids')
      .selectAll()
      .where('number', '=', '+18665550100')
      .executeTakeFirstOrThrow();
    expect(did).toMatchObject({ status: 'assigned', assigned_account_id: w.acme.id, owner_account_id: null });
    const audit = await t.db.selectFrom('audit_events').selectAll().where('did_id', '=', did.id).execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'did.assign', channel: 'cli', actor_account_id: w.operator.id });
    expect(audit[0]!.before).toMatchObject({ status: 'available' });
    expect(audit[0]!.after).toMatchObject({ status: 'assigned', customer: 'acme' });
  });

  it("makes a reseller's customer's number held by the nearest reseller", async () => {
    const w = await world();
    const did = await buildDid(t.db);
    await assignDid(w.staff, { number: did.number, account: 'dental' });
    const after = await t.db
      .selectFrom('dids')
      .selectAll()
      .where('id', '=', did.id)
      .executeTakeFirstOrThrow();
    expect(after).toMatchObject({ owner_account_id: w.subReseller.id, assigned_account_id: w.dental.id });
  });

  it('is idempotent: assigning again to the same account changes nothing and writes no second audit', async () => {
    const w = await world();
    const did = await buildDid(t.db);
    await assignDid(w.staff, { number: did.number, account: 'acme' });
    const again = await assignDid(w.staff, { number: did.number, account: 'acme' });
    expect(again.assigned).toEqual([]);
    expect(again.unchanged).toEqual([did.number]);
    expect(await auditCount('did.assign')).toBe(1);
  });

  it('refuses a number held by someone else, naming the holder, and changes nothing', async () => {
    const w = await world();
    const did = await buildDid(t.db);
    await assignDid(w.staff, { number: did.number, account: 'acme' });
    const error = await errorOf(assignDid(w.staff, { number: did.number, account: 'bakery' }));
    expect(error.code).toBe('conflict');
    expect(error.message).toContain('already assigned to acme');
    const after = await t.db
      .selectFrom('dids')
      .selectAll()
      .where('id', '=', did.id)
      .executeTakeFirstOrThrow();
    expect(after.assigned_account_id).toBe(w.acme.id);
  });

  it('answers malformed numbers, unknown numbers and unknown accounts clearly', async () => {
    const w = await world();
    await buildDid(t.db, { number: '+18665550100' });
    const malformed = await errorOf(assignDid(w.staff, { number: '1866-SIP-VOIP!', account: 'acme' }));
    expect(malformed.code).toBe('invalid');
    expect(malformed.message).toMatch(/not a phone number/);
    const unknown = await errorOf(assignDid(w.staff, { number: '+18665550199', account: 'acme' }));
    expect(unknown.code).toBe('not_found');
    expect(unknown.message).toBe('+1 866 555 0199 is not in the inventory');
    const account = await errorOf(assignDid(w.staff, { number: '+18665550100', account: 'acmee' }));
    expect(account.code).toBe('not_found');
    expect(account.message).toContain('Did you mean acme?');
    expect(await auditCount('did.assign')).toBe(0);
  });

  it('refuses suspended accounts and the operator account itself', async () => {
    const w = await world();
    const did = await buildDid(t.db);
    await t.db.updateTable('accounts').set({ status: 'suspended' }).where('id', '=', w.acme.id).execute();
    expect((await errorOf(assignDid(w.staff, { number: did.number, account: 'acme' }))).message).toContain(
      'suspended',
    );
    expect((await errorOf(assignDid(w.staff, { number: did.number, account: 'operator' }))).code).toBe(
      'invalid',
    );
  });

  it('lets a viewer look but not assign', async () => {
    const w = await world();
    const did = await buildDid(t.db);
    const viewer = ctxFor(t.db, actorOf(w.operator, 'viewer'));
    expect((await errorOf(assignDid(viewer, { number: did.number, account: 'acme' }))).code).toBe(
      'forbidden',
    );
    expect((await getDidInfo(viewer, did.number)).did.status).toBe('available');
  });

  it('exactly one of 50 concurrent assigns of one number wins; the rest are told who has it', async () => {
    const w = await world();
    const did = await buildDid(t.db);
    const customers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => buildAccount(t.db, w.operator, { slug: `racer-${i}` })),
    );
    const outcomes = await Promise.allSettled(
      customers.map((c) =>
        assignDid(ctxFor(t.db, actorOf(w.operator, 'operator')), { number: did.number, account: c.slug }),
      ),
    );
    const winners = outcomes.filter((o) => o.status === 'fulfilled');
    const losers = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(49);
    const after = await t.db
      .selectFrom('dids')
      .innerJoin('accounts', 'accounts.id', 'dids.assigned_account_id')
      .select('accounts.slug')
      .where('dids.id', '=', did.id)
      .executeTakeFirstOrThrow();
    for (const loser of losers) {
      expect(loser.reason).toBeInstanceOf(DomainError);
      expect((loser.reason as DomainError).message).toContain(`already assigned to ${after.slug}`);
    }
    expect(await auditCount('did.assign')).toBe(1);
  });
});

describe('stale buttons', () => {
  it('refuses an assign or release whose number changed since the button was drawn, changing nothing', async () => {
    const w = await world();
    const did = await buildDid(t.db);
    const shownVersion = did.version;
    await assignDid(w.staff, { number: did.number, account: 'acme' });
    const assign = await errorOf(
      assignDid(w.staff, { number: did.number, account: 'bakery', expectedVersion: shownVersion }),
    );
    expect(assign.code).toBe('conflict');
    expect(assign.message).toContain(
      'changed since it was shown (it is now assigned to acme); nothing was done',
    );
    const release = await errorOf(releaseDid(w.staff, { number: did.number, expectedVersion: shownVersion }));
    expect(release.code).toBe('conflict');
    const after = await t.db
      .selectFrom('dids')
      .selectAll()
      .where('id', '=', did.id)
      .executeTakeFirstOrThrow();
    expect(after).toMatchObject({
      status: 'assigned',
      assigned_account_id: w.acme.id,
      version: shownVersion + 1,
    });
    await releaseDid(w.staff, { number: did.number, expectedVersion: after.version });
    expect(await auditCount('did.release')).toBe(1);
  });
});

describe('resellers act only within their subtree', () => {
  it('a reseller hands a number it holds to its customer, but cannot take pool numbers or reach other resellers', async () => {
    const w = await world();
    const held = await buildDid(t.db, { status: 'assigned', owner_account_id: w.reseller.id });
    const pool = await buildDid(t.db);
    const resellerStaff = ctxFor(t.db, actorOf(w.reseller, 'operator'));
    await assignDid(resellerStaff, { number: held.number, account: 'bakery' });
    const after = await t.db
      .selectFrom('dids')
      .selectAll()
      .where('id', '=', held.id)
      .executeTakeFirstOrThrow();
    expect(after).toMatchObject({ owner_account_id: w.reseller.id, assigned_account_id: w.bakery.id });

    expect(
      (await errorOf(assignDid(resellerStaff, { number: pool.number, account: 'bakery' }))).message,
    ).toContain("operator's pool");
    const outside = await errorOf(assignDid(resellerStaff, { number: held.number, account: 'initech' }));
    expect(outside.code).toBe('not_found');
    expect(outside.message).toContain('No account "initech"');
  });

  it("does not reveal who holds a number outside the reseller's subtree", async () => {
    const w = await world();
    const theirs = await buildDid(t.db, {
      status: 'assigned',
      owner_account_id: w.otherReseller.id,
      assigned_account_id: w.initech.id,
    });
    const resellerStaff = ctxFor(t.db, actorOf(w.reseller, 'operator'));
    const error = await errorOf(assignDid(resellerStaff, { number: theirs.number, account: 'bakery' }));
    expect(error.message).not.toContain('initech');
    expect(error.message).toContain('another account');
  });
});

describe('bulk assign', () => {
  it('first N assigns the first N free matching numbers in number order and reports a shortfall', async () => {
    const w = await world();
    for (let i = 0; i < 8; i++) await buildDid(t.db, { number: `+1800864700${i}`, area_code: '800' });
    await buildDid(t.db, { number: '+18008647009', area_code: '800', status: 'disabled' });
    const result = await assignMany(w.staff, 'acme', {
      mode: 'first',
      count: 5,
      filter: { pattern: '1800%VOIP' },
    });
    expect(result.assigned).toEqual([
      '+18008647000',
      '+18008647001',
      '+18008647002',
      '+18008647003',
      '+18008647004',
    ]);
    const short = await assignMany(w.staff, 'acme', {
      mode: 'first',
      count: 5,
      filter: { pattern: '1800%VOIP' },
    });
    expect(short.assigned).toHaveLength(3);
    expect(short.skipped[0]?.reason).toContain('only 3 of the 5');
  });

  it('selected list: assigns what it can and says why it skipped the rest', async () => {
    const w = await world();
    const free = await buildDid(t.db);
    const taken = await buildDid(t.db, {
      status: 'assigned',
      assigned_account_id: w.initech.id,
      owner_account_id: w.otherReseller.id,
    });
    const disabled = await buildDid(t.db, { status: 'disabled' });
    const result = await assignMany(w.staff, 'acme', {
      mode: 'selected',
      numbers: [free.number, taken.number, disabled.number, 'not-a-number', '+12125559999'],
    });
    expect(result.assigned).toEqual([free.number]);
    expect(Object.fromEntries(result.skipped.map((s) => [s.number, s.reason]))).toEqual({
      [taken.number]: 'is already assigned to initech',
      [disabled.number]: `is disabled; enable it first with \`enable ${disabled.number}\``,
      'not-a-number': 'is not a phone number',
      '+12125559999': 'is not in the inventory',
    });
  });

  it('all matching: assigns the free ones among the matches', async () => {
    const w = await world();
    await buildDid(t.db, { number: '+13125550001', city: 'Chicago' });
    await buildDid(t.db, { number: '+13125550002', city: 'Chicago' });
    await buildDid(t.db, {
      number: '+13125550003',
      city: 'Chicago',
      status: 'assigned',
      assigned_account_id: w.acme.id,
    });
    await buildDid(t.db, { number: '+12125550004', city: 'New York' });
    const result = await assignMany(w.staff, 'bakery', { mode: 'all', filter: { city: 'Chicago' } });
    expect(result.assigned).toEqual(['+13125550001', '+13125550002']);
    expect(result.skipped).toEqual([
      { number: '+13125550003', reason: 'is already assigned to acme', code: 'conflict' },
    ]);
  });
});

describe('release', () => {
  it('returns a number to the pool through aging, clears its routing, and ages it for the configured days', async () => {
    const w = await world();
    const clock = new ManualClock('2026-03-01T10:00:00Z');
    const ctx = ctxFor(t.db, actorOf(w.operator, 'operator'), { clock, didAgingDays: 14 });
    const did = await buildDid(t.db);
    await assignDid(ctx, { number: did.number, account: 'acme' });
    await t.db
      .updateTable('dids')
      .set({ destination_type: 'sip', destination: 'sip:100@pbx.acme.example' })
      .where('id', '=', did.id)
      .execute();
    await t.db
      .insertInto('call_transfers')
      .values({
        did_id: did.id,
        enabled: true,
        busy_destination: '+442079460000',
        no_answer_destination: null,
        unreachable_destination: null,
        always_destination: null,
        updated_at: new Date(),
      })
      .execute();

    const result = await releaseDid(ctx, { number: did.number });
    expect(result.agingUntil?.toISOString()).toBe('2026-03-15T10:00:00.000Z');
    const after = await t.db
      .selectFrom('dids')
      .selectAll()
      .where('id', '=', did.id)
      .executeTakeFirstOrThrow();
    expect(after).toMatchObject({
      status: 'aging',
      assigned_account_id: null,
      owner_account_id: null,
      destination: null,
    });
    expect(after.freed_at?.toISOString()).toBe('2026-03-01T10:00:00.000Z');
    expect(await t.db.selectFrom('call_transfers').selectAll().execute()).toEqual([]);

    const again = await errorOf(assignDid(ctx, { number: did.number, account: 'bakery' }));
    expect(again.message).toContain('rests until 2026-03-15');
  });

  it('with zero aging days the number is available at once; releasing a free number is refused', async () => {
    const w = await world();
    const ctx = ctxFor(t.db, actorOf(w.operator, 'operator'), { didAgingDays: 0 });
    const did = await buildDid(t.db);
    await assignDid(ctx, { number: did.number, account: 'acme' });
    await releaseDid(ctx, { number: did.number });
    expect(
      (await t.db.selectFrom('dids').select('status').where('id', '=', did.id).executeTakeFirstOrThrow())
        .status,
    ).toBe('available');
    const error = await errorOf(releaseDid(ctx, { number: did.number }));
    expect(error.code).toBe('conflict');
    expect(error.message).toContain('nothing to release');
  });

  it('a reseller releases its own numbers to the pool but not another reseller’s', async () => {
    const w = await world();
    const mine = await buildDid(t.db, {
      status: 'assigned',
      owner_account_id: w.reseller.id,
      assigned_account_id: w.bakery.id,
    });
    const theirs = await buildDid(t.db, {
      status: 'assigned',
      owner_account_id: w.otherReseller.id,
      assigned_account_id: w.initech.id,
    });
    const resellerStaff = ctxFor(t.db, actorOf(w.reseller, 'operator'));
    await releaseDid(resellerStaff, { number: mine.number });
    expect((await errorOf(releaseDid(resellerStaff, { number: theirs.number }))).code).toBe('not_found');
    const after = await t.db
      .selectFrom('dids')
      .select('assigned_account_id')
      .where('id', '=', theirs.id)
      .executeTakeFirstOrThrow();
    expect(after.assigned_account_id).toBe(w.initech.id);
  });
});
