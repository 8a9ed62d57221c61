// The job-queue port on BullMQ 6 and Redis, chosen when REDIS_URL is set. One BullMQ Queue per job name and
// one Worker per work() call, on two ioredis connections: queues on one that fails fast while Redis is
// away (so a web request that enqueues gets an error instead of hanging), workers on one with
// `maxRetriesPerRequest: null`, as BullMQ requires, that waits for Redis to come back (each worker adds
// its own blocking connection).
//
// How the contract maps onto BullMQ:
// - de-duplication uses BullMQ's own `deduplication: { id: key }` (simple mode: the key is held from add
//   until the job completes or finally fails, across its retries). Job ids stay random UUIDs: with
//   jobId = key, a failed job kept for failed() would block its key until removed, and "remove the old
//   failed job, then add" is two round trips another process can interleave with. A duplicate add returns
//   the id of the job already holding the key, which is how enqueue() tells it was a no-op;
// - completed and failed jobs are kept for a while (KEEP_*) so counts() and failed() have something to
//   show; they no longer hold their key;
// - exponential backoff is BullMQ's own (backoffMs, 2x, 4x…); PermanentJobError becomes UnrecoverableError;
// - the attempt number is BullMQ's `attemptsStarted`, so a run cut short by stop() or a crash counts as a
//   try, as it does on pg-boss;
// - stop(graceMs) closes the workers, which wait for running handlers; handlers still running after graceMs
//   have their signal aborted and their jobs moved back to waiting (`moveToWait` + WaitingError), so
//   another worker takes them at once instead of after the stalled-job check (lockDuration, 30 s) and
//   without using up an attempt. A process that dies leaves the stalled-job check to recover its jobs.
//
// BullMQ 6 made ioredis an optional peer dependency and, under ESM, cannot load it itself: we build the
// connection and hand it over. ioredis is loaded on first start() so that the pg-boss deployment (no
// REDIS_URL) needs no Redis client at all.
import { randomUUID } from 'node:crypto';
import { Queue, UnrecoverableError, WaitingError, Worker, type Job, type JobsOptions } from 'bullmq';
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
  type JobQueue,
  type JobQueueAdapter,
  type QueueCounts,
  type RetryDefaults,
  type ScheduleInfo,
  type WorkOptions,
} from './queue.ts';

export interface BullmqQueueOptions {
  readonly redisUrl: string;
  /** Prefix of every Redis key (default `didops`); lets several deployments or test runs share a Redis. */
  readonly prefix?: string;
  readonly log: Logger;
  readonly defaults?: RetryDefaults;
  /**
   * How long a worker's lock on a running job lasts (renewed at half of it while the handler runs), and
   * how often workers look for jobs whose lock ran out: a worker that died loses its jobs to the others
   * after about the sum. BullMQ's defaults (30 s each) unless given; tests of a crash shorten them.
   */
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
}

/** Completed jobs: kept a day (at most 1,000 per queue), for counts and the back office. */
const KEEP_COMPLETED = { age: 24 * 3600, count: 1_000 };
/** Failed jobs: kept a week (at most 5,000 per queue), for failed() and retry(). */
const KEEP_FAILED = { age: 7 * 24 * 3600, count: 5_000 };
/** How long start() and ping() wait for Redis before they report it unreachable. */
const CONNECT_TIMEOUT_MS = 5_000;
/** After graceMs, how long stop() still waits for workers to let go of the jobs it handed back. */
const RELEASE_TIMEOUT_MS = 5_000;

/** The part of an ioredis client this module uses (ioredis is an optional dependency, loaded at runtime). */
export interface RedisClient {
  readonly status: string;
  connect(): Promise<void>;
  duplicate(): RedisClient;
  disconnect(): void;
  quit(): Promise<string>;
  ping(): Promise<string>;
  set(key: string, value: string, mode: 'NX'): Promise<string | null>;
  set(key: string, value: string): Promise<string | null>;
  get(key: string): Promise<string | null>;
  del(...keys: string[]): Promise<number>;
  scan(
    cursor: string,
    match: 'MATCH',
    pattern: string,
    count: 'COUNT',
    n: number,
  ): Promise<[string, string[]]>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export type RedisClientConstructor = new (url: string, options: Record<string, unknown>) => RedisClient;

// A variable, not a literal, so the type checker does not require ioredis to be installed.
const IOREDIS: string = 'ioredis';

/** ioredis's client class; throws a clear error when the package is missing. */
export async function loadRedisClient(): Promise<RedisClientConstructor> {
  let loaded: { Redis?: RedisClientConstructor; default?: RedisClientConstructor };
  try {
    loaded = (await import(IOREDIS)) as typeof loaded;
  } catch (error) {
    throw new Error(
      'REDIS_URL is set, so jobs run on BullMQ, which needs the ioredis package: `npm install ioredis`. ' +
        'Unset REDIS_URL to run jobs on PostgreSQL (pg-boss) instead.',
      { cause: error },
    );
  }
  const constructor = loaded.Redis ?? loaded.default;
  if (!constructor) throw new Error('The ioredis package does not export a Redis client class');
  return constructor;
}

interface Running {
  readonly job: Job;
  readonly token: string | undefined;
  readonly controller: AbortController;
  /** Resolves the processor early, once stop() has handed the job back to the queue. */
  release(): void;
}

/** The BullMQ adapter also hands out its Queue objects: the back office mounts Bull Board over them. */
export interface BullmqQueueAdapter extends JobQueueAdapter {
  readonly engine: 'bullmq';
  /** The started queues, one per job name (empty before start()). */
  bullmqQueues(): Queue[];
}

export function isBullmqQueue(queue: JobQueue): queue is BullmqQueueAdapter {
  return (
    queue.engine === 'bullmq' && typeof (queue as Partial<BullmqQueueAdapter>).bullmqQueues === 'function'
  );
}

export function createBullmqQueue(options: BullmqQueueOptions): BullmqQueueAdapter {
  const { log, defaults } = options;
  const prefix = options.prefix ?? 'didops';
  if (prefix.includes(':')) throw new Error(`BullMQ prefix "${prefix}" must not contain ":"`);

  let connection: RedisClient | undefined;
  let workerConnection: RedisClient | undefined;
  const queues = new Map<string, Queue>();
  const workers: Worker[] = [];
  const running = new Set<Running>();
  let stopping = false;
  let stopped: Promise<void> | undefined;
  let redisConstructor: RedisClientConstructor | undefined;

  const queueFor = (name: string): Queue => {
    const queue = queues.get(name);
    if (!queue) {
      throw new Error(
        connection ? `Unknown job queue "${name}": name it in start()` : 'The job queue is not started',
      );
    }
    return queue;
  };

  const redis = (): RedisClient => {
    if (!connection) throw new Error('The job queue is not started');
    return connection;
  };

  const jobOptions = (retry: { attempts: number; backoffMs: number }): JobsOptions => ({
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoffMs },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  });

  const dedupeKey = (name: string, key: string) => `${prefix}:${name}:de:${key}`;

  async function runJob(name: string, handler: JobHandler, job: Job, token?: string, signal?: AbortSignal) {
    const controller = new AbortController();
    let release!: () => void;
    const released = new Promise<'released'>((resolve) => {
      release = () => resolve('released');
    });
    const entry: Running = { job, token, controller, release };
    running.add(entry);
    const attempt = Math.max(job.attemptsStarted, job.attemptsMade + 1, 1);
    try {
      const handled = handler(job.data as JobPayload, {
        id: job.id ?? '',
        name,
        attempt,
        signal: signal ? AbortSignal.any([controller.signal, signal]) : controller.signal,
      });
      if ((await Promise.race([handled, released])) === 'released') {
        // stop() has already moved the job back to waiting: tell the worker not to settle it.
        throw new WaitingError();
      }
    } catch (error) {
      if (error instanceof WaitingError) throw error;
      // BullMQ's own rule: retried while attemptsMade + 1 < attempts.
      const finalTry = error instanceof PermanentJobError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const fields = { err: error, queue: name, jobId: job.id, attempt };
      if (finalTry) log.error(fields, `Job ${name} failed for good`);
      else log.warn(fields, `Job ${name} failed; it will be retried`);
      if (error instanceof PermanentJobError) throw new UnrecoverableError(error.message);
      throw error instanceof Error ? error : new Error(String(error));
    } finally {
      running.delete(entry);
    }
  }

  /** Hands jobs whose handlers outlived the grace period back to the queue, for another worker. */
  async function releaseRunning(): Promise<void> {
    const stuck = [...running];
    await Promise.all(
      stuck.map(async (entry) => {
        entry.controller.abort(new Error('The worker is stopping'));
        try {
          await entry.job.moveToWait(entry.token);
          log.warn(
            { queue: entry.job.queueName, jobId: entry.job.id },
            'Job still running at shutdown: handed back to the queue',
          );
        } catch (error) {
          // The lock is gone already: the stalled-job check brings the job back.
          log.warn({ err: error, jobId: entry.job.id }, 'Could not hand a running job back to the queue');
        }
        entry.release();
      }),
    );
  }

  async function shutDown(graceMs: number): Promise<void> {
    stopping = true;
    const closing = Promise.all(workers.map((worker) => worker.close()));
    if ((await settleWithin(closing, graceMs)) === 'timeout') {
      await releaseRunning();
      if ((await settleWithin(closing, RELEASE_TIMEOUT_MS)) === 'timeout') {
        await Promise.all(workers.map((worker) => worker.close(true)));
      }
    }
    await Promise.all([...queues.values()].map((queue) => queue.close()));
    for (const client of [workerConnection, connection]) {
      if (client) await client.quit().catch(() => client.disconnect());
    }
  }

  const connect = (Redis: RedisClientConstructor, settings: Record<string, unknown>): RedisClient => {
    const client = new Redis(options.redisUrl, { lazyConnect: true, ...settings });
    client.on('error', (error) => log.error({ err: error }, 'Redis connection error'));
    return client;
  };

  return {
    engine: 'bullmq',
    bullmqQueues: () => [...queues.values()],

    async start(names) {
      if (stopping) throw new Error('The job queue is stopped');
      if (connection) throw new Error('The job queue is already started');
      names.forEach(assertQueueName);
      const Redis = await loadRedisClient();
      const client = connect(Redis, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
      try {
        await withTimeout(client.connect(), CONNECT_TIMEOUT_MS, 'Redis did not answer');
      } catch (error) {
        client.disconnect();
        throw error;
      }
      connection = client;
      redisConstructor = Redis;
      for (const name of names) {
        const queue = new Queue(name, { connection: client, prefix });
        queue.on('error', (error) => log.error({ err: error, queue: name }, 'BullMQ queue error'));
        queues.set(name, queue);
      }
    },

    async enqueue(name, payload, enqueueOptions: EnqueueOptions = {}) {
      if (stopping) throw new Error('The job queue is stopping');
      const queue = queueFor(name);
      const { key, delayMs } = enqueueOptions;
      if (key !== undefined) assertJobKey(key);
      const jobId = randomUUID();
      const job = await queue.add(name, payload, {
        ...jobOptions(retryPolicy(enqueueOptions, defaults)),
        jobId,
        ...(delayMs && delayMs > 0 ? { delay: Math.round(delayMs) } : {}),
        ...(key === undefined ? {} : { deduplication: { id: key } }),
      });
      // A duplicate comes back as the job that already holds the key.
      return job.id === jobId;
    },

    async enqueueMany(name, jobs) {
      if (stopping) throw new Error('The job queue is stopping');
      if (jobs.length === 0) return 0;
      const queue = queueFor(name);
      const ids = jobs.map(() => randomUUID());
      const added = await queue.addBulk(
        jobs.map(({ payload, options = {} }, i) => {
          if (options.key !== undefined) assertJobKey(options.key);
          return {
            name,
            data: payload,
            opts: {
              ...jobOptions(retryPolicy(options, defaults)),
              jobId: ids[i]!,
              ...(options.delayMs && options.delayMs > 0 ? { delay: Math.round(options.delayMs) } : {}),
              ...(options.key === undefined ? {} : { deduplication: { id: options.key } }),
            },
          };
        }),
      );
      // A duplicate comes back as the job that already holds the key.
      return added.filter((job, i) => job.id === ids[i]).length;
    },

    async work<P extends JobPayload>(name: string, handler: JobHandler<P>, workOptions: WorkOptions = {}) {
      if (stopping) throw new Error('The job queue is stopping');
      queueFor(name);
      if (!workerConnection && redisConstructor) {
        workerConnection = connect(redisConstructor, { maxRetriesPerRequest: null });
        await workerConnection.connect();
      }
      const concurrency = workOptions.concurrency ?? 1;
      const worker = new Worker(
        name,
        (job: Job, token?: string, signal?: AbortSignal) =>
          runJob(name, handler as JobHandler, job, token, signal),
        {
          connection: workerConnection ?? redis(),
          prefix,
          concurrency,
          ...(options.lockDurationMs === undefined ? {} : { lockDuration: options.lockDurationMs }),
          ...(options.stalledIntervalMs === undefined ? {} : { stalledInterval: options.stalledIntervalMs }),
        },
      );
      worker.on('error', (error) => log.error({ err: error, queue: name }, 'BullMQ worker error'));
      workers.push(worker);
      await worker.waitUntilReady();
    },

    async schedule(name, cron, payload = {}) {
      assertCron(cron);
      await queueFor(name).upsertJobScheduler(
        name,
        { pattern: cron, tz: 'UTC' },
        { name, data: payload, opts: jobOptions(retryPolicy({}, defaults)) },
      );
    },

    async schedules(): Promise<ScheduleInfo[]> {
      const lists = await Promise.all(
        [...queues.entries()].map(async ([name, queue]) =>
          (await queue.getJobSchedulers()).map((scheduler) => ({
            name,
            cron: scheduler.pattern ?? '',
            timezone: scheduler.tz ?? 'UTC',
          })),
        ),
      );
      return lists.flat();
    },

    async counts(names): Promise<QueueCounts[]> {
      return Promise.all(
        names.map(async (name) => {
          const counts = await queueFor(name).getJobCounts(
            'waiting',
            'prioritized',
            'delayed',
            'active',
            'completed',
            'failed',
          );
          return {
            name,
            waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
            delayed: counts.delayed ?? 0,
            active: counts.active ?? 0,
            completed: counts.completed ?? 0,
            failed: counts.failed ?? 0,
          };
        }),
      );
    },

    async failed(name, limit): Promise<FailedJob[]> {
      if (limit <= 0) return [];
      const jobs = await queueFor(name).getFailed(0, limit - 1);
      return jobs.map((job) => ({
        id: job.id ?? '',
        name,
        payload: job.data as JobPayload,
        error: job.failedReason,
        attempts: Math.max(job.attemptsStarted, job.attemptsMade),
        failedAt: job.finishedOn ? new Date(job.finishedOn) : null,
      }));
    },

    async retry(name, id) {
      const queue = queueFor(name);
      const job = await queue.getJob(id);
      if (!job || (await job.getState()) !== 'failed') return false;
      // The job gave its key up when it failed; take it back, unless a newer job holds it by now.
      const key = job.opts.deduplication?.id;
      if (key !== undefined) {
        const dedupe = dedupeKey(name, key);
        if ((await redis().set(dedupe, id, 'NX')) === null) {
          const holder = await redis().get(dedupe);
          const holderJob = holder && holder !== id ? await queue.getJob(holder) : undefined;
          const holderState = holderJob ? await holderJob.getState() : 'unknown';
          if (holderState !== 'completed' && holderState !== 'failed' && holderState !== 'unknown') {
            return false;
          }
          await redis().set(dedupe, id);
        }
      }
      try {
        await job.retry('failed');
        return true;
      } catch (error) {
        // Someone else retried or removed it meanwhile.
        log.warn({ err: error, queue: name, jobId: id }, 'Could not retry the job');
        if (key !== undefined && (await redis().get(dedupeKey(name, key))) === id) {
          await redis().del(dedupeKey(name, key));
        }
        return false;
      }
    },

    async ping() {
      await withTimeout(redis().ping(), CONNECT_TIMEOUT_MS, 'Redis did not answer PING');
    },

    stop(graceMs = DEFAULT_STOP_GRACE_MS) {
      stopped ??= shutDown(graceMs);
      return stopped;
    },
  };
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

async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
