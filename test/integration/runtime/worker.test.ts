import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.ts';
import { connect } from '../../../core/db/connect.ts';
import { createLogger } from '../../../core/runtime/logger.ts';
import { startWorker, sweepAgedNumbers } from '../../../core/runtime/worker.ts';
import { DAY_MS, ManualClock } from '../../../core/shared/clock.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { buildDid, buildOperator } from '../../helpers/factories.ts';
import { CLOSED_DATABASE_URL } from './processes.ts';

const t = useTestDatabase();
const config = loadConfig({});

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'debug',
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return { log, lines };
}

async function until(check: () => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('worker: aging sweep', () => {
  it('puts numbers whose aging is over back on sale at start, and logs how many', async () => {
    const clock = new ManualClock('2026-03-01T10:00:00Z');
    await buildOperator(t.db);
    const due = await buildDid(t.db, {
      status: 'aging',
      aging_until: new Date(clock.now().getTime() - 1_000),
    });
    const notYet = await buildDid(t.db, {
      status: 'aging',
      aging_until: new Date(clock.now().getTime() + DAY_MS),
    });
    const { log, lines } = capture();

    const worker = startWorker({ db: t.db, config, log, clock, intervalMs: 60_000 });
    await until(() => lines.some((l) => l.promoted !== undefined));
    await worker.stop();

    const statuses = await t.db.selectFrom('dids').select(['id', 'status']).orderBy('id').execute();
    expect(statuses).toEqual([
      { id: due.id, status: 'available' },
      { id: notYet.id, status: 'aging' },
    ]);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'info', promoted: 1, job: 'aging-sweep' }));
    const audit = await t.db
      .selectFrom('audit_events')
      .select(['action', 'channel', 'actor_label'])
      .execute();
    expect(audit).toEqual([
      { action: 'did.aging_end', channel: 'system', actor_label: 'system:aging-sweep' },
    ]);
  });

  it('runs again every interval, and stop() ends the schedule', async () => {
    const clock = new ManualClock('2026-03-01T10:00:00Z');
    await buildOperator(t.db);
    const did = await buildDid(t.db, {
      status: 'aging',
      aging_until: new Date(clock.now().getTime() + DAY_MS),
    });
    const { log, lines } = capture();
    const sweeps = () => lines.filter((l) => l.promoted !== undefined).length;

    const worker = startWorker({ db: t.db, config, log, clock, intervalMs: 50 });
    await until(() => sweeps() >= 1);
    clock.advance(2 * DAY_MS);
    await until(() => lines.some((l) => l.promoted === 1));
    await worker.stop();
    const after = sweeps();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sweeps()).toBe(after);
    const row = await t.db
      .selectFrom('dids')
      .select('status')
      .where('id', '=', did.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('available');
  });

  it('skips quietly while the database has no operator account', async () => {
    expect(await sweepAgedNumbers({ db: t.db, config, log: capture().log })).toBeNull();
    const { log, lines } = capture();
    const worker = startWorker({ db: t.db, config, log, intervalMs: 60_000 });
    await until(() => lines.some((l) => l.msg === 'No operator account yet: nothing to sweep'));
    await worker.stop();
    expect(lines.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
  });

  it('logs a failing sweep and keeps going', async () => {
    const down = connect(CLOSED_DATABASE_URL, { max: 1 });
    const { log, lines } = capture();
    const worker = startWorker({ db: down, config, log, intervalMs: 20 });
    await until(() => lines.filter((l) => l.level === 'error').length >= 2);
    await worker.stop();
    await down.destroy();
    expect(String(lines.find((l) => l.level === 'error')?.msg)).toContain('aging sweep failed');
  });
});
