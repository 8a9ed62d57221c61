// Catalog names are looked up case-insensitively ("northstar" finds "NorthStar"), so two names that differ
// only in case would make a lookup ambiguous. The database now refuses them, which also closes the race
// between two concurrent creates that both passed the service's duplicate check.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE UNIQUE INDEX providers_name_ci_idx ON providers (lower(name));
    CREATE UNIQUE INDEX did_groups_name_ci_idx ON did_groups (lower(name));
    CREATE UNIQUE INDEX vendor_batches_name_ci_idx ON vendor_batches (lower(name));
    CREATE UNIQUE INDEX pricing_batches_name_ci_idx ON pricing_batches (lower(name));
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP INDEX providers_name_ci_idx, did_groups_name_ci_idx, vendor_batches_name_ci_idx, pricing_batches_name_ci_idx;
  `.execute(db);
}
