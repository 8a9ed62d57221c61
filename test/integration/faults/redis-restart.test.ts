// Fault: Redis restarts while BullMQ jobs are queued and running (`docker compose restart redis`). Redis runs
// as in docker-compose.yml (append-only file, noeviction). Every job enqueued before the restart still runs
// after it, jobs can be enqueued again once Redis is back, and no job's effect is lost or applied twice.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createBullmqQueue } from '../../../core/jobs/bullmq-queue.ts';
import type { JobQueueAdapter } from '../../../core/jobs/queue.ts';
import { silentLogger } from '../../../core/runtime/logger.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import {
  createEffectTables,
  describeWithRedisServer,
  effects,
  recordEffect,
  recordRun,
  redisServer,
  runs,
  sleep,
  waitFor,
  type RedisServer,
} from './fault-helpers.ts';

const database = useTestDatabase();
const QUEUE = 'fault-redis-restart';
const BEFORE = 30;
const AFTER = 10;

describeWithRedisServer('Redis restarted mid-run (BullMQ)', () => {
  let redis: RedisServer;
  let queue: JobQueueAdapter | undefined;

  beforeAll(async () => {
    redis = await redisServer();
  });

  afterAll(async () => {
    await queue?.stop(1_000);
    await redis?.dispose();
  });

  it('runs every job enqueued before the restart once, and takes new ones after it', async () => {
    await createEffectTables(database.db);
    queue = createBullmqQueue({
      redisUrl: redis.url,
      prefix: `fault-${randomBytes(3).toString('hex')}`,
      log: silentLogger,
      // A job Redis moved to active just before it went down, whose reply never reached the worker, is held
      // by nobody: it runs again once its lock runs out and a stalled-job check finds it. With BullMQ's
      // defaults that takes 30 to 60 s; short ones keep the test inside its wait.
      lockDurationMs: 2_000,
      stalledIntervalMs: 1_000,
    });
    await queue.start([QUEUE]);
    for (let id = 1; id <= BEFORE; id++) {
      expect(
        await queue.enqueue(QUEUE, { jobId: id }, { key: `job-${id}`, attempts: 5, backoffMs: 200 }),
      ).toBe(true);
    }
    // Slow enough that most jobs are still waiting, and some running, when Redis goes away.
    await queue.work(
      QUEUE,
      async (payload) => {
        const id = payload.jobId as number;
        await recordRun(database.db, id);
        await sleep(150);
        await recordEffect(database.db, id);
      },
      { concurrency: 2 },
    );
    await waitFor(async () => (await effects(database.db)).length >= 4, 10_000);

    const stoppedAt = Date.now();
    await redis.stop();
    const doneWhileDown = (await effects(database.db)).length;
    // While Redis is away, enqueueing fails at once instead of hanging the caller (a web request).
    const refused = Date.now();
    await expect(queue.enqueue(QUEUE, { jobId: 999 })).rejects.toThrow();
    expect(Date.now() - refused).toBeLessThan(1_000);
    await sleep(1_000);
    await redis.start();
    const downMs = Date.now() - stoppedAt;

    // The queue's own connection comes back by itself: new jobs are taken again.
    await waitFor(
      async () => {
        try {
          return await queue!.enqueue(
            QUEUE,
            { jobId: BEFORE + 1 },
            { key: `job-${BEFORE + 1}`, attempts: 5 },
          );
        } catch {
          return false;
        }
      },
      10_000,
      () => 'enqueue kept failing after Redis came back',
    );
    for (let id = BEFORE + 2; id <= BEFORE + AFTER; id++) {
      expect(await queue.enqueue(QUEUE, { jobId: id }, { key: `job-${id}`, attempts: 5 })).toBe(true);
    }

    const all = Array.from({ length: BEFORE + AFTER }, (_, i) => i + 1);
    let done: number[] = [];
    await waitFor(
      async () => (done = await effects(database.db)).length === all.length,
      30_000,
      () =>
        `not every job ran after the restart; missing: ${all.filter((id) => !done.includes(id)).join(', ')}`,
    );
    // Nothing runs late a second time either.
    await sleep(1_000);
    expect(await effects(database.db)).toEqual(all);
    const ran = await runs(database.db);
    const started = new Map<number, number>();
    for (const run of ran) started.set(run.job_id, (started.get(run.job_id) ?? 0) + 1);
    const twice = [...started].filter(([, n]) => n > 1).map(([id]) => id);
    console.info(
      `Redis restart: down ${downMs} ms with ${doneWhileDown}/${BEFORE} jobs done; ` +
        `${all.length} jobs ran, each effect once; jobs started twice: ${twice.length ? twice.join(', ') : 'none'}`,
    );
    expect(await queue.counts([QUEUE])).toEqual([
      expect.objectContaining({ waiting: 0, active: 0, delayed: 0, failed: 0, completed: all.length }),
    ]);
  });
});
