// Single-number changes: create, describe, enable/disable, move to a pricing batch, set where calls go,
// end aging early. Each one goes through `changeDid`: lock the row, check who may, apply, audit the fields
// that changed — so every edit has the same safety without repeating it.
import { sql } from 'kysely';
import type { DidUpdate, NewDid, PricingBatch } from '../db/schema.ts';
import { isOperatorStaff, type Actor } from '../accounts/actor.ts';
import { requirePermission } from '../accounts/permissions.ts';
import { recordAudit } from '../audit/audit.ts';
import { resolveNamed } from '../catalog/catalog.ts';
import { inTransaction, type Ctx } from '../context.ts';
import { parseDestination } from '../numbers/destination.ts';
import { formatNumber, parseNumber } from '../numbers/phone-number.ts';
import { conflict, invalid, notFound } from '../shared/errors.ts';
import { refuseLoop } from '../transfer/call-transfer.ts';
import { visibleTo } from './assignment.ts';
import { loadCatalogIndex } from './catalog-index.ts';
import { validateDidFields, type DidFieldValues } from './did-fields.ts';
import { lockDidViews, selectDidView, type DidView } from './search-dids.ts';

export async function createDid(ctx: Ctx, values: DidFieldValues): Promise<DidView> {
  requirePermission(ctx.actor, 'inventory.write');
  if (!isOperatorStaff(ctx.actor)) throw invalid('Only the operator adds numbers to the inventory.');
  return inTransaction(ctx, async (tx) => {
    const row: NewDid = validateDidFields(values, await loadCatalogIndex(tx.db, tx.actor));
    const inserted = await tx.db
      .insertInto('dids')
      .values(row)
      .onConflict((oc) => oc.column('number').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted)
      throw conflict(`${formatNumber(row.number)} is already in the inventory.`, { field: 'number' });
    await recordAudit(tx.db, tx.actor, [
      { action: 'did.create', didId: inserted.id, subject: row.number, after: row },
    ]);
    return selectDidView(tx.db).where('dids.id', '=', inserted.id).executeTakeFirstOrThrow();
  });
}

/** Locks a number, lets `decide` compute the change (or refuse), applies and audits it. */
async function changeDid(
  ctx: Ctx,
  typedNumber: string,
  action: string,
  decide: (did: DidView, tx: Ctx) => Promise<DidUpdate | null> | DidUpdate | null,
): Promise<{ did: DidView; changed: boolean }> {
  requirePermission(ctx.actor, 'inventory.write');
  const number = parseNumber(typedNumber).e164;
  return inTransaction(ctx, async (tx) => {
    const [did] = await lockDidViews(tx.db, (q) => q.where('dids.number', '=', number));
    if (!did || !visibleTo(tx.actor, did)) throw notFound(`${formatNumber(number)} is not in the inventory.`);
    // Seeing a pool number (to buy it) is not holding it: outside the operator, only the holder's side edits.
    if (!isOperatorStaff(tx.actor) && !(did.owner_path?.startsWith(tx.actor.accountPath) ?? false)) {
      throw conflict(`${formatNumber(number)} is not one of your numbers; only the operator can change it.`);
    }
    const update = await decide(did, tx);
    const changedKeys = update ? changedFields(did, update) : [];
    if (!update || changedKeys.length === 0) return { did, changed: false };
    await tx.db.updateTable('dids').set(update).where('id', '=', did.id).execute();
    const pick = (source: object) =>
      Object.fromEntries(changedKeys.map((k) => [k, (source as Record<string, unknown>)[k]]));
    await recordAudit(tx.db, tx.actor, [
      {
        action,
        didId: did.id,
        accountId: did.assigned_account_id ?? did.owner_account_id,
        subject: did.number,
        before: pick(did),
        after: pick(update),
      },
    ]);
    return {
      did: await selectDidView(tx.db).where('dids.id', '=', did.id).executeTakeFirstOrThrow(),
      changed: true,
    };
  });
}

/** The fields of `update` whose values differ from the number's: what a change really changes. */
export function changedFields(did: DidView, update: DidUpdate): string[] {
  return Object.entries(update)
    .filter(([key, value]) => !sameValue(did[key as keyof DidView], value))
    .map(([key]) => key);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date)
    return new Date(a as Date).getTime() === new Date(b as Date).getTime();
  return JSON.stringify(a) === JSON.stringify(b);
}

function operatorOnly(ctx: Ctx, what: string): void {
  if (!isOperatorStaff(ctx.actor)) throw invalid(`Only the operator can ${what}.`);
}

export async function setDescription(ctx: Ctx, number: string, description: string) {
  const text = description.trim();
  if (text.length > 500)
    throw invalid('The description is longer than 500 characters.', { field: 'description' });
  return changeDid(ctx, number, 'did.describe', () => ({ description: text }));
}

export function setEnabled(ctx: Ctx, number: string, enabled: boolean) {
  return changeDid(ctx, number, enabled ? 'did.enable' : 'did.disable', (did) => {
    operatorOnly(ctx, `${enabled ? 'enable' : 'disable'} numbers`);
    return enabledUpdate(did, enabled);
  });
}

/**
 * The change that enables or disables a number, null when it already is so; throws when it is in use.
 * Shared with the back office's bulk enable/disable.
 */
export function enabledUpdate(did: DidView, enabled: boolean): DidUpdate | null {
  if (enabled) return did.status === 'disabled' ? { status: 'available' } : null;
  if (did.status === 'disabled') return null;
  if (did.status !== 'available' && did.status !== 'aging') {
    throw conflict(
      `${formatNumber(did.number)} is ${did.status}${did.customer_slug ? ` (${did.customer_slug})` : ''}; release it before disabling it.`,
    );
  }
  return { status: 'disabled', aging_until: null };
}

/** Moves a number into a pricing batch (or out with "none"); its fees and billing terms follow the batch. */
export function setPricingBatch(ctx: Ctx, number: string, batchRef: string) {
  return changeDid(ctx, number, 'did.pricing_batch', async (did, tx) => {
    if (batchRef.trim().toLowerCase() === 'none') return { pricing_batch_id: null };
    const batchId = await resolveNamed(tx, 'pricing_batches', batchRef);
    const batch = await tx.db
      .selectFrom('pricing_batches')
      .selectAll()
      .where('id', '=', batchId)
      .executeTakeFirstOrThrow();
    return pricingBatchUpdate(tx.actor, did, batch);
  });
}

/**
 * What moving a number into `batch` (null: out of any batch) changes: the batch and, with it, its fees
 * and billing terms. Throws for another reseller's batch and for a currency the number in use cannot
 * change to. Shared with the back office's bulk move.
 */
export function pricingBatchUpdate(actor: Actor, did: DidView, batch: PricingBatch | null): DidUpdate {
  if (batch === null) return { pricing_batch_id: null };
  if (!isOperatorStaff(actor) && batch.owner_account_id !== actor.accountId) {
    throw invalid(`The pricing batch "${batch.name}" is not yours.`);
  }
  if (batch.currency !== did.currency && did.status !== 'available') {
    throw conflict(
      `${formatNumber(did.number)} is billed in ${did.currency}; "${batch.name}" is in ${batch.currency}.`,
      {
        help: 'Release it first, or choose a batch in the same currency.',
      },
    );
  }
  return {
    pricing_batch_id: batch.id,
    setup_fee: batch.setup_fee,
    recurring_fee: batch.recurring_fee,
    currency: batch.currency,
    billing_type: batch.billing_type,
    billing_period: batch.billing_period,
    billing_days: batch.billing_days,
  };
}

/** Where calls go when no transfer rule applies: a SIP URI, a PSTN number or an extension; "none" clears. */
export function setDestination(ctx: Ctx, number: string, destination: string) {
  return changeDid(ctx, number, 'did.destination', async (did, tx) => {
    if (destination.trim().toLowerCase() === 'none') return { destination_type: null, destination: null };
    const parsed = parseDestination(destination);
    if (parsed.type === 'pstn' && parsed.value === did.number) {
      throw invalid(`${formatNumber(did.number)} cannot forward to itself.`, { field: 'destination' });
    }
    // A primary destination on one of our own numbers can close a forwarding loop as a transfer can.
    if (parsed.type === 'pstn') await refuseLoop(tx.db, did.number, [parsed.value]);
    return { destination_type: parsed.type, destination: parsed.value };
  });
}

/** Staff can cut a released number's rest short and put it on sale now. */
export function endAging(ctx: Ctx, number: string) {
  return changeDid(ctx, number, 'did.aging_end', (did) => {
    operatorOnly(ctx, 'end aging');
    if (did.status !== 'aging') throw conflict(`${formatNumber(did.number)} is ${did.status}, not aging.`);
    return { status: 'available', aging_until: null };
  });
}

/** Puts every number whose aging has run out back on sale. Run on a schedule by the worker. */
export async function promoteAgedNumbers(ctx: Ctx): Promise<number> {
  return inTransaction(ctx, async (tx) => {
    const rows = await tx.db
      .updateTable('dids')
      .set({ status: 'available', aging_until: null })
      .where('status', '=', 'aging')
      .where('aging_until', '<=', tx.clock.now())
      .returning(['id', 'number'])
      .execute();
    await recordAudit(
      tx.db,
      tx.actor,
      rows.map((r) => ({
        action: 'did.aging_end',
        didId: r.id,
        subject: r.number,
        before: { status: 'aging' },
        after: { status: 'available' },
      })),
    );
    return rows.length;
  });
}

export interface DidInfo {
  readonly did: DidView;
  readonly history: readonly { at: Date; action: string; by: string }[];
}

/** `info <number>`: the number, who has it, what it costs, and its last changes. */
export async function getDidInfo(ctx: Ctx, typedNumber: string): Promise<DidInfo> {
  requirePermission(ctx.actor, 'inventory.read');
  const number = parseNumber(typedNumber).e164;
  const did = await selectDidView(ctx.db).where('dids.number', '=', number).executeTakeFirst();
  if (!did || !visibleTo(ctx.actor, did)) {
    throw notFound(`${formatNumber(number)} is not in the inventory.`, {
      help: 'Search with `search <pattern>`.',
    });
  }
  const history = await ctx.db
    .selectFrom('audit_events')
    .select(['occurred_at as at', 'action', 'actor_label as by'])
    .where('did_id', '=', did.id)
    .orderBy('id', 'desc')
    .limit(isOperatorStaff(ctx.actor) ? 5 : 0)
    .execute();
  return { did, history };
}

/** Counts by status, for the console and the metrics endpoint. */
export async function countByStatus(ctx: Ctx): Promise<Record<string, number>> {
  requirePermission(ctx.actor, 'inventory.read');
  const rows = await ctx.db
    .selectFrom('dids')
    .select(['status', sql<number>`count(*)::int`.as('count')])
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, r.count]));
}
