// The inventory benchmark (issue: 1,000,000 DIDs): CSV import against a server-side COPY of the same rows,
// search latency through searchDids next to the same SQL sent raw, a deep keyset page, and first-N bulk
// assign of 10,000 numbers. Run through run.ts, which owns the server, the database and the report.
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { parse } from 'csv-parse';
import pg from 'pg';
import { sql } from 'kysely';
import type { Account } from '../../core/db/schema.ts';
import type { Ctx } from '../../core/context.ts';
import { isOperatorStaff } from '../../core/accounts/actor.ts';
import { assignMany } from '../../core/inventory/assignment.ts';
import { loadCatalogIndex } from '../../core/inventory/catalog-index.ts';
import {
  fieldForHeader,
  validateDidFields,
  type DidField,
  type DidFieldValues,
} from '../../core/inventory/did-fields.ts';
import { importDidsCsv, type ImportReport } from '../../core/inventory/import-csv.ts';
import {
  filterExpression,
  resolveFilter,
  searchDids,
  searchQuery,
  type DidFilter,
  type ResolvedFilter,
} from '../../core/inventory/search-dids.ts';
import { BIG_CITY, writeInventoryCsv, type GenerateSummary } from './generate.ts';
import {
  fmtInt,
  fmtMs,
  fmtSeconds,
  now,
  percentiles,
  recordingDb,
  timed,
  type Db,
  type Percentiles,
  type StatementTotals,
} from './lib.ts';

export interface InventoryBenchOptions {
  /** The benchmark database. */
  readonly url: string;
  /** The service's handle (core/db/connect.ts), the operator's context on it, and the customer to assign to. */
  readonly db: Db;
  readonly ctx: Ctx;
  readonly customer: Account;
  /** A directory the PostgreSQL server can read (server-side COPY reads the file there). */
  readonly workDir: string;
  readonly count: number;
  readonly seed: number;
  readonly warmup: number;
  readonly iterations: number;
  readonly deepPages: number;
  readonly assignCount: number;
  readonly log: (line: string) => void;
}

export interface SearchResult {
  readonly key: string;
  readonly label: string;
  readonly filter: DidFilter;
  /** Rows the SQL returns per call (limit + 1, fewer on the last page). */
  readonly rows: number;
  /** Pages followed before the measured one (deep-page case). */
  readonly depth: number;
  readonly service: Percentiles;
  readonly raw: Percentiles;
  readonly p95Ratio: number;
  /** Database round trips searchDids makes per call (resolveFilter lookups included). */
  readonly serviceQueries: number;
  /** The SQL searchDids sent is byte-for-byte the SQL benchmarked raw (and the same parameters). */
  readonly sameSql: boolean;
  /** resolveFilter alone, mean over repeated calls, in ms (part of the service time). */
  readonly resolveFilterMs: number;
  /** Server-side planning and execution of the query (median of 7 EXPLAIN ANALYZE runs after the timing). */
  readonly planningMs: number;
  readonly executionMs: number;
  readonly sql: string;
  readonly parameters: readonly unknown[];
}

export interface InventoryBenchResult {
  readonly generate: GenerateSummary & { readonly ms: number; readonly normalizeMs: number };
  readonly order: string;
  readonly copy:
    | { readonly ms: number; readonly rows: number; readonly rowsPerSecond: number }
    | { readonly skipped: string };
  readonly import: {
    readonly ms: number;
    readonly rows: number;
    readonly rowsPerSecond: number;
    readonly report: Omit<ImportReport, 'rowErrors'> & { readonly firstErrors: ImportReport['rowErrors'] };
    readonly statements: StatementTotals;
    readonly sqlMs: number;
    readonly auditRows: number;
    readonly sameRowsAsCopy: boolean | null;
  };
  readonly importCopyRatio: number | null;
  readonly vacuumAnalyzeMs: number;
  readonly tableSize: { readonly heap: string; readonly indexes: string; readonly total: string };
  readonly searches: readonly SearchResult[];
  readonly assign: {
    readonly ms: number;
    readonly requested: number;
    readonly assigned: number;
    readonly skipped: number;
    readonly dbAssigned: number;
    readonly auditRows: number;
    readonly firstN: boolean;
    readonly allMatchFilter: boolean;
    readonly statements: StatementTotals;
    readonly lockSqlMatches: boolean;
  };
}

const COPY_COLUMNS = [
  'number',
  'country',
  'area_code',
  'number_type',
  'city',
  'province',
  'provider_id',
  'group_id',
  'pricing_batch_id',
  'setup_fee',
  'recurring_fee',
  'currency',
  'capabilities',
  'description',
] as const;

/** Every column the importer sets, as one text per row: equal sums mean the same rows, whichever way loaded. */
const ROW_FINGERPRINT = sql.raw(`
  SELECT count(*)::int AS rows,
         coalesce(sum(hashtextextended(row(number, country, area_code, number_type, city, province, provider_id,
           vendor_batch_id, group_id, pricing_batch_id, activation_cost, recurring_cost, setup_fee, recurring_fee,
           currency, billing_type, billing_period, billing_days, connection_cost_micros, per_minute_rate_micros,
           grace_seconds, initial_increment, increment, call_timeout_seconds, max_concurrent_calls, capabilities,
           description, status, destination_type, destination)::text, 0)), 0)::text AS sum
  FROM dids`);

async function fingerprint(db: Db): Promise<string> {
  const { rows } = await ROW_FINGERPRINT.execute(db);
  const row = rows[0] as { rows: number; sum: string };
  return `${row.rows}:${row.sum}`;
}

/** CSV cell for COPY: unquoted empty is NULL, so every string is quoted (an empty city stays ''). */
function copyCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  return `"${value.replace(/"/g, '""')}"`;
}

/**
 * Reads the carrier CSV exactly as importDidsCsv does (same csv-parse options, same header mapping, same
 * validateDidFields against the same catalog) and writes the resulting rows as a COPY-ready CSV.
 */
async function writeCopyCsv(ctx: Ctx, rawFile: string, copyFile: string): Promise<number> {
  const catalog = await loadCatalogIndex(ctx.db, ctx.actor);
  const parser = parse({ bom: true, skip_empty_lines: true, relax_column_count: true, trim: true });
  createReadStream(rawFile).pipe(parser);
  const out = createWriteStream(copyFile, { mode: 0o644 });
  let columns: (DidField | null)[] | undefined;
  let rows = 0;
  let buffer: string[] = [COPY_COLUMNS.join(',')];
  const flush = async () => {
    if (!out.write(buffer.join('\n') + '\n')) await once(out, 'drain');
    buffer = [];
  };
  for await (const record of parser as AsyncIterable<string[]>) {
    if (!columns) {
      columns = record.map(fieldForHeader);
      continue;
    }
    const values: DidFieldValues = {};
    record.forEach((cell, i) => {
      const field = columns![i];
      if (field) values[field] = cell;
    });
    const row = validateDidFields(values, catalog);
    buffer.push(
      [
        row.number,
        row.country,
        row.area_code,
        row.number_type,
        row.city,
        row.province,
        row.provider_id,
        row.group_id,
        row.pricing_batch_id,
        row.setup_fee,
        row.recurring_fee,
        row.currency,
        `{${(row.capabilities ?? ['voice']).join(',')}}`,
        row.description,
      ]
        .map(copyCell)
        .join(','),
    );
    rows++;
    if (buffer.length >= 10_000) await flush();
  }
  await flush();
  out.end();
  await once(out, 'close');
  return rows;
}

async function truncateInventory(client: pg.ClientBase): Promise<void> {
  await client.query('TRUNCATE dids, audit_events RESTART IDENTITY CASCADE');
}

/** Flushes dirty pages so a timed load does not pay for the previous step's checkpoint. */
async function checkpoint(client: pg.ClientBase): Promise<void> {
  try {
    await client.query('CHECKPOINT');
  } catch {
    // Needs superuser or pg_checkpoint on a shared server: then the load simply starts without it.
  }
}

/** The lock query assignMany's first-N mode runs (lockCandidates + eligibleExpression, operator actor). */
function firstNLockQuery(db: Db, ctx: Ctx, filter: ResolvedFilter, target: Account, count: number) {
  const ancestors = target.path
    .split('/')
    .filter(Boolean)
    .map(Number)
    .filter((id) => id !== target.id);
  if (!isOperatorStaff(ctx.actor)) throw new Error('the bench assigns as the operator');
  return db
    .selectFrom('dids')
    .select('dids.id')
    .orderBy('dids.number')
    .forUpdate()
    .where((eb) => filterExpression(eb, filter))
    .where((eb) =>
      eb.or([
        eb('dids.status', '=', 'available'),
        eb.and([
          eb('dids.status', '=', 'assigned'),
          eb('dids.assigned_account_id', 'is', null),
          eb('dids.owner_account_id', 'in', ancestors.length ? ancestors : [-1]),
        ]),
      ]),
    )
    .limit(count)
    .skipLocked();
}

interface Explained {
  readonly text: string;
  /** Medians over the runs: server-side planning and execution, as EXPLAIN ANALYZE reports them. */
  readonly planningMs: number;
  readonly executionMs: number;
}

/** EXPLAIN (ANALYZE, BUFFERS) `runs` times; keeps the last plan and the median planning and execution times. */
async function explain(
  client: pg.ClientBase,
  title: string,
  text: string,
  parameters: readonly unknown[],
  runs = 1,
): Promise<Explained> {
  const planning: number[] = [];
  const execution: number[] = [];
  let lines: string[] = [];
  for (let i = 0; i < runs; i++) {
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, [
      ...parameters,
    ]);
    lines = rows.map((r) => r['QUERY PLAN']);
    const all = lines.join('\n');
    planning.push(Number(/Planning Time: ([\d.]+) ms/.exec(all)?.[1] ?? NaN));
    execution.push(Number(/Execution Time: ([\d.]+) ms/.exec(all)?.[1] ?? NaN));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const shownParams = JSON.stringify(parameters, (_k, v: unknown) =>
    Array.isArray(v) && v.length > 20 ? `[${v.length} values]` : v,
  );
  const summary =
    runs > 1
      ? `(last of ${runs} runs; median planning ${median(planning).toFixed(3)} ms, median execution ${median(execution).toFixed(3)} ms)`
      : '';
  return {
    text: [`=== ${title}`, '', text, '', `parameters: ${shownParams}`, summary, '', ...lines, '', ''].join(
      '\n',
    ),
    planningMs: median(planning),
    executionMs: median(execution),
  };
}

export async function runInventoryBench(
  o: InventoryBenchOptions,
): Promise<{ result: InventoryBenchResult; plans: string }> {
  const { ctx, db, log } = o;
  const plans: string[] = [];
  const admin = new pg.Client({ connectionString: o.url, application_name: 'didops-bench-admin' });
  await admin.connect();
  const recording = recordingDb(o.url);
  const rctx: Ctx = { ...ctx, db: recording.db };
  const rawPool = new pg.Pool({ connectionString: o.url, max: 10, application_name: 'didops-bench-raw' });
  rawPool.on('error', () => {});

  try {
    // 1. Data --------------------------------------------------------------------------------------------
    const rawFile = path.join(o.workDir, 'dids.csv');
    const copyFile = path.join(o.workDir, 'dids-copy.csv');
    log(`Generating ${fmtInt(o.count)} numbers (seed ${o.seed}) ...`);
    const gen = await timed(() => writeInventoryCsv(rawFile, o.count, o.seed));
    log(
      `  ${fmtInt(gen.result.rows)} rows, ${(gen.result.bytes / 1e6).toFixed(1)} MB in ${fmtSeconds(gen.ms)}; ` +
        `${gen.result.vanityMatches} match 1800%VOIP, ${fmtInt(gen.result.prefix1212)} start +1212, ` +
        `${fmtInt(gen.result.byCity[BIG_CITY] ?? 0)} in ${BIG_CITY}`,
    );
    log('Normalizing the same rows for COPY (importer parsing + validateDidFields) ...');
    const norm = await timed(() => writeCopyCsv(ctx, rawFile, copyFile));
    log(`  ${fmtInt(norm.result)} rows in ${fmtSeconds(norm.ms)}`);

    // 2. COPY baseline, on the empty table with every index -----------------------------------------------
    const order =
      'COPY first, then TRUNCATE and importDidsCsv; both load into an empty dids table with all its indexes (after a CHECKPOINT)';
    await truncateInventory(admin);
    await checkpoint(admin);
    let copy: InventoryBenchResult['copy'];
    let copyPrint: string | null = null;
    log('COPY baseline ...');
    try {
      const started = now();
      const res = await admin.query(
        `COPY dids (${COPY_COLUMNS.join(', ')}) FROM ${pg.escapeLiteral(copyFile)} WITH (FORMAT csv, HEADER true)`,
      );
      const ms = now() - started;
      copy = { ms, rows: res.rowCount ?? 0, rowsPerSecond: ((res.rowCount ?? 0) / ms) * 1000 };
      log(`  ${fmtInt(copy.rows)} rows in ${fmtSeconds(ms)} (${fmtInt(copy.rowsPerSecond)} rows/s)`);
      copyPrint = await fingerprint(db);
    } catch (error) {
      copy = { skipped: `server-side COPY failed: ${(error as Error).message}` };
      log(`  skipped: ${copy.skipped}`);
    }

    // 3. importDidsCsv ---------------------------------------------------------------------------------------
    await truncateInventory(admin);
    await checkpoint(admin);
    log('importDidsCsv ...');
    recording.recorder.reset();
    recording.recorder.keepText = false;
    let lastProgress = 0;
    const imp = await timed(() =>
      importDidsCsv(rctx, createReadStream(rawFile), {
        onProgress: (p) => {
          if (p.rows - lastProgress >= o.count / 10) {
            lastProgress = p.rows;
            log(`  ${fmtInt(p.rows)} rows ...`);
          }
        },
      }),
    );
    const statements = recording.recorder.totals();
    const sqlMs = recording.recorder.totalMs();
    const report = imp.result;
    log(
      `  ${fmtInt(report.imported)} imported, ${report.errors} errors in ${fmtSeconds(imp.ms)} (${fmtInt((report.imported / imp.ms) * 1000)} rows/s)`,
    );
    const importPrint = await fingerprint(db);
    const auditRows = Number(
      (
        await sql<{ n: string }>`SELECT count(*) AS n FROM audit_events WHERE action = 'did.import'`.execute(
          db,
        )
      ).rows[0]!.n,
    );
    const vacuum = await timed(() => admin.query('VACUUM (ANALYZE) dids'));
    await admin.query('VACUUM (ANALYZE) audit_events');
    const size = (
      await admin.query<{ heap: string; indexes: string; total: string }>(
        `SELECT pg_size_pretty(pg_table_size('dids')) AS heap, pg_size_pretty(pg_indexes_size('dids')) AS indexes,
                pg_size_pretty(pg_total_relation_size('dids')) AS total`,
      )
    ).rows[0]!;

    // 4. Search -------------------------------------------------------------------------------------------------
    const searches: SearchResult[] = [];
    const cases: { key: string; label: string; filter: DidFilter; depth: number }[] = [
      {
        key: 'prefix',
        label: 'prefix `search 1212` (available, by number)',
        filter: { pattern: '1212', status: 'available' },
        depth: 0,
      },
      { key: 'vanity', label: 'vanity `1800%VOIP`', filter: { pattern: '1800%VOIP' }, depth: 0 },
      {
        key: 'filter',
        label: `filter country=US city=${BIG_CITY}`,
        filter: { country: 'US', city: BIG_CITY },
        depth: 0,
      },
      {
        key: 'deep',
        label: `prefix 1212, page ${o.deepPages + 1} (keyset)`,
        filter: { pattern: '1212', status: 'available' },
        depth: o.deepPages,
      },
    ];
    const limit = 50;
    try {
      await admin.query('SET track_io_timing = on');
    } catch {
      // not allowed on a shared server: plans come without I/O timings
    }
    for (const c of cases) {
      log(`Search: ${c.label} ...`);
      // Follow the cursor to the page under test.
      let after: string | undefined;
      let depth = 0;
      for (; depth < c.depth; depth++) {
        const page = await searchDids(ctx, c.filter, { limit, ...(after ? { after } : {}) });
        if (!page.nextCursor) break;
        after = page.nextCursor;
      }
      const options = { limit, ...(after ? { after } : {}) };
      const resolved = await resolveFilter(ctx, c.filter);
      const compiled = searchQuery(db, resolved, options).compile();
      const parameters = [...compiled.parameters];

      // The SQL searchDids really sends, captured once, must be the SQL benchmarked raw.
      recording.recorder.reset();
      recording.recorder.keepText = true;
      const captured = await searchDids(rctx, c.filter, options);
      const sent = recording.recorder.queries;
      const main = sent.filter((q) => q.label === 'SELECT dids').at(-1);
      const sameSql =
        main !== undefined &&
        main.sql === compiled.sql &&
        JSON.stringify(main.parameters) === JSON.stringify(parameters);
      if (!sameSql)
        log(
          `  WARNING: the benchmarked SQL differs from what searchDids sent:\n  ${main?.sql}\n  ${compiled.sql}`,
        );

      const rawCheck = await rawPool.query(compiled.sql, parameters);
      const expectedRows = captured.items.length + (captured.nextCursor ? 1 : 0);
      const sameRows =
        rawCheck.rows.length === expectedRows &&
        captured.items.every((item, i) => (rawCheck.rows[i] as { number: string }).number === item.number);
      if (!sameRows) throw new Error(`raw SQL and searchDids disagree for ${c.label}`);

      const service: number[] = [];
      const raw: number[] = [];
      const runService = async (keep: boolean) => {
        const t = now();
        await searchDids(ctx, c.filter, options);
        if (keep) service.push(now() - t);
      };
      const runRaw = async (keep: boolean) => {
        const t = now();
        await rawPool.query(compiled.sql, parameters);
        if (keep) raw.push(now() - t);
      };
      for (let i = 0; i < o.warmup + o.iterations; i++) {
        const keep = i >= o.warmup;
        // Alternate which goes first, so neither always runs on the warmer connection or cache.
        if (i % 2 === 0) {
          await runService(keep);
          await runRaw(keep);
        } else {
          await runRaw(keep);
          await runService(keep);
        }
      }
      const resolveRuns = 2_000;
      const r0 = now();
      for (let i = 0; i < resolveRuns; i++) await resolveFilter(ctx, c.filter);
      const resolveFilterMs = (now() - r0) / resolveRuns;

      const plan = await explain(
        admin,
        `${c.key}: ${c.label}${depth ? ` (after ${depth} pages)` : ''}`,
        compiled.sql,
        parameters,
        7,
      );
      plans.push(plan.text);
      const s = percentiles(service);
      const r = percentiles(raw);
      searches.push({
        key: c.key,
        label: c.label,
        filter: c.filter,
        rows: rawCheck.rows.length,
        depth,
        service: s,
        raw: r,
        p95Ratio: s.p95 / r.p95,
        serviceQueries: sent.length,
        sameSql,
        resolveFilterMs,
        planningMs: plan.planningMs,
        executionMs: plan.executionMs,
        sql: compiled.sql,
        parameters,
      });
      log(
        `  service p50 ${fmtMs(s.p50)} / p95 ${fmtMs(s.p95)} ms; raw p50 ${fmtMs(r.p50)} / p95 ${fmtMs(r.p95)} ms; ` +
          `server planning ${fmtMs(plan.planningMs)} ms, execution ${fmtMs(plan.executionMs)} ms`,
      );
    }

    // 5. First-N bulk assign ---------------------------------------------------------------------------------------
    log(`assignMany first ${fmtInt(o.assignCount)} of pattern 1212 to ${o.customer.slug} ...`);
    const assignFilter: DidFilter = { pattern: '1212' };
    const lockQuery = firstNLockQuery(
      db,
      ctx,
      await resolveFilter(ctx, assignFilter),
      o.customer,
      o.assignCount,
    ).compile();
    // The lock query's plan, inside a transaction rolled back at once (FOR UPDATE takes row locks).
    await admin.query('BEGIN');
    try {
      plans.push(
        (
          await explain(
            admin,
            `assign: lock query of assignMany first ${o.assignCount} (rolled back)`,
            lockQuery.sql,
            lockQuery.parameters,
          )
        ).text,
      );
    } finally {
      await admin.query('ROLLBACK');
    }
    await checkpoint(admin);
    recording.recorder.reset();
    recording.recorder.keepText = true;
    const assign = await timed(() =>
      assignMany(rctx, o.customer.slug, { mode: 'first', count: o.assignCount, filter: assignFilter }),
    );
    const assignStatements = recording.recorder.totals();
    const sentLock = recording.recorder.queries.find((q) => q.label === 'SELECT dids FOR UPDATE');
    const lockSqlMatches =
      sentLock !== undefined &&
      sentLock.sql === lockQuery.sql &&
      JSON.stringify(sentLock.parameters) === JSON.stringify(lockQuery.parameters);
    const assignedNumbers = assign.result.assigned;
    const counts = (
      await sql<{ assigned: string; audit: string; first_n: string }>`
        SELECT (SELECT count(*) FROM dids WHERE assigned_account_id = ${o.customer.id} AND status = 'assigned') AS assigned,
               (SELECT count(*) FROM audit_events WHERE action = 'did.assign' AND account_id = ${o.customer.id}) AS audit,
               (SELECT count(*) FROM dids WHERE number >= '+1212' AND number <= ${assignedNumbers.at(-1) ?? ''}) AS first_n`.execute(
        db,
      )
    ).rows[0]!;
    const sortedAssigned = [...assignedNumbers].sort();
    const result: InventoryBenchResult = {
      generate: { ...gen.result, ms: gen.ms, normalizeMs: norm.ms },
      order,
      copy,
      import: {
        ms: imp.ms,
        rows: report.imported,
        rowsPerSecond: (report.imported / imp.ms) * 1000,
        report: {
          rows: report.rows,
          imported: report.imported,
          existing: report.existing,
          errors: report.errors,
          ignoredColumns: report.ignoredColumns,
          firstErrors: report.rowErrors.slice(0, 5),
        },
        statements,
        sqlMs,
        auditRows,
        sameRowsAsCopy: copyPrint === null ? null : copyPrint === importPrint,
      },
      importCopyRatio: 'ms' in copy ? imp.ms / copy.ms : null,
      vacuumAnalyzeMs: vacuum.ms,
      tableSize: size,
      searches,
      assign: {
        ms: assign.ms,
        requested: o.assignCount,
        assigned: assignedNumbers.length,
        skipped: assign.result.skipped.length,
        dbAssigned: Number(counts.assigned),
        auditRows: Number(counts.audit),
        // The assigned numbers are exactly the N lowest +1212 numbers (all were available).
        firstN:
          Number(counts.first_n) === assignedNumbers.length &&
          sortedAssigned.every((n, i) => n === assignedNumbers[i]),
        allMatchFilter: assignedNumbers.every((n) => n.startsWith('+1212')),
        statements: assignStatements,
        lockSqlMatches,
      },
    };
    log(`  ${fmtInt(assignedNumbers.length)} assigned in ${fmtSeconds(assign.ms)}`);
    return { result, plans: plans.join('\n') };
  } finally {
    await admin.end();
    await recording.end();
    await rawPool.end();
  }
}
