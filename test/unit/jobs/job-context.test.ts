// handlerFor, the wrapper every job runs in: the request id of the web request behind a job reaches the
// job's log lines and the jobs it enqueues in turn; durations, outcomes and renewals land in the metrics.
import { describe, expect, it } from 'vitest';
import type { Db } from '../../../core/db/connect.ts';
import { defineJob, handlerFor, type JobDeps } from '../../../core/jobs/job-context.ts';
import type { JobInfo, JobPayload, JobQueue } from '../../../core/jobs/queue.ts';
import { enqueuerFor } from '../../../core/jobs/registry.ts';
import { createLogger } from '../../../core/runtime/logger.ts';
import { renderMetrics } from '../../../core/runtime/metrics.ts';
import { currentRequestId } from '../../../core/runtime/request-context.ts';
import { systemClock } from '../../../core/shared/clock.ts';
import { DEFAULT_BILLING_POLICY } from '../../../core/billing/billing-context.ts';

const info: JobInfo = { id: 'job-1', name: 'test', attempt: 1, signal: new AbortController().signal };

function world() {
  const lines: Record<string, unknown>[] = [];
  const enqueued: { name: string; payload: JobPayload }[] = [];
  const queue = {
    enqueue: (name: string, payload: JobPayload) => {
      enqueued.push({ name, payload });
      return Promise.resolve(true);
    },
  } as Pick<JobQueue, 'enqueue'>;
  const deps: JobDeps = {
    db: {} as Db,
    clock: systemClock,
    settings: { didAgingDays: 30 },
    policy: DEFAULT_BILLING_POLICY,
    payments: null,
    publicUrl: 'http://localhost:3000',
    enqueue: enqueuerFor(queue),
    enqueueMany: () => Promise.resolve(0),
    channels: [],
    log: createLogger({
      level: 'debug',
      write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
    }),
  };
  return { deps, lines, enqueued };
}

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('handlerFor', () => {
  it('logs a job with the request id in its payload and passes the id on to the jobs it enqueues', async () => {
    const { deps, lines, enqueued } = world();
    const seen: (string | undefined)[] = [];
    const job = defineJob({
      name: 'process-stripe-event',
      attempts: 1,
      backoffMs: 0,
      async run(runDeps) {
        seen.push(currentRequestId());
        await runDeps.enqueue('deliver-notification', { notificationId: 9 });
        return 'processed';
      },
    });
    await handlerFor(deps, job)({ webhookEventId: 5, requestId: 'req-7' }, info);
    expect(seen).toEqual(['req-7']);
    expect(enqueued).toEqual([
      { name: 'deliver-notification', payload: { notificationId: 9, requestId: 'req-7' } },
    ]);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'debug',
        job: 'process-stripe-event',
        requestId: 'req-7',
        outcome: 'processed',
        msg: 'Job done',
      }),
    ]);
  });

  it('runs a job without a request id (a schedule, a sweep) without one, and ignores a malformed one', async () => {
    const { deps, lines, enqueued } = world();
    const job = defineJob({
      name: 'billing-sweep',
      attempts: 1,
      backoffMs: 0,
      async run(runDeps) {
        await runDeps.enqueue('deliver-notification', { notificationId: 1 });
      },
    });
    await handlerFor(deps, job)({}, info);
    await handlerFor(deps, job)({ requestId: 'not a valid id' }, info);
    expect(enqueued.map((e) => e.payload)).toEqual([{ notificationId: 1 }, { notificationId: 1 }]);
    expect(lines.every((line) => !('requestId' in line))).toBe(true);
  });

  it('records durations by queue and outcome, and renewal outcomes', async () => {
    const { deps } = world();
    const before = await renderMetrics();
    const outcomes = ['renewed', 'renewed', 'failed', 'action_required', 'suspended', 'not_due'];
    const renew = defineJob({
      name: 'renew-subscription',
      attempts: 1,
      backoffMs: 0,
      run: () => Promise.resolve(outcomes.shift()),
    });
    const handler = handlerFor(deps, renew);
    for (let i = 0; i < 6; i++) await handler({ subscriptionId: 1, periodEnd: 0 }, info);
    const broken = defineJob({
      name: 'expire-order',
      attempts: 1,
      backoffMs: 0,
      run: () => Promise.reject(new Error('database restarting')),
    });
    await expect(handlerFor(deps, broken)({ orderId: 1 }, info)).rejects.toThrow('database restarting');

    const after = await renderMetrics();
    const delta = (series: string) => sample(after, series) - sample(before, series);
    expect(delta('didops_renewals_total{outcome="renewed"}')).toBe(2);
    expect(delta('didops_renewals_total{outcome="failed"}')).toBe(1);
    expect(delta('didops_renewals_total{outcome="action_required"}')).toBe(1);
    expect(delta('didops_renewals_total{outcome="suspended"}')).toBe(1);
    expect(after).not.toContain('outcome="not_due"');
    expect(delta('didops_job_duration_seconds_count{queue="renew-subscription",outcome="completed"}')).toBe(
      6,
    );
    expect(delta('didops_job_duration_seconds_count{queue="expire-order",outcome="failed"}')).toBe(1);
  });
});
