// Starts one PostgreSQL for the whole run (embedded, or the server DATABASE_URL names), migrates a template
// database once, and hands its location to the test files, which clone it.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { connect } from '../../core/db/connect.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../core/db/embedded.ts';
import { migrateToLatest } from '../../core/db/migrate.ts';
import { freePort } from './ports.ts';

export const TEMPLATE = 'didops_test_template';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of a maintenance database on the test server: used to create and drop per-file databases. */
    pgAdminUrl: string;
    pgTemplate: string;
  }
}

export default async function setup(project: TestProject) {
  let embedded: EmbeddedDatabase | undefined;
  let dataRoot: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    dataRoot = mkdtempSync(path.join(tmpdir(), 'didops-test-'));
    // PostgreSQL runs as the `postgres` user when we are root: it must be able to reach its data directory.
    chmodSync(dataRoot, 0o755);
    embedded = await startEmbeddedPostgres({ dataDir: path.join(dataRoot, 'pg'), port: await freePort() });
    adminUrl = embedded.url;
  }

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${TEMPLATE}`);
  await admin.end();

  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${TEMPLATE}`;
  const db = connect(templateUrl.toString(), { max: 1 });
  await migrateToLatest(db);
  await db.destroy();

  project.provide('pgAdminUrl', adminUrl);
  project.provide('pgTemplate', TEMPLATE);

  return async () => {
    await embedded?.stop();
    if (dataRoot) rmSync(dataRoot, { recursive: true, force: true });
  };
}
