// The staff console as operators run it: `node bot/cli/main.ts <command>` as a real process against a
// database holding the demo data. Checks what it prints, where (stdout or stderr) and its exit code.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../../core/accounts/users.ts';
import { describeRating, rateCall, ratingTermsOf } from '../../../core/billing/rating.ts';
import { connect, type Db } from '../../../core/db/connect.ts';
import { loadDemoData } from '../../../core/demo/demo-data.ts';
import { formatMoney } from '../../../core/shared/money.ts';
import { amountOwed } from '../../../core/billing/ledger.ts';
import { createTestDatabase, dropDatabase } from '../../helpers/database.ts';
import { CLOSED_DATABASE_URL, runScript } from '../runtime/processes.ts';

const CLI = 'bot/cli/main.ts';
const DAY_MS = 24 * 60 * 60 * 1000;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let database: { name: string; url: string } | undefined;
let db: Db | undefined;
let scratch: string;

/** Runs the console once and waits for it: `did('assign', '18665550100', 'acme')`. */
async function did(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const proc = runScript(CLI, args, { DATABASE_URL: database!.url, DID_AGING_DAYS: '30', ...env });
  const { code } = await proc.exited(30_000);
  return { code, stdout: proc.stdout(), stderr: proc.stderr() };
}

/** What the run printed, for assertion messages. */
const shown = (run: Run) => `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The numbers in a search table: first column of the lines under the header rule. */
function tableNumbers(stdout: string): string[] {
  const lines = stdout.split('\n');
  const rule = lines.findIndex((line) => /^\s+─+/.test(line));
  return lines
    .slice(rule + 1)
    .map((line) => /^ {2}(\+[\d ]+?)(?: {2,}|$)/.exec(line)?.[1])
    .filter((n): n is string => n !== undefined);
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = connect(database.url, { max: 4 });
  await loadDemoData(db);
  scratch = mkdtempSync(path.join(tmpdir(), 'didops-cli-'));
});

afterAll(async () => {
  await db?.destroy();
  if (database) await dropDatabase(database.name);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

// Every test below stands on its own data, so they run side by side: each is a few console processes.
describe.concurrent('the console (bot/cli/main.ts)', () => {
  it('records a bank payment once, refuses the same reference twice, and shows the balance', async () => {
    const umbrella = await db!
      .selectFrom('accounts')
      .select('id')
      .where('slug', '=', 'umbrella')
      .executeTakeFirstOrThrow();
    // The demo bills umbrella's numbers on its invoice, so it owes something before paying.
    const before = await amountOwed(db!, umbrella.id);
    expect(before).toBeGreaterThan(0);
    const paid = await did(['pay', 'umbrella', '12.50', 'BANK-2026-0001']);
    expect(paid.code, shown(paid)).toBe(0);
    expect(paid.stdout).toContain('✓ Recorded 12.50 from umbrella (BANK-2026-0001).');
    expect(await amountOwed(db!, umbrella.id)).toBe(before - 1250);
    expect(paid.stdout).toContain(`owes ${formatMoney(before - 1250, 'USD')}`);
    const again = await did(['pay', 'umbrella', '12.50', 'BANK-2026-0001']);
    expect(again.code, shown(again)).toBe(4);
    expect(again.stderr).toContain('already recorded');
    const bad = await did(['pay', 'umbrella', '-3', 'BANK-2026-0002']);
    expect(bad.code, shown(bad)).toBe(2);
    expect(await amountOwed(db!, umbrella.id)).toBe(before - 1250);
    const balance = await did(['balance', 'umbrella']);
    expect(balance.code, shown(balance)).toBe(0);
    expect(balance.stdout).toContain(`owes ${formatMoney(before - 1250, 'USD')}`);
    expect(balance.stdout).toMatch(/Renews/);
  });

  it('assigns a number, changes nothing the second time, refuses another account, then releases it', async () => {
    const first = await did(['assign', '18665550100', 'acme']);
    expect(first.code, shown(first)).toBe(0);
    expect(first.stdout).toBe('✓ +1 866 555 0100 is now assigned to acme.\n');
    expect(first.stderr).toBe('');

    const again = await did(['assign', '+1', '(866)', '555-0100', 'acme']);
    expect(again.code, shown(again)).toBe(0);
    expect(again.stdout).toMatch(/already assigned to acme.*nothing changed/);

    const other = await did(['assign', '18665550100', 'umbrella']);
    expect(other.code, shown(other)).toBe(4);
    expect(other.stderr).toContain('already assigned to acme');
    expect(other.stderr).toMatch(/^✗ /);
    expect(other.stdout).toBe('');

    const info = await did(['info', '+1', '866', '555', '0100']);
    expect(info.code, shown(info)).toBe(0);
    expect(info.stdout.split('\n')[0]).toBe('+1 866 555 0100');
    expect(info.stdout).toMatch(/^ {2}Holder: +acme$/m);
    expect(info.stdout).toMatch(/^ {2}Status: +in use$/m);
    // The rating lines come from core/billing/rating.ts with the number's own terms.
    const terms = ratingTermsOf(
      await db!.selectFrom('dids').selectAll().where('number', '=', '+18665550100').executeTakeFirstOrThrow(),
    );
    const field = (label: string) =>
      info.stdout
        .split('\n')
        .find((line) => line.startsWith(`  ${label}:`))
        ?.slice(label.length + 3)
        .trim();
    expect(field('Call rating')).toBe(describeRating(terms));
    const threeMinutes = rateCall(terms, 180);
    expect(field('A 3-minute call')).toBe(formatMoney(threeMinutes.cost, threeMinutes.currency));

    const before = Date.now();
    const release = await did(['release', '18665550100']);
    const after = Date.now();
    expect(release.code, shown(release)).toBe(0);
    expect(release.stdout).toContain('✓ +1 866 555 0100 is released.');
    const until = /rests until (\d{4}-\d{2}-\d{2}) before it is offered again/.exec(release.stdout)?.[1];
    expect([day(before + 30 * DAY_MS), day(after + 30 * DAY_MS)]).toContain(until);

    const row = await db!
      .selectFrom('dids')
      .select(['status', 'assigned_account_id'])
      .where('number', '=', '+18665550100')
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'aging', assigned_account_id: null });
  });

  it('refuses a number that is not one, with exit code 2', async () => {
    const run = await did(['assign', '1866-NOPE', 'acme']);
    expect(run.code, shown(run)).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^✗ /);
  });

  it('names the account meant when the account is unknown, with exit code 3', async () => {
    const run = await did(['assign', '18665550101', 'acmee']);
    expect(run.code, shown(run)).toBe(3);
    expect(run.stderr).toContain('Did you mean acme?');
    expect(run.stdout).toBe('');
  });

  it('suggests the command meant for a typo, with exit code 2 and the usage hint', async () => {
    const run = await did(['relase', '18665550100']);
    expect(run.code, shown(run)).toBe(2);
    expect(run.stderr).toContain('Unknown command "relase". Did you mean `release`?');
    expect(run.stdout).toBe('');

    const missing = await did(['assign', '18665550100']);
    expect(missing.code, shown(missing)).toBe(2);
    expect(missing.stderr).toContain('✗ Missing the account.');
    expect(missing.stderr).toContain('→ Usage: npm run did -- assign <number> <account>');
  });

  it('searches a vanity pattern page by page with the after= cursor', async () => {
    const page1 = await did(['search', '1800%VOIP', 'limit=5']);
    expect(page1.code, shown(page1)).toBe(0);
    expect(page1.stdout.split('\n')[0]).toBe('5 numbers (more available)');
    const first = tableNumbers(page1.stdout);
    expect(first, page1.stdout).toHaveLength(5);
    for (const number of first) {
      expect(number).toMatch(/^\+1 800 /);
      expect(number.replace(/\D/g, '')).toMatch(/^1800\d*8647/);
    }
    const cursor = /→ Next page: add after=(\S+)$/m.exec(page1.stdout)?.[1];
    expect(cursor, page1.stdout).toBeDefined();

    const page2 = await did(['search', '1800%VOIP', 'limit=5', `after=${cursor!}`]);
    expect(page2.code, shown(page2)).toBe(0);
    const second = tableNumbers(page2.stdout);
    expect(second, page2.stdout).toHaveLength(5);
    for (const number of second) expect(number.replace(/\D/g, '')).toMatch(/^1800\d*8647/);
    expect(second.filter((n) => first.includes(n))).toEqual([]);
    // Sorted by number, so page 2 continues where page 1 stopped.
    expect(second[0]!.replace(/\D/g, '') > first.at(-1)!.replace(/\D/g, '')).toBe(true);
  });

  it('answers help without a database', async () => {
    const run = await did(['help'], { DATABASE_URL: CLOSED_DATABASE_URL });
    expect(run.code, shown(run)).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('Commands');
    expect(run.stdout).toContain('import <file.csv>');
    expect(run.stderr).toBe('');

    const topic = await did(['help', 'assign'], { DATABASE_URL: CLOSED_DATABASE_URL });
    expect(topic.code, shown(topic)).toBe(0);
    expect(topic.stdout).toContain('npm run did -- assign <number> <account>');
    expect(topic.stdout).toContain('→ npm run did -- assign 18665550100 acme');
  });

  it('fails with one line and no stack trace when the database cannot be reached', async () => {
    const run = await did(['assign', '18665550100', 'acme'], { DATABASE_URL: CLOSED_DATABASE_URL });
    expect(run.code, shown(run)).not.toBe(0);
    expect(run.code).not.toBeNull();
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n'), run.stderr).toHaveLength(1);
    expect(run.stderr).toMatch(/^✗ .*database/i);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stderr).not.toContain(':y@'); // the password in the URL stays hidden
  });

  it('imports the good rows of a CSV, lists the bad ones by line, and changes nothing the second time', async () => {
    const file = path.join(scratch, 'batch.csv');
    writeFileSync(
      file,
      [
        'number,city,setup_fee,recurring_fee',
        '+16465550171,New York,1.00,2.00', // line 2
        'not-a-number,New York,1.00,2.00', // line 3: bad number
        '+16465550172,New York,1.00,2.00', // line 4
        '+16465550174,New York,abc,2.00', // line 5: bad fee
        '+16465550173,New York,1.00,2.00', // line 6
        '',
      ].join('\n'),
    );
    const first = await did(['import', file]);
    expect(first.code, shown(first)).toBe(2);
    const output = first.stdout + first.stderr;
    expect(output).toContain(`Imported 3 of 5 rows from ${file}.`);
    expect(output).toMatch(/^ {2}• line 3 \(not-a-number\): \S.*$/m);
    expect(output).toMatch(/^ {2}• line 5 \(\+16465550174\): \S.*$/m);
    expect(output).not.toMatch(/line (2|4|6)\b/);

    const imported = await db!
      .selectFrom('dids')
      .select('number')
      .where('number', 'in', ['+16465550171', '+16465550172', '+16465550173', '+16465550174'])
      .orderBy('number')
      .execute();
    expect(imported.map((r) => r.number)).toEqual(['+16465550171', '+16465550172', '+16465550173']);

    const again = await did(['import', file]);
    expect(again.code, shown(again)).toBe(2);
    const second = again.stdout + again.stderr;
    expect(second).toContain(`Imported 0 of 5 rows from ${file}.`);
    expect(second).toMatch(/^ {2}Imported: +0$/m);
    expect(second).toMatch(/^ {2}Already in the inventory[^:]*: +3$/m);
    expect(second).toMatch(/^ {2}Rows with errors: +2$/m);
  });

  it('refuses to import a file that is not there', async () => {
    const run = await did(['import', path.join(scratch, 'missing.csv')]);
    expect(run.code, shown(run)).toBe(2);
    expect(run.stderr).toContain('There is no file');
  });

  it('exports as CSV to stdout, importable as it is', async () => {
    const run = await did(['export', 'country=GB']);
    expect(run.code, shown(run)).toBe(0);
    expect(run.stdout.split('\n')[0]).toMatch(/^number,country,/);
    const records = parse<Record<string, string>>(run.stdout, { columns: true });
    const gb = await db!
      .selectFrom('dids')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('country', '=', 'GB')
      .executeTakeFirstOrThrow();
    expect(records.length).toBe(Number(gb.n));
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) {
      expect(record.number).toMatch(/^\+44\d+$/);
      expect(record.country).toBe('GB');
    }
    for (const line of run.stdout.trimEnd().split('\n').slice(1)) expect(line.startsWith('+44')).toBe(true);
  });

  it('exports to a file and says how many numbers it wrote', async () => {
    const file = path.join(scratch, 'out.csv');
    const run = await did(['export', '1866555010%', `file=${file}`]);
    expect(run.code, shown(run)).toBe(0);
    const wrote = /^✓ Wrote (\d+) numbers to (.+)\.$/m.exec(run.stdout);
    expect(wrote?.[2], run.stdout).toBe(file);
    const records = parse<Record<string, string>>(readFileSync(file, 'utf8'), { columns: true });
    expect(records.length).toBe(Number(wrote![1]));
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) expect(record.number).toMatch(/^\+1866555010\d$/);
  });

  it('says so in one line when the export file cannot be written', async () => {
    const file = path.join(scratch, 'no-such-folder', 'out.csv');
    const run = await did(['export', 'country=GB', `file=${file}`]);
    expect(run.code, shown(run)).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')[0]).toBe(`✗ Cannot write ${file}: ENOENT: no such file or directory.`);
    expect(run.stderr).toContain('→ Give a file in a folder you can write to.');
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it('creates an account and its owner, showing the password once', async () => {
    const account = await did(['account', 'create', 'customer', 'newco', 'name=New Co']);
    expect(account.code, shown(account)).toBe(0);
    expect(account.stdout).toMatch(/^✓ Created customer newco \(id \d+\)\.$/m);

    const user = await did(['user', 'create', 'newco', 'owner', 'email=x@newco.example']);
    expect(user.code, shown(user)).toBe(0);
    expect(user.stdout).toMatch(/✓ Created owner x@newco\.example/);
    const password = /Password \(shown once\): +(\S+)$/m.exec(user.stdout)?.[1];
    expect(password, user.stdout).toBeDefined();
    expect(user.stdout.split(password!)).toHaveLength(2); // printed exactly once

    const stored = await db!
      .selectFrom('users')
      .innerJoin('accounts', 'accounts.id', 'users.account_id')
      .select(['users.password_hash', 'users.role', 'accounts.slug', 'accounts.name'])
      .where('users.email', '=', 'x@newco.example')
      .executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ role: 'owner', slug: 'newco', name: 'New Co' });
    expect(await verifyPassword(stored.password_hash!, password!)).toBe(true);
  });

  it('adds a number in a free pricing batch, shown as free of charge', async () => {
    const batch = await did(['batch', 'create', 'Promo', 'setup=0', 'monthly=0']);
    expect(batch.code, shown(batch)).toBe(0);
    expect(batch.stdout).toContain('✓ Added pricing batch Promo');

    const created = await did(['did', 'create', '+1', '212', '555', '0199', 'batch=Promo', 'city=New York']);
    expect(created.code, shown(created)).toBe(0);
    expect(created.stdout).toMatch(/^✓ Added \+1 212 555 0199 \(New York.*free of charge\)\.$/m);

    const info = await did(['info', '+1 212 555 0199']);
    expect(info.code, shown(info)).toBe(0);
    expect(info.stdout).toMatch(/^ {2}Price: +.*free of charge$/m);
    expect(info.stdout).toMatch(/^ {2}Pricing batch: +Promo$/m);
    expect(info.stdout).toMatch(/^ {2}Location: +New York/m);
  });

  // A viewer cannot be simulated here: the console always acts as the operator's owner.
});
