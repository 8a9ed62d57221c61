// Fault: a worker is killed (SIGKILL: no chance to hand its job back) in the middle of a job. Another worker
// takes the job over once the dead one's lock (BullMQ) or heartbeat (pg-boss) runs out, and the job's effect
// happens exactly once. Runs on both engines: pg-boss always, BullMQ on a Redis of its own.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBullmqQueue } from '../../../core/jobs/bullmq-queue.ts';
import { createPgBossQueue } from '../../../core/jobs/pgboss-queue.ts';
import type { JobQueueAdapter } from '../../../core/jobs/queue.ts';
import { silentLogger } from '../../../core/runtime/logger.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { runScript, type Spawned } from '../runtime/processes.ts';
import {
  createEffectTables,
  describeWithRedisServer,
  effects,
  redisServer,
  runs,
  sleep,
  waitFor,
  type RedisServer,
} from './fault-helpers.ts';

const database = useTestDatabase();
const WORKER = 'test/integration/faults/crash-worker.ts';

interface Engine {
  /** Environment for the worker processes. */
  readonly env: Record<string, string>;
  /** A producer on the same store (this test process). */
  queue(): JobQueueAdapter;
  /** How long a dead worker's job may take to come back: lock + stalled check, or heartbeat + supervisor. */
  readonly recoveryMs: number;
}

const children: Spawned[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.child.exitCode === null && child.child.signalCode === null) {
      child.child.kill('SIGKILL');
      await child.exited(5_000).catch(() => {});
    }
  }
});

async function startWorker(engine: Engine, queueName: string, sleepMs: number): Promise<Spawned> {
  const worker = runScript(WORKER, [], {
    ...engine.env,
    DATABASE_URL: database.url,
    FAULT_QUEUE: queueName,
    SLEEP_MS: String(sleepMs),
  });
  children.push(worker);
  await waitFor(
    () => {
      if (worker.child.exitCode !== null) throw new Error(`worker exited:\n${worker.stderr()}`);
      return worker.stdout().includes('ready');
    },
    20_000,
    () => `the worker did not start:\n${worker.stderr()}`,
  );
  return worker;
}

function crashTest(engine: () => Engine) {
  it('finishes the job of a worker killed mid-job exactly once, on another worker', async () => {
    const setup = engine();
    await createEffectTables(database.db);
    const queueName = `fault-crash-${randomBytes(3).toString('hex')}`;
    const producer = setup.queue();
    await producer.start([queueName]);
    try {
      const first = await startWorker(setup, queueName, 60_000);
      expect(await producer.enqueue(queueName, { jobId: 1 }, { attempts: 3, backoffMs: 0 })).toBe(true);
      await waitFor(
        async () => (await runs(database.db)).length === 1,
        15_000,
        () => 'the job never started',
      );

      first.child.kill('SIGKILL');
      expect(await first.exited(5_000)).toEqual({ code: null, signal: 'SIGKILL' });
      const killedAt = Date.now();

      const second = await startWorker(setup, queueName, 100);
      await waitFor(
        async () => (await effects(database.db)).length === 1,
        setup.recoveryMs,
        () => `the job did not come back within ${setup.recoveryMs} ms:\n${second.stderr()}`,
      );
      const recoveredMs = Date.now() - killedAt;
      // Nothing runs it a third time afterwards.
      await sleep(2_000);
      expect(await effects(database.db)).toEqual([1]);
      const ran = await runs(database.db);
      expect(ran.map((run) => run.pid)).toEqual([first.child.pid, second.child.pid]);
      console.info(`worker crash (${setup.env.FAULT_ENGINE}): job back and done in ${recoveredMs} ms`);

      second.child.kill('SIGTERM');
      expect(await second.exited(10_000)).toEqual({ code: 0, signal: null });
    } finally {
      await producer.stop(1_000);
    }
  });
}

describe('a worker killed mid-job (pg-boss)', () => {
  crashTest(() => ({
    env: { FAULT_ENGINE: 'pg-boss' },
    queue: () =>
      // The queue's heartbeat is set when it is created, here: the same short one as the workers'.
      createPgBossQueue({
        connectionString: database.url,
        log: silentLogger,
        pollingIntervalMs: 500,
        heartbeatSeconds: 10,
        superviseIntervalSeconds: 1,
      }),
    // Heartbeat 10 s (pg-boss's minimum) + the supervisor's 1 s round + polling.
    recoveryMs: 20_000,
  }));
});

describeWithRedisServer('a worker killed mid-job (BullMQ)', () => {
  let redis: RedisServer;
  const prefix = `fault-${randomBytes(3).toString('hex')}`;
  beforeAll(async () => {
    redis = await redisServer();
  });
  afterAll(async () => {
    await redis?.dispose();
  });
  crashTest(() => ({
    env: { FAULT_ENGINE: 'bullmq', REDIS_URL: redis.url, FAULT_PREFIX: prefix },
    queue: () => createBullmqQueue({ redisUrl: redis.url, prefix, log: silentLogger }),
    // Lock 2 s + stalled check every 1 s.
    recoveryMs: 10_000,
  }));
});
