// The bulk_operations rows behind the back office's bulk work and imports: their shape as the pages see
// it (title, scope, progress), reading them, and writing a batch's progress. Shared by the bulk runner
// (bulk-operations.ts) and the import runner (import-job.ts).
import { sql } from 'kysely';
import type { BulkKind, BulkOperation } from '../db/schema.ts';
import { isOperatorStaff } from '../accounts/actor.ts';
import { requirePermission } from '../accounts/permissions.ts';
import type { Ctx, Executor } from '../context.ts';
import { notFound } from '../shared/errors.ts';
import type { DidFilter } from './search-dids.ts';

/** Skipped numbers (or import rows) listed with their reasons; the counts stay exact beyond it. */
export const MAX_DETAILS = 1_000;

export type BulkSelection =
  | { readonly mode: 'all'; readonly filter: DidFilter }
  /** The first N numbers of the search that the operation can change, in number order. */
  | { readonly mode: 'first'; readonly count: number; readonly filter: DidFilter }
  | {
      readonly mode: 'selected';
      readonly numbers: readonly string[];
      /** The version of each number (by E.164) when the page showed it. */
      readonly versions?: Readonly<Record<string, number>>;
    };

/** A number (or an import's row) left alone, and why. */
export interface BulkDetail {
  readonly number: string;
  readonly reason: string;
  /** Imports: the line in the file (the header is line 1). */
  readonly line?: number;
}

/** What an operation's row stores as its arguments, names already resolved to ids. */
export interface BulkParams {
  readonly target?: { readonly id: number | null; readonly label: string } | null;
  readonly selection?: BulkSelection;
  /** Imports: the uploaded file's name (or "pasted numbers"), for the pages. */
  readonly filename?: string;
}

export interface BulkOperationView {
  readonly id: number;
  readonly kind: BulkKind;
  readonly status: BulkOperation['status'];
  /** "Assign to acme", "Move to pricing batch "US Local"", "Import numbers.csv". */
  readonly title: string;
  /** "the 3 selected numbers", "the first 100 matching numbers", "all 5,120 matching numbers". */
  readonly scope: string;
  readonly params: BulkParams;
  readonly total: number;
  readonly processed: number;
  readonly changed: number;
  readonly unchanged: number;
  readonly skipped: number;
  readonly details: readonly BulkDetail[];
  readonly error: string | null;
  /** 0 to 100, for the progress bar; 100 only once done. */
  readonly percent: number;
  readonly finished: boolean;
  readonly asOf: Date;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  readonly userId: number;
  readonly userLabel: string;
}

/** One batch's effect on its operation's row. */
export interface BatchProgress {
  readonly cursor: string | null;
  readonly finished: boolean;
  readonly processed: number;
  readonly changed: number;
  readonly unchanged: number;
  readonly skipped: number;
  readonly details: readonly BulkDetail[];
}

/** Writes a batch's progress onto `op` (locked by the caller, in the batch's transaction). */
export async function saveProgress(db: Executor, op: BulkOperation, batch: BatchProgress): Promise<void> {
  const room = Math.max(0, MAX_DETAILS - op.details.length);
  await db
    .updateTable('bulk_operations')
    .set({
      cursor: batch.cursor,
      status: batch.finished ? 'done' : 'running',
      processed: op.processed + batch.processed,
      changed: op.changed + batch.changed,
      unchanged: op.unchanged + batch.unchanged,
      skipped: op.skipped + batch.skipped,
      details: JSON.stringify([...op.details, ...batch.details.slice(0, room)]),
      ...(batch.finished ? { finished_at: sql<Date>`now()` } : {}),
    })
    .where('id', '=', op.id)
    .execute();
}

/** Locks an operation's row for a batch; null when it is no longer running (finished, failed). */
export async function lockRunning(db: Executor, id: number): Promise<BulkOperation | null> {
  const op = await db
    .selectFrom('bulk_operations')
    .selectAll()
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirstOrThrow();
  return op.status === 'running' || op.status === 'queued' ? op : null;
}

/** Ends an operation that cannot finish (its last retry failed, or a refusal), saying why. */
export async function markFailed(db: Executor, id: number, message: string): Promise<void> {
  await db
    .updateTable('bulk_operations')
    .set({ status: 'failed', error: message.slice(0, 2000), finished_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('status', 'in', ['queued', 'running'])
    .execute();
}

/** Drafts nobody confirmed within a day are dropped, whenever a new one is made. */
export async function pruneDrafts(db: Executor, now: Date): Promise<void> {
  await db
    .deleteFrom('bulk_operations')
    .where('status', '=', 'draft')
    .where('created_at', '<', new Date(now.getTime() - 24 * 3600_000))
    .execute();
}

/**
 * A draft for its author, locked: someone else's draft is not there for you (it may hold a selection you
 * never saw). Confirmed operations are found by anyone.
 */
export async function lockOwnOperation(ctx: Ctx, id: number): Promise<BulkOperation> {
  const row = Number.isSafeInteger(id)
    ? await ctx.db
        .selectFrom('bulk_operations')
        .selectAll()
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst()
    : undefined;
  if (!row || (row.status === 'draft' && row.user_id !== ctx.actor.userId)) {
    throw notFound('There is no such bulk operation.', { help: 'Start again from the inventory.' });
  }
  return row;
}

/** One operation, for its progress or result page: the operator's staff see every confirmed operation. */
export async function getBulkOperation(ctx: Ctx, id: number): Promise<BulkOperationView> {
  requirePermission(ctx.actor, 'inventory.read');
  const row =
    Number.isSafeInteger(id) && isOperatorStaff(ctx.actor)
      ? await ctx.db.selectFrom('bulk_operations').selectAll().where('id', '=', id).executeTakeFirst()
      : undefined;
  if (!row || (row.status === 'draft' && row.user_id !== ctx.actor.userId)) {
    throw notFound('There is no such bulk operation.', { help: 'See the list of recent bulk operations.' });
  }
  return viewOf(ctx.db, row);
}

/** The most recent confirmed operations, newest first. */
export async function listBulkOperations(ctx: Ctx, limit = 50): Promise<BulkOperationView[]> {
  requirePermission(ctx.actor, 'inventory.read');
  if (!isOperatorStaff(ctx.actor)) return [];
  const rows = await ctx.db
    .selectFrom('bulk_operations')
    .selectAll()
    .where('status', '<>', 'draft')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  const labels = await userLabels(
    ctx.db,
    rows.map((r) => r.user_id),
  );
  return rows.map((row) => view(row, labels.get(row.user_id) ?? String(row.user_id)));
}

export async function readOperation(db: Executor, id: number): Promise<BulkOperationView> {
  return viewOf(
    db,
    await db.selectFrom('bulk_operations').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
  );
}

export async function viewOf(db: Executor, row: BulkOperation): Promise<BulkOperationView> {
  const labels = await userLabels(db, [row.user_id]);
  return view(row, labels.get(row.user_id) ?? String(row.user_id));
}

async function userLabels(db: Executor, ids: readonly number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const users = await db
    .selectFrom('users')
    .select(['id', 'email', 'name'])
    .where('id', 'in', [...new Set(ids)])
    .execute();
  return new Map(users.map((u) => [u.id, u.email ?? (u.name || `user ${u.id}`)]));
}

function view(row: BulkOperation, userLabel: string): BulkOperationView {
  const params = row.params as BulkParams;
  const percent =
    row.status === 'done'
      ? 100
      : row.total > 0
        ? Math.min(99, Math.floor((row.processed / row.total) * 100))
        : 0;
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    title: titleOf(row.kind, params),
    scope: scopeOf(row.kind, params, row.total),
    params,
    total: row.total,
    processed: row.processed,
    changed: row.changed,
    unchanged: row.unchanged,
    skipped: row.skipped,
    details: row.details as BulkDetail[],
    error: row.error,
    percent,
    finished: row.status === 'done' || row.status === 'failed',
    asOf: row.as_of,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    userId: row.user_id,
    userLabel,
  };
}

function titleOf(kind: BulkKind, params: BulkParams): string {
  const target = params.target;
  switch (kind) {
    case 'assign':
      return `Assign to ${target?.label ?? '?'}`;
    case 'pricing_batch':
      return target?.id == null
        ? 'Take out of their pricing batch'
        : `Move to pricing batch "${target.label}"`;
    case 'group':
      return target?.id == null ? 'Take out of their DID group' : `Set the DID group "${target.label}"`;
    case 'release':
      return 'Release to the pool';
    case 'enable':
      return 'Enable';
    case 'disable':
      return 'Disable';
    case 'import':
      return `Import ${params.filename ?? 'numbers'}`;
  }
}

const count = (n: number, one: string) => `${n.toLocaleString('en-US')} ${one}${n === 1 ? '' : 's'}`;

function scopeOf(kind: BulkKind, params: BulkParams, total: number): string {
  const selection = params.selection;
  if (kind === 'import' || !selection) return count(total, 'row');
  switch (selection.mode) {
    case 'selected':
      return `the ${count(selection.numbers.length, 'selected number')}`;
    case 'first':
      return `the first ${count(selection.count, 'matching number')} that can change`;
    case 'all':
      return `all ${count(total, 'matching number')}`;
  }
}
