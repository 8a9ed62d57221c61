// Small helpers shared by the benchmarks: timing, percentiles, a Kysely handle that records every query's
// duration, and plain-text tables.
export { freePort } from '../helpers/ports.ts';
import pg from 'pg';
import { Kysely, PostgresDialect, type CompiledQuery } from 'kysely';
import type { Database } from '../../core/db/schema.ts';
// Imported for its side effect too: it installs the bigint type parser every pg client in the process uses.
import { connect, type Db } from '../../core/db/connect.ts';
import { createOperatorAccount } from '../../core/accounts/accounts.ts';
import { operatorActor } from '../../core/accounts/users.ts';
import type { Ctx } from '../../core/context.ts';
import { migrateToLatest } from '../../core/db/migrate.ts';
import { systemClock } from '../../core/shared/clock.ts';

export { connect, type Db };

export const now = () => performance.now();

export async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = now();
  const result = await work();
  return { result, ms: now() - started };
}

export interface Percentiles {
  readonly n: number;
  readonly min: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentiles of durations in ms. */
export function percentiles(samples: readonly number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return {
    n: sorted.length,
    min: sorted[0]!,
    p50: rank(0.5),
    p95: rank(0.95),
    p99: rank(0.99),
    max: sorted.at(-1)!,
    mean: sorted.reduce((s, x) => s + x, 0) / sorted.length,
  };
}

export interface LoggedQuery {
  readonly label: string;
  readonly sql: string;
  readonly parameters: readonly unknown[];
  readonly ms: number;
}

/** Per-statement-kind totals: "INSERT dids" 200 x, 41,000 ms. */
export interface StatementTotals {
  readonly [label: string]: { count: number; ms: number };
}

export interface QueryRecorder {
  readonly queries: LoggedQuery[];
  /** Keep the full text of queries (off for bulk runs, where only the totals matter). */
  keepText: boolean;
  reset(): void;
  totals(): StatementTotals;
  totalMs(): number;
}

/** "INSERT dids", "SELECT dids FOR UPDATE", "UPDATE dids", "begin": what a statement is, for the breakdown. */
export function statementLabel(text: string): string {
  const sql = text.trim().replace(/\s+/g, ' ');
  const lower = sql.toLowerCase();
  const table = (re: RegExp) => re.exec(sql)?.[1]?.replace(/"/g, '') ?? '?';
  if (/^insert into/i.test(sql)) return `INSERT ${table(/^insert into ("?[\w.]+"?)/i)}`;
  if (/^update/i.test(sql)) return `UPDATE ${table(/^update ("?[\w.]+"?)/i)}`;
  if (/^delete from/i.test(sql)) return `DELETE ${table(/^delete from ("?[\w.]+"?)/i)}`;
  if (/^select/i.test(sql)) {
    // The statement's own FROM: scalar subqueries in the select list have FROMs of their own.
    const from = table(/ from ("?[\w.]+"?)(?![^(]*\))/i);
    return `SELECT ${from}${/ for update/.test(lower) ? ' FOR UPDATE' : ''}`;
  }
  return lower.split(' ')[0] ?? lower;
}

/**
 * A Kysely handle configured like core/db/connect.ts (same pool settings, same type parsers) that records
 * each query's duration as Kysely measures it: round trip plus pg's row parsing.
 */
export function recordingDb(
  url: string,
  options: { max?: number } = {},
): { db: Db; recorder: QueryRecorder; end(): Promise<void> } {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: 'didops-bench-recorded',
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', () => {});
  const queries: LoggedQuery[] = [];
  const totals: Record<string, { count: number; ms: number }> = {};
  const recorder: QueryRecorder = {
    queries,
    keepText: true,
    reset() {
      queries.length = 0;
      for (const key of Object.keys(totals)) delete totals[key];
    },
    totals: () => structuredClone(totals),
    totalMs: () => Object.values(totals).reduce((s, t) => s + t.ms, 0),
  };
  const record = (query: CompiledQuery, ms: number) => {
    const label = statementLabel(query.sql);
    const entry = (totals[label] ??= { count: 0, ms: 0 });
    entry.count++;
    entry.ms += ms;
    if (recorder.keepText) queries.push({ label, sql: query.sql, parameters: query.parameters, ms });
  };
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log(event) {
      record(event.query, event.queryDurationMillis);
    },
  });
  return { db, recorder, end: () => db.destroy() };
}

export const fmtMs = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
export const fmtSeconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A plain-text table; numbers right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) =>
    rows.every((r) => /^[-+~<>≤≥]?[\d.,]+( ?(ms|s|x|%|\/s))?$|^—$|^$/.test(r[i] ?? '')),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A whole number > 0 from the environment (underscores and commas allowed: 1_000_000), or the fallback. */
export function positiveIntEnv(name: string, fallback: number): number {
  const text = process.env[name]?.replace(/[_,]/g, '');
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name}=${process.env[name]} is not a positive whole number`);
  return value;
}

/**
 * A benchmark's own database at `url`: migrated, with an operator account, and a context acting as the
 * operator's console. The pool is closed by the cleanups.
 */
export async function openBenchOperator(
  url: string,
  cleanups: (() => Promise<void>)[],
  pool: { readonly max: number; readonly applicationName: string },
): Promise<{ db: Db; ctx: Ctx }> {
  const db = connect(url, pool);
  cleanups.push(() => db.destroy());
  await migrateToLatest(db);
  await createOperatorAccount(db, { slug: 'bench-operator', name: 'Bench Operator' });
  const ctx: Ctx = {
    db,
    actor: await operatorActor(db, 'cli', 'bench'),
    clock: systemClock,
    settings: { didAgingDays: 30 },
  };
  return { db, ctx };
}
