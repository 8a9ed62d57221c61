// Opens the Kysely handle on a pg pool. Type parsers are set here, once, deliberately: bigint columns
// hold money in minor units and ids, and must come back as numbers, never silently rounded.
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

const INT8_OID = 20;

function parseBigint(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`bigint ${value} exceeds the safe integer range`);
  return n;
}

pg.types.setTypeParser(INT8_OID, parseBigint);

export interface ConnectOptions {
  readonly max?: number;
  readonly applicationName?: string;
}

export function connect(databaseUrl: string, options: ConnectOptions = {}): Db {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'didops',
    // Fail fast when the database is gone instead of queueing requests forever.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => {});
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
