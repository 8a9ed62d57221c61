// A worker process for the crash test (worker-crash.test.ts): handles FAULT_QUEUE on FAULT_ENGINE, BullMQ
// (on REDIS_URL) or pg-boss (on DATABASE_URL's PostgreSQL), each job recording that it started, sleeping SLEEP_MS, then
// recording its effect once. Short lock / heartbeat settings make a crashed worker's jobs come back in
// seconds instead of a minute. Prints "ready" once it takes jobs; SIGTERM stops it cleanly.
import { connect } from '../../../core/db/connect.ts';
import { createBullmqQueue } from '../../../core/jobs/bullmq-queue.ts';
import { createPgBossQueue } from '../../../core/jobs/pgboss-queue.ts';
import { createLogger } from '../../../core/runtime/logger.ts';
import { recordEffect, recordRun, sleep } from './fault-helpers.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const databaseUrl = env('DATABASE_URL');
const queueName = env('FAULT_QUEUE');
const sleepMs = Number(env('SLEEP_MS'));
const engine = env('FAULT_ENGINE');
const log = createLogger({ level: 'warn', write: (line) => process.stderr.write(line + '\n') });

const db = connect(databaseUrl, { max: 2 });
const queue =
  engine === 'bullmq'
    ? createBullmqQueue({
        redisUrl: env('REDIS_URL'),
        prefix: env('FAULT_PREFIX'),
        log,
        lockDurationMs: 2_000,
        stalledIntervalMs: 1_000,
      })
    : createPgBossQueue({
        connectionString: databaseUrl,
        log,
        pollingIntervalMs: 500,
        heartbeatSeconds: 10,
        superviseIntervalSeconds: 1,
      });

await queue.start([queueName]);
await queue.work(queueName, async (payload) => {
  const id = payload.jobId as number;
  await recordRun(db, id);
  await sleep(sleepMs);
  await recordEffect(db, id);
});
process.stdout.write('ready\n');

process.once('SIGTERM', () => {
  void (async () => {
    await queue.stop(2_000);
    await db.destroy();
    process.exit(0);
  })();
});
