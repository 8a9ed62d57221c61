// bin/seed.ts against a real, empty test database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../../core/accounts/users.ts';
import { connect, type Db } from '../../../core/db/connect.ts';
import { createTestDatabase, dropDatabase } from '../../helpers/database.ts';
import { runScript } from './processes.ts';

describe('bin/seed.ts', () => {
  let database: { name: string; url: string };
  let db: Db;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = connect(database.url, { max: 2 });
  });
  afterAll(async () => {
    await db?.destroy();
    if (database) await dropDatabase(database.name);
  });

  async function counts() {
    const count = async (table: 'accounts' | 'dids' | 'users') => {
      const row = await db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    };
    return { accounts: await count('accounts'), dids: await count('dids'), users: await count('users') };
  }

  it(
    'loads the demo data into an empty database, then refuses to load it again',
    { timeout: 120_000 },
    async () => {
      const first = runScript('bin/seed.ts', [], { DATABASE_URL: database.url });
      expect(await first.exited(60_000), first.stderr()).toEqual({ code: 0, signal: null });

      const loaded = await counts();
      expect(loaded.accounts).toBeGreaterThan(0);
      expect(loaded.dids).toBeGreaterThanOrEqual(5000);
      const example = await db
        .selectFrom('dids')
        .select('status')
        .where('number', '=', '+18665550100')
        .executeTakeFirst();
      expect(example?.status).toBe('available');
      expect(first.stdout()).toContain('admin@didops.local');
      expect(first.stdout()).toContain('npm run did -- assign 18665550100 acme');
      // The printed password is the one whose hash was stored.
      const password = /admin@didops\.local\s+(\S+)/.exec(first.stdout())?.[1];
      expect(password).toMatch(/^[\w-]{16}$/);
      const admin = await db
        .selectFrom('users')
        .select('password_hash')
        .where('email', '=', 'admin@didops.local')
        .executeTakeFirstOrThrow();
      expect(await verifyPassword(admin.password_hash!, password!)).toBe(true);

      const second = runScript('bin/seed.ts', [], { DATABASE_URL: database.url });
      const exit = await second.exited(60_000);
      expect(exit.code).not.toBe(0);
      expect(second.stderr()).toContain(`This database already holds data (${loaded.accounts} accounts)`);
      expect(second.stderr()).toContain('--force');
      expect(second.stdout()).not.toContain('admin@didops.local');
      expect(await counts()).toEqual(loaded);
    },
  );

  it(
    'with --force on a database that holds the demo data, fails clearly and writes nothing',
    { timeout: 120_000 },
    async () => {
      const before = await counts();
      expect(before.accounts).toBeGreaterThan(0); // left by the test above
      const forced = runScript('bin/seed.ts', ['--force'], { DATABASE_URL: database.url });
      expect((await forced.exited(60_000)).code).toBe(1);
      expect(forced.stderr()).toContain('Loading the demo data failed, nothing was written');
      expect(forced.stderr()).toMatch(/duplicate key/);
      expect(await counts()).toEqual(before);
    },
  );

  it('rejects unknown arguments', { timeout: 60_000 }, async () => {
    const proc = runScript('bin/seed.ts', ['--forse'], { DATABASE_URL: database.url });
    expect((await proc.exited(60_000)).code).toBe(1);
    expect(proc.stderr()).toContain('Usage: npm run seed [-- --force]');
  });
});
