// Assigning numbers to accounts and releasing them to the pool (seed 001). One number or many (all
// matching a search, the first N matching, or a selected list), always through the same rule and the same
// set-based update: rows are locked, each is judged, the eligible ones change in one statement, and every
// change is audited in the same transaction. Two staff racing for one number: the row lock decides, the
// loser is told who has it.
import type { Account, Did, DidUpdate } from '../db/schema.ts';
import { isOperatorStaff, type Actor } from '../accounts/actor.ts';
import { findAccount, holdingReseller, type AccountRef } from '../accounts/accounts.ts';
import { requirePermission } from '../accounts/permissions.ts';
import { recordAudit, type AuditEntry } from '../audit/audit.ts';
import { inTransaction, type Ctx, type Executor } from '../context.ts';
import { formatNumber, parseNumber, tryParseNumber } from '../numbers/phone-number.ts';
import { conflict, invalid, notFound } from '../shared/errors.ts';
import { DAY_MS } from '../shared/clock.ts';
import { sql } from 'kysely';
import { billStaffAssignment, endSubscriptionsOf } from '../billing/staff-assignment.ts';
import {
  filterExpression,
  lockDidViews,
  resolveFilter,
  selectDidView,
  type DidFilter,
  type DidsEb,
  type DidView,
} from './search-dids.ts';

/** Why a number was left alone. */
export interface Skipped {
  readonly number: string;
  readonly reason: string;
  /** How a single-number caller reports it: not a number, not ours, or in the way of something. */
  readonly code: 'invalid' | 'not_found' | 'conflict';
}

export interface AssignResult {
  readonly account: Account;
  /** Numbers that changed hands now. */
  readonly assigned: readonly string[];
  /** Numbers that already were where they were asked to go: nothing changed. */
  readonly unchanged: readonly string[];
  readonly skipped: readonly Skipped[];
}

export type BulkSelection =
  | { readonly mode: 'all'; readonly filter: DidFilter }
  | { readonly mode: 'first'; readonly count: number; readonly filter: DidFilter }
  | {
      readonly mode: 'selected';
      readonly numbers: readonly string[];
      /**
       * The version each number had when it was shown (a chat button, a console page), by E.164. A number
       * that changed since is skipped rather than acted on with stale facts.
       */
      readonly versions?: Readonly<Record<string, number>>;
    };

/** The largest selection one bulk call takes; bigger jobs are split by the caller (a queued job). */
export const MAX_BULK = 100_000;

/** `assign <number> <account>`: throws a clear error when the number cannot go to that account. */
export async function assignDid(
  ctx: Ctx,
  input: { number: string; account: AccountRef; expectedVersion?: number },
): Promise<AssignResult> {
  const number = parseNumber(input.number).e164;
  const versions = input.expectedVersion === undefined ? undefined : { [number]: input.expectedVersion };
  const result = await assignMany(ctx, input.account, { mode: 'selected', numbers: [number], versions });
  const skipped = result.skipped[0];
  if (skipped) {
    const message = `${formatNumber(number)} ${skipped.reason}`;
    throw skipped.code === 'not_found' ? notFound(message) : conflict(message);
  }
  return result;
}

/** `assign first N <pattern> <account>` and PortaBilling's Apply To: all / first N / selected. */
export async function assignMany(
  ctx: Ctx,
  accountRef: AccountRef,
  selection: BulkSelection,
): Promise<AssignResult> {
  requirePermission(ctx.actor, 'inventory.write');
  return inTransaction(ctx, async (tx) => {
    const target = await findAccount(tx, accountRef);
    checkTarget(target);
    const { candidates, skipped } = await lockCandidates(tx, target, selection);
    const assigned: LockedDid[] = [];
    const unchanged: string[] = [];
    const versions = selection.mode === 'selected' ? selection.versions : undefined;
    for (const did of candidates) {
      const expected = versions?.[did.number];
      if (expected !== undefined && expected !== did.version) {
        skipped.push({ number: did.number, reason: staleReason(did), code: 'conflict' });
        continue;
      }
      const verdict = judge(tx.actor, did, target);
      if (verdict === 'eligible') assigned.push(did);
      else if (verdict === 'unchanged') unchanged.push(did.number);
      else skipped.push({ number: did.number, reason: verdict.reason, code: 'conflict' });
    }
    await applyAssignment(tx, target, assigned);
    return { account: target, assigned: assigned.map((d) => d.number), unchanged, skipped };
  });
}

/** Refuses the operator's own account and accounts that are not active as assignment targets. */
export function checkTarget(target: Account): void {
  if (target.kind === 'admin') {
    throw invalid(
      `${target.slug} is the operator's own account; numbers are assigned to resellers and customers.`,
      {
        help: 'To take a number back, use `release <number>`.',
      },
    );
  }
  if (target.status !== 'active') {
    throw conflict(`${target.slug} is ${target.status}; numbers cannot be assigned to it.`, {
      help: 'Re-activate the account first.',
    });
  }
}

type LockedDid = DidView;

async function lockCandidates(
  ctx: Ctx,
  target: Account,
  selection: BulkSelection,
): Promise<{ candidates: LockedDid[]; skipped: Skipped[] }> {
  const skipped: Skipped[] = [];

  if (selection.mode === 'selected') {
    if (selection.numbers.length > MAX_BULK) throw invalid(`Select at most ${MAX_BULK} numbers at once.`);
    const wanted = new Map<string, string>();
    for (const typed of selection.numbers) {
      const info = tryParseNumber(typed);
      if (info) wanted.set(info.e164, typed);
      else skipped.push({ number: typed, reason: 'is not a phone number', code: 'invalid' });
    }
    const rows = await lockDidViews(ctx.db, (q) =>
      q.where(sql<boolean>`dids.number = any(${[...wanted.keys()]}::text[])`),
    );
    const found = new Set(rows.map((r) => r.number));
    for (const number of wanted.keys()) {
      if (!found.has(number)) skipped.push({ number, reason: 'is not in the inventory', code: 'not_found' });
    }
    return { candidates: rows, skipped };
  }

  const filter = await resolveFilter(ctx, selection.filter);
  if (selection.mode === 'first') {
    if (!Number.isInteger(selection.count) || selection.count < 1 || selection.count > MAX_BULK) {
      throw invalid(`The count must be a whole number from 1 to ${MAX_BULK} (got ${selection.count}).`);
    }
    // First N *eligible* numbers: the pool for the operator, the reseller's own free stock otherwise.
    // SKIP LOCKED lets two bulk assigns run side by side, each taking different numbers.
    const rows = await lockDidViews(ctx.db, (q) =>
      q
        .where((eb) => filterExpression(eb, filter))
        .where((eb) => eligibleExpression(eb, ctx.actor, target))
        .limit(selection.count)
        .skipLocked(),
    );
    if (rows.length < selection.count) {
      skipped.push({
        number: '',
        reason: `only ${rows.length} of the ${selection.count} requested numbers are free to assign with this filter`,
        code: 'conflict',
      });
    }
    return { candidates: rows, skipped };
  }
  const rows = await lockDidViews(ctx.db, (q) =>
    q.where((eb) => filterExpression(eb, filter)).limit(MAX_BULK + 1),
  );
  if (rows.length > MAX_BULK) {
    throw invalid(`This search matches more than ${MAX_BULK} numbers.`, {
      help: 'Narrow it, or use first N.',
    });
  }
  return { candidates: rows, skipped };
}

/** The SQL form of `judge(...) === 'eligible'`, for picking the first N eligible rows in the database. */
export function eligibleExpression(eb: DidsEb, actor: Actor, target: Account) {
  const ancestors = target.path
    .split('/')
    .filter(Boolean)
    .map(Number)
    .filter((id) => id !== target.id);
  const fromReseller = eb.and([
    eb('dids.status', '=', 'assigned'),
    eb('dids.assigned_account_id', 'is', null),
    eb('dids.owner_account_id', 'in', ancestors.length ? ancestors : [-1]),
  ]);
  return isOperatorStaff(actor) ? eb.or([eb('dids.status', '=', 'available'), fromReseller]) : fromReseller;
}

type Verdict = 'eligible' | 'unchanged' | { readonly reason: string };

/**
 * Whether `did` may go to `target`. The operator assigns from the pool; a reseller hands numbers it holds
 * to accounts below it. The reason names the current holder only to those who may see it.
 */
export function judge(actor: Actor, did: LockedDid, target: Account): Verdict {
  const holder = did.customer_slug ?? did.owner_slug;
  const holderVisible =
    isOperatorStaff(actor) || (did.owner_account_id !== null && actorReachesOwner(actor, did));
  const heldBy =
    holderVisible && holder ? `is already assigned to ${holder}` : 'is already assigned to another account';

  switch (did.status) {
    case 'available':
      return isOperatorStaff(actor)
        ? 'eligible'
        : { reason: "is in the operator's pool; only the operator can assign it (buy it on the storefront)" };
    case 'assigned': {
      if (did.assigned_account_id === target.id) return 'unchanged';
      if (did.assigned_account_id === null && did.owner_account_id === target.id) return 'unchanged';
      const ownerAbove = did.owner_account_id !== null && target.path.includes(`/${did.owner_account_id}/`);
      if (
        did.assigned_account_id === null &&
        ownerAbove &&
        (isOperatorStaff(actor) || actorReachesOwner(actor, did))
      ) {
        return 'eligible';
      }
      return { reason: heldBy };
    }
    case 'reserved':
      return { reason: 'is reserved by a buyer who is paying for it right now' };
    case 'aging':
      return {
        reason: `was released on ${day(did.freed_at)} and rests until ${day(did.aging_until)} so calls for its last owner die out; end that early with \`aging end ${did.number}\``,
      };
    case 'disabled':
      return { reason: `is disabled; enable it first with \`enable ${did.number}\`` };
    case 'suspended':
      return {
        reason: `${heldBy.replace('is already assigned', 'is suspended for non-payment and assigned')}`,
      };
  }
}

export function staleReason(did: LockedDid): string {
  const now =
    did.status === 'assigned' && (did.customer_slug ?? did.owner_slug)
      ? `assigned to ${did.customer_slug ?? did.owner_slug}`
      : did.status;
  return `changed since it was shown (it is now ${now}); nothing was done. Look again before acting.`;
}

function actorReachesOwner(actor: Actor, did: LockedDid): boolean {
  return did.owner_path?.startsWith(actor.accountPath) ?? false;
}

function day(date: Date | null): string {
  return date ? date.toISOString().slice(0, 10) : 'an unknown date';
}

/** Assigns numbers already locked and judged eligible, with one statement, auditing each. */
export async function applyAssignment(ctx: Ctx, target: Account, dids: readonly LockedDid[]): Promise<void> {
  if (dids.length === 0) return;
  const reseller = await holdingReseller(ctx.db, target);
  const ownerId = reseller?.id ?? null;
  const assignedId = target.kind === 'customer' ? target.id : null;
  const now = ctx.clock.now();
  await updateByIds(ctx.db, dids, {
    status: 'assigned',
    owner_account_id: ownerId,
    assigned_account_id: assignedId,
    assigned_at: now,
  });
  // Out of the pool means billed from now on; a reseller's own stock handed to its customer is already paid for.
  await billStaffAssignment(
    ctx.db,
    target,
    dids.filter((d) => d.status === 'available'),
    now,
  );
  await recordAudit(
    ctx.db,
    ctx.actor,
    dids.map((did): AuditEntry => ({
      action: 'did.assign',
      didId: did.id,
      accountId: target.id,
      subject: did.number,
      before: holders(did),
      after: {
        status: 'assigned',
        owner: reseller?.slug ?? null,
        customer: assignedId === null ? null : target.slug,
      },
    })),
  );
}

function holders(did: LockedDid) {
  return { status: did.status, owner: did.owner_slug, customer: did.customer_slug };
}

export async function updateByIds(
  db: Executor,
  dids: readonly Pick<Did, 'id'>[],
  values: DidUpdate,
): Promise<void> {
  // One array parameter, not an IN list: the protocol allows 65,535 parameters and bulk goes to 100,000.
  await db
    .updateTable('dids')
    .set(values)
    .where(sql<boolean>`id = any(${dids.map((d) => d.id)}::bigint[])`)
    .execute();
}

export interface ReleaseResult {
  readonly did: DidView;
  readonly agingUntil: Date | null;
}

/**
 * `release <number>`: back to the pool. The number first ages for the configured days (calls meant for
 * the last owner must not reach the next one), and loses its routing and call-transfer settings.
 */
export async function releaseDid(
  ctx: Ctx,
  input: { number: string; expectedVersion?: number },
): Promise<ReleaseResult> {
  requirePermission(ctx.actor, 'inventory.write');
  const number = parseNumber(input.number).e164;
  return inTransaction(ctx, async (tx) => {
    const [did] = await lockDidViews(tx.db, (q) => q.where('dids.number', '=', number));
    if (!did || !visibleTo(tx.actor, did)) throw notFound(`${formatNumber(number)} is not in the inventory.`);
    if (input.expectedVersion !== undefined && input.expectedVersion !== did.version) {
      throw conflict(`${formatNumber(number)} ${staleReason(did)}`);
    }
    if (!isOperatorStaff(tx.actor) && !actorReachesOwner(tx.actor, did)) {
      throw conflict(`${formatNumber(number)} is not one of your numbers; only the operator can release it.`);
    }
    const refusal = releaseRefusal(did);
    if (refusal) throw conflict(`${formatNumber(number)} ${refusal}`);
    const [agingUntil = null] = await applyRelease(tx, [did]);
    const released = await selectDidView(tx.db).where('dids.id', '=', did.id).executeTakeFirstOrThrow();
    return { did: released, agingUntil };
  });
}

/** Why a number cannot be released (it is not in use), or null when it can. */
export function releaseRefusal(did: Pick<Did, 'status' | 'aging_until'>): string | null {
  if (did.status === 'assigned' || did.status === 'suspended') return null;
  const state =
    did.status === 'aging' ? `already released and aging until ${day(did.aging_until)}` : did.status;
  return `is ${state}; there is nothing to release.`;
}

/**
 * Releases numbers already locked and judged releasable, with one statement each: back to the pool after
 * the configured aging days, without their routing and call-transfer settings, one audit event per
 * number. Returns the aging end (null: straight back on sale), the same for all of them.
 */
export async function applyRelease(ctx: Ctx, dids: readonly LockedDid[]): Promise<(Date | null)[]> {
  if (dids.length === 0) return [];
  const now = ctx.clock.now();
  const days = ctx.settings.didAgingDays;
  const agingUntil = days > 0 ? new Date(now.getTime() + days * DAY_MS) : null;
  await updateByIds(ctx.db, dids, {
    status: agingUntil ? 'aging' : 'available',
    owner_account_id: null,
    assigned_account_id: null,
    assigned_at: null,
    freed_at: now,
    aging_until: agingUntil,
    destination_type: null,
    destination: null,
  });
  await ctx.db
    .deleteFrom('call_transfers')
    .where(sql<boolean>`did_id = any(${dids.map((d) => d.id)}::bigint[])`)
    .execute();
  // Nobody holds the number any more, so nothing renews for it.
  await endSubscriptionsOf(
    ctx.db,
    dids.map((d) => d.id),
    now,
  );
  await recordAudit(
    ctx.db,
    ctx.actor,
    dids.map((did) => ({
      action: 'did.release',
      didId: did.id,
      accountId: did.assigned_account_id ?? did.owner_account_id,
      subject: did.number,
      before: { ...holders(did), destination: did.destination },
      after: { status: agingUntil ? 'aging' : 'available', aging_until: agingUntil },
    })),
  );
  return dids.map(() => agingUntil);
}

/** Staff see every number; others see the pool and what their subtree holds. */
export function visibleTo(actor: Actor, did: LockedDid): boolean {
  if (isOperatorStaff(actor) || did.status === 'available') return true;
  return (
    (did.owner_path?.startsWith(actor.accountPath) ?? false) ||
    (did.customer_path?.startsWith(actor.accountPath) ?? false)
  );
}
