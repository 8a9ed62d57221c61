// Inventory search (seed 001): vanity patterns plus filters on every column staff look at, sorted and
// keyset-paginated so page 1,000 costs what page 1 costs. The same filter drives export and bulk operations.
import { sql, type ExpressionBuilder, type SelectQueryBuilder } from 'kysely';
import type { Database, DidStatus, NumberType } from '../db/schema.ts';
import { DID_STATUSES, NUMBER_TYPES } from '../db/schema.ts';
import { isOperatorStaff, type Actor } from '../accounts/actor.ts';
import { findAccount, type AccountRef } from '../accounts/accounts.ts';
import { requirePermission } from '../accounts/permissions.ts';
import { checkCurrency, resolveNamed } from '../catalog/catalog.ts';
import type { Ctx, Executor } from '../context.ts';
import { parsePattern, type NumberPattern } from '../numbers/vanity.ts';
import { invalid } from '../shared/errors.ts';
import { parseMoney } from '../shared/money.ts';

/** What people filter by; names (group, provider ...) may be given as names or ids. */
export interface DidFilter {
  readonly pattern?: string;
  readonly country?: string;
  readonly areaCode?: string;
  readonly city?: string;
  readonly province?: string;
  readonly numberType?: string;
  readonly group?: string;
  readonly provider?: string;
  readonly vendorBatch?: string;
  /** A name, an id, or "none" for numbers in no pricing batch (PortaBilling's "unallocated"). */
  readonly pricingBatch?: string;
  readonly status?: string | readonly string[];
  /** The account holding the numbers (as reseller) or using them (as customer). */
  readonly account?: AccountRef;
  /** Decimal amounts in the numbers' currency, e.g. "1.00". */
  readonly minRecurringFee?: string;
  readonly maxRecurringFee?: string;
  readonly currency?: string;
}

/** A filter with names resolved to ids and text parsed: what the SQL is built from. */
export interface ResolvedFilter {
  readonly number?: NumberCondition;
  readonly country?: string;
  readonly areaCode?: string;
  readonly city?: string;
  readonly province?: string;
  readonly numberType?: NumberType;
  readonly groupId?: number;
  readonly providerId?: number;
  readonly vendorBatchId?: number;
  readonly pricingBatchId?: number | null;
  readonly statuses?: readonly DidStatus[];
  readonly accountId?: number;
  /**
   * The one column that names the account's numbers: a reseller owns them, a customer uses them (every
   * write path, assignment and fulfillment alike, keeps it so). Unset: either column (the operator).
   */
  readonly accountColumn?: 'owner_account_id' | 'assigned_account_id';
  readonly minRecurringFee?: number;
  readonly maxRecurringFee?: number;
  readonly currency?: string;
  /** Ids of the accounts a non-operator actor reaches; undefined for operator staff (no limit). */
  readonly scopeAccountIds?: readonly number[];
}

export async function resolveFilter(ctx: Ctx, filter: DidFilter): Promise<ResolvedFilter> {
  const pattern = filter.pattern?.trim() ? parsePattern(filter.pattern) : undefined;
  const country = filter.country?.trim().toUpperCase() || undefined;
  if (country !== undefined && !/^[A-Z]{2}$/.test(country)) {
    throw invalid(`country=${filter.country} is not a two-letter country code.`, {
      help: 'For example country=US.',
    });
  }
  const areaCode = filter.areaCode?.trim() || undefined;
  if (areaCode !== undefined && !/^\d{1,6}$/.test(areaCode)) {
    throw invalid(`area=${filter.areaCode} is not an area code.`, {
      help: 'Use digits, for example area=212.',
    });
  }
  const numberType = filter.numberType?.trim().toLowerCase().replace(/[\s-]/g, '_') || undefined;
  if (numberType !== undefined && !(NUMBER_TYPES as readonly string[]).includes(numberType)) {
    throw invalid(`type=${filter.numberType} is not a number type.`, {
      help: `Use ${NUMBER_TYPES.join(', ')}.`,
    });
  }
  const statuses = parseStatuses(filter.status);
  const currency = filter.currency?.trim() ? checkCurrency(filter.currency) : undefined;
  const fee = (text: string | undefined, what: string) =>
    text?.trim() ? parseMoney(text, currency ?? 'USD', what) : undefined;
  const pricing = filter.pricingBatch?.trim();

  return {
    number: pattern ? numberCondition(pattern) : undefined,
    country,
    areaCode,
    city: filter.city?.trim() || undefined,
    province: filter.province?.trim() || undefined,
    numberType: numberType as NumberType | undefined,
    groupId: filter.group?.trim() ? await resolveNamed(ctx, 'did_groups', filter.group) : undefined,
    providerId: filter.provider?.trim() ? await resolveNamed(ctx, 'providers', filter.provider) : undefined,
    vendorBatchId: filter.vendorBatch?.trim()
      ? await resolveNamed(ctx, 'vendor_batches', filter.vendorBatch)
      : undefined,
    pricingBatchId: !pricing
      ? undefined
      : pricing.toLowerCase() === 'none'
        ? null
        : await resolveNamed(ctx, 'pricing_batches', pricing),
    statuses,
    ...(await accountCondition(ctx, filter.account)),
    minRecurringFee: fee(filter.minRecurringFee, 'The minimum price'),
    maxRecurringFee: fee(filter.maxRecurringFee, 'The maximum price'),
    currency,
    scopeAccountIds: await scopeOf(ctx.db, ctx.actor),
  };
}

async function accountCondition(
  ctx: Ctx,
  ref: AccountRef | undefined,
): Promise<Pick<ResolvedFilter, 'accountId' | 'accountColumn'>> {
  if (ref === undefined || !String(ref).trim()) return {};
  const account = await findAccount(ctx, ref);
  const column =
    account.kind === 'customer'
      ? 'assigned_account_id'
      : account.kind === 'reseller'
        ? 'owner_account_id'
        : undefined;
  return { accountId: account.id, ...(column ? { accountColumn: column } : {}) };
}

function parseStatuses(status: DidFilter['status']): DidStatus[] | undefined {
  if (status === undefined) return undefined;
  const list = (typeof status === 'string' ? status.split(',') : [...status])
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (list.length === 0) return undefined;
  const unknown = list.filter((s) => !(DID_STATUSES as readonly string[]).includes(s));
  if (unknown.length) {
    throw invalid(`status=${unknown.join(',')} is not a number status.`, {
      help: `Use ${DID_STATUSES.join(', ')}.`,
    });
  }
  return list as DidStatus[];
}

async function scopeOf(db: Executor, actor: Actor): Promise<number[] | undefined> {
  if (isOperatorStaff(actor)) return undefined;
  const rows = await db
    .selectFrom('accounts')
    .select('id')
    .where('path', 'like', `${actor.accountPath}%`)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * How a number pattern becomes SQL the indexes can serve. A pattern's literal prefix is a range on the
 * number's btree; an anchored pattern's later literal digits go to the trigram index as a plain infix
 * (the prefix's trigrams are in nearly every number and made that index scan the whole table), and the
 * exact pattern is re-checked on the remainder in a form no index claims.
 */
export interface NumberCondition {
  /** '+1800': a btree range (number >= prefix and < prefix + U+FFFF), or a plain check beside `contains`. */
  readonly prefix?: string;
  /** A whole LIKE pattern, for patterns that match anywhere ('%8647%'). */
  readonly like?: string;
  /** '%8647%': the longest literal run after the prefix, for the trigram index (3 digits or more). */
  readonly contains?: string;
  /** The exact pattern for what follows the prefix: substr(number, from) LIKE like. */
  readonly rest?: { readonly from: number; readonly like: string };
}

export function numberCondition(pattern: NumberPattern): NumberCondition {
  if (!pattern.anchored) return { like: pattern.like };
  const prefix = '+' + pattern.prefix;
  const rest = pattern.like.slice(prefix.length);
  if (rest === '%') return { prefix };
  const longest = rest.split(/[%_]/).reduce((a, b) => (b.length > a.length ? b : a), '');
  return {
    prefix,
    contains: longest.length >= 3 ? `%${longest}%` : undefined,
    rest: { from: prefix.length + 1, like: rest },
  };
}

export type DidsEb = ExpressionBuilder<Database, 'dids'>;

/** The WHERE clause of a resolved filter, including the actor's scope. */
export function filterExpression(eb: DidsEb, f: ResolvedFilter) {
  const and = [];
  const n = f.number;
  if (n?.prefix !== undefined && n.contains === undefined) {
    and.push(eb('dids.number', '>=', n.prefix), eb('dids.number', '<', n.prefix + '\uffff'));
  } else if (n?.prefix !== undefined) {
    // With a trigram probe for the later digits, the prefix must not be a btree range too: the planner
    // would sometimes AND a bitmap of the whole +1800 range (120k rows, ~13 ms) with the probe (1k rows).
    and.push(sql<boolean>`left(dids.number, ${n.prefix.length}) = ${n.prefix}`);
  }
  if (n?.like !== undefined) and.push(eb('dids.number', 'like', n.like));
  if (n?.contains !== undefined) and.push(eb('dids.number', 'like', n.contains));
  if (n?.rest !== undefined) and.push(sql<boolean>`substr(dids.number, ${n.rest.from}) LIKE ${n.rest.like}`);
  if (f.country !== undefined) and.push(eb('dids.country', '=', f.country));
  if (f.areaCode !== undefined) and.push(eb('dids.area_code', '=', f.areaCode));
  if (f.city !== undefined) and.push(eb('dids.city', '=', f.city));
  if (f.province !== undefined) and.push(eb('dids.province', '=', f.province));
  if (f.numberType !== undefined) and.push(eb('dids.number_type', '=', f.numberType));
  if (f.groupId !== undefined) and.push(eb('dids.group_id', '=', f.groupId));
  if (f.providerId !== undefined) and.push(eb('dids.provider_id', '=', f.providerId));
  if (f.vendorBatchId !== undefined) and.push(eb('dids.vendor_batch_id', '=', f.vendorBatchId));
  if (f.pricingBatchId === null) and.push(eb('dids.pricing_batch_id', 'is', null));
  else if (f.pricingBatchId !== undefined) and.push(eb('dids.pricing_batch_id', '=', f.pricingBatchId));
  if (f.statuses !== undefined) {
    and.push(
      f.statuses.length === 1 ? eb('dids.status', '=', f.statuses[0]!) : eb('dids.status', 'in', f.statuses),
    );
  }
  if (f.accountId !== undefined) {
    // One column when the account's kind tells which: its own index then serves a page in number order.
    // The OR of both made the planner read all of a big customer's numbers before it could sort out a page
    // (150 ms for a customer with 20,000 numbers among a million).
    and.push(
      f.accountColumn
        ? eb(`dids.${f.accountColumn}`, '=', f.accountId)
        : eb.or([
            eb('dids.owner_account_id', '=', f.accountId),
            eb('dids.assigned_account_id', '=', f.accountId),
          ]),
    );
  }
  if (f.minRecurringFee !== undefined) and.push(eb('dids.recurring_fee', '>=', f.minRecurringFee));
  if (f.maxRecurringFee !== undefined) and.push(eb('dids.recurring_fee', '<=', f.maxRecurringFee));
  if (f.currency !== undefined) and.push(eb('dids.currency', '=', f.currency));
  if (f.scopeAccountIds !== undefined) {
    // Outside the operator, staff see the free pool and the numbers of their own subtree.
    const ids = f.scopeAccountIds.length ? f.scopeAccountIds : [-1];
    and.push(
      eb.or([
        eb('dids.status', '=', 'available'),
        eb('dids.owner_account_id', 'in', ids),
        eb('dids.assigned_account_id', 'in', ids),
      ]),
    );
  }
  return eb.and(and);
}

export const SORTS = ['number', 'recurring_fee', 'setup_fee', 'updated_at'] as const;
export type Sort = (typeof SORTS)[number];

export interface SearchOptions {
  readonly sort?: Sort;
  readonly order?: 'asc' | 'desc';
  /** 1 to 1000; default 50. */
  readonly limit?: number;
  /** The `nextCursor` of the previous page. */
  readonly after?: string;
}

/** A DID as people look at it: the row plus the names of what it refers to. */
export function selectDidView(db: Executor) {
  // Names come from scalar subqueries, not joins: with six joins the planner spent ~12 ms per search
  // weighing join orders on a million-row inventory, for a query that runs in under 1 ms.
  return db
    .selectFrom('dids')
    .selectAll('dids')
    .select((eb) => [
      eb
        .selectFrom('accounts')
        .select('slug')
        .whereRef('accounts.id', '=', 'dids.owner_account_id')
        .as('owner_slug'),
      eb
        .selectFrom('accounts')
        .select('path')
        .whereRef('accounts.id', '=', 'dids.owner_account_id')
        .as('owner_path'),
      eb
        .selectFrom('accounts')
        .select('slug')
        .whereRef('accounts.id', '=', 'dids.assigned_account_id')
        .as('customer_slug'),
      eb
        .selectFrom('accounts')
        .select('path')
        .whereRef('accounts.id', '=', 'dids.assigned_account_id')
        .as('customer_path'),
      eb
        .selectFrom('did_groups')
        .select('name')
        .whereRef('did_groups.id', '=', 'dids.group_id')
        .as('group_name'),
      eb
        .selectFrom('providers')
        .select('name')
        .whereRef('providers.id', '=', 'dids.provider_id')
        .as('provider_name'),
      eb
        .selectFrom('vendor_batches')
        .select('name')
        .whereRef('vendor_batches.id', '=', 'dids.vendor_batch_id')
        .as('vendor_batch_name'),
      eb
        .selectFrom('pricing_batches')
        .select('name')
        .whereRef('pricing_batches.id', '=', 'dids.pricing_batch_id')
        .as('pricing_batch_name'),
    ]);
}

/**
 * Locks the numbers `pick` selects (FOR UPDATE, in number order) and returns their views read after the
 * lock is held. Reading the joined view in the locking statement itself would be wrong: after waiting for
 * a lock, PostgreSQL re-checks the locked row but keeps the joined rows it saw before the wait.
 */
export async function lockDidViews(
  db: Executor,
  pick: (
    query: SelectQueryBuilder<Database, 'dids', { id: number }>,
  ) => SelectQueryBuilder<Database, 'dids', { id: number }>,
): Promise<DidView[]> {
  const locked = await pick(
    db.selectFrom('dids').select('dids.id').orderBy('dids.number').forUpdate(),
  ).execute();
  if (locked.length === 0) return [];
  return selectDidView(db)
    .where(sql<boolean>`dids.id = any(${locked.map((r) => r.id)}::bigint[])`)
    .orderBy('dids.number')
    .execute();
}

type DidViewQuery = ReturnType<typeof selectDidView>;
export type DidView = Awaited<ReturnType<DidViewQuery['executeTakeFirstOrThrow']>>;

export interface SearchPage {
  readonly items: DidView[];
  /** Pass as `after` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export async function searchDids(
  ctx: Ctx,
  filter: DidFilter,
  options: SearchOptions = {},
): Promise<SearchPage> {
  requirePermission(ctx.actor, 'inventory.read');
  const limit = options.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw invalid(`limit=${limit} is out of range.`, { help: 'Use a whole number from 1 to 1000.' });
  }
  return searchResolved(ctx.db, await resolveFilter(ctx, filter), { ...options, limit });
}

/** Search with an already resolved filter and no page-size cap: export and bulk operations page through this. */
export async function searchResolved(
  db: Executor,
  filter: ResolvedFilter,
  options: SearchOptions = {},
): Promise<SearchPage> {
  return searchPage(selectDidView(db), filter, options);
}

/** A page of rows, and the cursor to the next, on any selection from dids that includes what `sort` needs. */
export async function searchPage<Row extends { number: string }>(
  selection: SelectQueryBuilder<Database, 'dids', Row>,
  filter: ResolvedFilter,
  options: SearchOptions = {},
): Promise<{ items: Row[]; nextCursor: string | null }> {
  const sort = options.sort ?? 'number';
  const limit = options.limit ?? 50;
  const rows = await pageQuery(selection, filter, options).execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const items = page.map(({ cursor_updated_at: _, ...row }) => row as unknown as Row);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(sort, last) : null };
}

/** The one SQL statement a search page runs (one row more than the page, to know if another follows). */
export function searchQuery(db: Executor, filter: ResolvedFilter, options: SearchOptions = {}) {
  return pageQuery(selectDidView(db), filter, options);
}

function pageQuery<Row>(
  selection: SelectQueryBuilder<Database, 'dids', Row>,
  filter: ResolvedFilter,
  options: SearchOptions,
) {
  const sort = options.sort ?? 'number';
  if (!SORTS.includes(sort))
    throw invalid(`sort=${String(sort)} is not a sort.`, { help: `Use ${SORTS.join(', ')}.` });
  const order = options.order ?? 'asc';
  const limit = options.limit ?? 50;
  let query = selection;
  const area = sort === 'number' && isAvailableOnly(filter) ? filter.areaCode : undefined;
  if (area !== undefined) {
    query = inArea(query, area, options.after, order).where((eb) =>
      filterExpression(eb, { ...filter, areaCode: undefined }),
    );
  } else {
    query = query.where((eb) => filterExpression(eb, filter));
    if (options.after) query = applyCursor(query, decodeCursor(options.after, sort), sort, order);
    query =
      sort === 'number'
        ? query.orderBy('dids.number', order)
        : query.orderBy(`dids.${sort}`, order).orderBy('dids.number', order);
  }
  return query.select(UPDATED_AT_EXACT.as('cursor_updated_at')).limit(limit + 1);
}

/** Above every E.164 number (at most 15 digits) in any collation: digits sort alike in all of them. */
const AFTER_EVERY_NUMBER = '+' + '9'.repeat(16);

/**
 * The numbers for sale in one area code, in number order from the cursor. An area code's numbers sit
 * together in number order (+1212...), while the planner assumes they are spread evenly, so with
 * `area_code = $1` it walked the available-numbers index from the start, filtering (25 ms for 212 on a
 * million numbers). Said as a range of (area_code, number) rows, the area code is no longer a constant the
 * planner can drop from the ORDER BY, and the (area_code, number) index serves the page directly (0.2 ms).
 * Same rows, same order.
 */
function inArea<Row>(
  query: SelectQueryBuilder<Database, 'dids', Row>,
  area: string,
  after: string | undefined,
  order: 'asc' | 'desc',
) {
  const row = sql`(dids.area_code, dids.number)`;
  const cursor = after ? decodeCursor(after, 'number').number : undefined;
  const from =
    cursor !== undefined && order === 'asc'
      ? sql`${row} > (${area}, ${cursor})`
      : sql`${row} >= (${area}, '')`;
  const to =
    cursor !== undefined && order === 'desc'
      ? sql`${row} < (${area}, ${cursor})`
      : sql`${row} <= (${area}, ${AFTER_EVERY_NUMBER})`;
  return query
    .where(sql<boolean>`${from} AND ${to}`)
    .orderBy('dids.area_code', order)
    .orderBy('dids.number', order);
}

/** The filter asks for available numbers only: the partial indexes' predicate. */
function isAvailableOnly(filter: ResolvedFilter): boolean {
  return filter.statuses?.length === 1 && filter.statuses[0] === 'available';
}

/**
 * updated_at as ISO text to the microsecond. A cursor built from the JS Date (milliseconds only) would sit
 * just before the last row of its page, which then came again on the next page.
 */
const UPDATED_AT_EXACT = sql<string>`to_char(dids.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

interface Cursor {
  readonly sort: Sort;
  readonly value: string | number | null;
  readonly number: string;
}

function encodeCursor(sort: Sort, row: { number: string; cursor_updated_at: string }): string {
  const value =
    sort === 'number'
      ? null
      : sort === 'updated_at'
        ? row.cursor_updated_at
        : ((row as Record<string, unknown>)[sort] as string | number | null);
  return Buffer.from(JSON.stringify([sort, value, row.number])).toString('base64url');
}

function decodeCursor(text: string, sort: Sort): Cursor {
  try {
    const [cursorSort, value, number] = JSON.parse(
      Buffer.from(text, 'base64url').toString('utf8'),
    ) as unknown[];
    if (
      cursorSort === sort &&
      typeof number === 'string' &&
      (typeof value === 'string' || typeof value === 'number' || value === null)
    ) {
      return { sort, value, number };
    }
  } catch {
    // fall through to the error below
  }
  throw invalid('That page link is not valid for this search.', { help: 'Start again from the first page.' });
}

function applyCursor<Row>(
  query: SelectQueryBuilder<Database, 'dids', Row>,
  cursor: Cursor,
  sort: Sort,
  order: 'asc' | 'desc',
): SelectQueryBuilder<Database, 'dids', Row> {
  const op = order === 'asc' ? '>' : '<';
  if (sort === 'number') return query.where('dids.number', op, cursor.number);
  const column = sql.ref(`dids.${sort}`);
  return query.where(
    sql<boolean>`(${column}, dids.number) ${sql.raw(op)} (${cursor.value}, ${cursor.number})`,
  );
}
