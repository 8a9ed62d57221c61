// The back-office benchmark (issue 7): the inventory page's latency over HTTP, as a signed-in staff member
// sees it, on a million numbers (BENCH_DIDS; fewer for a quick check), for no filter, a vanity pattern
// (1800%VOIP) and one customer's numbers; and a 10,000-number bulk assign from the confirmation page to the
// finished job, through the real app and a real pg-boss queue with a worker in this process.
//
// The inventory comes from the inventory bench's generator (generate.ts: the same numbers for the same
// count and seed) loaded through importDidsCsv; BENCH_ADMIN_CUSTOMER numbers of New York (+1 212) are then
// assigned to the customer the third search filters by. The app and the client share this process, one
// request at a time: the times are what one person waits for a page, not throughput.
//
//   BENCH_ONLY=admin npm run bench                 (1,000,000 numbers)
//   BENCH_ONLY=admin BENCH_DIDS=50000 npm run bench   (a quick check)
import { createReadStream, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createAccount } from '../../core/accounts/accounts.ts';
import { hashPassword } from '../../core/accounts/users.ts';
import { createGroup, createPricingBatch, createProvider } from '../../core/catalog/catalog.ts';
import { loadConfig } from '../../core/config.ts';
import { DEFAULT_BILLING_POLICY } from '../../core/billing/billing-context.ts';
import { assignMany } from '../../core/inventory/assignment.ts';
import { importDidsCsv } from '../../core/inventory/import-csv.ts';
import { handlerFor, type JobDeps } from '../../core/jobs/job-context.ts';
import { createPgBossQueue } from '../../core/jobs/pgboss-queue.ts';
import { enqueuerFor, JOB_NAMES } from '../../core/jobs/registry.ts';
import { bulkOperationJob } from '../../core/jobs/tasks/bulk-operation.ts';
import { createLogger } from '../../core/runtime/logger.ts';
import { systemClock } from '../../core/shared/clock.ts';
import { createWebApp } from '../../storefront/app.ts';
import { startWebServer } from '../../storefront/server.ts';
import { BENCH_CATALOG, writeInventoryCsv } from './generate.ts';
import {
  fmtInt,
  fmtMs,
  fmtSeconds,
  now,
  openBenchOperator,
  percentiles,
  table,
  timed,
  type Percentiles,
} from './lib.ts';
import { benchDatabase } from './slack.ts';

export interface AdminBenchOptions {
  readonly count: number;
  readonly seed: number;
  readonly warmup: number;
  readonly iterations: number;
  /** Numbers of the bulk assign (10,000). */
  readonly assignCount: number;
  /** Numbers the filtered customer holds. */
  readonly customerNumbers: number;
  /** BENCH_DATABASE_URL: a server to use instead of an embedded one. */
  readonly databaseUrl?: string | undefined;
  readonly log: (line: string) => void;
}

export interface PageResult {
  readonly key: string;
  readonly url: string;
  /** What the page said it found ("About 1,000,000 numbers match"). */
  readonly heading: string;
  readonly rows: number;
  readonly latency: Percentiles;
}

export interface AdminBenchResult {
  readonly count: number;
  readonly load: {
    readonly generateMs: number;
    readonly importMs: number;
    readonly assignCustomerMs: number;
  };
  readonly pages: readonly PageResult[];
  readonly bulk: {
    readonly requested: number;
    /** What the confirmation page said would change: fewer than requested on a small inventory. */
    readonly planned: number;
    readonly changed: number;
    readonly skipped: number;
    /** The confirmation page: counting exactly what would change, and keeping the draft. */
    readonly confirmMs: number;
    /** From the confirmation's button to the finished job (as the progress page saw it). */
    readonly runMs: number;
    /** From the bulk form to the finished job. */
    readonly totalMs: number;
    /** The job's own start to finish, from the operation's row. */
    readonly jobMs: number;
    readonly auditRows: number;
  };
}

const PASSWORD = 'bench password 123';

export async function runAdminBench(options: AdminBenchOptions): Promise<AdminBenchResult> {
  const { log } = options;
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const url = await benchDatabase(options.databaseUrl, log, cleanups, 'admin');
    const { db, ctx } = await openBenchOperator(url, cleanups, {
      max: 10,
      applicationName: 'didops-bench-admin',
    });
    // A million-row load on the default 1 GB max_wal_size measures forced checkpoints, not the loader.
    await sql`ALTER SYSTEM SET max_wal_size = '8GB'`.execute(db).catch(() => undefined);
    await sql`SELECT pg_reload_conf()`.execute(db).catch(() => undefined);

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
    const customer = await createAccount(ctx, {
      kind: 'customer',
      slug: 'bench-customer',
      name: 'Bench Customer',
    });
    await createAccount(ctx, { kind: 'customer', slug: 'bench-bulk', name: 'Bench Bulk Customer' });
    const operatorId = ctx.actor.accountId;
    await db
      .insertInto('users')
      .values({
        account_id: operatorId,
        role: 'operator',
        email: 'ops@bench.example',
        name: 'Bench Ops',
        password_hash: await hashPassword(PASSWORD),
        slack_user_id: null,
        telegram_user_id: null,
      })
      .execute();

    // The inventory: the generator's numbers, imported the way staff import a carrier's file.
    const workDir = mkdtempSync(path.join(tmpdir(), 'didops-bench-admin-'));
    chmodSync(workDir, 0o755);
    cleanups.push(() => Promise.resolve(rmSync(workDir, { recursive: true, force: true })));
    const file = path.join(workDir, 'inventory.csv');
    log(`Generating ${fmtInt(options.count)} numbers ...`);
    const generated = await timed(() => writeInventoryCsv(file, options.count, options.seed));
    log(`Importing them (importDidsCsv) ...`);
    const imported = await timed(() => importDidsCsv(ctx, createReadStream(file), { chunkSize: 5_000 }));
    if (imported.result.errors > 0)
      throw new Error(`the bench inventory had ${imported.result.errors} bad rows`);
    log(`Assigning ${fmtInt(options.customerNumbers)} New York numbers to bench-customer ...`);
    // In chunks, as the back office's bulk runner does: one statement per chunk stays far below
    // PostgreSQL's 65,535 parameters however the billing of staff assignments writes its rows.
    const assigned = await timed(async () => {
      for (let left = options.customerNumbers; left > 0; left -= 1_000) {
        await assignMany(ctx, customer.id, {
          mode: 'first',
          count: Math.min(1_000, left),
          filter: { pattern: '1212' },
        });
      }
    });
    await sql`VACUUM (ANALYZE) dids`.execute(db);

    // The app as the web role builds it, with a pg-boss queue and this process as the worker.
    const appLog = createLogger({ level: 'error' });
    const queue = createPgBossQueue({ connectionString: url, log: appLog, pollingIntervalMs: 500 });
    await queue.start(JOB_NAMES);
    cleanups.push(() => queue.stop(2_000));
    const enqueue = enqueuerFor(queue);
    const deps: JobDeps = {
      db,
      clock: systemClock,
      settings: { didAgingDays: 30 },
      policy: DEFAULT_BILLING_POLICY,
      payments: null,
      publicUrl: 'http://localhost',
      enqueue,
      enqueueMany: () => Promise.resolve(0),
      channels: [],
      log: appLog,
    };
    await queue.work(bulkOperationJob.name, handlerFor(deps, bulkOperationJob));
    const web = await startWebServer(
      createWebApp({
        db,
        config: loadConfig({
          NODE_ENV: 'production',
          SESSION_SECRET: 'b'.repeat(48),
          PUBLIC_URL: 'http://127.0.0.1',
        }),
        log: appLog,
        jobs: { queue, enqueue, payments: null, policy: DEFAULT_BILLING_POLICY },
      }),
      { port: 0, host: '127.0.0.1', log: appLog },
    );
    cleanups.push(async () => {
      await web.close(1_000);
    });
    const client = new Client(`http://127.0.0.1:${web.port}`);
    await client.logIn('ops@bench.example', PASSWORD);

    const cases = [
      { key: 'no filter', url: '/admin/inventory' },
      { key: 'vanity 1800%VOIP', url: '/admin/inventory?pattern=1800%25VOIP' },
      { key: 'customer', url: '/admin/inventory?account=bench-customer' },
    ];
    const pages: PageResult[] = [];
    for (const c of cases) {
      log(`Timing GET ${c.url} (${options.warmup} + ${options.iterations}) ...`);
      let last = '';
      for (let i = 0; i < options.warmup; i++) last = await client.page(c.url);
      const samples: number[] = [];
      for (let i = 0; i < options.iterations; i++) {
        const started = now();
        last = await client.page(c.url);
        samples.push(now() - started);
      }
      pages.push({
        key: c.key,
        url: c.url,
        heading: /<h2 id="results-heading">\s*([^<]*?)\s*<\/h2>/.exec(last)?.[1]?.replace(/\s+/g, ' ') ?? '?',
        rows: last.match(/<tr id="n\d+">/g)?.length ?? 0,
        latency: percentiles(samples),
      });
    }

    // The bulk assign, as a person does it: the form, the confirmation, the button, the progress page.
    log(
      `Bulk assign of the first ${fmtInt(options.assignCount)} +1 212 numbers to bench-bulk, through the queue ...`,
    );
    await client.page('/admin/inventory?pattern=1212');
    const started = now();
    const confirmation = await client.post('/admin/bulk/preview', {
      pattern: '1212',
      operation: 'assign',
      assign_to: 'bench-bulk',
      apply: 'first',
      count: String(options.assignCount),
    });
    const confirmMs = now() - started;
    const action = /action="(\/admin\/bulk\/(\d+)\/start)"/.exec(confirmation.html);
    if (confirmation.status !== 200 || !action)
      throw new Error(`the confirmation page failed (${confirmation.status})`);
    const buttonAt = now();
    const startedRun = await client.post(action[1]!, {});
    if (startedRun.status !== 303)
      throw new Error(`starting the bulk operation failed (${startedRun.status})`);
    const id = Number(action[2]);
    for (;;) {
      const page = await client.page(`/admin/bulk/${id}`);
      if (/<h2 id="progress-heading">\s*(Done|Stopped)/.test(page)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const finishedAt = now();
    const op = await db
      .selectFrom('bulk_operations')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    if (op.status !== 'done') throw new Error(`the bulk operation ended ${op.status}: ${op.error}`);
    const audit = await db
      .selectFrom('audit_events')
      .select(sql<string>`count(*)`.as('n'))
      .where('action', '=', 'did.assign')
      .where('actor_label', '=', 'web:ops@bench.example')
      .executeTakeFirstOrThrow();
    return {
      count: options.count,
      load: { generateMs: generated.ms, importMs: imported.ms, assignCustomerMs: assigned.ms },
      pages,
      bulk: {
        requested: options.assignCount,
        planned: op.total,
        changed: op.changed,
        skipped: op.skipped,
        confirmMs,
        runMs: finishedAt - buttonAt,
        totalMs: finishedAt - started,
        jobMs: op.finished_at && op.started_at ? op.finished_at.getTime() - op.started_at.getTime() : NaN,
        auditRows: Number(audit.n),
      },
    };
  } finally {
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (error) {
        log(`cleanup: ${(error as Error).message}`);
      }
    }
  }
}

export function renderAdminBench(r: AdminBenchResult): string {
  const out: string[] = [];
  out.push(
    `Inventory: ${fmtInt(r.count)} numbers (generated ${fmtSeconds(r.load.generateMs)}, imported ${fmtSeconds(r.load.importMs)}, customer's numbers assigned ${fmtSeconds(r.load.assignCustomerMs)})`,
  );
  out.push('');
  out.push(
    'GET /admin/inventory as a signed-in operator (HTTP, one request at a time, 50 rows a page, with the count):',
  );
  out.push(
    table(
      ['case', 'page says', 'rows', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
      r.pages.map((p) => [
        p.key,
        p.heading,
        String(p.rows),
        fmtMs(p.latency.p50),
        fmtMs(p.latency.p95),
        fmtMs(p.latency.p99),
        fmtMs(p.latency.max),
      ]),
    ),
  );
  out.push('');
  const b = r.bulk;
  out.push(
    `Bulk assign, first ${fmtInt(b.requested)} numbers of +1 212 to one customer, queued (pg-boss) and run in batches of 1,000:`,
  );
  out.push(
    table(
      ['step', 'time'],
      [
        ['confirmation page (exact count, draft)', `${fmtMs(b.confirmMs)} ms`],
        ['button to finished job (progress page polled)', fmtSeconds(b.runMs)],
        ['  of which the job itself', fmtSeconds(b.jobMs)],
        ['form to finished job', fmtSeconds(b.totalMs)],
      ],
    ),
  );
  out.push(
    `planned ${fmtInt(b.planned)}, changed ${fmtInt(b.changed)}, skipped ${fmtInt(b.skipped)}, did.assign audit rows ${fmtInt(b.auditRows)}` +
      (b.planned <= 2_000 ? ' (small enough to run inline, without the queue)' : ''),
  );
  return out.join('\n');
}

/** A cookie-keeping client for the app's forms (CSRF token from the last page). */
class Client {
  private readonly base: string;
  private readonly cookies = new Map<string, string>();
  private csrf = '';
  constructor(base: string) {
    this.base = base;
  }

  async page(path: string): Promise<string> {
    const response = await this.request('GET', path);
    if (response.status !== 200) throw new Error(`GET ${path}: ${response.status}`);
    return response.html;
  }

  post(path: string, fields: Record<string, string>) {
    return this.request('POST', path, new URLSearchParams({ _csrf: this.csrf, ...fields }));
  }

  async logIn(email: string, password: string): Promise<void> {
    await this.request('GET', '/login');
    const done = await this.post('/login', { email, password, next: '/admin/inventory' });
    if (done.status !== 303) throw new Error(`log-in failed (${done.status})`);
  }

  private async request(method: string, path: string, body?: URLSearchParams) {
    const response = await fetch(this.base + path, {
      method,
      redirect: 'manual',
      headers: {
        accept: 'text/html',
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: body?.toString(),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    const html = await response.text();
    const token = /name="_csrf" value="([^"]*)"/.exec(html)?.[1];
    if (token !== undefined) this.csrf = token;
    return { status: response.status, html };
  }
}
