// What every job receives: the store, the clock, the billing policy, the payments port, the way to enqueue
// more work, and the notification channels. Jobs act as the system on behalf of the operator.
import { operatorActor } from '../accounts/users.ts';
import type { BillingCtx, BillingPolicy, Enqueue } from '../billing/billing-context.ts';
import type { Settings } from '../context.ts';
import type { Db } from '../db/connect.ts';
import type { NotificationChannel } from '../notifications/notifications.ts';
import type { PaymentGateway } from '../payments/gateway.ts';
import type { Logger } from '../runtime/logger.ts';
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

/** A billing context acting as the system (audit label `system:<job>`). */
export async function systemBillingCtx(deps: JobDeps, job: string): Promise<BillingCtx> {
  return {
    db: deps.db,
    actor: await operatorActor(deps.db, 'system', job),
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

/** Adapts a definition to the queue port's handler, logging what each run did. */
export function handlerFor<P extends JobPayload>(deps: JobDeps, job: JobDefinition<P>): JobHandler<P> {
  const log = deps.log.child({ job: job.name });
  return async (payload, info) => {
    const started = Date.now();
    try {
      const outcome = await job.run(deps, payload, info);
      log.debug({ payload, attempt: info.attempt, outcome, ms: Date.now() - started }, 'Job done');
    } catch (error) {
      log.warn({ payload, attempt: info.attempt, err: error, ms: Date.now() - started }, 'Job failed');
      throw error;
    }
  };
}

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
