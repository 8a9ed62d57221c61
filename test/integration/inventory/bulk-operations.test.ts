import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  planBulkOperation,
  runBulkOperation,
  startBulkOperation,
  type BulkRequest,
} from '../../../core/inventory/bulk-operations.ts';
import { csvFromPastedNumbers, planImport } from '../../../core/inventory/import-job.ts';
import { setDescription } from '../../../core/inventory/edit-did.ts';
import type { Ctx } from '../../../core/context.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import {
  actorOf,
  buildAccount,
  buildDid,
  buildGroup,
  buildOperator,
  buildPricingBatch,
  buildUser,
  ctxFor,
} from '../../helpers/factories.ts';
import { errorOf } from '../../helpers/errors.ts';

const t = useTestDatabase();

async function world() {
  const operator = await buildOperator(t.db);
  const user = await buildUser(t.db, operator, { role: 'operator', email: 'ops@example.com' });
  const staff = ctxFor(t.db, actorOf(operator, 'operator', 'web', user.id));
  const acme = await buildAccount(t.db, operator, { slug: 'acme' });
  return { operator, user, staff, acme };
}

async function numbers(count: number, prefix = '+1212555', start = 1000) {
  const dids = [];
  for (let i = 0; i < count; i++) dids.push(await buildDid(t.db, { number: `${prefix}${start + i}` }));
  return dids;
}

/** plan → confirm → run, as the back office does. */
async function runToEnd(ctx: Ctx, request: BulkRequest, batchSize = 1_000) {
  const plan = await planBulkOperation(ctx, request);
  await startBulkOperation(ctx, plan.operation.id);
  const done = await runBulkOperation(ctx, plan.operation.id, { batchSize });
  return { plan, done };
}

const audits = async (action: string) =>
  Number(
    (
      await t.db
        .selectFrom('audit_events')
        .select(sql<string>`count(*)`.as('n'))
        .where('action', '=', action)
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('bulk operations', () => {
  it('assigns selected numbers, skipping one that changed since the page showed it', async () => {
    const w = await world();
    const [a, b, c] = await numbers(3);
    // Someone edits b after the page was drawn: its version moves on.
    await setDescription(w.staff, b!.number, 'edited meanwhile');
    const request: BulkRequest = {
      kind: 'assign',
      target: 'acme',
      selection: {
        mode: 'selected',
        numbers: [a!.number, b!.number, c!.number],
        versions: { [a!.number]: a!.version, [b!.number]: b!.version, [c!.number]: c!.version },
      },
    };
    const { plan, done } = await runToEnd(w.staff, request);
    expect(plan.willChange).toBe(2);
    expect(plan.skipped).toEqual([
      { number: b!.number, reason: expect.stringContaining('changed since it was shown') as unknown },
    ]);
    expect(done).toMatchObject({ status: 'done', changed: 2, skipped: 1, unchanged: 0, percent: 100 });
    expect(done.details[0]).toMatchObject({ number: b!.number });
    const rows = await t.db.selectFrom('dids').select(['number', 'status']).orderBy('number').execute();
    expect(rows.map((r) => r.status)).toEqual(['assigned', 'available', 'assigned']);
    expect(await audits('did.assign')).toBe(2);
    expect(await audits('bulk.assign')).toBe(1);
  });

  it('applies to all matching numbers in batches, skipping those changed after the confirmation', async () => {
    const w = await world();
    const group = await buildGroup(t.db, { name: 'Premium' });
    await numbers(25);
    await numbers(3, '+1415555', 2000); // not matching
    const plan = await planBulkOperation(w.staff, {
      kind: 'group',
      target: 'Premium',
      selection: { mode: 'all', filter: { pattern: '1212555' } },
    });
    expect(plan).toMatchObject({ covered: 25, willChange: 25 });
    // Changed after the confirmation page: left alone and reported.
    await sql`SELECT pg_sleep(0.01)`.execute(t.db);
    await setDescription(w.staff, '+12125551003', 'touched');
    await startBulkOperation(w.staff, plan.operation.id);
    const done = await runBulkOperation(w.staff, plan.operation.id, { batchSize: 10 });
    expect(done).toMatchObject({ status: 'done', changed: 24, skipped: 1, processed: 25 });
    expect(done.details).toEqual([
      { number: '+12125551003', reason: expect.stringContaining('changed since it was shown') as unknown },
    ]);
    const inGroup = await t.db.selectFrom('dids').select('number').where('group_id', '=', group.id).execute();
    expect(inGroup).toHaveLength(24);
    expect(await audits('did.group')).toBe(24);
  });

  it('takes the first N numbers that can change, and says when fewer could', async () => {
    const w = await world();
    const other = await buildAccount(t.db, w.operator, { slug: 'other' });
    const dids = await numbers(6);
    await t.db
      .updateTable('dids')
      .set({ status: 'assigned', assigned_account_id: other.id })
      .where('id', '=', dids[0]!.id)
      .execute();
    const { plan, done } = await runToEnd(
      w.staff,
      { kind: 'assign', target: 'acme', selection: { mode: 'first', count: 3, filter: { pattern: '1212' } } },
      2,
    );
    expect(plan.willChange).toBe(3);
    expect(done).toMatchObject({ changed: 3, skipped: 0 });
    const assigned = await t.db
      .selectFrom('dids')
      .select('number')
      .where('assigned_account_id', '=', w.acme.id)
      .orderBy('number')
      .execute();
    expect(assigned.map((r) => r.number)).toEqual(['+12125551001', '+12125551002', '+12125551003']);

    const more = await runToEnd(w.staff, {
      kind: 'assign',
      target: 'acme',
      selection: { mode: 'first', count: 5, filter: { pattern: '1212' } },
    });
    expect(more.plan.willChange).toBe(2);
    expect(more.done).toMatchObject({ changed: 2, skipped: 0 });
    expect(more.done.details).toEqual([
      { number: '', reason: 'only 2 of the 5 requested numbers could change with this search' },
    ]);
  });

  it('moves to a pricing batch, releases, disables and enables with the one-number rules', async () => {
    const w = await world();
    const batch = await buildPricingBatch(t.db, {
      owner_account_id: w.operator.id,
      name: 'Gold',
      setup_fee: 500,
      recurring_fee: 900,
    });
    const dids = await numbers(4);
    await t.db
      .updateTable('dids')
      .set({ status: 'assigned', assigned_account_id: w.acme.id, currency: 'EUR' })
      .where('id', '=', dids[0]!.id)
      .execute();
    const all = { mode: 'all' as const, filter: { pattern: '1212555' } };

    const moved = await runToEnd(w.staff, { kind: 'pricing_batch', target: 'Gold', selection: all });
    expect(moved.plan.willChange).toBe(3);
    expect(moved.done).toMatchObject({ changed: 3, skipped: 1 });
    expect(moved.done.details[0]!.reason).toContain('is billed in EUR; "Gold" is in USD');
    const gold = await t.db.selectFrom('dids').selectAll().where('pricing_batch_id', '=', batch.id).execute();
    expect(gold.every((d) => d.setup_fee === 500 && d.recurring_fee === 900)).toBe(true);

    const disabled = await runToEnd(w.staff, { kind: 'disable', selection: all });
    expect(disabled.done).toMatchObject({ changed: 3, skipped: 1 });
    expect(disabled.done.details[0]!.reason).toContain('release it before disabling it');

    const released = await runToEnd(w.staff, { kind: 'release', selection: all });
    expect(released.done).toMatchObject({ changed: 1, skipped: 3 });
    expect(released.done.details.map((d) => d.reason)).toEqual([
      'is disabled; there is nothing to release.',
      'is disabled; there is nothing to release.',
      'is disabled; there is nothing to release.',
    ]);
    const agingRow = await t.db
      .selectFrom('dids')
      .selectAll()
      .where('id', '=', dids[0]!.id)
      .executeTakeFirstOrThrow();
    expect(agingRow).toMatchObject({ status: 'aging', assigned_account_id: null });

    const enabled = await runToEnd(w.staff, { kind: 'enable', selection: all });
    expect(enabled.done).toMatchObject({ changed: 3, unchanged: 1, skipped: 0 });
    expect(await audits('did.release')).toBe(1);
    expect(await audits('did.enable')).toBe(3);
  });

  it('continues after the last committed batch when a job runs again, and never twice at once', async () => {
    const w = await world();
    await numbers(30);
    const plan = await planBulkOperation(w.staff, {
      kind: 'assign',
      target: 'acme',
      selection: { mode: 'all', filter: { pattern: '1212555' } },
    });
    await startBulkOperation(w.staff, plan.operation.id);
    // A worker stops after the first batch (shutting down), then two runs race for the rest.
    const controller = new AbortController();
    const stopAfterOne = runBulkOperation(w.staff, plan.operation.id, {
      batchSize: 10,
      signal: controller.signal,
    });
    controller.abort();
    await expect(stopAfterOne).rejects.toThrow(/stopped between batches/);
    const midway = await t.db
      .selectFrom('bulk_operations')
      .selectAll()
      .where('id', '=', plan.operation.id)
      .executeTakeFirstOrThrow();
    const batches = midway.processed / 10;
    expect(midway.status).toBe('running');
    const [one, two] = await Promise.all([
      runBulkOperation(w.staff, plan.operation.id, { batchSize: 10 }),
      runBulkOperation(w.staff, plan.operation.id, { batchSize: 10 }),
    ]);
    expect(batches).toBeLessThanOrEqual(1);
    expect(one.status).toBe('done');
    expect(two).toMatchObject({ status: 'done', changed: 30, processed: 30, skipped: 0, unchanged: 0 });
    expect(await audits('did.assign')).toBe(30);
  });

  it('fails the operation with the reason when its target cannot take numbers any more', async () => {
    const w = await world();
    await numbers(2);
    const plan = await planBulkOperation(w.staff, {
      kind: 'assign',
      target: 'acme',
      selection: { mode: 'all', filter: {} },
    });
    await startBulkOperation(w.staff, plan.operation.id);
    await t.db.updateTable('accounts').set({ status: 'suspended' }).where('id', '=', w.acme.id).execute();
    const error = await errorOf(runBulkOperation(w.staff, plan.operation.id));
    expect(error.code).toBe('conflict');
    const row = await t.db
      .selectFrom('bulk_operations')
      .selectAll()
      .where('id', '=', plan.operation.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      status: 'failed',
      changed: 0,
      error: expect.stringContaining('acme is suspended') as unknown,
    });
  });

  it('keeps drafts to their author and refuses viewers', async () => {
    const w = await world();
    await numbers(1);
    const plan = await planBulkOperation(w.staff, {
      kind: 'disable',
      selection: { mode: 'all', filter: {} },
    });
    const other = await buildUser(t.db, w.operator, { role: 'admin', email: 'other@example.com' });
    const otherCtx = ctxFor(t.db, actorOf(w.operator, 'admin', 'web', other.id));
    expect((await errorOf(startBulkOperation(otherCtx, plan.operation.id))).code).toBe('not_found');
    const viewer = ctxFor(t.db, actorOf(w.operator, 'viewer', 'web', other.id));
    expect(
      (await errorOf(planBulkOperation(viewer, { kind: 'disable', selection: { mode: 'all', filter: {} } })))
        .code,
    ).toBe('forbidden');
  });
});

describe('imports as bulk operations', () => {
  const CSV = [
    'number,city,setup_fee',
    '+1 212 555 0142,New York,1.00',
    'not-a-number,New York,',
    '+1 212 555 0143,New York,-1',
    '+1 212 555 0144,New York,',
    '+1 212 555 0145,New York,',
  ].join('\n');

  it('previews without writing, then imports in batches with line-numbered errors', async () => {
    const w = await world();
    await buildDid(t.db, { number: '+12125550145' });
    const { operation, preview } = await planImport(w.staff, { csv: CSV, filename: 'numbers.csv' });
    expect(preview).toMatchObject({ rows: 5, toImport: 2, existing: 1, errors: 2 });
    expect(preview.problems.map((p) => p.line)).toEqual([3, 4]);
    expect(await t.db.selectFrom('dids').select('id').execute()).toHaveLength(1);

    await startBulkOperation(w.staff, operation.id);
    const done = await runBulkOperation(w.staff, operation.id, { batchSize: 2 });
    expect(done).toMatchObject({ status: 'done', processed: 5, changed: 2, unchanged: 1, skipped: 2 });
    expect(done.details.map((d) => [d.line, d.number])).toEqual([
      [3, 'not-a-number'],
      [4, '+1 212 555 0143'],
    ]);
    expect(await audits('did.import')).toBe(2);
    // Running it again does nothing more.
    expect(await runBulkOperation(w.staff, operation.id)).toMatchObject({ changed: 2, processed: 5 });
  });

  it('turns pasted numbers and ranges into rows, listing lines that are not numbers', async () => {
    const w = await world();
    const { csv, problems } = csvFromPastedNumbers(
      '+1 866 555 0100-0104\nhello\n+1 (212) 555-0199\n+1 866 555 0109-0101',
      {
        group: '',
      },
    );
    expect(csv.split('\n')).toHaveLength(1 + 6);
    expect(problems).toEqual([
      { line: 2, number: 'hello', reason: expect.stringContaining('is not a phone number') as unknown },
      { line: 4, number: '+1 866 555 0109-0101', reason: 'the range ends (0101) before it starts' },
    ]);
    const { operation, preview } = await planImport(w.staff, { csv, filename: 'pasted numbers', problems });
    expect(preview).toMatchObject({ rows: 6, toImport: 6, errors: 2 });
    await startBulkOperation(w.staff, operation.id);
    const done = await runBulkOperation(w.staff, operation.id);
    expect(done).toMatchObject({ changed: 6, skipped: 2 });
  });
});
