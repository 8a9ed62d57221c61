// The worker role. For now it runs one schedule: the aging sweep, which puts released numbers back on
// sale once their rest is over. The job queue (BullMQ / pg-boss) replaces this timer with the billing
// work; the sweep is idempotent, so several workers running it at once do no harm.
import type { Actor } from '../accounts/actor.ts';
import { operatorActor } from '../accounts/users.ts';
import type { Config } from '../config.ts';
import type { Ctx } from '../context.ts';
import type { Db } from '../db/connect.ts';
import { promoteAgedNumbers } from '../inventory/edit-did.ts';
import type { Clock } from '../shared/clock.ts';
import { systemClock } from '../shared/clock.ts';
import { isDomainError } from '../shared/errors.ts';
import type { Logger } from './logger.ts';

export const AGING_SWEEP_INTERVAL_MS = 60_000;

export interface WorkerDeps {
  readonly db: Db;
  readonly config: Pick<Config, 'didAgingDays'>;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Time between sweeps; 60 s unless a test wants it shorter. */
  readonly intervalMs?: number;
}

export interface RunningWorker {
  /** Cancels the next sweep and waits for one in progress. */
  stop(): Promise<void>;
}

/**
 * One sweep. Returns how many numbers went back on sale, or null when the database has no operator
 * account yet (nothing to sweep on behalf of). Throws on other failures.
 */
export async function sweepAgedNumbers(deps: WorkerDeps): Promise<number | null> {
  let actor: Actor;
  try {
    actor = await operatorActor(deps.db, 'system', 'aging-sweep');
  } catch (error) {
    if (isDomainError(error) && error.code === 'not_found') return null;
    throw error;
  }
  const ctx: Ctx = {
    db: deps.db,
    actor,
    clock: deps.clock ?? systemClock,
    settings: { didAgingDays: deps.config.didAgingDays },
  };
  return promoteAgedNumbers(ctx);
}

/** Sweeps now, then every interval after the previous sweep ends (so sweeps never overlap). */
export function startWorker(deps: WorkerDeps): RunningWorker {
  const log = deps.log.child({ job: 'aging-sweep' });
  const intervalMs = deps.intervalMs ?? AGING_SWEEP_INTERVAL_MS;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;

  const runOnce = async () => {
    const started = Date.now();
    try {
      const promoted = await sweepAgedNumbers(deps);
      if (promoted === null) log.debug('No operator account yet: nothing to sweep');
      else if (promoted > 0)
        log.info({ promoted, ms: Date.now() - started }, `${promoted} aged numbers went back on sale`);
      else log.debug({ promoted, ms: Date.now() - started }, 'No aged numbers to put back on sale');
    } catch (error) {
      log.error({ err: error }, 'The aging sweep failed; it runs again at the next interval');
    }
  };

  const tick = () => {
    timer = undefined;
    inFlight = runOnce().finally(() => {
      inFlight = undefined;
      if (!stopped) timer = setTimeout(tick, intervalMs);
    });
  };

  tick();
  log.info({ intervalMs }, 'Worker started');

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await inFlight;
    },
  };
}
