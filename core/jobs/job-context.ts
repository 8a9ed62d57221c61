// What every job receives: the store, the clock, the billing policy, the payments port, the way to enqueue
// more work, and the notification channels. Jobs act as the system on behalf of the operator.
import type { Actor } from '../accounts/actor.ts';
import { operatorActor } from '../accounts/users.ts';
import type { BillingCtx, BillingPolicy, Enqueue } from '../billing/billing-context.ts';
import type { Settings } from '../context.ts';
import type { Db } from '../db/connect.ts';
import type { NotificationChannel } from '../notifications/notifications.ts';
import type { PaymentGateway } from '../payments/gateway.ts';
import type { Logger } from '../runtime/logger.ts';
import { countRenewal, observeJob } from '../runtime/metrics.ts';
import { runWithRequestContext, validRequestId } from '../runtime/request-context.ts';
import type { Clock } from '../shared/clock.ts';
import { PermanentJobError, type JobHandler, type JobInfo, type JobPayload } from './queue.ts';

export interface JobDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly settings: Settings;
  readonly policy: BillingPolicy;
  readonly payments: PaymentGateway | null;
  readonly publicUrl: string;
  readonly enqueue: Enqueue;
  /** Many jobs of one name at once (sweeps). */
  readonly enqueueMany: (
    name: string,
    jobs: readonly { payload: JobPayload; options?: { key?: string; delayMs?: number } }[],
  ) => Promise<number>;
  readonly channels: readonly NotificationChannel[];
  readonly log: Logger;
}

// The operator account never changes once created: read it once per process and job, not once per run.
const actors = new WeakMap<JobDeps, Map<string, Actor>>();

async function systemActor(deps: JobDeps, job: string): Promise<Actor> {
  let byJob = actors.get(deps);
  if (!byJob) actors.set(deps, (byJob = new Map<string, Actor>()));
  let actor = byJob.get(job);
  if (!actor) byJob.set(job, (actor = await operatorActor(deps.db, 'system', job)));
  return actor;
}

/** A billing context acting as the system (audit label `system:<job>`). */
export async function systemBillingCtx(deps: JobDeps, job: string): Promise<BillingCtx> {
  return {
    db: deps.db,
    actor: await systemActor(deps, job),
    clock: deps.clock,
    settings: deps.settings,
    payments: deps.payments,
    enqueue: deps.enqueue,
    publicUrl: deps.publicUrl,
    policy: deps.policy,
  };
}

export interface JobDefinition<P extends JobPayload = JobPayload> {
  readonly name: string;
  /** Tries in all, and the first retry's delay (doubled each time). */
  readonly attempts: number;
  readonly backoffMs: number;
  readonly concurrency?: number;
  /** 5-field cron (UTC) for jobs that run on a schedule. */
  readonly cron?: string;
  run(deps: JobDeps, payload: P, job: JobInfo): Promise<unknown>;
}

export function defineJob<P extends JobPayload>(definition: JobDefinition<P>): JobDefinition<P> {
  return definition;
}

/**
 * Adapts a definition to the queue port's handler: logs what each run did (with the request id of the web
 * request that led to it, when there was one), records its duration and outcome in the metrics, and runs it
 * in that request's context so the jobs it enqueues carry the id on.
 */
export function handlerFor<P extends JobPayload>(deps: JobDeps, job: JobDefinition<P>): JobHandler<P> {
  const jobLog = deps.log.child({ job: job.name });
  const run = async (log: Logger, payload: P, info: JobInfo) => {
    const started = performance.now();
    try {
      const outcome = await job.run(deps, payload, info);
      const ms = performance.now() - started;
      observeJob(job.name, 'completed', ms / 1000);
      if (job.name === RENEW_SUBSCRIPTION) countRenewal(outcome);
      log.debug({ payload, attempt: info.attempt, outcome, ms: Math.round(ms) }, 'Job done');
    } catch (error) {
      const ms = performance.now() - started;
      observeJob(job.name, 'failed', ms / 1000);
      log.warn({ payload, attempt: info.attempt, err: error, ms: Math.round(ms) }, 'Job failed');
      throw error;
    }
  };
  return (payload, info) => {
    const requestId = validRequestId(payload.requestId);
    if (requestId === null) return run(jobLog, payload, info);
    return runWithRequestContext({ requestId }, () => run(jobLog.child({ requestId }), payload, info));
  };
}

/** The job whose outcomes feed didops_renewals_total. */
const RENEW_SUBSCRIPTION = 'renew-subscription';

/** Reads a positive integer id from a payload, or fails the job for good (a malformed job never heals). */
export function idFrom(payload: JobPayload, field: string): number {
  const value = payload[field];
  const id = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(id) || id <= 0) throw new MalformedPayloadError(field, value);
  return id;
}

export class MalformedPayloadError extends PermanentJobError {
  constructor(field: string, value: unknown) {
    super(`Job payload field "${field}" must be a positive integer id (got ${JSON.stringify(value)})`);
    this.name = 'MalformedPayloadError';
  }
}
