// The job side of a process: opens the queue (BullMQ when REDIS_URL is set, pg-boss otherwise), the
// payments gateway (Stripe when configured), and in the worker role registers every job and schedule.
// Every role gets `enqueue`: the web role enqueues (webhooks, checkouts), the worker also handles.
import { DEFAULT_BILLING_POLICY, type BillingPolicy, type Enqueue } from '../billing/billing-context.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/connect.ts';
import type { JobDeps } from '../jobs/job-context.ts';
import { openJobQueue } from '../jobs/open-queue.ts';
import { DEFAULT_STOP_GRACE_MS, type JobQueue } from '../jobs/queue.ts';
import { bulkEnqueuerFor, enqueuerFor, JOB_NAMES, startJobWorker } from '../jobs/registry.ts';
import type { NotificationChannel } from '../notifications/notifications.ts';
import type { PaymentGateway } from '../payments/gateway.ts';
import { createStripeGateway } from '../payments/stripe-gateway.ts';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from './logger.ts';

export interface JobsRuntime {
  readonly queue: JobQueue;
  readonly enqueue: Enqueue;
  readonly payments: PaymentGateway | null;
  readonly policy: BillingPolicy;
  stop(): Promise<void>;
}

export interface JobsOptions {
  readonly config: Config;
  readonly db: Db;
  readonly databaseUrl: string;
  readonly log: Logger;
  readonly clock: Clock;
  /** Handle jobs and keep schedules in this process (the worker role). */
  readonly work: boolean;
  readonly channels: readonly NotificationChannel[];
}

/** The Stripe gateway when STRIPE_SECRET_KEY is set; null means card payments are off. */
export function paymentsFromConfig(config: Config): PaymentGateway | null {
  const { secretKey, webhookSecret, apiBase } = config.stripe;
  if (!secretKey) return null;
  return createStripeGateway({
    secretKey,
    ...(webhookSecret ? { webhookSecret } : {}),
    ...(apiBase ? { apiBase } : {}),
  });
}

export async function startJobs(options: JobsOptions): Promise<JobsRuntime> {
  const { config, log } = options;
  const queue = openJobQueue({ redisUrl: config.redisUrl, databaseUrl: options.databaseUrl, log });
  await queue.start(JOB_NAMES);
  const enqueue = enqueuerFor(queue);
  const payments = paymentsFromConfig(config);
  const policy = DEFAULT_BILLING_POLICY;
  if (options.work) {
    const deps: JobDeps = {
      db: options.db,
      clock: options.clock,
      settings: { didAgingDays: config.didAgingDays },
      policy,
      payments,
      publicUrl: config.publicUrl,
      enqueue,
      enqueueMany: bulkEnqueuerFor(queue),
      channels: options.channels,
      log: log.child({ role: 'worker' }),
    };
    await startJobWorker(queue, deps);
    log.info({ engine: queue.engine, jobs: JOB_NAMES }, 'Worker handling jobs');
  }
  return { queue, enqueue, payments, policy, stop: () => queue.stop(DEFAULT_STOP_GRACE_MS) };
}
