// bin/migrate.ts against real databases: an empty one it migrates, and an already migrated one.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { createTestDatabase, databaseUrl, dropDatabase } from '../../helpers/database.ts';
import { CLOSED_DATABASE_URL, runScript } from './processes.ts';

describe('bin/migrate.ts', () => {
  const blank = `didops_test_blank_${process.pid}`;
  let migrated: { name: string; url: string };
  beforeAll(async () => {
    migrated = await createTestDatabase();
    const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${blank}`);
    await admin.end();
  });
  afterAll(async () => {
    if (migrated) await dropDatabase(migrated.name);
    await dropDatabase(blank);
  });

  it(
    'applies the migrations to an empty database, then says it is up to date',
    { timeout: 120_000 },
    async () => {
      const first = runScript('bin/migrate.ts', [], { DATABASE_URL: databaseUrl(blank) });
      expect(await first.exited(60_000), first.stderr()).toEqual({ code: 0, signal: null });
      expect(first.stdout()).toMatch(/^Applied \d+ migrations?:\n {2}\S+/);

      const again = runScript('bin/migrate.ts', [], { DATABASE_URL: databaseUrl(blank) });
      expect(await again.exited(60_000), again.stderr()).toEqual({ code: 0, signal: null });
      expect(again.stdout()).toBe('Database is up to date.\n');
    },
  );

  it('leaves a migrated database alone', { timeout: 60_000 }, async () => {
    const proc = runScript('bin/migrate.ts', [], { DATABASE_URL: migrated.url });
    expect(await proc.exited(60_000), proc.stderr()).toEqual({ code: 0, signal: null });
    expect(proc.stdout()).toBe('Database is up to date.\n');
  });

  it('exits 1 with a clear message when the database is unreachable', { timeout: 60_000 }, async () => {
    const proc = runScript('bin/migrate.ts', [], { DATABASE_URL: CLOSED_DATABASE_URL });
    expect((await proc.exited(60_000)).code).toBe(1);
    expect(proc.stderr()).toContain(
      'Migration failed: Cannot reach the database at postgres://x:****@127.0.0.1:1/none',
    );
  });
});
