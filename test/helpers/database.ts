// Gives a test file its own database, cloned from the migrated template, emptied before every test.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, inject } from 'vitest';
import { connect, type Db } from '../../core/db/connect.ts';

export interface TestDatabase {
  readonly db: Db;
  readonly url: string;
}

export function databaseUrl(name: string): string {
  const url = new URL(inject('pgAdminUrl'));
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty, migrated database; the caller drops it with dropDatabase. */
export async function createTestDatabase(): Promise<{ name: string; url: string }> {
  const name = `didops_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${inject('pgTemplate')}`));
  return { name, url: databaseUrl(name) };
}

export async function dropDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/** Registers hooks: a fresh database for this file, every table truncated before each test. */
export function useTestDatabase(): TestDatabase {
  let created: { name: string; url: string } | undefined;
  let db: Db | undefined;
  beforeAll(async () => {
    created = await createTestDatabase();
    db = connect(created.url, { max: 20 });
  });
  beforeEach(async () => {
    await truncateAll(db!);
  });
  afterAll(async () => {
    await db?.destroy();
    if (created) await dropDatabase(created.name);
  });
  return {
    get db() {
      if (!db) throw new Error('useTestDatabase: the database is only available inside tests and hooks');
      return db;
    },
    get url() {
      if (!created) throw new Error('useTestDatabase: the database is only available inside tests and hooks');
      return created.url;
    },
  };
}

export async function truncateAll(db: Db): Promise<void> {
  const tables = await sql<{ tablename: string }>`
    SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'kysely_%'`.execute(
    db,
  );
  const list = tables.rows.map((t) => `"${t.tablename}"`).join(', ');
  if (list) await sql.raw(`TRUNCATE ${list} RESTART IDENTITY CASCADE`).execute(db);
}
