// Faults in the middle of real renewals, with the real worker process (`node bin/start.ts worker`), the
// test's PostgreSQL, Stripe faked over HTTP (STRIPE_API_BASE) and, for BullMQ, a Redis of the test's own.
// Subscriptions are bought by card 35 days ago, so their first period is over by the system clock the
// worker uses; the test enqueues the billing sweep (as its cron does every minute), which enqueues the
// renewals.
// - The worker is killed (SIGKILL) while Stripe charges a renewal: the charge is made, its answer never
//   arrives. A new worker renews the subscription once the dead one's claim runs out (BullMQ's lock,
//   pg-boss's heartbeat), asks Stripe again with the same idempotency key and gets the same intent back:
//   one intent, one payment, one charge, one period, one audit row. Both engines.
// - Redis restarts while a worker renews 20 subscriptions with Stripe answering slowly: every one is
//   renewed exactly once, none lost, none charged twice. BullMQ.
// What keeps a renewal run twice from charging twice is its idempotency key (at Stripe and on the payment
// row) and its re-check, under a row lock, that the period is still due. A fake that forgets keys (Stripe
// without idempotency, or a key that changed between runs) makes the crash test fail on a second intent;
// a job run again after its renewal committed, without the re-check, would show as a second charge and
// a period moved on twice.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_BILLING_POLICY, type BillingCtx } from '../../../core/billing/billing-context.ts';
import { completeCheckout, placeOrder } from '../../../core/billing/orders.ts';
import { periodEnd } from '../../../core/billing/periods.ts';
import type { Subscription } from '../../../core/db/schema.ts';
import { createBullmqQueue } from '../../../core/jobs/bullmq-queue.ts';
import { createPgBossQueue } from '../../../core/jobs/pgboss-queue.ts';
import type { JobQueueAdapter } from '../../../core/jobs/queue.ts';
import { enqueuerFor, JOB_NAMES } from '../../../core/jobs/registry.ts';
import { createStripeGateway } from '../../../core/payments/stripe-gateway.ts';
import { silentLogger } from '../../../core/runtime/logger.ts';
import { DAY_MS, ManualClock } from '../../../core/shared/clock.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { actorOf, buildAccount, buildDid, buildOperator } from '../../helpers/factories.ts';
import {
  FakeStripe,
  signedEvent,
  TEST_SECRET_KEY,
  TEST_WEBHOOK_SECRET,
  type HandledRequest,
} from '../../helpers/fake-stripe.ts';
import { runScript, type Spawned } from '../runtime/processes.ts';
import {
  describeWithRedisServer,
  redisServer,
  sleep,
  waitFor,
  watchStalledJobs,
  type RedisServer,
} from './fault-helpers.ts';

const database = useTestDatabase();
const PUBLIC_URL = 'https://shop.example.test';
const RENEW = 'renew-subscription';
const FEE = 500;
const INTENTS = '/v1/payment_intents';

let stripe: FakeStripe;
let stripeServer: { url: string; close: () => Promise<void> };
const children: Spawned[] = [];
/** Undone after each test, last first: the test's queue handle, the Redis server. */
const cleanups: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  stripe = new FakeStripe();
  stripeServer = await stripe.listen();
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.child.exitCode === null && child.child.signalCode === null) {
      child.child.kill('SIGKILL');
      await child.exited(5_000).catch(() => {});
    }
  }
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  await stripeServer.close();
});

interface Engine {
  readonly name: 'pg-boss' | 'BullMQ';
  /** REDIS_URL of the worker processes: empty runs their jobs on pg-boss. */
  readonly redisUrl: string;
  /** The test's own handle on the workers' queues, started: it enqueues and counts. */
  readonly queue: JobQueueAdapter;
  /** How long a dead worker's renewal may take to be done by the next worker. */
  readonly recoveryMs: number;
  readonly redis?: RedisServer;
}

async function onPgBoss(): Promise<Engine> {
  // Created here before any worker starts, the queues keep this heartbeat (pg-boss's shortest, 10 s, where
  // the worker's own would be 30 s), and this instance's supervisor looks every second (the worker's every
  // 60 s), as in worker-crash.test.ts. What follows is the worker's: the renewal's retry delay (15 to
  // 30 s), the poll, the job.
  const queue = createPgBossQueue({
    connectionString: database.url,
    log: silentLogger,
    heartbeatSeconds: 10,
    superviseIntervalSeconds: 1,
  });
  await queue.start(JOB_NAMES);
  cleanups.push(() => queue.stop(1_000));
  // Heartbeat 10 s + supervisor 1 s + retry delay up to 30 s + polling 2 s, and the second worker's start.
  return { name: 'pg-boss', redisUrl: '', queue, recoveryMs: 75_000 };
}

async function onBullmq(options: { watchStalled: boolean }): Promise<Engine> {
  const redis = await redisServer();
  cleanups.push(() => redis.dispose());
  // The workers' prefix (`didops`): this handle sees their queues.
  const queue = createBullmqQueue({ redisUrl: redis.url, log: silentLogger });
  await queue.start(JOB_NAMES);
  cleanups.push(() => queue.stop(1_000));
  if (options.watchStalled) {
    const watcher = await watchStalledJobs(redis.url, RENEW);
    cleanups.push(() => watcher.close());
  }
  // The dead worker's lock (30 s, BullMQ's default, renewed every 15 s) + the 1 s stalled check.
  return { name: 'BullMQ', redisUrl: redis.url, queue, recoveryMs: 60_000, redis };
}

/** `node bin/start.ts worker` as deployed, against the test's database, Stripe and queue; ready when it runs. */
async function startWorker(engine: Engine): Promise<Spawned> {
  const worker = runScript('bin/start.ts', ['worker'], {
    NODE_ENV: 'production',
    SESSION_SECRET: 'renewal-faults-test-session-secret-0123456789',
    DATABASE_URL: database.url,
    REDIS_URL: engine.redisUrl,
    STRIPE_SECRET_KEY: TEST_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    STRIPE_API_BASE: stripeServer.url,
    PUBLIC_URL,
    METRICS_PORT: '',
  });
  children.push(worker);
  await waitFor(
    () => {
      if (worker.child.exitCode !== null) throw new Error(`the worker exited:\n${worker.stderr()}`);
      return worker.stdout().includes('didops is running');
    },
    60_000,
    () => `the worker did not start:\n${worker.stdout()}\n${worker.stderr()}`,
  );
  return worker;
}

/**
 * `count` numbers bought by card in one order 35 days ago (a saved card, a Stripe customer), through the
 * storefront's use cases: their subscriptions' first period ended a few days ago.
 */
async function subscriptionsDue(engine: Engine, count: number): Promise<Subscription[]> {
  const db = database.db;
  const operator = await buildOperator(db);
  const customer = await buildAccount(db, operator, { billing_mode: 'prepaid' });
  const dids = [];
  for (let i = 0; i < count; i++) dids.push(await buildDid(db, { recurring_fee: FEE }));
  const payments = createStripeGateway({
    secretKey: TEST_SECRET_KEY,
    webhookSecret: TEST_WEBHOOK_SECRET,
    apiBase: stripeServer.url,
  });
  const ctx: BillingCtx = {
    db,
    actor: actorOf(customer, 'owner', 'web'),
    clock: new ManualClock(new Date(Date.now() - 35 * DAY_MS)),
    settings: { didAgingDays: 30 },
    payments,
    enqueue: enqueuerFor(engine.queue),
    publicUrl: PUBLIC_URL,
    policy: DEFAULT_BILLING_POLICY,
  };
  const { order } = await placeOrder(ctx, {
    didIds: dids.map((did) => did.id),
    method: 'card',
    submitKey: `renewal-faults-${randomBytes(6).toString('hex')}`,
  });
  const { payload, signature } = signedEvent(stripe.payCheckout(order.checkout_session_id!));
  const event = payments.parseWebhook(Buffer.from(payload), signature);
  if (event.type !== 'checkout.completed') throw new Error(`unexpected ${event.type}`);
  expect(await completeCheckout(ctx, event.checkout)).toBe('fulfilled');
  const subs = await db.selectFrom('subscriptions').selectAll().orderBy('id').execute();
  expect(subs).toHaveLength(count);
  for (const sub of subs) {
    expect(sub.stripe_payment_method_id).toBeTruthy();
    expect(sub.current_period_end.getTime()).toBeLessThan(Date.now());
  }
  return subs;
}

/** The idempotency key of a subscription's first renewal (core/billing/renewals.ts). */
const renewalKey = (sub: Subscription) => `renew-${sub.id}-${sub.current_period_end.getTime()}-1`;

/** Everything a customer or the operator would see of the renewals of `subs`. */
async function renewalsOf(subs: readonly Subscription[]) {
  const ids = subs.map((sub) => sub.id);
  const [charges, payments, audit, now] = await Promise.all([
    database.db
      .selectFrom('charges')
      .select(['subscription_id', 'period_start', 'period_end', 'amount'])
      .where('subscription_id', 'in', ids)
      .where('kind', '=', 'recurring')
      .orderBy('id')
      .execute(),
    database.db
      .selectFrom('payments')
      .select(['subscription_id', 'idempotency_key', 'provider_ref', 'status', 'amount'])
      .where('subscription_id', 'in', ids)
      .where('idempotency_key', 'like', 'renew-%')
      .orderBy('id')
      .execute(),
    database.db
      .selectFrom('audit_events')
      .select(['did_id', 'actor_label'])
      .where('action', 'in', ['subscription.renew', 'subscription.restore'])
      .execute(),
    database.db.selectFrom('subscriptions').selectAll().where('id', 'in', ids).orderBy('id').execute(),
  ]);
  return { charges, payments, audit, subscriptions: now };
}

/** How many of `subs` have their renewal payment recorded. */
async function renewedCount(subs: readonly Subscription[]): Promise<number> {
  const row = await database.db
    .selectFrom('payments')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where(
      'subscription_id',
      'in',
      subs.map((sub) => sub.id),
    )
    .where('idempotency_key', 'like', 'renew-%')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Checks that each of `before` was renewed for exactly its next period, once, with one Stripe intent. */
async function expectEachRenewedOnce(before: readonly Subscription[], intentRequests: HandledRequest[]) {
  const after = await renewalsOf(before);
  const intentsByKey = new Map<string, string[]>();
  for (const [intentId, charge] of stripe.charges) {
    const key = charge.metadata['payment_key'];
    if (key?.startsWith('renew-')) intentsByKey.set(key, [...(intentsByKey.get(key) ?? []), intentId]);
  }
  expect(intentsByKey.size).toBe(before.length);

  for (const sub of before) {
    const key = renewalKey(sub);
    const next = periodEnd(sub.current_period_end, {
      billingPeriod: sub.billing_period,
      billingDays: sub.billing_days,
      anchorDay: sub.anchor_day,
    });
    // Stripe: one intent for the period, however often it was asked, always with the renewal's key.
    const intents = intentsByKey.get(key) ?? [];
    expect(intents, `intents for ${key}`).toHaveLength(1);
    expect(stripe.charges.get(intents[0]!)?.amount).toBe(FEE);
    expect(intentRequests.filter((r) => r.idempotencyKey === key).length).toBeGreaterThanOrEqual(1);
    // Our ledger: one payment naming that intent, the first period's charge plus one for the next period.
    expect(after.payments.filter((p) => p.subscription_id === sub.id)).toEqual([
      {
        subscription_id: sub.id,
        idempotency_key: key,
        provider_ref: intents[0],
        status: 'succeeded',
        amount: FEE,
      },
    ]);
    expect(
      after.charges
        .filter((c) => c.subscription_id === sub.id)
        .map((c) => [c.period_start?.toISOString(), c.period_end?.toISOString(), c.amount]),
    ).toEqual([
      [sub.current_period_start.toISOString(), sub.current_period_end.toISOString(), FEE],
      [sub.current_period_end.toISOString(), next.toISOString(), FEE],
    ]);
    // The subscription moved on by one period, and the audit trail says so once.
    const now = after.subscriptions.find((s) => s.id === sub.id)!;
    expect(now).toMatchObject({
      status: 'active',
      current_period_start: sub.current_period_end,
      current_period_end: next,
      dunning_attempts: 0,
    });
    expect(after.audit.filter((a) => a.did_id === sub.did_id)).toEqual([
      { did_id: sub.did_id, actor_label: 'system:renewal' },
    ]);
  }
  // Every intent request was a renewal's, with a key: none went out without one.
  expect(intentRequests.every((r) => r.idempotencyKey?.startsWith('renew-'))).toBe(true);
}

async function renewQueue(engine: Engine) {
  const [counts] = await engine.queue.counts([RENEW]);
  return counts!;
}

function crashTest(engine: () => Promise<Engine>) {
  it(
    'a renewal whose worker is killed while Stripe charges is done once, by the next worker',
    { timeout: 150_000 },
    async () => {
      const setup = await engine();
      const [sub] = await subscriptionsDue(setup, 1);
      const key = renewalKey(sub!);
      // Stripe makes the intent for the first request; its answer never arrives. Later ones are answered.
      const intentRequests: HandledRequest[] = [];
      stripe.beforeReply = (request) => {
        if (request.method !== 'POST' || request.path !== INTENTS) return;
        intentRequests.push(request);
        if (intentRequests.length === 1) return new Promise<void>(() => {});
      };

      const first = await startWorker(setup);
      await enqueuerFor(setup.queue)('billing-sweep', {});
      await waitFor(
        () => intentRequests.length === 1,
        30_000,
        () => `the renewal never reached Stripe:\n${first.stdout()}\n${first.stderr()}`,
      );
      expect(stripe.charges.size).toBe(2); // the purchase, and the renewal's intent whose answer is lost
      first.child.kill('SIGKILL');
      expect(await first.exited(5_000)).toEqual({ code: null, signal: 'SIGKILL' });
      const killedAt = Date.now();
      expect(await renewedCount([sub!])).toBe(0);
      expect((await renewQueue(setup)).active).toBe(1);

      const second = await startWorker(setup);
      await waitFor(
        async () => (await renewedCount([sub!])) === 1,
        setup.recoveryMs,
        () => `the renewal was not done within ${setup.recoveryMs} ms of the kill:\n${second.stderr()}`,
      );
      const recoveredMs = Date.now() - killedAt;
      // Nothing renews it a second time afterwards.
      await sleep(2_000);
      expect(intentRequests.map((r) => r.idempotencyKey)).toEqual([key, key]);
      await expectEachRenewedOnce([sub!], intentRequests);
      expect(await renewQueue(setup)).toMatchObject({ waiting: 0, active: 0, failed: 0 });
      console.info(`renewal worker killed (${setup.name}): renewed once, ${recoveredMs} ms after the kill`);
    },
  );
}

describe('a worker killed mid-renewal (pg-boss)', () => {
  crashTest(() => onPgBoss());
});

describeWithRedisServer('a worker killed mid-renewal (BullMQ)', () => {
  crashTest(() => onBullmq({ watchStalled: true }));
});

describeWithRedisServer('Redis restarted mid-run of renewals (BullMQ)', () => {
  const COUNT = 20;

  it(
    `renews each of ${COUNT} subscriptions exactly once across the restart`,
    { timeout: 120_000 },
    async () => {
      // A job Redis moved to active as it went down, its reply lost, is held by nobody until its lock runs
      // out (30 s) and a stalled-job check finds it: the workers' own checks could make that over a minute.
      const setup = await onBullmq({ watchStalled: true });
      const redis = setup.redis!;
      const subs = await subscriptionsDue(setup, COUNT);
      // Stripe answers slowly: with the renewal job's concurrency of 4, four renewals are at Stripe at a time.
      const intentRequests: HandledRequest[] = [];
      stripe.beforeReply = async (request) => {
        if (request.method !== 'POST' || request.path !== INTENTS) return;
        intentRequests.push(request);
        await sleep(300);
      };

      const worker = await startWorker(setup);
      await enqueuerFor(setup.queue)('billing-sweep', {});
      await waitFor(
        async () => (await renewedCount(subs)) >= 4,
        30_000,
        () => `renewals did not start:\n${worker.stdout()}\n${worker.stderr()}`,
      );

      const stoppedAt = Date.now();
      await redis.stop();
      const doneBefore = await renewedCount(subs);
      const askedBefore = intentRequests.length;
      await sleep(1_500);
      // Renewals that were at Stripe when Redis went away finished meanwhile: their jobs wait for Redis.
      const doneWhileDown = await renewedCount(subs);
      await redis.start();
      const downMs = Date.now() - stoppedAt;
      expect(doneBefore).toBeLessThan(COUNT);

      await waitFor(
        async () => (await renewedCount(subs)) === COUNT,
        60_000,
        () => `not every subscription was renewed after the restart:\n${worker.stderr()}`,
      );
      const renewedAt = Date.now();
      await waitFor(
        async () => {
          try {
            const counts = await renewQueue(setup);
            return counts.waiting + counts.active + counts.delayed === 0;
          } catch {
            return false; // the test's own connection is coming back
          }
        },
        30_000,
        () => 'renewal jobs were left in the queue',
      );
      // Nothing renews any of them a second time afterwards.
      await sleep(2_000);
      await expectEachRenewedOnce(subs, intentRequests);
      expect(await renewQueue(setup)).toMatchObject({ waiting: 0, active: 0, delayed: 0, failed: 0 });
      expect(worker.child.exitCode).toBeNull();
      const asked = new Map<string, number>();
      for (const r of intentRequests) asked.set(r.idempotencyKey!, (asked.get(r.idempotencyKey!) ?? 0) + 1);
      const again = [...asked].filter(([, n]) => n > 1).map(([k]) => k);
      console.info(
        `Redis restart: down ${downMs} ms with ${doneBefore}/${COUNT} renewed (${askedBefore} asked of Stripe), ` +
          `${doneWhileDown - doneBefore} more while down; all ${COUNT} renewed ${renewedAt - stoppedAt} ms ` +
          `after the stop, each once; renewals asked of Stripe twice: ${again.length ? again.join(', ') : 'none'}`,
      );
    },
  );
});
