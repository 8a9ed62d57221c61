// The job-queue port. Core code enqueues and handles jobs through this interface only; two adapters sit
// behind it: BullMQ on Redis (REDIS_URL set) and pg-boss on the PostgreSQL we already have (otherwise).
// One contract test suite runs against both, so they behave the same where core relies on it.
//
// What core relies on:
// - payloads are small JSON objects of ids (a job may run twice and must re-read the truth);
// - `key` de-duplicates: while a job with the same name and key is waiting, delayed or running, enqueueing
//   it again is a no-op that returns false; once it has finished, the key is free again;
// - a handler that throws is retried with exponential backoff up to `attempts` times; `PermanentJobError`
//   stops the retries at once;
// - `stop()` stops taking jobs and waits (bounded) for running handlers; jobs it could not finish go back
//   to the queue for another worker.
// The database, not the queue, is the truth about what is due: sweeps re-create lost jobs.
//
// Where the engines still differ (each adapter's header says how it bridges the rest):
// - retry delays: BullMQ waits exactly backoffMs, 2x, 4x…; pg-boss counts in whole seconds (at least 1 s)
//   and adds up to 100% jitter, so a retry comes between 1x and 2x the nominal delay;
// - a handler cut short by stop() does not use up an attempt on BullMQ; on pg-boss it does, but the job
//   always gets at least one more run.

export type JobPayload = Readonly<Record<string, string | number | boolean | null>>;

export interface EnqueueOptions {
  /** De-duplication key (letters, digits, `-`, `_`, `.`; no `:`, which BullMQ reserves). */
  readonly key?: string;
  /** Run no earlier than this many milliseconds from now. */
  readonly delayMs?: number;
  /** Tries in all, the first included (default: the queue's policy). */
  readonly attempts?: number;
  /** First retry delay; doubled at each further retry (default: the queue's policy). */
  readonly backoffMs?: number;
}

export interface JobInfo {
  readonly id: string;
  readonly name: string;
  /** 1 for the first try; a try cut short by stop() or a crash counts as a try. */
  readonly attempt: number;
  /** Aborted when the worker is stopping: long handlers should give up early and let a retry finish. */
  readonly signal: AbortSignal;
}

export type JobHandler<P extends JobPayload = JobPayload> = (payload: P, job: JobInfo) => Promise<void>;

export interface WorkOptions {
  /** Jobs of this name handled at once by this process (default 1). */
  readonly concurrency?: number;
}

export interface QueueCounts {
  readonly name: string;
  /** Ready to run now (retries that are due included). */
  readonly waiting: number;
  /** Waiting for their time: enqueued with a delay, or a retry in its backoff. */
  readonly delayed: number;
  readonly active: number;
  readonly completed: number;
  readonly failed: number;
}

export interface FailedJob {
  readonly id: string;
  readonly name: string;
  readonly payload: JobPayload;
  readonly error: string;
  /** Tries made, the last one included. */
  readonly attempts: number;
  readonly failedAt: Date | null;
}

export interface JobQueue {
  readonly engine: 'bullmq' | 'pg-boss';
  /** Connects and prepares the named queues; call once before anything else. */
  start(names: readonly string[]): Promise<void>;
  /** True when a job was added, false when one with the same key was already pending or running. */
  enqueue(name: string, payload: JobPayload, options?: EnqueueOptions): Promise<boolean>;
  /**
   * Many jobs of one name in one round trip (a sweep enqueueing a day's renewals); the same de-duplication
   * as enqueue(). Returns how many were added.
   */
  enqueueMany(
    name: string,
    jobs: readonly { payload: JobPayload; options?: EnqueueOptions }[],
  ): Promise<number>;
  /** Handles jobs of `name` in this process until stop(). */
  work<P extends JobPayload>(name: string, handler: JobHandler<P>, options?: WorkOptions): Promise<void>;
  /** Runs `name` on a 5-field cron schedule in UTC (one schedule per name, across all processes). */
  schedule(name: string, cron: string, payload?: JobPayload): Promise<void>;
  /** Counts per queue, for the back office and /metrics. */
  counts(names: readonly string[]): Promise<QueueCounts[]>;
  /** Most recent failed jobs (after their last attempt) of a queue. */
  failed(name: string, limit: number): Promise<FailedJob[]>;
  /**
   * Puts a failed job back to run again (at least one more try). False when there is no such failed job,
   * or when a job with the same key is pending again by now.
   */
  retry(name: string, id: string): Promise<boolean>;
  /** Throws when the backing store does not answer (readiness). */
  ping(): Promise<void>;
  /**
   * Stops taking jobs, waits up to graceMs (default 10 s) for running ones, then closes connections.
   * Handlers still running then see their signal aborted and their jobs go back to the queue.
   */
  stop(graceMs?: number): Promise<void>;
}

/** A recurring schedule as the engine stores it. */
export interface ScheduleInfo {
  readonly name: string;
  readonly cron: string;
  readonly timezone: string;
}

/** What both adapters offer beyond the port: for the back office and the contract tests. */
export interface JobQueueAdapter extends JobQueue {
  /** Every recurring schedule in the store. */
  schedules(): Promise<ScheduleInfo[]>;
}

/** An adapter's policy for jobs enqueued without their own `attempts` / `backoffMs`. */
export interface RetryDefaults {
  readonly attempts?: number;
  readonly backoffMs?: number;
}

/** Five tries, 10 s, 20 s, 40 s and 80 s apart: rides out a provider's bad minute, not a bad day. */
export const DEFAULT_RETRY: Required<RetryDefaults> = { attempts: 5, backoffMs: 10_000 };

/** Graceful stop budget when the caller names none: inside Docker's 10 s SIGTERM-to-SIGKILL window. */
export const DEFAULT_STOP_GRACE_MS = 8_000;

/** Throw from a handler to fail the job without further retries (the input can never succeed). */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

const KEY_PATTERN = /^[A-Za-z0-9_.-]{1,200}$/;

/** Adapters call this so a bad key fails loudly in every engine, not only in BullMQ. */
export function assertJobKey(key: string): void {
  if (!KEY_PATTERN.test(key)) {
    throw new Error(`Job key "${key}" must be 1-200 characters of letters, digits, "-", "_" and "."`);
  }
}

const QUEUE_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,100}$/;

/** Queue names both engines accept (pg-boss allows no `:` either way, BullMQ reserves it). */
export function assertQueueName(name: string): void {
  if (!QUEUE_NAME_PATTERN.test(name)) {
    throw new Error(`Queue name "${name}" must be 1-100 characters of letters, digits, "-", "_" and "."`);
  }
}

/**
 * Five fields (minute hour day-of-month month day-of-week): BullMQ would also take a leading seconds
 * field and pg-boss a recurrence rule, so the port allows only what both read the same way.
 */
export function assertCron(cron: string): void {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5 || fields.some((field) => !/^[\w*/,#?-]+$/.test(field))) {
    throw new Error(`Schedule "${cron}" must be a 5-field cron expression (minute hour day month weekday)`);
  }
}

/** Retry attempts and delay for one job: its own options, else the adapter's defaults. */
export function retryPolicy(
  options: EnqueueOptions,
  defaults: RetryDefaults | undefined,
): { attempts: number; backoffMs: number } {
  const attempts = options.attempts ?? defaults?.attempts ?? DEFAULT_RETRY.attempts;
  const backoffMs = options.backoffMs ?? defaults?.backoffMs ?? DEFAULT_RETRY.backoffMs;
  if (!Number.isInteger(attempts) || attempts < 1) throw new Error(`attempts must be an integer >= 1`);
  if (!Number.isFinite(backoffMs) || backoffMs < 0) throw new Error(`backoffMs must be a number >= 0`);
  return { attempts, backoffMs };
}
