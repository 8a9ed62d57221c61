// CSV export of any inventory search. The columns are the import's own fields (so an export can be
// imported elsewhere as it is), followed by read-only columns describing who uses each number.
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { stringify } from 'csv-stringify';
import { requirePermission } from '../accounts/permissions.ts';
import type { Ctx } from '../context.ts';
import { microsToDecimal, minorToDecimal } from '../shared/money.ts';
import { DID_FIELDS, type DidField } from './did-fields.ts';
import { resolveFilter, searchResolved, type DidFilter, type DidView } from './search-dids.ts';
import { guardFormula } from './spreadsheet-cells.ts';

const READ_ONLY_COLUMNS = ['owner', 'customer', 'assigned_at', 'freed_at', 'aging_until'] as const;
export const EXPORT_COLUMNS = [...DID_FIELDS, ...READ_ONLY_COLUMNS] as const;

const PAGE = 5_000;

/** Writes the matching numbers as CSV to `output`; returns how many rows were written. */
export async function exportDidsCsv(ctx: Ctx, filter: DidFilter, output: Writable): Promise<number> {
  requirePermission(ctx.actor, 'inventory.read');
  const resolved = await resolveFilter(ctx, filter);
  const csv = stringify({ header: true, columns: [...EXPORT_COLUMNS] });
  csv.pipe(output, { end: false });
  let written = 0;
  let after: string | undefined;
  do {
    const page = await searchResolved(ctx.db, resolved, { limit: PAGE, ...(after ? { after } : {}) });
    for (const did of page.items) {
      // Respect back-pressure: a million rows must not pile up in memory behind a slow pipe.
      if (!csv.write(guardRecord(toRecord(did)))) await once(csv, 'drain');
      written++;
    }
    after = page.nextCursor ?? undefined;
  } while (after);
  csv.end();
  await once(csv, 'end');
  return written;
}

function guardRecord<T extends Record<string, string>>(record: T): T {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, guardFormula(v)])) as T;
}

function toRecord(did: DidView): Record<(typeof EXPORT_COLUMNS)[number], string> {
  const money = (amount: number) => minorToDecimal(amount, did.currency);
  const fields: Record<DidField, string> = {
    number: did.number,
    country: did.country,
    area_code: did.area_code,
    number_type: did.number_type,
    city: did.city,
    province: did.province,
    provider: did.provider_name ?? '',
    vendor_batch: did.vendor_batch_name ?? '',
    group: did.group_name ?? '',
    pricing_batch: did.pricing_batch_name ?? '',
    activation_cost: money(did.activation_cost),
    recurring_cost: money(did.recurring_cost),
    setup_fee: money(did.setup_fee),
    recurring_fee: money(did.recurring_fee),
    currency: did.currency,
    billing_type: did.billing_type,
    billing_period: did.billing_period,
    billing_days: String(did.billing_days),
    connection_cost: microsToDecimal(did.connection_cost_micros),
    per_minute_rate: microsToDecimal(did.per_minute_rate_micros),
    grace_seconds: String(did.grace_seconds),
    initial_increment: String(did.initial_increment),
    increment: String(did.increment),
    call_timeout: String(did.call_timeout_seconds),
    max_concurrent_calls: String(did.max_concurrent_calls),
    capabilities: did.capabilities.join(';'),
    description: did.description,
    status: did.status,
    destination: did.destination ?? '',
  };
  return {
    ...fields,
    owner: did.owner_slug ?? '',
    customer: did.customer_slug ?? '',
    assigned_at: did.assigned_at?.toISOString() ?? '',
    freed_at: did.freed_at?.toISOString() ?? '',
    aging_until: did.aging_until?.toISOString() ?? '',
  };
}
