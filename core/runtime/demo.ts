// Demo data for a newcomer's first `npm start` (DESIGN §2) and for `npm run seed`: loads it into an empty
// database and prints the log-ins once. Passwords are generated per load and only their hashes are
// stored, so this box is the only place they ever appear.
import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import { loadDemoData, type DemoSummary } from '../demo/demo-data.ts';
import type { Logger } from './logger.ts';

// Any constant works; it only has to be the same in every process that may load demo data.
const DEMO_LOAD_LOCK = 7_221_322_001;

export async function countAccounts(db: Db): Promise<number> {
  const row = await db
    .selectFrom('accounts')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface DemoLoadOptions {
  /** Where the credentials box goes; stdout by default. */
  readonly print?: (text: string) => void;
}

/**
 * Loads the demo data when the database has no account yet and prints the log-ins; otherwise does nothing
 * and returns null. An advisory lock keeps two processes starting at once from both loading it.
 */
export async function loadDemoDataIfEmpty(
  db: Db,
  log: Logger,
  options: DemoLoadOptions = {},
): Promise<DemoSummary | null> {
  const summary = await db.connection().execute(async (conn) => {
    await sql`SELECT pg_advisory_lock(${DEMO_LOAD_LOCK})`.execute(conn);
    try {
      if ((await countAccounts(conn)) > 0) return null;
      const started = Date.now();
      const loaded = await loadDemoData(conn);
      log.info(
        { accounts: loaded.accounts, dids: loaded.dids, ms: Date.now() - started },
        'Loaded the demo data',
      );
      return loaded;
    } finally {
      await sql`SELECT pg_advisory_unlock(${DEMO_LOAD_LOCK})`.execute(conn);
    }
  });
  if (summary) printCredentials(summary, options.print);
  return summary;
}

export function printCredentials(
  summary: DemoSummary,
  print: (text: string) => void = (t) => process.stdout.write(t),
): void {
  print(formatCredentials(summary));
}

/** The box shown after a demo load: who can sign in with what, and a first command to try. */
export function formatCredentials(summary: DemoSummary): string {
  const table = [
    ['email', 'password', 'account', 'role'],
    ...summary.credentials.map((c) => [c.email, c.password, c.account, c.role]),
  ];
  const widths = table[0]!.map((_, col) => Math.max(...table.map((row) => row[col]!.length)));
  const tableLines = table.map((row) =>
    row
      .map((cell, col) => cell.padEnd(widths[col]!))
      .join('   ')
      .trimEnd(),
  );
  const lines = [
    `didops demo data loaded: ${summary.accounts} accounts, ${summary.dids.toLocaleString('en-US')} numbers.`,
    '',
    'Demo log-ins (shown only now; only password hashes are stored):',
    '',
    ...tableLines.map((line) => `  ${line}`),
    '',
    'Try the staff console:',
    '  npm run did -- assign 18665550100 acme',
  ];
  const width = Math.max(...lines.map((line) => line.length));
  const rule = '─'.repeat(width + 2);
  return ['', `┌${rule}┐`, ...lines.map((line) => `│ ${line.padEnd(width)} │`), `└${rule}┘`, '', ''].join(
    '\n',
  );
}
