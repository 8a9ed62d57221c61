// Billing driven through the real job queue, once on pg-boss and once on BullMQ (Redis): the sweep
// enqueues, real workers run the jobs. Two bars from the billing issue:
// - losing every queued job (a flushed Redis) loses no renewal: the next sweep re-creates what is due;
// - 24 simulated months of a few hundred subscriptions with random payment failures end with a ledger
//   that matches what Stripe collected and what the calendar says, to the cent: no double charge, no
//   missed renewal.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { periodEnd } from '../../../core/billing/periods.ts';
import { createBullmqQueue, loadRedisClient } from '../../../core/jobs/bullmq-queue.ts';
import { createPgBossQueue } from '../../../core/jobs/pgboss-queue.ts';
import type { JobQueue } from '../../../core/jobs/queue.ts';
import { JOB_NAMES, startJobWorker } from '../../../core/jobs/registry.ts';
import { sweepBilling } from '../../../core/jobs/tasks/billing-sweep.ts';
import { silentLogger } from '../../../core/runtime/logger.ts';
import { DAY_MS } from '../../../core/shared/clock.ts';
import { buildAccount, buildDid, buildOperator } from '../../helpers/factories.ts';
import { buy, useBilling, type BillingFixture } from './billing-fixture.ts';

const redisUrl = process.env.REDIS_URL;
const prefix = `didops-billing-${randomBytes(4).toString('hex')}`;

/** Jobs whose work the ledger depends on; notices are delivered on their own time. */
const BILLING_JOBS = JOB_NAMES.filter((name) => name !== 'deliver-notification');

async function drain(queue: JobQueue, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await queue.counts(BILLING_JOBS);
    // Delayed jobs wait for their time (a hold's expiry 15 minutes on): only what can run now counts.
    const busy = counts.reduce((n, c) => n + c.waiting + c.active, 0);
    if (busy === 0) return;
    if (Date.now() > deadline) throw new Error(`queue not drained: ${JSON.stringify(counts)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A deterministic generator, so a failing run can be replayed. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function describeOnQueue(
  engine: string,
  makeQueue: (url: string) => JobQueue,
  skip: string | null,
  /**
   * Subscriptions and sweep interval (days) of the simulation. pg-boss polls and costs several times more
   * per job than BullMQ, so its run is smaller: the same checks, in about a minute.
   */
  simulation: { subscriptions: number; stepDays: number },
) {
  const simulated = simulation.subscriptions;
  (skip ? describe.skip : describe)(`billing on ${engine}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    const billing: BillingFixture = useBilling({ queue: makeQueue });

    it('losing every queued job loses no renewal: the next sweep re-creates it, and it is charged once', async () => {
      const operator = await buildOperator(billing.db);
      const customer = await buildAccount(billing.db, operator, { billing_mode: 'prepaid' });
      const dids = await Promise.all(
        Array.from({ length: 5 }, () => buildDid(billing.db, { recurring_fee: 500 })),
      );
      for (const did of dids) await buy(billing, customer, [did.id], 'card');

      billing.clock.set('2026-02-28T09:01:00Z');
      const swept = await sweepBilling(billing.jobDeps());
      expect(swept.renewals).toBe(5);
      // Nobody works the queue yet; then every queued job is lost.
      await loseEverything(engine, billing);
      expect((await billing.queue.counts(['renew-subscription']))[0]).toMatchObject({
        waiting: 0,
        delayed: 0,
      });

      await startJobWorker(billing.queue, billing.jobDeps());
      expect((await sweepBilling(billing.jobDeps())).renewals).toBe(5);
      await drain(billing.queue);
      // A third sweep finds nothing due, so nothing is charged twice.
      expect((await sweepBilling(billing.jobDeps())).renewals).toBe(0);

      const renewals = await billing.db
        .selectFrom('charges')
        .select(['subscription_id', 'period_start'])
        .where('kind', '=', 'recurring')
        .where('period_start', '=', new Date('2026-02-28T09:00:00Z'))
        .execute();
      expect(renewals).toHaveLength(5);
      const charged = [...billing.stripe.charges.values()].filter((c) => c.metadata['subscription_id']);
      expect(charged).toHaveLength(5);
    });

    it(
      `24 months, ${simulated} subscriptions, random declines: the ledger matches Stripe and the calendar to the cent`,
      { timeout: 400_000 },
      async () => {
        const next = random(20261122);
        billing.stripe.fate = () => (next() < 0.06 ? 'decline' : 'succeed');
        const operator = await buildOperator(billing.db);
        const card = await buildAccount(billing.db, operator, {
          billing_mode: 'prepaid',
          slug: 'card-buyer',
        });
        const onAccount = await buildAccount(billing.db, operator, {
          billing_mode: 'postpaid',
          credit_limit: 1_000_000_000,
          slug: 'invoice-buyer',
        });

        // Bought over January at different hours and days, with different prices and period kinds.
        const start = Date.parse('2026-01-01T00:00:00Z');
        const subs: { didId: number; fee: number; method: 'card' | 'invoice' }[] = [];
        for (let i = 0; i < simulated; i++) {
          billing.clock.set(new Date(start + Math.floor(next() * 30 * DAY_MS)));
          const days = next() < 0.2;
          const fee = 100 + Math.floor(next() * 900);
          const did = await buildDid(billing.db, {
            setup_fee: i % 3 === 0 ? 0 : 250,
            recurring_fee: fee,
            billing_period: days ? 'days' : 'monthly',
            billing_days: 30,
          });
          const method = i % 4 === 0 ? 'invoice' : 'card';
          await buy(billing, method === 'invoice' ? onAccount : card, [did.id], method);
          subs.push({ didId: did.id, fee, method });
        }
        await startJobWorker(billing.queue, billing.jobDeps());

        const step = simulation.stepDays * DAY_MS;
        let end = 0;
        for (
          let at = Date.parse('2026-02-01T00:00:00Z');
          at <= Date.parse('2028-01-01T00:00:00Z');
          at += step
        ) {
          billing.clock.set(new Date(at));
          await sweepBilling(billing.jobDeps());
          await drain(billing.queue);
          end = at;
        }

        const ledger = await billing.db
          .selectFrom('charges')
          .innerJoin('subscriptions', 'subscriptions.id', 'charges.subscription_id')
          .select([
            'subscriptions.did_id',
            'charges.kind',
            'charges.amount',
            'charges.period_start',
            'charges.period_end',
            'charges.invoice_id',
          ])
          .orderBy('charges.period_start')
          .execute();

        // 1. Card money: what Stripe collected is exactly what the ledger charged to cards.
        const collected = [...billing.stripe.charges.values()].reduce((n, c) => n + c.amount, 0);
        const cardCharged = ledger.filter((c) => c.invoice_id === null).reduce((n, c) => n + c.amount, 0);
        expect(cardCharged).toBe(collected);
        expect(billing.stripe.refunds).toEqual([]);

        for (const sub of subs) {
          const row = await billing.db
            .selectFrom('subscriptions')
            .selectAll()
            .where('did_id', '=', sub.didId)
            .executeTakeFirstOrThrow();
          const periods = ledger.filter((c) => c.did_id === sub.didId && c.kind === 'recurring');
          // 2. No period charged twice, no gap: each period starts where the previous one ended.
          for (let i = 1; i < periods.length; i++) {
            expect(periods[i]!.period_start!.getTime()).toBe(periods[i - 1]!.period_end!.getTime());
          }
          expect(periods.every((p) => p.amount === sub.fee)).toBe(true);
          // 3. The subscription is where its last charged period ends.
          expect(row.current_period_end.getTime()).toBe(periods.at(-1)!.period_end!.getTime());

          if (sub.method === 'invoice') {
            // 4. Postpaid never fails here: exactly the periods the calendar has begun since purchase.
            let expected = 0;
            for (let from = periods[0]!.period_start!; from.getTime() <= end; expected++) {
              from = periodEnd(from, {
                billingPeriod: row.billing_period,
                billingDays: row.billing_days,
                anchorDay: row.anchor_day,
              });
            }
            expect({ did: sub.didId, periods: periods.length }).toEqual({
              did: sub.didId,
              periods: expected,
            });
            expect(row.status).toBe('active');
          } else if (row.status === 'active') {
            // 5. No missed renewal: an active subscription is paid up to at most one sweep step ago.
            expect(row.current_period_end.getTime()).toBeGreaterThan(end - step);
          } else {
            // 6. Otherwise it is in dunning, suspended or released, and the failed attempts say why.
            const failed = await billing.db
              .selectFrom('payments')
              .select('id')
              .where('subscription_id', '=', row.id)
              .where('status', '=', 'failed')
              .where('idempotency_key', 'like', `renew-${row.id}-${row.current_period_end.getTime()}-%`)
              .execute();
            expect(failed.length).toBeGreaterThanOrEqual(1);
          }
        }
        // 7. Every renewal Stripe charged is one ledger line (matched by subscription and period).
        const renewalsCharged = [...billing.stripe.charges.values()].filter(
          (c) => c.metadata['subscription_id'],
        );
        const cardRenewals =
          ledger.filter((c) => c.invoice_id === null && c.kind === 'recurring').length -
          subs.filter((s) => s.method === 'card').length;
        expect(renewalsCharged).toHaveLength(cardRenewals);
        const invoiceTotal = await sql<{
          total: number;
        }>`SELECT coalesce(sum(amount), 0)::bigint AS total FROM charges WHERE invoice_id IS NOT NULL`.execute(
          billing.db,
        );
        const expectedInvoiced = ledger
          .filter((c) => c.invoice_id !== null)
          .reduce((n, c) => n + c.amount, 0);
        expect(Number(invoiceTotal.rows[0]!.total)).toBe(expectedInvoiced);
      },
    );
  });
}

/** Every queued job vanishes: Redis flushed (this run's keys), or pg-boss's job table emptied. */
async function loseEverything(engine: string, database: Pick<BillingFixture, 'db'>) {
  if (engine === 'BullMQ') {
    const Redis = await loadRedisClient();
    const client = new Redis(redisUrl!, {});
    try {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await client.del(...keys);
      } while (cursor !== '0');
    } finally {
      client.disconnect();
    }
  } else {
    await sql`DELETE FROM pgboss.job`.execute(database.db);
  }
}

describeOnQueue(
  'pg-boss',
  (url) => createPgBossQueue({ connectionString: url, log: silentLogger, pollingIntervalMs: 500 }),
  null,
  { subscriptions: 100, stepDays: 10 },
);
describeOnQueue(
  'BullMQ',
  () => createBullmqQueue({ redisUrl: redisUrl ?? '', prefix, log: silentLogger }),
  redisUrl ? null : 'REDIS_URL is not set',
  { subscriptions: 300, stepDays: 7 },
);
