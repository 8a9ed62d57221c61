// `npm run bench`: the inventory benchmark of the 1,000,000-DID issue. Starts a throwaway embedded
// PostgreSQL (or uses BENCH_DATABASE_URL's server), creates and migrates a fresh database, sets up an
// operator, a customer and a small catalog, runs test/bench/inventory.ts, prints the results and writes
// test-results/bench-inventory.json and test-results/bench-inventory-plans.txt.
//
// Environment:
//   BENCH_DIDS=1000000          inventory size (100000 for a quick check)
//   BENCH_DATABASE_URL=...      use this server instead of an embedded one (a fresh database is created
//                               on it and dropped at the end; the COPY baseline needs the server to read
//                               this machine's temp files, so it is skipped on a remote server)
//   BENCH_ITERATIONS=300 BENCH_WARMUP=20 BENCH_DEEP_PAGES=200 BENCH_ASSIGN=10000 BENCH_SEED=20261122
//   BENCH_ROUTING_SECONDS=60 BENCH_ROUTING_CONNECTIONS=50 BENCH_ROUTING_DIDS=10000   the routing API part
//   BENCH_STOREFRONT_SECONDS=60 BENCH_STOREFRONT_DIDS=1000000 BENCH_STOREFRONT_CONNECTIONS=50   the catalog
//                               page under load next to a fixed-data render (BENCH_ONLY=storefront)
//   BENCH_RACE_BUYERS=200 BENCH_RACE_NUMBERS=20   buyers racing through the HTTP checkout (BENCH_ONLY=race)
//   BENCH_ADMIN_ITERATIONS=200 BENCH_ADMIN_CUSTOMER=20000   the back-office part (BENCH_ONLY=admin; it uses
//                               BENCH_DIDS, BENCH_SEED, BENCH_WARMUP and BENCH_ASSIGN too)
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createAccount, createOperatorAccount } from '../../core/accounts/accounts.ts';
import { operatorActor } from '../../core/accounts/users.ts';
import { createGroup, createPricingBatch, createProvider } from '../../core/catalog/catalog.ts';
import type { Ctx } from '../../core/context.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../core/db/embedded.ts';
import { migrateToLatest } from '../../core/db/migrate.ts';
import { systemClock } from '../../core/shared/clock.ts';
import { BENCH_CATALOG } from './generate.ts';
import { runInventoryBench, type InventoryBenchResult } from './inventory.ts';
import { renderAdminBench, runAdminBench } from './admin.ts';
import { renderSlackBench, runSlackBench } from './slack.ts';
import { RENEWAL_TARGET, renderRenewalBench, runRenewalBench } from './renewals.ts';
import { renderRoutingBench, runRoutingBench } from './routing.ts';
import { renderStorefrontBench, runStorefrontBench } from './storefront.ts';
import { renderRaceBench, runRaceBench } from './race.ts';
import { connect, fmtInt, fmtMs, fmtSeconds, freePort, now, table, positiveIntEnv } from './lib.ts';

const TARGETS = { importCopyRatio: 3, searchP95Ms: 20, searchP95Ratio: 1.5 } as const;

const started = now();
const env = process.env;
const settings = {
  count: positiveIntEnv('BENCH_DIDS', 1_000_000),
  iterations: positiveIntEnv('BENCH_ITERATIONS', 300),
  warmup: positiveIntEnv('BENCH_WARMUP', 20),
  deepPages: positiveIntEnv('BENCH_DEEP_PAGES', 200),
  assignCount: positiveIntEnv('BENCH_ASSIGN', 10_000),
  seed: positiveIntEnv('BENCH_SEED', 20261122),
};

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const resultsDir = path.join(repoRoot, 'test-results');
const log = (line: string) => console.log(line);
const elapsed = () => fmtSeconds(now() - started);

// PostgreSQL runs as the `postgres` user when we are root: it must reach the data directory and the CSVs.
const workDir = mkdtempSync(path.join(tmpdir(), 'didops-bench-'));
chmodSync(workDir, 0o755);

let embedded: EmbeddedDatabase | undefined;
let dropExternal: (() => Promise<void>) | undefined;
let cleanedUp = false;
async function cleanup(): Promise<void> {
  if (cleanedUp) return;
  cleanedUp = true;
  try {
    await dropExternal?.();
  } catch (error) {
    console.error(`could not drop the bench database: ${(error as Error).message}`);
  }
  try {
    await embedded?.stop();
  } catch (error) {
    console.error(`could not stop the embedded server: ${(error as Error).message}`);
  }
  rmSync(workDir, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the bench server and removing ${workDir}`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function serverSettings(url: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const names = [
      'server_version',
      'shared_buffers',
      'work_mem',
      'maintenance_work_mem',
      'effective_cache_size',
      'max_wal_size',
      'synchronous_commit',
      'fsync',
      'jit',
    ];
    const { rows } = await client.query<{ name: string; setting: string }>(
      `SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1)`,
      [names],
    );
    return Object.fromEntries(names.map((n) => [n, rows.find((r) => r.name === n)?.setting ?? '?']));
  } finally {
    await client.end();
  }
}

async function main(): Promise<number> {
  log(
    `didops inventory benchmark: ${fmtInt(settings.count)} DIDs, ${settings.warmup} warm-up + ${settings.iterations} timed searches per query`,
  );
  let url: string;
  const external = env.BENCH_DATABASE_URL;
  if (external) {
    const name = `didops_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: external });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    await admin.end();
    dropExternal = async () => {
      const c = new pg.Client({ connectionString: external });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      await c.end();
    };
    const u = new URL(external);
    u.pathname = `/${name}`;
    url = u.toString();
    log(`Server: BENCH_DATABASE_URL (${u.host}), database ${name}`);
  } else {
    const port = await freePort();
    log(`Server: embedded PostgreSQL in ${workDir} on port ${port} ...`);
    embedded = await startEmbeddedPostgres({ dataDir: path.join(workDir, 'pg'), port, log });
    // A million-row load on the default 1 GB max_wal_size measures forced checkpoints, not the loader.
    const admin = new pg.Client({ connectionString: embedded.url });
    await admin.connect();
    await admin.query(`ALTER SYSTEM SET max_wal_size = '8GB'`);
    await admin.query('SELECT pg_reload_conf()');
    await admin.end();
    await embedded.ensureDatabase('didops_bench');
    url = embedded.urlFor('didops_bench');
  }
  const server = await serverSettings(url);
  log(
    `  PostgreSQL ${server.server_version}; ${Object.entries(server)
      .filter(([k]) => k !== 'server_version')
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
  );

  const db = connect(url, { max: 10, applicationName: 'didops-bench' });
  try {
    const migrated = await migrateToLatest(db);
    log(`  migrated: ${migrated.applied.join(', ')}`);
    await createOperatorAccount(db, { slug: 'bench-operator', name: 'Bench Operator' });
    const actor = await operatorActor(db, 'cli', 'bench');
    const ctx: Ctx = { db, actor, clock: systemClock, settings: { didAgingDays: 30 } };
    const customer = await createAccount(ctx, {
      kind: 'customer',
      slug: 'bench-customer',
      name: 'Bench Customer',
    });
    for (const name of BENCH_CATALOG.providers) await createProvider(ctx, { name });
    for (const name of BENCH_CATALOG.groups) await createGroup(ctx, { name });
    for (const b of BENCH_CATALOG.pricingBatches) {
      await createPricingBatch(ctx, {
        name: b.name,
        currency: b.currency,
        setupFee: b.setupFee,
        recurringFee: b.recurringFee,
      });
    }

    const { result, plans } = await runInventoryBench({
      url,
      db,
      ctx,
      customer,
      workDir,
      ...settings,
      log,
    });

    const wallMs = now() - started;
    const { text, summary, correct } = render(result, wallMs);
    log('');
    log(text);

    mkdirSync(resultsDir, { recursive: true });
    const jsonFile = path.join(resultsDir, 'bench-inventory.json');
    const plansFile = path.join(resultsDir, 'bench-inventory-plans.txt');
    writeFileSync(
      jsonFile,
      JSON.stringify(
        {
          when: new Date().toISOString(),
          settings,
          machine: {
            node: process.version,
            cpus: cpus().length,
            cpuModel: cpus()[0]?.model,
            memoryGiB: Math.round(totalmem() / 2 ** 30),
          },
          server: { ...server, embedded: !external },
          wallMs,
          summary,
          result,
        },
        null,
        2,
      ) + '\n',
    );
    writeFileSync(
      plansFile,
      `# EXPLAIN (ANALYZE, BUFFERS) of the benchmarked queries, ${fmtInt(settings.count)} DIDs, PostgreSQL ${server.server_version}\n` +
        `# (run once each after the timed iterations, so the cache is warm)\n\n${plans}`,
    );
    log(`\nWrote ${path.relative(repoRoot, jsonFile)} and ${path.relative(repoRoot, plansFile)}`);
    log(`Total wall time: ${elapsed()}`);
    return correct ? 0 : 1;
  } finally {
    await db.destroy();
  }
}

interface SummaryRow {
  readonly metric: string;
  readonly value: string;
  readonly target: string;
  readonly pass: boolean | null;
}

function render(
  r: InventoryBenchResult,
  wallMs: number,
): { text: string; summary: SummaryRow[]; correct: boolean } {
  const out: string[] = [];
  const verdict = (pass: boolean | null) => (pass === null ? '—' : pass ? 'PASS' : 'FAIL');

  out.push(`== Import (${fmtInt(settings.count)} rows; order: ${r.order})`);
  const importRows: string[][] = [];
  if ('ms' in r.copy) {
    importRows.push([
      'PostgreSQL COPY (server-side, pre-normalized CSV)',
      fmtInt(r.copy.rows),
      fmtSeconds(r.copy.ms),
      fmtInt(r.copy.rowsPerSecond),
    ]);
  } else {
    importRows.push(['PostgreSQL COPY', '—', r.copy.skipped, '—']);
  }
  importRows.push([
    'importDidsCsv (parse + validate + insert + audit)',
    fmtInt(r.import.rows),
    fmtSeconds(r.import.ms),
    fmtInt(r.import.rowsPerSecond),
  ]);
  out.push(table(['method', 'rows', 'time', 'rows/s'], importRows));
  out.push('');
  out.push(`importDidsCsv breakdown (time inside SQL statements, as Kysely measures round trips):`);
  const stmtRows = Object.entries(r.import.statements)
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([label, t]) => [
      label,
      fmtInt(t.count),
      fmtSeconds(t.ms),
      `${((t.ms / r.import.ms) * 100).toFixed(0)}%`,
    ]);
  stmtRows.push([
    '(outside SQL: CSV parsing, validation, row building)',
    '',
    fmtSeconds(r.import.ms - r.import.sqlMs),
    `${(((r.import.ms - r.import.sqlMs) / r.import.ms) * 100).toFixed(0)}%`,
  ]);
  out.push(table(['statement', 'count', 'time', 'share'], stmtRows));
  out.push(
    `import report: ${fmtInt(r.import.report.imported)} imported, ${r.import.report.existing} existing, ${r.import.report.errors} errors; ` +
      `${fmtInt(r.import.auditRows)} did.import audit rows; same rows as COPY: ${r.import.sameRowsAsCopy ?? 'n/a'}`,
  );
  out.push(
    `dids after import: heap ${r.tableSize.heap}, indexes ${r.tableSize.indexes}, total ${r.tableSize.total}; VACUUM (ANALYZE) dids took ${fmtSeconds(r.vacuumAnalyzeMs)} (before the searches)`,
  );
  out.push(
    `generated CSV: ${(r.generate.bytes / 1e6).toFixed(1)} MB in ${fmtSeconds(r.generate.ms)}; normalizing for COPY took ${fmtSeconds(r.generate.normalizeMs)} (untimed)`,
  );
  out.push('');

  out.push(`== Search (limit 50; ${settings.warmup} warm-up + ${settings.iterations} timed each; ms)`);
  out.push(
    table(
      [
        'query',
        'rows',
        'svc p50',
        'svc p95',
        'svc p99',
        'raw p50',
        'raw p95',
        'raw p99',
        'p95 ratio',
        'plan',
        'exec',
        'queries/call',
        'same SQL',
      ],
      r.searches.map((s) => [
        s.label,
        String(s.rows),
        fmtMs(s.service.p50),
        fmtMs(s.service.p95),
        fmtMs(s.service.p99),
        fmtMs(s.raw.p50),
        fmtMs(s.raw.p95),
        fmtMs(s.raw.p99),
        `${s.p95Ratio.toFixed(2)}x`,
        fmtMs(s.planningMs),
        fmtMs(s.executionMs),
        String(s.serviceQueries),
        s.sameSql ? 'yes' : 'NO',
      ]),
    ),
  );
  out.push(
    'svc = searchDids(ctx, filter, {limit: 50}) on the service pool (resolveFilter + Kysely + row mapping); raw = the identical compiled SQL and parameters on a plain pg.Pool.\n' +
      'plan / exec = server-side planning and execution time of that SQL (median of 7 EXPLAIN ANALYZE runs, warm cache); both svc and raw pay the planning on every call (unnamed statements).',
  );
  out.push(
    `resolveFilter alone (mean): ${r.searches.map((s) => `${s.key} ${(s.resolveFilterMs * 1000).toFixed(1)} µs`).join(', ')} — no database lookups for these filters as the operator.`,
  );
  out.push('');

  const a = r.assign;
  out.push(
    `== Bulk assign: assignMany(ctx, 'bench-customer', { mode: 'first', count: ${fmtInt(a.requested)}, filter: { pattern: '1212' } })`,
  );
  out.push(
    `${fmtInt(a.assigned)} assigned in ${fmtSeconds(a.ms)} (${fmtInt((a.assigned / a.ms) * 1000)} numbers/s); in the database: ${fmtInt(a.dbAssigned)} assigned to the customer, ` +
      `${fmtInt(a.auditRows)} did.assign audit rows; the lowest ${fmtInt(a.assigned)} +1212 numbers: ${a.firstN}; lock SQL as benchmarked in the plan file: ${a.lockSqlMatches}`,
  );
  out.push(
    table(
      ['statement', 'count', 'time'],
      Object.entries(a.statements)
        .sort((x, y) => y[1].ms - x[1].ms)
        .map(([label, t]) => [label, fmtInt(t.count), `${fmtMs(t.ms)} ms`]),
    ),
  );
  out.push('');

  const summary: SummaryRow[] = [];
  if (r.importCopyRatio !== null && 'ms' in r.copy) {
    summary.push({
      metric: 'import time / COPY time',
      value: `${r.importCopyRatio.toFixed(2)}x (${fmtSeconds(r.import.ms)} vs ${fmtSeconds(r.copy.ms)})`,
      target: `≤ ${TARGETS.importCopyRatio}x`,
      pass: r.importCopyRatio <= TARGETS.importCopyRatio,
    });
  } else {
    summary.push({
      metric: 'import time / COPY time',
      value: `import ${fmtSeconds(r.import.ms)}, COPY skipped`,
      target: `≤ ${TARGETS.importCopyRatio}x`,
      pass: null,
    });
  }
  summary.push({
    metric: 'import throughput',
    value: `${fmtInt(r.import.rowsPerSecond)} rows/s`,
    target: '—',
    pass: null,
  });
  summary.push({
    metric: 'import: all rows in, same rows as COPY',
    value: `${fmtInt(r.import.rows)}/${fmtInt(settings.count)}, ${r.import.report.errors} errors, same=${r.import.sameRowsAsCopy ?? 'n/a'}`,
    target: 'all, same',
    pass:
      r.import.rows === settings.count && r.import.report.errors === 0 && r.import.sameRowsAsCopy !== false,
  });
  for (const s of r.searches) {
    summary.push({
      metric: `${s.key}: searchDids p95`,
      value: `${fmtMs(s.service.p95)} ms`,
      target: `< ${TARGETS.searchP95Ms} ms`,
      pass: s.service.p95 < TARGETS.searchP95Ms,
    });
    summary.push({
      metric: `${s.key}: p95 searchDids / raw SQL`,
      value: `${s.p95Ratio.toFixed(2)}x (${fmtMs(s.service.p95)} vs ${fmtMs(s.raw.p95)} ms)`,
      target: `≤ ${TARGETS.searchP95Ratio}x`,
      pass: s.p95Ratio <= TARGETS.searchP95Ratio,
    });
  }
  summary.push({
    metric: `bulk assign first ${fmtInt(a.requested)}`,
    value: fmtSeconds(a.ms),
    target: '— (measured)',
    pass: null,
  });
  summary.push({
    metric: 'bulk assign verified',
    value: `${fmtInt(a.dbAssigned)} assigned, ${fmtInt(a.auditRows)} audit rows`,
    target: `${fmtInt(a.requested)} + ${fmtInt(a.requested)}`,
    pass:
      a.assigned === a.requested &&
      a.dbAssigned === a.requested &&
      a.auditRows === a.requested &&
      a.firstN &&
      a.allMatchFilter,
  });
  summary.push({
    metric: 'whole run (wall clock)',
    value: fmtSeconds(wallMs),
    target: '~15 min',
    pass: null,
  });

  out.push('== Summary');
  out.push(
    table(
      ['metric', 'value', 'target', 'result'],
      summary.map((s) => [s.metric, s.value, s.target, verdict(s.pass)]),
    ),
  );
  const correct =
    r.import.rows === settings.count &&
    r.import.sameRowsAsCopy !== false &&
    r.searches.every((s) => s.sameSql) &&
    a.dbAssigned === a.requested &&
    a.auditRows === a.requested;
  return { text: out.join('\n'), summary, correct };
}

/** The back office: inventory page latency over HTTP, and a 10,000-number bulk assign through the queue. */
async function adminBench(): Promise<number> {
  console.log('\n== Back office: GET /admin/inventory p50/p99, and a bulk assign through the job queue');
  const result = await runAdminBench({
    count: settings.count,
    seed: settings.seed,
    warmup: settings.warmup,
    iterations: positiveIntEnv('BENCH_ADMIN_ITERATIONS', 200),
    assignCount: settings.assignCount,
    customerNumbers: positiveIntEnv(
      'BENCH_ADMIN_CUSTOMER',
      Math.min(20_000, Math.floor(settings.count / 20)),
    ),
    databaseUrl: env.BENCH_DATABASE_URL,
    log: (line) => console.log(`  ${line}`),
  });
  console.log(renderAdminBench(result));
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path.join(resultsDir, 'bench-admin.json'), JSON.stringify(result, null, 2));
  const { planned, changed, auditRows } = result.bulk;
  return changed === planned && auditRows === changed ? 0 : 1;
}

/** The Slack front door: signed `/did info` requests to acknowledgement and to the final answer. */
async function slackBench(): Promise<number> {
  console.log('\n== Slack: signed /did info, time to ack and to respond');
  const result = await runSlackBench({ log: (line) => console.log(`  ${line}`) });
  console.log(renderSlackBench(result));
  mkdirSync(path.join(repoRoot, 'test-results'), { recursive: true });
  writeFileSync(path.join(repoRoot, 'test-results', 'bench-slack.json'), JSON.stringify(result, null, 2));
  return result.failures === 0 ? 0 : 1;
}

/** The routing API: lookups per second and p99 under 50 connections, next to a bare express endpoint. */
async function routingBench(): Promise<number> {
  console.log('\n== Routing API: GET /api/v1/routing/<number>, 50 concurrent connections');
  const result = await runRoutingBench({
    seconds: positiveIntEnv('BENCH_ROUTING_SECONDS', 60),
    connections: positiveIntEnv('BENCH_ROUTING_CONNECTIONS', 50),
    dids: positiveIntEnv('BENCH_ROUTING_DIDS', 10_000),
    databaseUrl: env.BENCH_DATABASE_URL,
    log: (line) => console.log(`  ${line}`),
  });
  console.log(renderRoutingBench(result));
  mkdirSync(path.join(repoRoot, 'test-results'), { recursive: true });
  writeFileSync(path.join(repoRoot, 'test-results', 'bench-routing.json'), JSON.stringify(result, null, 2));
  return result.target.pass ? 0 : 1;
}

/** The storefront catalog: GET /numbers?... under 50 connections, next to the same page from fixed data. */
async function storefrontBench(): Promise<number> {
  console.log('\n== Storefront: GET /numbers?... (rotating searches), 50 concurrent connections');
  const result = await runStorefrontBench({
    seconds: positiveIntEnv('BENCH_STOREFRONT_SECONDS', 60),
    connections: positiveIntEnv('BENCH_STOREFRONT_CONNECTIONS', 50),
    dids: positiveIntEnv('BENCH_STOREFRONT_DIDS', 1_000_000),
    databaseUrl: env.BENCH_DATABASE_URL,
    log: (line) => console.log(`  ${line}`),
  });
  console.log(renderStorefrontBench(result));
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path.join(resultsDir, 'bench-storefront.json'), JSON.stringify(result, null, 2));
  return result.target.pass ? 0 : 1;
}

/** Buyers racing for a few numbers through the real HTTP checkout, paid through the Stripe webhook. */
async function raceBench(): Promise<number> {
  console.log('\n== Checkout race: buyers placing orders for the same numbers at once');
  const result = await runRaceBench({
    buyers: positiveIntEnv('BENCH_RACE_BUYERS', 200),
    numbers: positiveIntEnv('BENCH_RACE_NUMBERS', 20),
    seed: settings.seed,
    databaseUrl: env.BENCH_DATABASE_URL,
    log: (line) => console.log(`  ${line}`),
  });
  console.log(renderRaceBench(result));
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path.join(resultsDir, 'bench-race.json'), JSON.stringify(result, null, 2));
  return result.pass ? 0 : 1;
}

/** Billing: 100,000 due renewals through the queue with one and four worker processes, next to raw SQL. */
async function renewalBench(): Promise<number> {
  console.log('\n== Renewals: due subscriptions renewed through the job queue against a local fake Stripe');
  const result = await runRenewalBench({
    subscriptions: positiveIntEnv('BENCH_RENEWALS', RENEWAL_TARGET.renewals),
    workerCounts: (env.BENCH_RENEWAL_WORKERS ?? '1,4').split(',').map(Number),
    databaseUrl: env.BENCH_DATABASE_URL,
    redisUrl: env.REDIS_URL,
    log: (line) => console.log(`  ${line}`),
  });
  console.log(renderRenewalBench(result));
  mkdirSync(path.join(repoRoot, 'test-results'), { recursive: true });
  writeFileSync(path.join(repoRoot, 'test-results', 'bench-renewals.json'), JSON.stringify(result, null, 2));
  return result.target.pass ? 0 : 1;
}

// BENCH_ONLY=inventory, slack, routing, storefront, race, admin or renewals runs one part; by default all run.
const only = env.BENCH_ONLY;
const runs = (part: string) => !only || only === part;
let code = 1;
try {
  code = runs('inventory') ? await main() : 0;
  if (runs('slack')) code = Math.max(code, await slackBench());
  if (runs('routing')) code = Math.max(code, await routingBench());
  if (runs('storefront')) code = Math.max(code, await storefrontBench());
  if (runs('race')) code = Math.max(code, await raceBench());
  if (runs('admin')) code = Math.max(code, await adminBench());
  if (runs('renewals')) code = Math.max(code, await renewalBench());
} catch (error) {
  console.error(error);
} finally {
  await cleanup();
}
process.exit(code);
