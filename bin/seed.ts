// `npm run seed [-- --force]`: loads the demo data into the database DATABASE_URL names (or the embedded
// one) and prints the demo log-ins. Refuses a database that already holds accounts unless told --force.
import { configOrExit, explain } from '../core/runtime/cli.ts';
import { openDatabase, type OpenedDatabase } from '../core/runtime/database.ts';
import { countAccounts, printCredentials } from '../core/runtime/demo.ts';
import { createLogger } from '../core/runtime/logger.ts';
import { loadDemoData } from '../core/demo/demo-data.ts';

const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== '--force');
if (unknown.length > 0) {
  process.stderr.write(`Usage: npm run seed [-- --force]\nUnknown arguments: ${unknown.join(' ')}\n`);
  process.exit(1);
}
const force = args.includes('--force');

const config = configOrExit();
// stdout carries the result (the log-ins); log lines go to stderr.
const log = createLogger({ level: config.logLevel, write: (line) => process.stderr.write(line + '\n') });

let database: OpenedDatabase;
try {
  database = await openDatabase(config, log, { applicationName: 'didops-seed', maxConnections: 2 });
} catch (error) {
  process.stderr.write(`Cannot open the database: ${explain(error)}\n`);
  process.exit(1);
}

let code = 0;
try {
  const accounts = await countAccounts(database.db);
  if (accounts > 0 && !force) {
    process.stderr.write(
      `This database already holds data (${accounts} account${accounts === 1 ? '' : 's'}). ` +
        'Re-run with --force to load the demo data anyway; existing rows with the same slugs or numbers make it fail.\n',
    );
    code = 1;
  } else {
    const summary = await loadDemoData(database.db);
    printCredentials(summary);
  }
} catch (error) {
  // loadDemoData writes in one transaction: a failure leaves the database as it was.
  process.stderr.write(
    `Loading the demo data failed, nothing was written: ${explain(error)}\n` +
      (force ? 'The database probably already holds rows with the demo slugs, emails or numbers.\n' : ''),
  );
  code = 1;
}
await database.close().catch(() => {});
process.exit(code);
