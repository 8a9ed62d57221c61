// The ledger: append-only charges in integer minor units, each with a unique idempotency key, so writing
// the same charge twice (a retried job, a webhook delivered again) leaves one row. Postpaid charges land on
// the account's invoice for the calendar month (UTC); card-paid charges are matched by their payment.
// What an account owes is always derived (charges minus payments), never stored, so it cannot drift.
import { sql } from 'kysely';
import type { Executor } from '../context.ts';
import type { ChargeKind } from '../db/schema.ts';

export interface NewCharge {
  readonly accountId: number;
  /** Who receives the money: the operator or a reseller. */
  readonly sellerAccountId: number | null;
  readonly kind: ChargeKind;
  readonly amount: number;
  readonly currency: string;
  readonly didId?: number | null;
  readonly subscriptionId?: number | null;
  readonly orderId?: number | null;
  readonly periodStart?: Date | null;
  readonly periodEnd?: Date | null;
  readonly description: string;
  readonly idempotencyKey: string;
  /** Accrue on the account's monthly invoice (postpaid, and resellers' wholesale). */
  readonly onInvoice: boolean;
}

/** The first instant of the UTC calendar month containing `at`. */
export function monthStart(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
}

export function nextMonthStart(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
}

/** The open invoice of the account for the month of `at`, created on first use. */
export async function invoiceFor(
  db: Executor,
  accountId: number,
  currency: string,
  at: Date,
): Promise<number> {
  const start = monthStart(at);
  const row = await db
    .insertInto('invoices')
    .values({ account_id: accountId, currency, period_start: start, period_end: nextMonthStart(at) })
    .onConflict((oc) =>
      // A no-op update so RETURNING yields the existing row's id.
      oc
        .columns(['account_id', 'currency', 'period_start'])
        .doUpdateSet({ currency: (eb) => eb.ref('excluded.currency') }),
    )
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Writes the charges that are not written yet (by idempotency key) and returns how many were new. Zero
 * amounts are skipped: free numbers never produce a line asking for money.
 */
export async function recordCharges(db: Executor, charges: readonly NewCharge[], at: Date): Promise<number> {
  let written = 0;
  for (const charge of charges) {
    if (charge.amount === 0) continue;
    const invoiceId = charge.onInvoice ? await invoiceFor(db, charge.accountId, charge.currency, at) : null;
    const result = await db
      .insertInto('charges')
      .values({
        account_id: charge.accountId,
        seller_account_id: charge.sellerAccountId,
        kind: charge.kind,
        amount: charge.amount,
        currency: charge.currency,
        did_id: charge.didId ?? null,
        subscription_id: charge.subscriptionId ?? null,
        order_id: charge.orderId ?? null,
        invoice_id: invoiceId,
        period_start: charge.periodStart ?? null,
        period_end: charge.periodEnd ?? null,
        description: charge.description,
        idempotency_key: charge.idempotencyKey,
        created_at: at,
      })
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .executeTakeFirst();
    written += Number(result.numInsertedOrUpdatedRows ?? 0);
  }
  return written;
}

/** What the account owes now: every charge minus every settled payment (refunds net out on both sides). */
export async function amountOwed(db: Executor, accountId: number): Promise<number> {
  const { rows } = await sql<{ owed: number }>`
    SELECT (SELECT coalesce(sum(amount), 0) FROM charges WHERE account_id = ${accountId})
         - (SELECT coalesce(sum(amount - refunded_amount), 0) FROM payments
             WHERE account_id = ${accountId} AND status IN ('succeeded', 'refunded')) AS owed
  `.execute(db);
  return Number(rows[0]?.owed ?? 0);
}
