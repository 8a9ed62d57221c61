// What billing tests share: a real PostgreSQL, a real job queue (pg-boss on that database unless a test
// asks for BullMQ), Stripe faked at the HTTP level (nock in front of FakeStripe) behind the real Stripe
// adapter, and billing contexts for any account at a test-controlled time.
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import {
  DEFAULT_BILLING_POLICY,
  type BillingCtx,
  type BillingPolicy,
} from '../../../core/billing/billing-context.ts';
import type { Account } from '../../../core/db/schema.ts';
import type { JobDeps } from '../../../core/jobs/job-context.ts';
import { createPgBossQueue } from '../../../core/jobs/pgboss-queue.ts';
import type { JobQueue } from '../../../core/jobs/queue.ts';
import { bulkEnqueuerFor, enqueuerFor, JOB_NAMES } from '../../../core/jobs/registry.ts';
import type { NotificationChannel } from '../../../core/notifications/notifications.ts';
import type { PaymentGateway } from '../../../core/payments/gateway.ts';
import { createStripeGateway } from '../../../core/payments/stripe-gateway.ts';
import { silentLogger } from '../../../core/runtime/logger.ts';
import { ManualClock } from '../../../core/shared/clock.ts';
import type { UserRole } from '../../../core/db/schema.ts';
import { useTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { actorOf } from '../../helpers/factories.ts';
import { FakeStripe, signedEvent, TEST_SECRET_KEY, TEST_WEBHOOK_SECRET } from '../../helpers/fake-stripe.ts';
import { completeCheckout, placeOrder } from '../../../core/billing/orders.ts';

export const PUBLIC_URL = 'https://shop.example.test';

export interface BillingFixture {
  readonly database: TestDatabase;
  readonly db: TestDatabase['db'];
  readonly queue: JobQueue;
  readonly stripe: FakeStripe;
  readonly payments: PaymentGateway;
  readonly clock: ManualClock;
  /** Channels notices are delivered to: a test records what was sent. */
  readonly sent: { accountId: number; text: string }[];
  policy: BillingPolicy;
  /** A billing context acting as a user of `account` (the buyer) or as given. */
  ctxFor(
    account: Account,
    options?: { role?: UserRole; payments?: PaymentGateway | null; userId?: number },
  ): BillingCtx;
  jobDeps(): JobDeps;
}

export function useBilling(options: { queue?: (databaseUrl: string) => JobQueue } = {}): BillingFixture {
  const database = useTestDatabase();
  let queue: JobQueue | undefined;
  let stripe = new FakeStripe();
  const clock = new ManualClock('2026-01-31T09:00:00Z');
  const payments = createStripeGateway({ secretKey: TEST_SECRET_KEY, webhookSecret: TEST_WEBHOOK_SECRET });
  const sent: { accountId: number; text: string }[] = [];
  const recorder: NotificationChannel = {
    name: 'test',
    deliver(notice, text) {
      sent.push({ accountId: notice.account_id, text });
      return Promise.resolve(1);
    },
  };

  beforeAll(async () => {
    queue =
      options.queue?.(database.url) ??
      createPgBossQueue({ connectionString: database.url, log: silentLogger });
    await queue.start(JOB_NAMES);
  });
  beforeEach(async () => {
    stripe = new FakeStripe();
    fixture.policy = DEFAULT_BILLING_POLICY;
    clock.set('2026-01-31T09:00:00Z');
    sent.length = 0;
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    await stripe.intercept();
  });
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });
  afterAll(async () => {
    await queue?.stop(1_000);
  });

  const fixture: BillingFixture = {
    database,
    get db() {
      return database.db;
    },
    get queue() {
      if (!queue) throw new Error('The queue starts in beforeAll');
      return queue;
    },
    get stripe() {
      return stripe;
    },
    payments,
    clock,
    sent,
    policy: DEFAULT_BILLING_POLICY,
    ctxFor(account, opts = {}) {
      return {
        db: database.db,
        actor: actorOf(account, opts.role ?? 'owner', 'web', opts.userId ?? null),
        clock,
        settings: { didAgingDays: 30 },
        payments: opts.payments === undefined ? payments : opts.payments,
        enqueue: enqueuerFor(fixture.queue),
        publicUrl: PUBLIC_URL,
        policy: fixture.policy,
      };
    },
    jobDeps() {
      return {
        db: database.db,
        clock,
        settings: { didAgingDays: 30 },
        policy: fixture.policy,
        payments,
        publicUrl: PUBLIC_URL,
        enqueue: enqueuerFor(fixture.queue),
        enqueueMany: bulkEnqueuerFor(fixture.queue),
        channels: [recorder],
        log: silentLogger,
      };
    },
  };
  return fixture;
}

let submitSequence = 0;

/** Buys numbers the way the storefront does: on account, or by card with the payment confirmed. */
export async function buy(
  fixture: BillingFixture,
  account: Account,
  didIds: readonly number[],
  method: 'card' | 'invoice',
): Promise<number> {
  const ctx = fixture.ctxFor(account);
  const { order } = await placeOrder(ctx, { didIds, method, submitKey: `test-submit-${++submitSequence}` });
  if (method === 'card' && order.status === 'pending') {
    const { payload, signature } = signedEvent(fixture.stripe.payCheckout(order.checkout_session_id!));
    const event = fixture.payments.parseWebhook(Buffer.from(payload), signature);
    if (event.type !== 'checkout.completed') throw new Error(`unexpected ${event.type}`);
    await completeCheckout(ctx, event.checkout);
  }
  return order.id;
}
