// The renewal benchmark of the billing issue: 100,000 subscriptions due at once, renewed by one worker
// process and then by four, through the real queue (BullMQ when REDIS_URL is set, pg-boss otherwise) and
// the real Stripe adapter talking HTTP to a local fake Stripe; next to the raw cost of the same writes as
// set-based SQL (the floor: what the database alone needs). Target: 100,000 renewals in under 2 minutes
// with four workers.
//
// Each worker is a child process running what the worker role runs (startJobWorker). The clock starts
// when the sweep begins enqueueing and stops when every subscription has moved to its next period.
// Afterwards the ledger is checked: one renewal charge per subscription, one Stripe charge each.
//
// Run alone: `node test/bench/renewals.ts` (BENCH_RENEWALS=100000 BENCH_RENEWAL_WORKERS=1,4);
// run.ts calls runRenewalBench() (BENCH_ONLY=renewals).
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { DEFAULT_BILLING_POLICY } from '../../core/billing/billing-context.ts';
import { connect } from '../../core/db/connect.ts';
import { createBullmqQueue } from '../../core/jobs/bullmq-queue.ts';
import { createPgBossQueue } from '../../core/jobs/pgboss-queue.ts';
import type { JobQueue } from '../../core/jobs/queue.ts';
import { bulkEnqueuerFor, enqueuerFor, JOB_NAMES, startJobWorker } from '../../core/jobs/registry.ts';
import { sweepBilling } from '../../core/jobs/tasks/billing-sweep.ts';
import { createStripeGateway } from '../../core/payments/stripe-gateway.ts';
import { createLogger, silentLogger } from '../../core/runtime/logger.ts';
import { systemClock } from '../../core/shared/clock.ts';
import type { JobDeps } from '../../core/jobs/job-context.ts';
import { fmtInt, fmtSeconds, now, openBenchOperator, positiveIntEnv, table } from './lib.ts';
import { benchDatabase } from './slack.ts';

export const RENEWAL_TARGET = { renewals: 100_000, seconds: 120, workers: 4 } as const;

export interface RenewalRun {
  readonly workers: number;
  readonly enqueueMs: number;
  readonly totalMs: number;
  readonly renewalsPerSecond: number;
  readonly charges: number;
  readonly stripeCharges: number;
  readonly duplicates: number;
}

export interface RenewalBenchResult {
  readonly subscriptions: number;
  readonly engine: 'bullmq' | 'pg-boss';
  readonly runs: readonly RenewalRun[];
  readonly rawSqlMs: number;
  readonly loadAverage: number;
  readonly target: typeof RENEWAL_TARGET & { readonly pass: boolean };
}

export interface RenewalBenchOptions {
  readonly subscriptions?: number;
  readonly workerCounts?: readonly number[];
  readonly databaseUrl?: string;
  readonly redisUrl?: string;
  readonly log?: (line: string) => void;
}

interface WorkerEnv {
  readonly databaseUrl: string;
  readonly redisUrl: string | undefined;
  readonly prefix: string;
  readonly stripeBase: string;
}

function openQueue(env: WorkerEnv): JobQueue {
  return env.redisUrl
    ? createBullmqQueue({ redisUrl: env.redisUrl, prefix: env.prefix, log: silentLogger })
    : createPgBossQueue({
        connectionString: env.databaseUrl,
        log: silentLogger,
        pollingIntervalMs: 500,
        maxConnections: 8,
      });
}

export async function runRenewalBench(options: RenewalBenchOptions = {}): Promise<RenewalBenchResult> {
  const count = options.subscriptions ?? RENEWAL_TARGET.renewals;
  const workerCounts = options.workerCounts ?? [1, 4];
  const log = options.log ?? (() => {});
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const url = await benchDatabase(options.databaseUrl, log, cleanups, 'renewals');
    const { db } = await openBenchOperator(url, cleanups, {
      max: 10,
      applicationName: 'didops-bench-renewals',
    });
    // Imported here, not at the top: the worker children run this file too, and importing the fake loads
    // nock, whose HTTP interceptors would then sit in every worker's request path.
    const { FakeStripe } = await import('../helpers/fake-stripe.ts');
    const stripe = new FakeStripe();
    const server = await stripe.listen();
    cleanups.push(() => server.close());
    await seed(db, count);
    log(
      `renewals: ${fmtInt(count)} card subscriptions due, engine ${options.redisUrl ? 'BullMQ' : 'pg-boss'}`,
    );

    const runs: RenewalRun[] = [];
    for (const workers of workerCounts) {
      await reset(db);
      stripe.charges.clear();
      const env: WorkerEnv = {
        databaseUrl: url,
        redisUrl: options.redisUrl,
        prefix: `didops-bench-${randomBytes(4).toString('hex')}`,
        stripeBase: server.url,
      };
      const queue = openQueue(env);
      await queue.start(JOB_NAMES);
      if (!options.redisUrl) await sql`DELETE FROM pgboss.job`.execute(db);
      const children = await Promise.all(Array.from({ length: workers }, () => startChild(env)));
      const deps = jobDeps(db, queue, server.url);
      const started = now();
      await sweepBilling(deps);
      const enqueueMs = now() - started;
      await waitUntilRenewed(db, count, 15 * 60_000);
      const totalMs = now() - started;
      await Promise.all(children.map(stopChild));
      await queue.stop(1_000);
      const check = await ledgerCheck(db);
      runs.push({
        workers,
        enqueueMs,
        totalMs,
        renewalsPerSecond: count / (totalMs / 1000),
        charges: check.charges,
        stripeCharges: stripe.charges.size,
        duplicates: check.duplicates,
      });
      log(
        `renewals: ${workers} worker(s): ${fmtInt(count)} in ${fmtSeconds(totalMs)} (${fmtInt(count / (totalMs / 1000))}/s)`,
      );
    }

    await reset(db);
    const rawSqlMs = await rawSql(db);
    log(`renewals: the same writes as set-based SQL: ${fmtSeconds(rawSqlMs)}`);
    const four = runs.find((r) => r.workers === RENEWAL_TARGET.workers);
    const pass =
      four !== undefined &&
      count >= RENEWAL_TARGET.renewals &&
      four.totalMs <= RENEWAL_TARGET.seconds * 1000 &&
      runs.every((r) => r.charges === count && r.stripeCharges === count && r.duplicates === 0);
    return {
      subscriptions: count,
      engine: options.redisUrl ? 'bullmq' : 'pg-boss',
      runs,
      rawSqlMs,
      loadAverage: loadavg()[0]!,
      target: { ...RENEWAL_TARGET, pass },
    };
  } finally {
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (error) {
        log(`renewal bench cleanup: ${(error as Error).message}`);
      }
    }
  }
}

type BenchDb = ReturnType<typeof connect>;

/** Customers with a saved card, one number each, every subscription due a minute ago. */
async function seed(db: BenchDb, count: number): Promise<void> {
  await sql`
    INSERT INTO accounts (kind, parent_id, slug, name, billing_mode, stripe_customer_id)
    SELECT 'customer', (SELECT id FROM accounts WHERE kind = 'admin'), 'bench-buyer-' || i, 'Bench buyer ' || i,
           'prepaid', 'cus_bench_' || i
    FROM generate_series(1, 1000) AS i`.execute(db);
  await sql`
    INSERT INTO dids (number, country, area_code, status, assigned_account_id, assigned_at, recurring_fee, setup_fee)
    SELECT '+1555' || lpad(i::text, 7, '0'), 'US', '555', 'assigned',
           (SELECT id FROM accounts WHERE slug = 'bench-buyer-' || (1 + i % 1000)), now(), 150, 0
    FROM generate_series(1, ${count}::int) AS i`.execute(db);
  await sql`
    INSERT INTO subscriptions (did_id, account_id, seller_account_id, billing_type, billing_period, billing_days,
                               setup_fee, recurring_fee, currency, anchor_day, current_period_start,
                               current_period_end, payment_method, stripe_payment_method_id)
    SELECT d.id, d.assigned_account_id, (SELECT id FROM accounts WHERE kind = 'admin'), 'recurring', 'monthly', 30,
           0, 150, 'USD', 1, now() - interval '1 month', now() - interval '1 minute', 'card', 'pm_bench_card'
    FROM dids d;
    ANALYZE;
  `.execute(db);
}

/** Back to "everything due", with an empty ledger, for the next run. */
async function reset(db: BenchDb): Promise<void> {
  await sql`
    ALTER TABLE charges DISABLE TRIGGER charges_append_only;
    ALTER TABLE audit_events DISABLE TRIGGER USER;
    TRUNCATE charges, payments, notifications, audit_events, invoices;
    ALTER TABLE charges ENABLE TRIGGER charges_append_only;
    ALTER TABLE audit_events ENABLE TRIGGER USER;
    UPDATE subscriptions SET status = 'active', current_period_start = now() - interval '1 month',
      current_period_end = now() - interval '1 minute', dunning_attempts = 0, next_retry_at = NULL;
  `.execute(db);
  await sql`VACUUM ANALYZE subscriptions`.execute(db);
}

async function waitUntilRenewed(db: BenchDb, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM subscriptions WHERE current_period_end > now()`.execute(db);
    if ((rows[0]?.n ?? 0) >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${rows[0]?.n} of ${count} renewed in time`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function ledgerCheck(db: BenchDb): Promise<{ charges: number; duplicates: number }> {
  const { rows } = await sql<{ charges: number; duplicates: number }>`
    SELECT count(*)::int AS charges,
           (count(*) - count(DISTINCT (subscription_id, period_start)))::int AS duplicates
    FROM charges WHERE kind = 'recurring'`.execute(db);
  return rows[0] ?? { charges: 0, duplicates: 0 };
}

/**
 * The floor: the rows one renewal writes (its payment, its charge, the subscription moved on, its audit
 * event and its receipt notice), for every subscription at once, in one transaction.
 */
async function rawSql(db: BenchDb): Promise<number> {
  const started = now();
  await db.transaction().execute(async (trx) => {
    await sql`
      INSERT INTO payments (account_id, amount, currency, method, status, subscription_id, idempotency_key, provider_ref)
      SELECT account_id, recurring_fee, currency, 'card', 'succeeded', id, 'raw-' || id, 'pi_raw_' || id
      FROM subscriptions;
      INSERT INTO charges (account_id, seller_account_id, kind, amount, currency, did_id, subscription_id,
                           period_start, period_end, description, idempotency_key)
      SELECT account_id, seller_account_id, 'recurring', recurring_fee, currency, did_id, id,
             current_period_end, current_period_end + interval '1 month', 'raw', 'raw-charge-' || id
      FROM subscriptions;
      INSERT INTO audit_events (channel, actor_label, action, did_id, account_id, subject, before, after)
      SELECT 'system', 'system:bench', 'subscription.renew', did_id, account_id, 'raw', '{}'::jsonb, '{}'::jsonb
      FROM subscriptions;
      INSERT INTO notifications (account_id, kind, key, data)
      SELECT account_id, 'renewal_receipt', 'raw-receipt-' || id, '{}'::jsonb FROM subscriptions;
      UPDATE subscriptions SET current_period_start = current_period_end,
                               current_period_end = current_period_end + interval '1 month';
    `.execute(trx);
  });
  return now() - started;
}

function jobDeps(db: BenchDb, queue: JobQueue, stripeBase: string): JobDeps {
  return {
    db,
    clock: systemClock,
    settings: { didAgingDays: 30 },
    policy: DEFAULT_BILLING_POLICY,
    payments: createStripeGateway({ secretKey: 'sk_test_didops_bench', apiBase: stripeBase }),
    publicUrl: 'http://localhost:3000',
    enqueue: enqueuerFor(queue),
    enqueueMany: bulkEnqueuerFor(queue),
    channels: [],
    log: silentLogger,
  };
}

async function startChild(env: WorkerEnv): Promise<ChildProcess> {
  const child = fork(fileURLToPath(import.meta.url), ['--worker'], {
    env: { ...process.env, BENCH_WORKER: JSON.stringify(env) },
    // BENCH_CPU_PROF=dir writes a V8 CPU profile of each worker there (chrome://inspect opens them).
    ...(process.env.BENCH_CPU_PROF
      ? { execArgv: [`--cpu-prof`, `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] }
      : {}),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await once(child, 'message');
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.send('stop');
  await once(child, 'exit');
}

/** A worker process: what `node bin/start.ts worker` runs, pointed at the bench database and fake Stripe. */
async function worker(): Promise<void> {
  const env = JSON.parse(process.env.BENCH_WORKER ?? '{}') as WorkerEnv;
  const db = connect(env.databaseUrl, { max: 10, applicationName: 'didops-bench-worker' });
  const queue = openQueue(env);
  await queue.start(JOB_NAMES);
  await startJobWorker(queue, {
    ...jobDeps(db, queue, env.stripeBase),
    log: createLogger({ level: 'error' }),
  });
  process.send?.('ready');
  process.on('message', () => {
    void queue
      .stop(2_000)
      .then(() => db.destroy())
      .finally(() => process.exit(0));
  });
}

export function renderRenewalBench(result: RenewalBenchResult): string {
  const rows = result.runs.map((r) => [
    `${r.workers} worker${r.workers === 1 ? '' : 's'} (${result.engine})`,
    fmtInt(result.subscriptions),
    fmtSeconds(r.totalMs),
    fmtInt(r.renewalsPerSecond),
    fmtSeconds(r.enqueueMs),
    `${fmtInt(r.charges)} / ${fmtInt(r.stripeCharges)} / ${r.duplicates}`,
  ]);
  rows.push([
    'raw SQL: the same rows, set-based, one transaction',
    fmtInt(result.subscriptions),
    fmtSeconds(result.rawSqlMs),
    fmtInt(result.subscriptions / (result.rawSqlMs / 1000)),
    '—',
    '—',
  ]);
  return [
    table(['renewals', 'due', 'time', 'renewals/s', 'enqueue', 'charges / Stripe / duplicates'], rows),
    `load average ${result.loadAverage.toFixed(2)} on ${cpus().length} CPUs; target: ${fmtInt(result.target.renewals)} in under ${result.target.seconds} s with ${result.target.workers} workers: ${result.target.pass ? 'PASS' : 'FAIL'}`,
  ].join('\n');
}

if (process.argv[2] === '--worker') {
  await worker();
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await runRenewalBench({
    subscriptions: positiveIntEnv('BENCH_RENEWALS', RENEWAL_TARGET.renewals),
    workerCounts: (process.env.BENCH_RENEWAL_WORKERS ?? '1,4').split(',').map(Number),
    databaseUrl: process.env.BENCH_DATABASE_URL,
    redisUrl: process.env.REDIS_URL,
    log: (line) => console.log(line),
  });
  console.log(renderRenewalBench(result));
  process.exit(result.target.pass ? 0 : 1);
}
