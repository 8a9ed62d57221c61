// Every minute: re-derive from the database everything that is due and enqueue it. Because the database
// holds the truth, a flushed Redis or a lost job costs at most a minute: the next sweep re-creates it.
// Job keys de-duplicate what is still queued, so overlapping sweeps enqueue nothing twice.
import { sql } from 'kysely';
import { dueWorkKey, findDueWork, type DueWork } from '../../billing/renewals.ts';
import { pendingNotifications } from '../../notifications/notifications.ts';
import { promoteAgedNumbers } from '../../inventory/edit-did.ts';
import { isDomainError } from '../../shared/errors.ts';
import { defineJob, systemBillingCtx, type JobDeps } from '../job-context.ts';

const BATCH = 5_000;

export interface SweepResult {
  readonly renewals: number;
  readonly releases: number;
  readonly expiredOrders: number;
  readonly notifications: number;
  readonly agedNumbers: number;
  readonly invoicesIssued: number;
  readonly webhookEvents: number;
}

const NOTHING: SweepResult = {
  renewals: 0,
  releases: 0,
  expiredOrders: 0,
  notifications: 0,
  agedNumbers: 0,
  invoicesIssued: 0,
  webhookEvents: 0,
};

export async function sweepBilling(deps: JobDeps): Promise<SweepResult> {
  let ctx;
  try {
    ctx = await systemBillingCtx(deps, 'billing-sweep');
  } catch (error) {
    // A database without its operator account yet (before `init` or the demo data): nothing can be due.
    if (isDomainError(error) && error.code === 'not_found') return NOTHING;
    throw error;
  }
  const now = ctx.clock.now();
  let renewals = 0;
  let releases = 0;
  // Page through everything due, so a backlog (a day of outage, a first run) is enqueued in one sweep.
  for (let afterId = 0, page: DueWork[]; (page = await findDueWork(ctx, BATCH, afterId)).length > 0;) {
    const renew = page.filter((w) => w.kind === 'renew');
    const release = page.filter((w) => w.kind === 'release');
    renewals += renew.length;
    releases += release.length;
    await deps.enqueueMany(
      'renew-subscription',
      renew.map((work) => ({
        payload: { subscriptionId: work.subscriptionId, periodEnd: work.periodEnd.getTime() },
        options: { key: dueWorkKey(work) },
      })),
    );
    await deps.enqueueMany(
      'release-subscription',
      release.map((work) => ({
        payload: { subscriptionId: work.subscriptionId },
        options: { key: dueWorkKey(work) },
      })),
    );
    afterId = Math.max(...page.map((w) => w.subscriptionId));
    if (page.length < BATCH) break;
  }
  const orders = await ctx.db
    .selectFrom('orders')
    .select('id')
    .where('status', '=', 'pending')
    .where('expires_at', '<=', now)
    .limit(BATCH)
    .execute();
  for (const order of orders) {
    await deps.enqueue('expire-order', { orderId: order.id }, { key: `expire-order-${order.id}` });
  }
  const notices = await pendingNotifications(ctx.db, new Date(Date.now() - 60_000), BATCH);
  await deps.enqueueMany(
    'deliver-notification',
    notices.map((id) => ({ payload: { notificationId: id }, options: { key: `notify-${id}` } })),
  );
  // Webhook events recorded but never processed (the enqueue after recording failed, or the job was lost).
  const events = await ctx.db
    .selectFrom('webhook_events')
    .select('id')
    .where('processed_at', 'is', null)
    .where('received_at', '<', new Date(Date.now() - 60_000))
    .limit(BATCH)
    .execute();
  for (const event of events) {
    await deps.enqueue(
      'process-stripe-event',
      { webhookEventId: event.id },
      { key: `stripe-event-${event.id}` },
    );
  }
  const agedNumbers = await promoteAgedNumbers(ctx);
  // Last month's postpaid statements close once the month is over.
  const issued = await sql`
    UPDATE invoices SET status = 'issued', issued_at = ${now}
    WHERE status = 'open' AND period_end <= ${now}`.execute(ctx.db);
  return {
    renewals,
    releases,
    expiredOrders: orders.length,
    notifications: notices.length,
    agedNumbers,
    invoicesIssued: Number(issued.numAffectedRows ?? 0),
    webhookEvents: events.length,
  };
}

export const billingSweepJob = defineJob({
  name: 'billing-sweep',
  attempts: 1,
  backoffMs: 1_000,
  cron: '* * * * *',
  run: (deps) => sweepBilling(deps),
});
