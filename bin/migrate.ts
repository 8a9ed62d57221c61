// `npm run migrate`: brings the database (DATABASE_URL's, or the embedded one) to the latest schema and
// says what it did. `npm start` migrates too; this is for deployments that migrate as a separate step.
import { configOrExit, explain } from '../core/runtime/cli.ts';
import { openDatabase } from '../core/runtime/database.ts';
import { createLogger } from '../core/runtime/logger.ts';

const config = configOrExit();
// stdout carries the result; log lines go to stderr.
const log = createLogger({ level: config.logLevel, write: (line) => process.stderr.write(line + '\n') });

try {
  const database = await openDatabase(config, log, { applicationName: 'didops-migrate', maxConnections: 2 });
  const { migrations } = database;
  if (migrations.length === 0) {
    process.stdout.write('Database is up to date.\n');
  } else {
    process.stdout.write(`Applied ${migrations.length} migration${migrations.length === 1 ? '' : 's'}:\n`);
    for (const name of migrations) process.stdout.write(`  ${name}\n`);
  }
  await database.close();
  process.exit(0);
} catch (error) {
  process.stderr.write(`Migration failed: ${explain(error)}\n`);
  process.exit(1);
}
