// Bulk work on numbers from the back office (seed 001's "Apply To": all matching, the first N matching, or
// the selected rows): assign to an account, move to a pricing batch, set the DID group, release, enable or
// disable. Three steps, each a use case:
//   planBulkOperation    counts exactly what would change and keeps that as a draft (the confirmation page);
//   startBulkOperation   the person confirms: the draft is queued;
//   runBulkOperation     does the work in batches of BULK_BATCH_SIZE numbers, inline for small selections or
//                        from the queued job for big ones.
// Each batch is one transaction: the numbers are locked, judged by the same rules as the one-number
// commands, the eligible ones change with one statement, every change is audited, and the operation's
// progress (cursor and counts) is written with them. A batch commits whole or not at all, and a job that
// dies and runs again continues after the last committed batch without doing anything twice.
// Numbers that changed since they were shown are skipped and reported, never overwritten: in "selected"
// mode by the version each row had on the page, otherwise by the moment the confirmation was shown.
import { sql, type Expression, type SqlBool } from 'kysely';
import type { Account, BulkKind, DidGroup, DidUpdate, PricingBatch } from '../db/schema.ts';
import { isOperatorStaff, type Actor } from '../accounts/actor.ts';
import { findAccount } from '../accounts/accounts.ts';
import { requirePermission } from '../accounts/permissions.ts';
import { actorForUser } from '../accounts/users.ts';
import { recordAudit } from '../audit/audit.ts';
import { resolveNamed } from '../catalog/catalog.ts';
import { inTransaction, type Ctx, type Executor, type Settings } from '../context.ts';
import { formatNumber, tryParseNumber } from '../numbers/phone-number.ts';
import type { Clock } from '../shared/clock.ts';
import { DomainError, conflict, forbidden, invalid, notFound } from '../shared/errors.ts';
import {
  applyAssignment,
  applyRelease,
  checkTarget,
  eligibleExpression,
  judge as judgeAssignment,
  releaseRefusal,
  staleReason,
  updateByIds,
} from './assignment.ts';
import {
  lockOwnOperation,
  lockRunning,
  markFailed,
  pruneDrafts,
  readOperation,
  saveProgress,
  viewOf,
  type BulkDetail,
  type BulkOperationView,
  type BulkParams,
  type BulkSelection,
} from './bulk-store.ts';
import { changedFields, enabledUpdate, pricingBatchUpdate } from './edit-did.ts';
import { importStep, type Step } from './import-job.ts';
import {
  filterExpression,
  lockDidViews,
  resolveFilter,
  selectDidView,
  type DidView,
  type DidsEb,
  type ResolvedFilter,
} from './search-dids.ts';

export const BULK_OPERATION_KINDS = [
  'assign',
  'pricing_batch',
  'group',
  'release',
  'enable',
  'disable',
] as const;
export type BulkOperationKind = (typeof BULK_OPERATION_KINDS)[number];

export type { BulkDetail, BulkOperationView, BulkParams, BulkSelection } from './bulk-store.ts';
export { getBulkOperation, listBulkOperations, markFailed } from './bulk-store.ts';

/** Numbers per transaction: big enough to be quick, small enough to hold row locks only briefly. */
export const BULK_BATCH_SIZE = 1_000;
/** Selections up to this size run while the person waits; bigger ones are queued with a progress page. */
export const BULK_INLINE_LIMIT = 2_000;
/** The most numbers one operation covers: a guard against "all" on a search that forgot its filter. */
export const BULK_MAX = 1_000_000;

export interface BulkRequest {
  readonly kind: BulkOperationKind;
  /** assign: an account (slug or id); pricing_batch and group: a name, an id, or "none". */
  readonly target?: string;
  readonly selection: BulkSelection;
}

export interface BulkPlan {
  readonly operation: BulkOperationView;
  /** Numbers the selection covers: the selected ones, the N asked for, or all matching. */
  readonly covered: number;
  /** Exactly how many numbers would change if it ran now. */
  readonly willChange: number;
  /** Selected numbers only: the ones already so, and the ones that cannot change, with why. */
  readonly unchanged: number | null;
  readonly skipped: readonly BulkDetail[];
}

/** Bulk work is the operator's staff's: numbers are counted and changed across every account. */
function requireBulkRights(actor: Actor): void {
  requirePermission(actor, 'inventory.write');
  if (!isOperatorStaff(actor)) {
    throw forbidden("Bulk operations are for the operator's staff.", {
      help: 'Change your numbers one at a time.',
    });
  }
}

/**
 * The confirmation step: resolves the target, counts exactly how many numbers would change, and keeps
 * all of it as a draft that only its author can start. Numbers that change after this moment are left
 * alone when it runs.
 */
export async function planBulkOperation(ctx: Ctx, request: BulkRequest): Promise<BulkPlan> {
  requireBulkRights(ctx.actor);
  if (!BULK_OPERATION_KINDS.includes(request.kind)) {
    throw invalid(`"${String(request.kind)}" is not a bulk operation.`, {
      help: `Use ${BULK_OPERATION_KINDS.join(', ')}.`,
      field: 'operation',
    });
  }
  if (ctx.actor.userId === null) throw invalid('Bulk operations are started by a signed-in user.');
  const target = await resolveTarget(ctx, request);
  const selection = normalizeSelection(request.selection);
  const asOf = await databaseNow(ctx.db);
  const rules = await rulesFor(ctx, request.kind, target);

  let covered: number;
  let willChange: number;
  let unchanged: number | null = null;
  let skipped: BulkDetail[] = [];
  if (selection.mode === 'selected') {
    const outcome = await judgeSelected(ctx, rules, selection.numbers, selection.versions, null);
    covered = selection.numbers.length;
    willChange = outcome.change.length;
    unchanged = outcome.unchanged.length;
    skipped = outcome.skipped;
  } else if (selection.mode === 'first') {
    // The first N numbers of the search that can change: exactly min(N, how many can).
    const filter = await resolveFilter(ctx, selection.filter);
    covered = selection.count;
    willChange = await countMatching(ctx.db, filter, (eb) => rules.changes(eb), selection.count);
  } else {
    const filter = await resolveFilter(ctx, selection.filter);
    covered = await countMatching(ctx.db, filter, null, BULK_MAX + 1);
    if (covered > BULK_MAX) {
      throw invalid(`This search matches more than ${BULK_MAX.toLocaleString('en-US')} numbers.`, {
        help: 'Narrow the search, or use "first N".',
      });
    }
    willChange = await countMatching(ctx.db, filter, (eb) => rules.changes(eb), BULK_MAX);
  }

  await pruneDrafts(ctx.db, ctx.clock.now());
  const row = await ctx.db
    .insertInto('bulk_operations')
    .values({
      kind: request.kind,
      user_id: ctx.actor.userId,
      params: JSON.stringify({ target, selection } satisfies BulkParams),
      as_of: asOf,
      // What the progress bar counts towards: numbers considered (first N: numbers changed).
      total: selection.mode === 'first' ? willChange : covered,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { operation: await viewOf(ctx.db, row), covered, willChange, unchanged, skipped };
}

/**
 * The person confirmed: the draft is queued (once; a second click finds it queued already). Returns
 * whether it is small enough to run while they wait.
 */
export async function startBulkOperation(
  ctx: Ctx,
  id: number,
): Promise<{ operation: BulkOperationView; inline: boolean }> {
  requireBulkRights(ctx.actor);
  return inTransaction(ctx, async (tx) => {
    const row = await lockOwnOperation(tx, id);
    if (row.status !== 'draft') return { operation: await viewOf(tx.db, row), inline: false };
    const queued = await tx.db
      .updateTable('bulk_operations')
      .set({ status: 'queued' })
      .where('id', '=', row.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const view = await viewOf(tx.db, queued);
    await recordAudit(tx.db, tx.actor, [
      {
        action: `bulk.${row.kind}`,
        subject: `bulk operation ${row.id}`,
        after: { title: view.title, scope: view.scope, total: row.total },
      },
    ]);
    return { operation: view, inline: row.total <= BULK_INLINE_LIMIT };
  });
}

/** What runBulkOperation needs: the store, the clock and the settings (from a job or a web request). */
export interface BulkDeps {
  readonly db: Executor;
  readonly clock: Clock;
  readonly settings: Settings;
}

export interface RunOptions {
  /** Stops between batches (a worker shutting down): the next run continues where this one ended. */
  readonly signal?: AbortSignal;
  readonly batchSize?: number;
}

/**
 * Does a queued operation's work, batch by batch, as the user who confirmed it (their role is checked
 * again now). Safe to call twice, also at the same time: each batch locks the operation's row and
 * continues from its committed cursor. A refusal that no retry can cure (the target account was
 * suspended meanwhile) marks the operation failed and is thrown.
 */
export async function runBulkOperation(
  deps: BulkDeps,
  id: number,
  options: RunOptions = {},
): Promise<BulkOperationView> {
  const first = await deps.db
    .selectFrom('bulk_operations')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!first) throw notFound(`There is no bulk operation ${id}.`);
  if (first.status === 'draft') throw conflict('This bulk operation was never confirmed.');
  if (first.status === 'done' || first.status === 'failed') return viewOf(deps.db, first);
  const batchSize = options.batchSize ?? BULK_BATCH_SIZE;
  try {
    const ctx: Ctx = { ...deps, actor: await actorForUser(deps.db, first.user_id, 'web') };
    requireBulkRights(ctx.actor);
    await deps.db
      .updateTable('bulk_operations')
      .set({ status: 'running', started_at: sql`coalesce(started_at, now())` })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .execute();
    const params = first.params as unknown as BulkParams;
    const step =
      first.kind === 'import'
        ? importStep(ctx, batchSize)
        : await bulkStep(ctx, first.kind, params, first.as_of, batchSize);
    for (;;) {
      if (options.signal?.aborted) {
        throw new Error(`Bulk operation ${id} stopped between batches; the next run continues from there.`);
      }
      if (await step(id)) break;
    }
  } catch (error) {
    if (error instanceof DomainError) await markFailed(deps.db, id, error.fullMessage);
    throw error;
  }
  return readOperation(deps.db, id);
}

interface BatchOutcome {
  readonly change: DidView[];
  readonly unchanged: string[];
  readonly skipped: BulkDetail[];
}

async function bulkStep(
  ctx: Ctx,
  kind: BulkKind,
  params: BulkParams,
  asOf: Date,
  batchSize: number,
): Promise<Step> {
  const rules = await rulesFor(ctx, kind as BulkOperationKind, params.target ?? null);
  const selection = params.selection!;
  const filter = selection.mode === 'selected' ? null : await resolveFilter(ctx, selection.filter);
  return (id) =>
    inTransaction(ctx, async (tx) => {
      const op = await lockRunning(tx.db, id);
      if (!op) return true;

      let outcome: BatchOutcome;
      let considered: number;
      let cursor: string | null;
      let finished: boolean;
      const extra: BulkDetail[] = [];
      if (selection.mode === 'selected') {
        const start = Number(op.cursor ?? 0);
        const slice = selection.numbers.slice(start, start + batchSize);
        outcome = await judgeSelected(tx, rules, slice, selection.versions, null, true);
        considered = slice.length;
        cursor = String(start + slice.length);
        finished = start + slice.length >= selection.numbers.length;
      } else if (selection.mode === 'all') {
        const dids = await lockDidViews(tx.db, (q) =>
          q
            .where((eb) => filterExpression(eb, filter!))
            .$if(op.cursor !== null, (q2) => q2.where('dids.number', '>', op.cursor!))
            .limit(batchSize),
        );
        outcome = judgeAll(tx.actor, rules, dids, asOf);
        considered = dids.length;
        cursor = dids.at(-1)?.number ?? op.cursor;
        finished = dids.length < batchSize;
      } else {
        // First N: pick the next eligible numbers in number order; others' locked rows are passed over.
        const wanted = Math.min(batchSize, selection.count - op.changed);
        const dids =
          wanted <= 0
            ? []
            : await lockDidViews(tx.db, (q) =>
                q
                  .where((eb) => filterExpression(eb, filter!))
                  .where((eb) => rules.changes(eb))
                  .$if(op.cursor !== null, (q2) => q2.where('dids.number', '>', op.cursor!))
                  .limit(wanted)
                  .skipLocked(),
              );
        outcome = judgeAll(tx.actor, rules, dids, null);
        considered = dids.length;
        cursor = dids.at(-1)?.number ?? op.cursor;
        const changedSoFar = op.changed + outcome.change.length;
        finished = wanted <= 0 || dids.length < wanted || changedSoFar >= selection.count;
        if (finished && changedSoFar < selection.count) {
          extra.push({
            number: '',
            reason: `only ${changedSoFar} of the ${selection.count} requested numbers could change with this search`,
          });
        }
      }

      await rules.apply(tx, outcome.change);
      const details = [...outcome.skipped, ...extra];
      await saveProgress(tx.db, op, {
        cursor,
        finished,
        processed: considered,
        changed: outcome.change.length,
        unchanged: outcome.unchanged.length,
        skipped: outcome.skipped.length,
        details,
      });
      return finished;
    });
}

// -- Rules per operation ----------------------------------------------------------------------------------

type Verdict = 'change' | 'unchanged' | { readonly reason: string };

interface Rules {
  /** The same rule as the one-number command, for a locked row. */
  judge(actor: Actor, did: DidView): Verdict;
  /** SQL form of judge(...) === 'change': for counting and for picking the first N. */
  changes(eb: DidsEb): Expression<SqlBool>;
  /** Changes the rows judged 'change' (locked, in the caller's transaction) and audits each. */
  apply(ctx: Ctx, dids: readonly DidView[]): Promise<void>;
}

/** The resolved target of a request, as stored: the account, batch or group with its name. */
async function resolveTarget(ctx: Ctx, request: BulkRequest): Promise<BulkParams['target'] | null> {
  const text = request.target?.trim() ?? '';
  switch (request.kind) {
    case 'assign': {
      if (text === '') throw invalid('Name the account to assign the numbers to.', { field: 'account' });
      const account = await findAccount(ctx, text);
      checkTarget(account);
      return { id: account.id, label: account.slug };
    }
    case 'pricing_batch':
    case 'group': {
      const field = request.kind === 'group' ? 'group' : 'pricing_batch';
      if (text === '') {
        throw invalid(`Choose the ${request.kind === 'group' ? 'DID group' : 'pricing batch'}, or "none".`, {
          field,
        });
      }
      if (text.toLowerCase() === 'none') return { id: null, label: 'none' };
      const table = request.kind === 'group' ? 'did_groups' : 'pricing_batches';
      const id = await resolveNamed(ctx, table, text);
      const row = await ctx.db
        .selectFrom(table)
        .select('name')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      return { id, label: row.name };
    }
    default:
      return null;
  }
}

async function rulesFor(
  ctx: Ctx,
  kind: BulkOperationKind,
  target: BulkParams['target'] | null,
): Promise<Rules> {
  switch (kind) {
    case 'assign': {
      const account = await findAccount(ctx, target!.id!);
      checkTarget(account);
      return assignRules(account);
    }
    case 'release':
      return releaseRules;
    case 'enable':
    case 'disable':
      return enableRules(kind === 'enable');
    case 'group': {
      let group: DidGroup | null = null;
      if (target?.id != null) {
        group =
          (await ctx.db
            .selectFrom('did_groups')
            .selectAll()
            .where('id', '=', target.id)
            .executeTakeFirst()) ?? null;
        if (!group) throw notFound(`The DID group "${target.label}" no longer exists.`);
      }
      return groupRules(group);
    }
    case 'pricing_batch': {
      let batch: PricingBatch | null = null;
      if (target?.id != null) {
        batch =
          (await ctx.db
            .selectFrom('pricing_batches')
            .selectAll()
            .where('id', '=', target.id)
            .executeTakeFirst()) ?? null;
        if (!batch) throw notFound(`The pricing batch "${target.label}" no longer exists.`);
      }
      return pricingRules(batch);
    }
  }
}

function assignRules(target: Account): Rules {
  return {
    judge: (actor, did) => {
      const verdict = judgeAssignment(actor, did, target);
      return verdict === 'eligible' ? 'change' : verdict;
    },
    changes: (eb) => eligibleExpressionFor(eb, target),
    apply: (ctx, dids) => applyAssignment(ctx, target, dids),
  };
}

/** Bulk is operator staff only, so the operator's eligibility applies. */
function eligibleExpressionFor(eb: DidsEb, target: Account): Expression<SqlBool> {
  const operator: Actor = {
    userId: null,
    accountId: 0,
    accountKind: 'admin',
    accountPath: '/',
    role: 'operator',
    channel: 'web',
    label: '',
  };
  return eligibleExpression(eb, operator, target);
}

const releaseRules: Rules = {
  judge: (_actor, did) => {
    const refusal = releaseRefusal(did);
    if (refusal === null) return 'change';
    return did.status === 'available' || did.status === 'aging' ? 'unchanged' : { reason: refusal };
  },
  changes: (eb) => eb('dids.status', 'in', ['assigned', 'suspended']),
  apply: async (ctx, dids) => {
    await applyRelease(ctx, dids);
  },
};

function enableRules(enabled: boolean): Rules {
  return fieldRules(
    enabled ? 'did.enable' : 'did.disable',
    (_actor, did) => enabledUpdate(did, enabled),
    (eb) => (enabled ? eb('dids.status', '=', 'disabled') : eb('dids.status', 'in', ['available', 'aging'])),
  );
}

function groupRules(group: DidGroup | null): Rules {
  return fieldRules(
    'did.group',
    () => ({ group_id: group?.id ?? null }),
    (eb) => eb('dids.group_id', 'is distinct from', group?.id ?? null),
  );
}

function pricingRules(batch: PricingBatch | null): Rules {
  return fieldRules(
    'did.pricing_batch',
    (actor, did) => pricingBatchUpdate(actor, did, batch),
    (eb) => {
      if (batch === null) return eb('dids.pricing_batch_id', 'is not', null);
      const differs = eb.or([
        eb('dids.pricing_batch_id', 'is distinct from', batch.id),
        eb('dids.setup_fee', '<>', batch.setup_fee),
        eb('dids.recurring_fee', '<>', batch.recurring_fee),
        eb('dids.currency', '<>', batch.currency),
        eb('dids.billing_type', '<>', batch.billing_type),
        eb('dids.billing_period', '<>', batch.billing_period),
        eb('dids.billing_days', '<>', batch.billing_days),
      ]);
      // pricingBatchUpdate refuses another currency for a number in use.
      return eb.and([
        differs,
        eb.or([eb('dids.currency', '=', batch.currency), eb('dids.status', '=', 'available')]),
      ]);
    },
  );
}

/**
 * An operation that sets fields to the same values on every number it changes (enable, disable, group,
 * pricing batch): `decide` is the one-number rule (null: already so; a DomainError: cannot).
 */
function fieldRules(
  action: string,
  decide: (actor: Actor, did: DidView) => DidUpdate | null,
  changes: (eb: DidsEb) => Expression<SqlBool>,
): Rules {
  const updates = new WeakMap<DidView, { update: DidUpdate; keys: string[] }>();
  return {
    judge: (actor, did) => {
      try {
        const update = decide(actor, did);
        const keys = update ? changedFields(did, update) : [];
        if (!update || keys.length === 0) return 'unchanged';
        updates.set(did, { update, keys });
        return 'change';
      } catch (error) {
        if (error instanceof DomainError) return { reason: reasonOf(error, did.number) };
        throw error;
      }
    },
    changes,
    apply: async (ctx, dids) => {
      if (dids.length === 0) return;
      // The values are the same for every number of an operation; only which fields differ varies.
      const first = updates.get(dids[0]!);
      if (!first) throw new Error('bulk apply: a number was not judged first');
      await updateByIds(ctx.db, dids, first.update);
      await recordAudit(
        ctx.db,
        ctx.actor,
        dids.map((did) => {
          const { update, keys } = updates.get(did)!;
          const pick = (source: object) =>
            Object.fromEntries(keys.map((k) => [k, (source as Record<string, unknown>)[k]]));
          return {
            action,
            didId: did.id,
            accountId: did.assigned_account_id ?? did.owner_account_id,
            subject: did.number,
            before: pick(did),
            after: pick(update),
          };
        }),
      );
    },
  };
}

/** A one-number refusal reworded for a list of numbers: "is assigned (acme); release it before ...". */
function reasonOf(error: DomainError, number: string): string {
  const message = error.message.startsWith(formatNumber(number))
    ? error.message.slice(formatNumber(number).length).trim()
    : error.message;
  return error.help ? `${message} ${error.help}` : message;
}

// -- Judging ---------------------------------------------------------------------------------------------

function judgeAll(actor: Actor, rules: Rules, dids: readonly DidView[], asOf: Date | null): BatchOutcome {
  const outcome: BatchOutcome = { change: [], unchanged: [], skipped: [] };
  for (const did of dids) {
    if (asOf !== null && did.updated_at.getTime() > asOf.getTime()) {
      outcome.skipped.push({ number: did.number, reason: staleReason(did) });
      continue;
    }
    sortVerdict(outcome, did, rules.judge(actor, did));
  }
  return outcome;
}

function sortVerdict(outcome: BatchOutcome, did: DidView, verdict: Verdict): void {
  if (verdict === 'change') outcome.change.push(did);
  else if (verdict === 'unchanged') outcome.unchanged.push(did.number);
  else outcome.skipped.push({ number: did.number, reason: verdict.reason });
}

/** Judges a list of typed numbers: unknown ones and those changed since their version are skipped. */
async function judgeSelected(
  ctx: Ctx,
  rules: Rules,
  typed: readonly string[],
  versions: Readonly<Record<string, number>> | undefined,
  asOf: Date | null,
  lock = false,
): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { change: [], unchanged: [], skipped: [] };
  const wanted: string[] = [];
  for (const text of typed) {
    const e164 = tryParseNumber(text)?.e164;
    if (e164) wanted.push(e164);
    else outcome.skipped.push({ number: text, reason: 'is not a phone number' });
  }
  const rows = lock
    ? await lockDidViews(ctx.db, (q) => q.where(sql<boolean>`dids.number = any(${wanted}::text[])`))
    : await selectDidView(ctx.db)
        .where(sql<boolean>`dids.number = any(${wanted}::text[])`)
        .execute();
  const byNumber = new Map(rows.map((r) => [r.number, r]));
  for (const number of wanted) {
    const did = byNumber.get(number);
    if (!did) {
      outcome.skipped.push({ number, reason: 'is not in the inventory' });
      continue;
    }
    const expected = versions?.[number];
    if (expected !== undefined && expected !== did.version) {
      outcome.skipped.push({ number, reason: staleReason(did) });
      continue;
    }
    if (asOf !== null && did.updated_at.getTime() > asOf.getTime()) {
      outcome.skipped.push({ number, reason: staleReason(did) });
      continue;
    }
    sortVerdict(outcome, did, rules.judge(ctx.actor, did));
  }
  return outcome;
}

function normalizeSelection(selection: BulkSelection): BulkSelection {
  switch (selection.mode) {
    case 'selected': {
      if (selection.numbers.length === 0) {
        throw invalid('Select at least one number, or apply to the first N or all matching.', {
          field: 'apply',
        });
      }
      if (selection.numbers.length > BULK_MAX) throw invalid(`Select at most ${BULK_MAX} numbers.`);
      // Stored as E.164 where they parse, so versions (by E.164) and the result page agree.
      const numbers = [...new Set(selection.numbers.map((n) => tryParseNumber(n)?.e164 ?? n.trim()))];
      return { mode: 'selected', numbers, ...(selection.versions ? { versions: selection.versions } : {}) };
    }
    case 'first':
      if (!Number.isInteger(selection.count) || selection.count < 1 || selection.count > BULK_MAX) {
        throw invalid(`The count must be a whole number from 1 to ${BULK_MAX.toLocaleString('en-US')}.`, {
          field: 'count',
        });
      }
      return selection;
    case 'all':
      return selection;
    default:
      throw invalid('Choose what to apply it to: the selected numbers, the first N, or all matching.', {
        field: 'apply',
      });
  }
}

/** Matching rows, counted up to `cap` (the planner stops early instead of counting a million). */
async function countMatching(
  db: Executor,
  filter: ResolvedFilter,
  extra: ((eb: DidsEb) => Expression<SqlBool>) | null,
  cap: number,
): Promise<number> {
  const inner = db
    .selectFrom('dids')
    .select(sql<number>`1`.as('one'))
    .where((eb) => filterExpression(eb, filter))
    .$if(extra !== null, (q) => q.where((eb) => extra!(eb)))
    .limit(cap);
  const row = await db
    .selectFrom(inner.as('t'))
    .select(sql<string>`count(*)`.as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The database's clock: updated_at is set by it, so staleness is judged against the same clock. */
async function databaseNow(db: Executor): Promise<Date> {
  const { rows } = await sql<{ now: Date }>`SELECT statement_timestamp() AS now`.execute(db);
  return rows[0]!.now;
}

// -- Imports ---------------------------------------------------------------------------------------------
