// Catalog names resolved once per operation: an import of a million rows must not look up "NorthStar" a
// million times.
import type { Actor } from '../accounts/actor.ts';
import type { Executor } from '../context.ts';
import type { DidGroup, PricingBatch, Provider, VendorBatch } from '../db/schema.ts';

export interface CatalogIndex {
  readonly providers: ReadonlyMap<string, Provider>;
  readonly vendorBatches: ReadonlyMap<string, VendorBatch>;
  readonly groups: ReadonlyMap<string, DidGroup>;
  readonly pricingBatches: ReadonlyMap<string, PricingBatch>;
  readonly byId: {
    readonly providers: ReadonlyMap<number, Provider>;
    readonly vendorBatches: ReadonlyMap<number, VendorBatch>;
    readonly groups: ReadonlyMap<number, DidGroup>;
    readonly pricingBatches: ReadonlyMap<number, PricingBatch>;
  };
}

const byName = <T extends { name: string }>(rows: T[]) => new Map(rows.map((r) => [r.name.toLowerCase(), r]));
const byId = <T extends { id: number }>(rows: T[]) => new Map(rows.map((r) => [r.id, r]));

/** Pricing batches are limited to those the actor's account or its ancestors own. */
export async function loadCatalogIndex(db: Executor, actor: Actor): Promise<CatalogIndex> {
  const ancestorIds = actor.accountPath.split('/').filter(Boolean).map(Number);
  const [providers, vendorBatches, groups, pricingBatches] = await Promise.all([
    db.selectFrom('providers').selectAll().execute(),
    db.selectFrom('vendor_batches').selectAll().execute(),
    db.selectFrom('did_groups').selectAll().execute(),
    db.selectFrom('pricing_batches').selectAll().where('owner_account_id', 'in', ancestorIds).execute(),
  ]);
  return {
    providers: byName(providers),
    vendorBatches: byName(vendorBatches),
    groups: byName(groups),
    pricingBatches: byName(pricingBatches),
    byId: {
      providers: byId(providers),
      vendorBatches: byId(vendorBatches),
      groups: byId(groups),
      pricingBatches: byId(pricingBatches),
    },
  };
}

export function lookup<T extends { id: number }>(
  names: ReadonlyMap<string, T>,
  ids: ReadonlyMap<number, T>,
  ref: string,
): T | undefined {
  const text = ref.trim();
  return /^\d+$/.test(text) ? ids.get(Number(text)) : names.get(text.toLowerCase());
}
