// Billing for numbers the operator's staff hand out from the pool (chat, console, back office), so a number
// is never in use without being billed (a known bug of other systems: "a monthly fee never billed"). The
// account is charged what it would pay on the storefront (its reseller's price, with each reseller up the
// chain charged wholesale), on its monthly invoice; renewals follow like any subscription. Set-based, so a
// bulk assignment of thousands of numbers costs a handful of statements.
//
// Numbers a reseller hands to its own customers are not billed again here: the reseller already pays for
// them (its own subscription) and bills its customers itself.
import { sql } from 'kysely';
import type { Executor } from '../context.ts';
import type { Account, Did } from '../db/schema.ts';
import { invoiceFor } from './ledger.ts';
import { anchorDayFor, periodEnd } from './periods.ts';
import { pathIds, pricesForBuyer, type BuyerPrice } from './pricing.ts';

type BilledDid = Pick<
  Did,
  | 'id'
  | 'number'
  | 'pricing_batch_id'
  | 'setup_fee'
  | 'recurring_fee'
  | 'currency'
  | 'billing_type'
  | 'billing_period'
  | 'billing_days'
>;

/** Starts a subscription per number for `account` and writes the setup fee and first period. */
export async function billStaffAssignment(
  db: Executor,
  account: Account,
  dids: readonly BilledDid[],
  now: Date,
): Promise<void> {
  if (dids.length === 0) return;
  const operatorId = pathIds(account.path)[0]!;
  const prices = await pricesForBuyer(db, operatorId, account, dids);
  const rows = dids.map((did) => {
    const price = prices.get(did.id)!;
    return {
      did,
      price,
      end: periodEnd(now, { billingPeriod: did.billing_period, billingDays: did.billing_days }),
    };
  });
  // In chunks: a multi-row VALUES binds 14 parameters a row, and PostgreSQL takes at most 65,535.
  const subs: { id: number; did_id: number }[] = [];
  for (let i = 0; i < rows.length; i += SUBSCRIPTION_CHUNK) {
    subs.push(...(await insertSubscriptions(db, account, rows.slice(i, i + SUBSCRIPTION_CHUNK), now)));
  }
  const subscriptionOf = new Map(subs.map((s) => [s.did_id, s.id]));

  // Every line of every payer, then one INSERT ... SELECT FROM unnest for all of them.
  const lines: {
    account: number;
    seller: number;
    kind: 'setup' | 'recurring';
    amount: number;
    currency: string;
    did: number;
    sub: number;
    start: Date | null;
    end: Date | null;
    description: string;
    key: string;
  }[] = [];
  for (const { did, price, end } of rows) {
    const sub = subscriptionOf.get(did.id)!;
    const base = `assign-${sub}`;
    const payers = [
      {
        account: account.id,
        seller: price.sellerAccountId,
        setup: price.setupFee,
        recurring: price.recurringFee,
        tag: '',
      },
      ...price.upstream.map((u) => ({
        account: u.account_id,
        seller: u.seller_account_id,
        setup: u.setup_fee,
        recurring: u.recurring_fee,
        tag: `-acct-${u.account_id}`,
      })),
    ];
    for (const p of payers) {
      const wholesale = p.tag ? 'Wholesale ' : '';
      if (p.setup > 0) {
        lines.push({
          account: p.account,
          seller: p.seller,
          kind: 'setup',
          amount: p.setup,
          currency: price.currency,
          did: did.id,
          sub,
          start: null,
          end: null,
          description: `${wholesale}Setup of ${did.number}`,
          key: `${base}-setup${p.tag}`,
        });
      }
      if (p.recurring > 0) {
        lines.push({
          account: p.account,
          seller: p.seller,
          kind: 'recurring',
          amount: p.recurring,
          currency: price.currency,
          did: did.id,
          sub,
          start: now,
          end,
          description: `${wholesale}${did.number}, first period`,
          key: `${base}-period-1${p.tag}`,
        });
      }
    }
  }
  if (lines.length === 0) return;
  const invoices = new Map<string, number>();
  for (const line of lines) {
    const k = `${line.account}/${line.currency}`;
    if (!invoices.has(k)) invoices.set(k, await invoiceFor(db, line.account, line.currency, now));
  }
  await sql`
    INSERT INTO charges (account_id, seller_account_id, kind, amount, currency, did_id, subscription_id, invoice_id,
                         period_start, period_end, description, idempotency_key, created_at)
    SELECT * , ${now}::timestamptz FROM unnest(
      ${lines.map((l) => l.account)}::bigint[], ${lines.map((l) => l.seller)}::bigint[],
      ${lines.map((l) => l.kind)}::text[], ${lines.map((l) => l.amount)}::bigint[],
      ${lines.map((l) => l.currency)}::char(3)[], ${lines.map((l) => l.did)}::bigint[],
      ${lines.map((l) => l.sub)}::bigint[], ${lines.map((l) => invoices.get(`${l.account}/${l.currency}`)!)}::bigint[],
      ${lines.map((l) => l.start)}::timestamptz[], ${lines.map((l) => l.end)}::timestamptz[],
      ${lines.map((l) => l.description)}::text[], ${lines.map((l) => l.key)}::text[])
    ON CONFLICT (idempotency_key) DO NOTHING
  `.execute(db);
}

/** A number going back to the pool ends whatever billed it, in the same transaction as the release. */
export async function endSubscriptionsOf(
  db: Executor,
  didIds: readonly number[],
  now: Date,
): Promise<number> {
  if (didIds.length === 0) return 0;
  const result = await db
    .updateTable('subscriptions')
    .set({ status: 'canceled', canceled_at: now, next_retry_at: null })
    .where(sql<boolean>`did_id = any(${didIds}::bigint[])`)
    .where('status', '<>', 'canceled')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

const SUBSCRIPTION_CHUNK = 2_000;

type PricedRow = { did: BilledDid; price: BuyerPrice; end: Date };

function insertSubscriptions(db: Executor, account: Account, rows: readonly PricedRow[], now: Date) {
  return db
    .insertInto('subscriptions')
    .values(
      rows.map(({ did, price, end }) => ({
        did_id: did.id,
        account_id: account.id,
        seller_account_id: price.sellerAccountId,
        billing_type: did.billing_type,
        billing_period: did.billing_period,
        billing_days: did.billing_days,
        setup_fee: price.setupFee,
        recurring_fee: price.recurringFee,
        currency: price.currency,
        anchor_day: anchorDayFor(now, did.billing_period),
        current_period_start: now,
        current_period_end: end,
        upstream: JSON.stringify(price.upstream),
        payment_method: 'invoice' as const,
      })),
    )
    .returning(['id', 'did_id'])
    .execute();
}
