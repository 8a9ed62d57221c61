// Picks the job-queue engine for a process (DESIGN §2): BullMQ when REDIS_URL is set, otherwise pg-boss on
// the PostgreSQL the process already uses (for the embedded server, `openDatabase(...).url`). The queue
// comes back unstarted: the caller names its queues in start() and stops it on shutdown.
import type { Logger } from '../runtime/logger.ts';
import { createBullmqQueue } from './bullmq-queue.ts';
import { createPgBossQueue } from './pgboss-queue.ts';
import type { JobQueueAdapter, RetryDefaults } from './queue.ts';

export interface OpenJobQueueOptions {
  readonly redisUrl?: string | undefined;
  readonly databaseUrl: string;
  readonly log: Logger;
  readonly defaults?: RetryDefaults;
}

export function openJobQueue(options: OpenJobQueueOptions): JobQueueAdapter {
  const { redisUrl, databaseUrl, defaults } = options;
  if (redisUrl) {
    const log = options.log.child({ component: 'jobs', engine: 'bullmq' });
    log.info({ redisUrl }, 'Jobs run on BullMQ (Redis)');
    return createBullmqQueue({ redisUrl, log, ...(defaults ? { defaults } : {}) });
  }
  const log = options.log.child({ component: 'jobs', engine: 'pg-boss' });
  log.info('Jobs run on pg-boss (PostgreSQL, schema pgboss): set REDIS_URL to use BullMQ');
  return createPgBossQueue({ connectionString: databaseUrl, log, ...(defaults ? { defaults } : {}) });
}
