// The job-queue port on pg-boss 12 and the PostgreSQL we already run, chosen when REDIS_URL is unset. pg-boss
// keeps its tables in a schema of its own (default `pgboss`) and polls for work.
//
// How the contract maps onto pg-boss:
// - every queue is created with the `exclusive` policy: at most one job per (name, singletonKey) that is
//   created, retrying or active. That is the port's `key`. pg-boss reads a missing singletonKey as the
//   empty key, which would let only one keyless job exist at a time, so keyless jobs get a unique one
//   (`~` + UUID; `~` cannot appear in a port key). A duplicate makes send() resolve null: enqueue() → false;
// - attempts → retryLimit (attempts - 1); backoffMs → retryDelay with retryBackoff. pg-boss counts retry
//   delays in whole seconds (at least 1 s) and adds jitter: delay n is between d·2^(n-1) and d·2^n;
// - handlers run with `perJobResults`, one job per fetch, and answer each job's outcome: PermanentJobError
//   answers `deadletter`, which pg-boss settles as failed at once, retries left or not (no dead-letter
//   queue is configured), so nothing is thrown and nothing is retried;
// - the attempt number is retryCount + 1. pg-boss bumps retryCount on each claim after a started one, so
//   a run cut short by stop() or a crash counts as a try here too;
// - stop(graceMs) stops the fetch loops and waits for running handlers itself (pg-boss's own graceful stop
//   polls every 500 ms and, at its deadline, *fails* what is still running, which can end a job for good
//   on its last attempt). Handlers still running after graceMs have their signal aborted and their jobs put
//   back as `retry`, due now, with started_on kept, so the next claim bumps retryCount and pg-boss's attempt
//   fence ignores anything the abandoned run settles later;
// - a worker that dies: the queues have a 30 s heartbeat, so pg-boss's supervisor puts such jobs back for
//   a retry after about a minute, instead of after expireInSeconds (15 min by default);
// - counts(), failed() and retry() read and write pg-boss's job table (getQueueStats has no completed
//   count, and boss.retry() leaves the job's start_after where the failure put it).
import { randomUUID } from 'node:crypto';
import { PgBoss, type Job, type JobResult } from 'pg-boss';
import type { Logger } from '../runtime/logger.ts';
import {
  DEFAULT_STOP_GRACE_MS,
  PermanentJobError,
  assertCron,
  assertJobKey,
  assertQueueName,
  retryPolicy,
  type EnqueueOptions,
  type FailedJob,
  type JobHandler,
  type JobPayload,
  type JobQueueAdapter,
  type QueueCounts,
  type RetryDefaults,
  type ScheduleInfo,
  type WorkOptions,
} from './queue.ts';

export interface PgBossQueueOptions {
  readonly connectionString: string;
  /** Schema for pg-boss's tables (default `pgboss`), created on first start. */
  readonly schema?: string;
  readonly log: Logger;
  readonly defaults?: RetryDefaults;
  /** How often an idle worker looks for jobs (default 2,000 ms; pg-boss allows no less than 500). */
  readonly pollingIntervalMs?: number;
  /** Connections in pg-boss's own pool (default 5). */
  readonly maxConnections?: number;
  /**
   * A worker that dies stops the heartbeat of its running jobs; pg-boss's supervisor, every
   * superviseIntervalSeconds (its supervise and monitor intervals), puts jobs whose heartbeat is older
   * than heartbeatSeconds back for a retry. Defaults 30 s and 60 s (pg-boss allows no heartbeat under
   * 10 s); tests of a crash shorten them.
   */
  readonly heartbeatSeconds?: number;
  readonly superviseIntervalSeconds?: number;
}

const HEARTBEAT_SECONDS = 30;
/** After graceMs, how long stop() still waits for the fetch loops to let go of the jobs it handed back. */
const RELEASE_TIMEOUT_MS = 5_000;
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,50}$/;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Running {
  readonly name: string;
  readonly job: Job<JobPayload>;
  readonly controller: AbortController;
  /** Resolves the handler's race early, once stop() has handed the job back to the queue. */
  release(): void;
}

interface CountRow {
  name: string;
  waiting: string;
  delayed: string;
  active: string;
  completed: string;
  failed: string;
}

interface FailedRow {
  id: string;
  data: JobPayload | null;
  output: unknown;
  retry_count: number;
  completed_on: Date | null;
}

export function createPgBossQueue(options: PgBossQueueOptions): JobQueueAdapter {
  const { log, defaults } = options;
  const schema = options.schema ?? 'pgboss';
  if (!SCHEMA_PATTERN.test(schema))
    throw new Error(`pg-boss schema "${schema}" must be a plain lowercase name`);
  const pollingIntervalSeconds = Math.max(500, options.pollingIntervalMs ?? 2_000) / 1000;

  const boss = new PgBoss({
    connectionString: options.connectionString,
    schema,
    application_name: 'didops-jobs',
    max: options.maxConnections ?? 5,
    // Fresh ready counts let busy workers fetch back to back (burst, below) instead of one job per poll.
    queueCacheIntervalSeconds: 1,
    ...(options.superviseIntervalSeconds === undefined
      ? {}
      : {
          superviseIntervalSeconds: options.superviseIntervalSeconds,
          monitorIntervalSeconds: options.superviseIntervalSeconds,
        }),
  });
  boss.on('error', (error) => log.error({ err: error }, 'pg-boss error'));
  boss.on('warning', (warning) => log.warn({ data: warning.data }, `pg-boss: ${warning.message}`));

  const declared = new Set<string>();
  const working = new Set<string>();
  const running = new Set<Running>();
  let started = false;
  let stopping = false;
  let stopped: Promise<void> | undefined;

  const sql = async <R>(text: string, values: unknown[] = []): Promise<R[]> =>
    (await boss.getDb().executeSql(text, values)).rows as R[];

  const assertDeclared = (name: string) => {
    if (!started) throw new Error('The job queue is not started');
    if (!declared.has(name)) throw new Error(`Unknown job queue "${name}": name it in start()`);
  };

  const sendOptions = (retry: { attempts: number; backoffMs: number }) => ({
    retryLimit: retry.attempts - 1,
    ...(retry.backoffMs > 0
      ? { retryDelay: Math.max(1, Math.round(retry.backoffMs / 1000)), retryBackoff: true }
      : { retryDelay: 0, retryBackoff: false }),
  });

  async function runOne(name: string, handler: JobHandler, job: Job<JobPayload>): Promise<JobResult | null> {
    const controller = new AbortController();
    let release!: () => void;
    const released = new Promise<'released'>((resolve) => {
      release = () => resolve('released');
    });
    const entry: Running = { name, job, controller, release };
    running.add(entry);
    const attempt = job.retryCount + 1;
    try {
      const handled = handler(job.data, {
        id: job.id,
        name,
        attempt,
        signal: AbortSignal.any([controller.signal, job.signal]),
      });
      // Left out of the results: pg-boss then fails it, fenced on the claim stop() already gave up.
      if ((await Promise.race([handled, released])) === 'released') return null;
      return { id: job.id, status: 'completed' };
    } catch (error) {
      const permanent = error instanceof PermanentJobError;
      const fields = { err: error, queue: name, jobId: job.id, attempt };
      if (permanent) log.error(fields, `Job ${name} failed for good`);
      else log.warn(fields, `Job ${name} failed; it is retried while it has attempts left`);
      return { id: job.id, status: permanent ? 'deadletter' : 'failed', output: describeError(error) };
    } finally {
      running.delete(entry);
    }
  }

  /** Puts jobs whose handlers outlived the grace period back in the queue, due now, for another worker. */
  async function releaseRunning(): Promise<void> {
    const stuck = [...running];
    await Promise.all(
      stuck.map(async (entry) => {
        entry.controller.abort(new Error('The worker is stopping'));
        try {
          await sql(
            `UPDATE ${schema}.job SET state = 'retry', start_after = now(), heartbeat_on = NULL
             WHERE name = $1 AND id = $2 AND state = 'active' AND retry_count = $3`,
            [entry.name, entry.job.id, entry.job.retryCount],
          );
          log.warn(
            { queue: entry.name, jobId: entry.job.id },
            'Job still running at shutdown: handed back to the queue',
          );
        } catch (error) {
          log.warn({ err: error, jobId: entry.job.id }, 'Could not hand a running job back to the queue');
        }
        entry.release();
      }),
    );
  }

  async function shutDown(graceMs: number): Promise<void> {
    stopping = true;
    if (!started) return;
    const draining = Promise.all([...working].map((name) => boss.offWork(name, { wait: true })));
    if ((await settleWithin(draining, graceMs)) === 'timeout') {
      await releaseRunning();
      await settleWithin(draining, RELEASE_TIMEOUT_MS);
    }
    // Nothing runs any more, so pg-boss's own stop has nothing to wait for or fail.
    await boss.stop({ graceful: true, timeout: 1_000 });
  }

  return {
    engine: 'pg-boss',

    async start(names) {
      if (stopping) throw new Error('The job queue is stopped');
      if (started) throw new Error('The job queue is already started');
      names.forEach(assertQueueName);
      await boss.start();
      started = true;
      const queueOptions = {
        policy: 'exclusive',
        heartbeatSeconds: options.heartbeatSeconds ?? HEARTBEAT_SECONDS,
        ...sendOptions(retryPolicy({}, defaults)),
      } as const;
      for (const name of names) {
        await boss.createQueue(name, queueOptions);
        const queue = await boss.getQueue(name);
        if (queue?.policy !== 'exclusive') {
          // Created by something else: its de-duplication would not be the port's.
          throw new Error(`pg-boss queue "${name}" has policy "${queue?.policy}", not "exclusive"`);
        }
        declared.add(name);
      }
    },

    async enqueue(name, payload, enqueueOptions: EnqueueOptions = {}) {
      if (stopping) throw new Error('The job queue is stopping');
      assertDeclared(name);
      const { key, delayMs } = enqueueOptions;
      if (key !== undefined) assertJobKey(key);
      const id = await boss.send(name, payload, {
        ...sendOptions(retryPolicy(enqueueOptions, defaults)),
        singletonKey: key ?? `~${randomUUID()}`,
        // A number is seconds from the database's now(), fractions allowed.
        ...(delayMs && delayMs > 0 ? { startAfter: delayMs / 1000 } : {}),
      });
      return id !== null;
    },

    async enqueueMany(name, jobs) {
      if (stopping) throw new Error('The job queue is stopping');
      assertDeclared(name);
      if (jobs.length === 0) return 0;
      // insert() ends in ON CONFLICT DO NOTHING: a key already pending is skipped, like send() returning null.
      const ids = await boss.insert(
        name,
        jobs.map(({ payload, options = {} }) => {
          if (options.key !== undefined) assertJobKey(options.key);
          return {
            data: payload,
            ...sendOptions(retryPolicy(options, defaults)),
            singletonKey: options.key ?? `~${randomUUID()}`,
            ...(options.delayMs && options.delayMs > 0
              ? { startAfter: new Date(Date.now() + options.delayMs) }
              : {}),
          };
        }),
        { returnId: true },
      );
      return ids?.length ?? 0;
    },

    async work<P extends JobPayload>(name: string, handler: JobHandler<P>, workOptions: WorkOptions = {}) {
      if (stopping) throw new Error('The job queue is stopping');
      assertDeclared(name);
      working.add(name);
      await boss.work<JobPayload>(
        name,
        {
          batchSize: 1,
          localConcurrency: workOptions.concurrency ?? 1,
          pollingIntervalSeconds,
          // With one job per fetch, pg-boss would otherwise wait a polling interval after every job:
          // while jobs are ready, fetch the next one at once.
          burstWhenReadyExceeds: 1,
          perJobResults: true,
        },
        async (jobs) => {
          const results = await Promise.all(jobs.map((job) => runOne(name, handler as JobHandler, job)));
          return results.filter((result): result is JobResult => result !== null);
        },
      );
    },

    async schedule(name, cron, payload = {}) {
      assertCron(cron);
      assertDeclared(name);
      await boss.schedule(name, cron, payload, { tz: 'UTC', ...sendOptions(retryPolicy({}, defaults)) });
    },

    async schedules(): Promise<ScheduleInfo[]> {
      if (!started) throw new Error('The job queue is not started');
      return (await boss.getSchedules()).map((schedule) => ({
        name: schedule.name,
        cron: schedule.cron,
        timezone: schedule.timezone,
      }));
    },

    async counts(names): Promise<QueueCounts[]> {
      names.forEach(assertDeclared);
      const rows = await sql<CountRow>(
        `SELECT name,
           count(*) FILTER (WHERE state IN ('created', 'retry') AND start_after <= now()) AS waiting,
           count(*) FILTER (WHERE state IN ('created', 'retry') AND start_after > now()) AS delayed,
           count(*) FILTER (WHERE state = 'active') AS active,
           count(*) FILTER (WHERE state = 'completed') AS completed,
           count(*) FILTER (WHERE state = 'failed') AS failed
         FROM ${schema}.job WHERE name = ANY($1::text[]) GROUP BY name`,
        [names],
      );
      const byName = new Map(rows.map((row) => [row.name, row]));
      return names.map((name) => {
        const row = byName.get(name);
        return {
          name,
          waiting: Number(row?.waiting ?? 0),
          delayed: Number(row?.delayed ?? 0),
          active: Number(row?.active ?? 0),
          completed: Number(row?.completed ?? 0),
          failed: Number(row?.failed ?? 0),
        };
      });
    },

    async failed(name, limit): Promise<FailedJob[]> {
      assertDeclared(name);
      if (limit <= 0) return [];
      const rows = await sql<FailedRow>(
        `SELECT id, data, output, retry_count, completed_on FROM ${schema}.job
         WHERE name = $1 AND state = 'failed' ORDER BY completed_on DESC NULLS LAST LIMIT $2`,
        [name, limit],
      );
      return rows.map((row) => ({
        id: row.id,
        name,
        payload: row.data ?? {},
        error: errorText(row.output),
        attempts: row.retry_count + 1,
        failedAt: row.completed_on,
      }));
    },

    async retry(name, id) {
      assertDeclared(name);
      if (!UUID_PATTERN.test(id)) return false;
      try {
        // Not boss.retry(): a job failed before its last attempt (PermanentJobError) keeps the start_after
        // of the retry it did not get, up to a backoff away, and retry_limit + 1 would give it one more
        // try than BullMQ does. Here it is due now, with what is left of its attempts, at least one.
        const rows = await sql<{ id: string }>(
          `UPDATE ${schema}.job
           SET state = 'retry', completed_on = NULL, start_after = now(),
               retry_limit = GREATEST(retry_limit, retry_count + 1)
           WHERE name = $1 AND id = $2 AND state = 'failed'
           RETURNING id`,
          [name, id],
        );
        return rows.length > 0;
      } catch (error) {
        // The exclusive policy's unique index: a newer job with the same key is pending.
        if ((error as { code?: string }).code === '23505') return false;
        throw error;
      }
    },

    async ping() {
      if (!started) throw new Error('The job queue is not started');
      await sql('SELECT 1');
    },

    stop(graceMs = DEFAULT_STOP_GRACE_MS) {
      stopped ??= shutDown(graceMs);
      return stopped;
    },
  };
}

/** What failed() shows: the same `{ name, message }` for a thrown error and a PermanentJobError. */
function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

function errorText(output: unknown): string {
  if (output && typeof output === 'object' && 'message' in output && typeof output.message === 'string') {
    return output.message;
  }
  return output === null || output === undefined ? '' : JSON.stringify(output);
}

/** Waits for `work` at most `ms`; never rejects (the caller only needs to know whether it settled). */
async function settleWithin(work: Promise<unknown>, ms: number): Promise<'settled' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([
      work.then(
        () => 'settled' as const,
        () => 'settled' as const,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
