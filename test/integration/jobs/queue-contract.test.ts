// The job-queue contract (core/jobs/queue.ts), one suite run against both adapters: pg-boss on this file's
// PostgreSQL database (schema `pgboss`), BullMQ on the Redis REDIS_URL names (keys under a prefix of this
// run's own, deleted at the end). Without a reachable Redis the BullMQ half is skipped and says why.
// Every test uses queue names of its own, so jobs left by one test never reach another.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createBullmqQueue, loadRedisClient } from '../../../core/jobs/bullmq-queue.ts';
import { createPgBossQueue } from '../../../core/jobs/pgboss-queue.ts';
import {
  PermanentJobError,
  type JobHandler,
  type JobInfo,
  type JobPayload,
  type JobQueueAdapter,
  type QueueCounts,
} from '../../../core/jobs/queue.ts';
import { silentLogger } from '../../../core/runtime/logger.ts';
import { useTestDatabase } from '../../helpers/database.ts';

const database = useTestDatabase();
const runId = randomBytes(4).toString('hex');
const redisUrl = process.env.REDIS_URL;
const bullmqPrefix = `didops-test-${runId}`;
const redisProblem = await probeRedis(redisUrl);

/** A new adapter on the same store at every call (a second call is "another process"). */
type QueueFactory = () => JobQueueAdapter;

describeQueueContract('pg-boss', () =>
  createPgBossQueue({ connectionString: database.url, log: silentLogger, pollingIntervalMs: 500 }),
);

if (redisProblem && process.env.CI) {
  // CI provides Redis (.ci/run): there, a BullMQ half that cannot run is a failure, not a skip.
  describe('BullMQ job queue contract', () => {
    it('has Redis and the ioredis package', () => {
      throw new Error(`BullMQ contract tests cannot run: ${redisProblem}`);
    });
  });
} else {
  if (redisProblem) console.warn(`BullMQ contract tests skipped: ${redisProblem}`);
  describeQueueContract(
    'BullMQ',
    () => createBullmqQueue({ redisUrl: redisUrl ?? '', prefix: bullmqPrefix, log: silentLogger }),
    redisProblem,
  );
}

afterAll(async () => {
  if (!redisProblem && redisUrl) await deleteRedisKeys(redisUrl, `${bullmqPrefix}:*`);
});

function describeQueueContract(engine: string, makeQueue: QueueFactory, skipReason: string | null = null) {
  const title = `${engine} job queue contract${skipReason ? ` (skipped: ${skipReason})` : ''}`;
  (skipReason ? describe.skip : describe)(title, () => {
    const opened: JobQueueAdapter[] = [];
    let counter = 0;

    /** Queue names unique to this test (and run): no test sees another's jobs. */
    const names = (...labels: string[]) => labels.map((label) => `${label}-${runId}-${++counter}`);

    async function startQueue(queueNames: readonly string[]): Promise<JobQueueAdapter> {
      const queue = makeQueue();
      opened.push(queue);
      await queue.start(queueNames);
      return queue;
    }

    async function countsOf(queue: JobQueueAdapter, name: string): Promise<QueueCounts> {
      const [counts] = await queue.counts([name]);
      return counts!;
    }

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((queue) => queue.stop(0)));
    });

    it('hands an enqueued job and its payload to the handler', async () => {
      const [name] = names('basic') as [string];
      const queue = await startQueue([name]);
      const seen: { payload: JobPayload; job: JobInfo; aborted: boolean }[] = [];
      await queue.work(
        name,
        syncHandler((payload, job) => {
          seen.push({ payload, job, aborted: job.signal.aborted });
        }),
      );
      const payload = { accountId: 'acct-42', amountMinor: 1250, renew: true, note: null };
      expect(await queue.enqueue(name, payload)).toBe(true);

      await waitFor(() => seen.length === 1);
      expect(seen[0]!.payload).toEqual(payload);
      expect(seen[0]!.job).toMatchObject({ name, attempt: 1 });
      expect(seen[0]!.job.id).toMatch(/.+/);
      expect(seen[0]!.aborted).toBe(false);
      await queue.ping();
    });

    it('de-duplicates by key while a job waits or runs, and frees the key once it has finished', async () => {
      const [name] = names('dedupe') as [string];
      const queue = await startQueue([name]);
      expect(await queue.enqueue(name, { n: 1 }, { key: 'acct-1' })).toBe(true);
      expect(await queue.enqueue(name, { n: 2 }, { key: 'acct-1' })).toBe(false); // waiting
      expect(await queue.enqueue(name, { n: 3 }, { key: 'acct-2' })).toBe(true);
      expect(await queue.enqueue(name, { n: 4 })).toBe(true);
      expect(await queue.enqueue(name, { n: 4 })).toBe(true); // no key, no de-duplication
      await expect(queue.enqueue(name, { n: 0 }, { key: 'acct:1' })).rejects.toThrow(/Job key/);

      const gate = opening();
      const seen: number[] = [];
      await queue.work(name, async (payload) => {
        seen.push(payload.n as number);
        if (payload.n === 1) await gate.opened;
      });
      await waitFor(() => seen.includes(1));
      expect(await queue.enqueue(name, { n: 5 }, { key: 'acct-1' })).toBe(false); // running
      gate.open();
      await waitFor(async () => (await countsOf(queue, name)).completed === 4);

      expect(await queue.enqueue(name, { n: 6 }, { key: 'acct-1' })).toBe(true); // finished: free again
      await waitFor(() => seen.includes(6));
      expect(seen.sort()).toEqual([1, 3, 4, 4, 6]);
    });

    it('runs a delayed job no earlier than its delay', async () => {
      const [name] = names('delay') as [string];
      const queue = await startQueue([name]);
      const ranAt: number[] = [];
      await queue.work(
        name,
        syncHandler(() => {
          ranAt.push(Date.now());
        }),
      );
      const enqueuedAt = Date.now();
      expect(await queue.enqueue(name, { n: 1 }, { delayMs: 1500, key: 'later' })).toBe(true);
      expect(await queue.enqueue(name, { n: 2 }, { key: 'later' })).toBe(false); // delayed holds its key too
      expect(await countsOf(queue, name)).toMatchObject({ waiting: 0, delayed: 1 });

      await sleep(1_200);
      expect(ranAt).toEqual([]);
      await waitFor(() => ranAt.length === 1, 5_000);
      expect(ranAt[0]! - enqueuedAt).toBeGreaterThanOrEqual(1_450);
    });

    it('retries a failing handler with growing delays, then gives up after the last attempt', async () => {
      const [flakyName, brokenName] = names('flaky', 'broken') as [string, string];
      const queue = await startQueue([flakyName, brokenName]);
      const tries: { attempt: number; at: number }[] = [];
      await queue.work(
        flakyName,
        syncHandler((_payload, job) => {
          tries.push({ attempt: job.attempt, at: Date.now() });
          if (job.attempt < 3) throw new Error(`flaky ${job.attempt}`);
        }),
      );
      let brokenRuns = 0;
      await queue.work(
        brokenName,
        syncHandler((_payload, job) => {
          brokenRuns++;
          throw new Error(`still broken (attempt ${job.attempt})`);
        }),
      );
      await queue.enqueue(flakyName, { n: 1 }, { attempts: 3, backoffMs: 100 });
      await queue.enqueue(brokenName, { n: 2 }, { attempts: 2, backoffMs: 100 });

      await waitFor(async () => (await countsOf(queue, flakyName)).completed === 1, 15_000);
      expect(tries.map((t) => t.attempt)).toEqual([1, 2, 3]);
      const [first, second, third] = tries.map((t) => t.at) as [number, number, number];
      expect(second - first).toBeGreaterThanOrEqual(90);
      expect(third - second).toBeGreaterThanOrEqual(190);

      await waitFor(async () => (await queue.failed(brokenName, 10)).length === 1, 15_000);
      const [failed] = await queue.failed(brokenName, 10);
      expect(failed).toMatchObject({ name: brokenName, attempts: 2, error: 'still broken (attempt 2)' });
      expect(brokenRuns).toBe(2);
    });

    it('stops retrying on PermanentJobError and lists the job in failed()', async () => {
      const [name] = names('permanent') as [string];
      const queue = await startQueue([name]);
      let runs = 0;
      await queue.work(
        name,
        syncHandler(() => {
          runs++;
          throw new PermanentJobError('No account acct-9: nothing to renew');
        }),
      );
      const enqueuedAt = Date.now();
      await queue.enqueue(name, { accountId: 'acct-9' }, { attempts: 5, backoffMs: 50 });

      await waitFor(async () => (await queue.failed(name, 10)).length === 1);
      const [failed] = await queue.failed(name, 10);
      expect(failed).toMatchObject({
        name,
        payload: { accountId: 'acct-9' },
        error: 'No account acct-9: nothing to renew',
        attempts: 1,
      });
      expect(failed!.failedAt!.getTime()).toBeGreaterThanOrEqual(enqueuedAt - 1_000);
      expect(await countsOf(queue, name)).toMatchObject({ waiting: 0, delayed: 0, active: 0, failed: 1 });
      expect(runs).toBe(1);
    });

    it('re-runs a failed job on retry(), unless its key is taken again', async () => {
      const [name] = names('retry') as [string];
      const queue = await startQueue([name]);
      const gate = opening();
      const runs: string[] = [];
      await queue.work(name, async (payload) => {
        const mode = payload.mode as string;
        runs.push(mode);
        if (mode === 'hold') await gate.opened;
        else if (runs.filter((run) => run === mode).length === 1) throw new PermanentJobError('not yet');
      });
      await queue.enqueue(name, { mode: 'renew' }, { key: 'acct-7' });
      await waitFor(async () => (await queue.failed(name, 10)).length === 1);
      const [failed] = await queue.failed(name, 10);

      // A failed job no longer holds its key: a new one takes it, and retry() must wait for that one.
      expect(await queue.enqueue(name, { mode: 'hold' }, { key: 'acct-7' })).toBe(true);
      await waitFor(() => runs.includes('hold'));
      expect(await queue.retry(name, failed!.id)).toBe(false);
      gate.open();
      await waitFor(async () => (await countsOf(queue, name)).completed === 1);

      expect(await queue.retry(name, failed!.id)).toBe(true);
      await waitFor(async () => (await countsOf(queue, name)).completed === 2);
      expect(runs).toEqual(['renew', 'hold', 'renew']);
      expect(await queue.failed(name, 10)).toEqual([]);
      expect(await queue.retry(name, failed!.id)).toBe(false); // completed now
      expect(await queue.retry(name, '00000000-0000-4000-8000-000000000000')).toBe(false);
      expect(await queue.enqueue(name, { mode: 'hold' }, { key: 'acct-7' })).toBe(true); // key free again
    });

    it('registers a schedule once, however often schedule() is called', async () => {
      const [name] = names('nightly') as [string];
      const queue = await startQueue([name]);
      await queue.schedule(name, '0 3 * * *', { sweep: 'aging' });
      await queue.schedule(name, '0 3 * * *', { sweep: 'aging' });
      const mine = async () => (await queue.schedules()).filter((schedule) => schedule.name === name);
      expect(await mine()).toEqual([{ name, cron: '0 3 * * *', timezone: 'UTC' }]);

      await queue.schedule(name, '30 4 * * 1-5');
      expect(await mine()).toEqual([{ name, cron: '30 4 * * 1-5', timezone: 'UTC' }]);
      await expect(queue.schedule(name, '0 0 3 * * *')).rejects.toThrow(/5-field cron/);
      await expect(queue.schedule(name, 'FREQ=DAILY')).rejects.toThrow(/5-field cron/);
    });

    it('stop() waits for a running handler to finish', async () => {
      const [name] = names('graceful') as [string];
      const queue = await startQueue([name]);
      let started = false;
      let finishedAt = 0;
      await queue.work(name, async () => {
        started = true;
        await sleep(300);
        finishedAt = Date.now();
      });
      await queue.enqueue(name, { n: 1 });
      await waitFor(() => started, 5_000, 10);

      await queue.stop(5_000);
      const stoppedAt = Date.now();
      expect(finishedAt).toBeGreaterThan(0);
      expect(finishedAt).toBeLessThanOrEqual(stoppedAt);
      expect(stoppedAt - finishedAt).toBeLessThan(2_000);
    });

    it('hands a job still running after the grace period to the next worker', async () => {
      const [name] = names('handover') as [string];
      const first = await startQueue([name]);
      let firstRun: JobInfo | undefined;
      await first.work(name, async (_payload, job) => {
        firstRun = job;
        await new Promise(() => {}); // a handler that never finishes on its own
      });
      await first.enqueue(name, { accountId: 'acct-3' });
      await waitFor(() => firstRun !== undefined);

      const stopAsked = Date.now();
      await first.stop(200);
      expect(Date.now() - stopAsked).toBeLessThan(3_000);
      expect(firstRun!.signal.aborted).toBe(true);

      const second = await startQueue([name]);
      const secondRuns: { payload: JobPayload; job: JobInfo }[] = [];
      await second.work(
        name,
        syncHandler((payload, job) => {
          secondRuns.push({ payload, job });
        }),
      );
      await waitFor(async () => (await countsOf(second, name)).completed === 1);
      expect(secondRuns).toHaveLength(1);
      expect(secondRuns[0]!.payload).toEqual({ accountId: 'acct-3' });
      expect(secondRuns[0]!.job.id).toBe(firstRun!.id);
      expect(secondRuns[0]!.job.attempt).toBe(2); // the interrupted run counts as a try
    });

    it('runs no more handlers at once than the concurrency asked for', async () => {
      const [name] = names('parallel') as [string];
      const queue = await startQueue([name]);
      for (let n = 1; n <= 4; n++) await queue.enqueue(name, { n });
      let running = 0;
      let most = 0;
      await queue.work(
        name,
        async () => {
          running++;
          most = Math.max(most, running);
          await sleep(300);
          running--;
        },
        { concurrency: 2 },
      );
      await waitFor(async () => (await countsOf(queue, name)).completed === 4, 10_000);
      expect(most).toBe(2);
    });

    it('counts waiting, delayed, active, completed and failed jobs', async () => {
      const [name, idle] = names('counted', 'idle') as [string, string];
      const queue = await startQueue([name, idle]);
      await queue.enqueue(name, { n: 1 });
      await queue.enqueue(name, { n: 2 });
      await queue.enqueue(name, { n: 3 }, { delayMs: 60_000 });
      expect(await queue.counts([name, idle])).toEqual([
        { name, waiting: 2, delayed: 1, active: 0, completed: 0, failed: 0 },
        { name: idle, waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 },
      ]);

      const gate = opening();
      await queue.work(name, async (payload) => {
        if (payload.n === 1) await gate.opened;
        if (payload.n === 2) throw new PermanentJobError('bad input');
      });
      await waitFor(async () => (await countsOf(queue, name)).active === 1);
      expect(await countsOf(queue, name)).toEqual({
        name,
        waiting: 1,
        delayed: 1,
        active: 1,
        completed: 0,
        failed: 0,
      });
      gate.open();
      await waitFor(async () => (await countsOf(queue, name)).failed === 1);
      await waitFor(async () => (await countsOf(queue, name)).completed === 1);
      expect(await countsOf(queue, name)).toEqual({
        name,
        waiting: 0,
        delayed: 1,
        active: 0,
        completed: 1,
        failed: 1,
      });
    });
  });
}

async function probeRedis(url: string | undefined): Promise<string | null> {
  if (!url) return 'REDIS_URL is not set (e.g. REDIS_URL=redis://127.0.0.1:6379 runs them)';
  let Redis;
  try {
    Redis = await loadRedisClient();
  } catch {
    return 'the ioredis package is not installed (BullMQ 6 leaves it to the application: npm install ioredis)';
  }
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `no Redis answers at ${url} (${reason}); start one or point REDIS_URL at one`;
  } finally {
    client.disconnect();
  }
}

/** Deletes this run's keys only: other runs and programs may share the Redis. */
async function deleteRedisKeys(url: string, pattern: string): Promise<void> {
  const Redis = await loadRedisClient();
  const client = new Redis(url, {});
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    await client.quit();
  }
}

/** A handler from a synchronous function: what it throws fails the job. */
function syncHandler(run: (payload: JobPayload, job: JobInfo) => void): JobHandler {
  return (payload, job) =>
    new Promise<void>((resolve) => {
      run(payload, job);
      resolve();
    });
}

function opening(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 8_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}
