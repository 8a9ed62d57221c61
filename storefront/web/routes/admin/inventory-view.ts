// How the back office's inventory page reads its query string (every filter of the search, the sort, the
// page) and shows a number in the PortaBilling columns (seed 001): number, group, country/area, recurring
// revenue, customer, pricing batch, activation and recurring cost, status, description.
import { formatNumber } from '../../../../core/numbers/phone-number.ts';
import type { DidFilter, DidView, Sort } from '../../../../core/inventory/search-dids.ts';
import { SORTS } from '../../../../core/inventory/search-dids.ts';
import { DID_STATUSES, NUMBER_TYPES } from '../../../../core/db/schema.ts';
import { formatMoney } from '../../../../core/shared/money.ts';

/** Query-string names of the filters, in the order links are written. */
export const FILTER_PARAMS = [
  'pattern',
  'country',
  'area',
  'city',
  'province',
  'type',
  'group',
  'provider',
  'vendor_batch',
  'pricing_batch',
  'status',
  'account',
  'min_fee',
  'max_fee',
  'currency',
] as const;
export type FilterParam = (typeof FILTER_PARAMS)[number];
export type FilterValues = Readonly<Record<FilterParam, string>>;

export const PAGE_SIZES = [50, 100, 200] as const;

/** The filter fields of a query string or a posted form (the bulk form repeats the search's filters). */
export function filterValues(source: Record<string, unknown>): FilterValues {
  const value = (name: string) => {
    const v = source[name];
    const first: unknown = Array.isArray(v) ? (v as unknown[])[0] : v;
    return typeof first === 'string' ? first.trim().slice(0, 200) : '';
  };
  return Object.fromEntries(FILTER_PARAMS.map((name) => [name, value(name)])) as FilterValues;
}

export function toDidFilter(v: FilterValues): DidFilter {
  const filter: Record<string, string> = {
    pattern: v.pattern,
    country: v.country,
    areaCode: v.area,
    city: v.city,
    province: v.province,
    numberType: v.type,
    group: v.group,
    provider: v.provider,
    vendorBatch: v.vendor_batch,
    pricingBatch: v.pricing_batch,
    status: v.status,
    account: v.account,
    minRecurringFee: v.min_fee,
    maxRecurringFee: v.max_fee,
    currency: v.currency,
  };
  return Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== ''));
}

export interface ListOptions {
  readonly sort: Sort;
  readonly order: 'asc' | 'desc';
  readonly limit: number;
  readonly after: string | undefined;
}

export function listOptions(source: Record<string, unknown>): ListOptions {
  const text = (name: string) => (typeof source[name] === 'string' ? source[name] : '');
  const sort = (SORTS as readonly string[]).includes(text('sort')) ? (text('sort') as Sort) : 'number';
  const limit = Number(text('limit'));
  return {
    sort,
    order: text('order') === 'desc' ? 'desc' : 'asc',
    limit: (PAGE_SIZES as readonly number[]).includes(limit) ? limit : PAGE_SIZES[0],
    after: text('after') || undefined,
  };
}

/** /admin/inventory?... with the given filters and list options (defaults left out, so links stay short). */
export function inventoryUrl(
  values: FilterValues,
  options: Partial<ListOptions>,
  path = '/admin/inventory',
): string {
  const query = new URLSearchParams();
  for (const name of FILTER_PARAMS) if (values[name]) query.set(name, values[name]);
  if (options.sort && options.sort !== 'number') query.set('sort', options.sort);
  if (options.order === 'desc') query.set('order', 'desc');
  if (options.limit && options.limit !== PAGE_SIZES[0]) query.set('limit', String(options.limit));
  if (options.after) query.set('after', options.after);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** The sortable columns' header links: a click sorts by it, a second click reverses. */
export function sortLinks(values: FilterValues, options: ListOptions) {
  const link = (sort: Sort) => {
    const active = options.sort === sort;
    const order = active && options.order === 'asc' ? 'desc' : 'asc';
    return {
      url: inventoryUrl(values, { sort, order, limit: options.limit }),
      active,
      // aria-sort for the column header.
      aria: active ? (options.order === 'asc' ? 'ascending' : 'descending') : 'none',
    };
  };
  return {
    number: link('number'),
    recurring_fee: link('recurring_fee'),
    setup_fee: link('setup_fee'),
    updated_at: link('updated_at'),
  };
}

const day = (date: Date | null) => (date ? date.toISOString().slice(0, 10) : '');

/** PortaBilling's status column: "In use", "Free since <date>", and the states it has no word for. */
export function statusText(did: Pick<DidView, 'status' | 'freed_at' | 'aging_until'>): string {
  switch (did.status) {
    case 'assigned':
      return 'In use';
    case 'suspended':
      return 'In use (suspended for non-payment)';
    case 'reserved':
      return 'Reserved (being bought)';
    case 'available':
      return did.freed_at ? `Free since ${day(did.freed_at)}` : 'Free';
    case 'aging':
      return `Aging until ${day(did.aging_until)}`;
    case 'disabled':
      return 'Disabled';
  }
}

function recurring(did: DidView): string {
  if (did.billing_type === 'one_time') return 'None (one-time)';
  if (did.recurring_fee === 0) return 'Free';
  const amount = formatMoney(did.recurring_fee, did.currency);
  if (did.billing_period === 'monthly') return `${amount} / month`;
  if (did.billing_period === 'yearly') return `${amount} / year`;
  return `${amount} / ${did.billing_days} days`;
}

/** One row of the inventory table. */
export function inventoryRow(did: DidView) {
  const customer = did.customer_slug ?? did.owner_slug;
  return {
    id: did.id,
    number: did.number,
    display: formatNumber(did.number),
    digits: did.number.slice(1),
    // What a checked box posts: the number and the version it had on this page.
    selectValue: `${did.number}@${did.version}`,
    group: did.group_name ?? '',
    country: did.country,
    area: did.area_code,
    city: did.city,
    province: did.province,
    recurringRevenue: recurring(did),
    customer: customer ?? '',
    heldByReseller: did.customer_slug === null && did.owner_slug !== null,
    pricingBatch: did.pricing_batch_name,
    activationCost: formatMoney(did.activation_cost, did.currency),
    recurringCost: formatMoney(did.recurring_cost, did.currency),
    status: did.status,
    statusText: statusText(did),
    description: did.description,
    auditUrl: `/admin/audit?number=${encodeURIComponent(did.number)}`,
  };
}

export const STATUS_CHOICES = DID_STATUSES.map((s) => ({
  value: s,
  label: {
    available: 'Free',
    reserved: 'Reserved',
    assigned: 'In use',
    suspended: 'Suspended',
    aging: 'Aging',
    disabled: 'Disabled',
  }[s],
}));

export const TYPE_CHOICES = NUMBER_TYPES.map((t) => ({
  value: t,
  label: { local: 'Local', toll_free: 'Toll-free', mobile: 'Mobile', national: 'National', other: 'Other' }[
    t
  ],
}));

/** Select options with the current value marked. */
export function choices<T extends { value: string }>(list: readonly T[], current: string) {
  return list.map((c) => ({ ...c, selected: c.value === current }));
}
