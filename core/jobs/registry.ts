// Every job the worker runs, in one list: the worker registers a handler and (when it has one) the
// schedule for each; the web role only enqueues.
import type { Enqueue } from '../billing/billing-context.ts';
import { currentRequestId } from '../runtime/request-context.ts';
import { handlerFor, type JobDefinition, type JobDeps } from './job-context.ts';
import { billingSweepJob } from './tasks/billing-sweep.ts';
import { bulkOperationJob } from './tasks/bulk-operation.ts';
import { deliverNotificationJob } from './tasks/deliver-notification.ts';
import { expireOrderJob } from './tasks/expire-order.ts';
import { processStripeEventJob } from './tasks/process-stripe-event.ts';
import { releaseSubscriptionJob } from './tasks/release-subscription.ts';
import { renewSubscriptionJob } from './tasks/renew-subscription.ts';
import type { EnqueueOptions, JobPayload, JobQueue } from './queue.ts';

export const JOBS: readonly JobDefinition<JobPayload>[] = [
  billingSweepJob,
  renewSubscriptionJob,
  releaseSubscriptionJob,
  expireOrderJob,
  processStripeEventJob,
  deliverNotificationJob,
  bulkOperationJob,
];

export const JOB_NAMES: readonly string[] = JOBS.map((job) => job.name);

export function jobDefinition(name: string): JobDefinition<JobPayload> | undefined {
  return JOBS.find((job) => job.name === name);
}

/**
 * An enqueue function that applies each job's retry policy unless the caller overrides it, and adds the
 * current request id (core/runtime/request-context.ts) to the payload so the worker's logs of the job can be
 * matched with the web request that caused it.
 */
export function enqueuerFor(queue: Pick<JobQueue, 'enqueue'>): Enqueue {
  return (name, payload, options = {}) => {
    const job = jobDefinition(name);
    if (!job) throw new Error(`Unknown job "${name}": add it to core/jobs/registry.ts`);
    return queue.enqueue(name, withRequestId(payload), {
      attempts: job.attempts,
      backoffMs: job.backoffMs,
      ...options,
    });
  };
}

/** The payload plus `requestId` when there is a current request and the payload has none yet. */
export function withRequestId(payload: JobPayload): JobPayload {
  const requestId = currentRequestId();
  return requestId === undefined || payload.requestId !== undefined ? payload : { ...payload, requestId };
}

export type EnqueueMany = (
  name: string,
  jobs: readonly { payload: JobPayload; options?: EnqueueOptions }[],
) => Promise<number>;

/** The bulk form of enqueuerFor, for sweeps. */
export function bulkEnqueuerFor(queue: Pick<JobQueue, 'enqueueMany'>): EnqueueMany {
  return (name, jobs) => {
    const job = jobDefinition(name);
    if (!job) throw new Error(`Unknown job "${name}": add it to core/jobs/registry.ts`);
    return queue.enqueueMany(
      name,
      jobs.map(({ payload, options = {} }) => ({
        payload: withRequestId(payload),
        options: { attempts: job.attempts, backoffMs: job.backoffMs, ...options },
      })),
    );
  };
}

/** The worker role: handle every job and keep the schedules. */
export async function startJobWorker(queue: JobQueue, deps: JobDeps): Promise<void> {
  for (const job of JOBS) {
    await queue.work(job.name, handlerFor(deps, job), { concurrency: job.concurrency ?? 1 });
    if (job.cron) await queue.schedule(job.name, job.cron);
  }
}
