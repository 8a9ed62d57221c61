// The back office's inventory page in one call: a page of the search (keyset-paginated, as searchDids) and
// how many numbers match. Counting a million rows on every page view would cost more than the page itself,
// so the count is exact up to COUNT_CAP and an estimate beyond it (the planner's, or the table's size for
// an unfiltered search), and says which it is. The filter is resolved once for both queries, which run side
// by side.
import { CompiledQuery, sql } from 'kysely';
import { requirePermission } from '../accounts/permissions.ts';
import type { Ctx, Executor } from '../context.ts';
import { invalid } from '../shared/errors.ts';
import {
  filterExpression,
  resolveFilter,
  searchResolved,
  type DidFilter,
  type ResolvedFilter,
  type SearchOptions,
  type SearchPage,
} from './search-dids.ts';

/** Matches counted exactly up to here; beyond, estimated. */
export const COUNT_CAP = 10_000;

export interface MatchCount {
  readonly count: number;
  /** false: more than COUNT_CAP match and `count` is an estimate. */
  readonly exact: boolean;
}

export interface InventoryPage extends SearchPage {
  readonly matches: MatchCount;
}

export async function inventoryPage(
  ctx: Ctx,
  filter: DidFilter,
  options: SearchOptions = {},
): Promise<InventoryPage> {
  requirePermission(ctx.actor, 'inventory.read');
  const limit = options.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw invalid(`limit=${limit} is out of range.`, { help: 'Use a whole number from 1 to 500.' });
  }
  const resolved = await resolveFilter(ctx, filter);
  const [page, matches] = await Promise.all([
    searchResolved(ctx.db, resolved, { ...options, limit }),
    countMatches(ctx.db, resolved),
  ]);
  return { ...page, matches };
}

export async function countMatches(db: Executor, filter: ResolvedFilter): Promise<MatchCount> {
  const matching = db
    .selectFrom('dids')
    .select(sql<number>`1`.as('one'))
    .where((eb) => filterExpression(eb, filter));
  const capped = await db
    .selectFrom(matching.limit(COUNT_CAP + 1).as('t'))
    .select(sql<string>`count(*)`.as('n'))
    .executeTakeFirstOrThrow();
  const count = Number(capped.n);
  if (count <= COUNT_CAP) return { count, exact: true };
  return { count: Math.max(COUNT_CAP + 1, await estimate(db, matching.compile())), exact: false };
}

/** The planner's row estimate for a query (EXPLAIN, not run): good to a few percent on a fresh ANALYZE. */
async function estimate(db: Executor, query: CompiledQuery): Promise<number> {
  const explained = await db.executeQuery<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(
    CompiledQuery.raw(`EXPLAIN (FORMAT JSON) ${query.sql}`, [...query.parameters]),
  );
  return Math.round(explained.rows[0]?.['QUERY PLAN'][0].Plan['Plan Rows'] ?? 0);
}
