// Indexes for the storefront's catalog, which only ever lists numbers for sale (status available) in
// number order, filtered by what buyers pick: country, city, area code, type. Without them, on a million
// numbers, "area code 415" or "toll-free" read most of the table in number order before finding a page
// (1.8 s and 3.3 s measured), and a city whose first numbers are all sold read past every one of them
// (0.3 s). Each is a partial index over the available numbers only.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE INDEX dids_available_country_idx ON dids (country, number) WHERE status = 'available';
    CREATE INDEX dids_available_city_idx ON dids (country, city, number) WHERE status = 'available';
    CREATE INDEX dids_available_area_idx ON dids (area_code, number) WHERE status = 'available';
    CREATE INDEX dids_available_type_idx ON dids (number_type, number) WHERE status = 'available';
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP INDEX dids_available_type_idx;
    DROP INDEX dids_available_area_idx;
    DROP INDEX dids_available_city_idx;
    DROP INDEX dids_available_country_idx;
  `.execute(db);
}
