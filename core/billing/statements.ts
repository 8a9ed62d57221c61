// An account's paperwork on the storefront: its invoices (postpaid statements, one per calendar month) and
// its payments, what it owes now, and a receipt for one payment listing what it paid for. Always the
// actor's own account; another account's payment is "not found".
import { accountOf } from '../accounts/accounts.ts';
import type { Ctx } from '../context.ts';
import { formatNumber } from '../numbers/phone-number.ts';
import { notFound } from '../shared/errors.ts';
import { amountOwed } from './ledger.ts';
import { listInvoices, listPayments } from './subscriptions.ts';

export async function billingHistory(ctx: Ctx) {
  const account = await accountOf(ctx.db, ctx.actor);
  const [invoices, payments, owed] = await Promise.all([
    listInvoices(ctx),
    listPayments(ctx),
    amountOwed(ctx.db, account.id),
  ]);
  return {
    account: { name: account.name, currency: account.currency, billingMode: account.billing_mode },
    invoices: invoices.map((i) => ({ ...i, total: Number(i.total), lines: Number(i.lines) })),
    payments,
    owed,
  };
}

export interface ReceiptLine {
  readonly description: string;
  readonly amount: number;
}

/** One payment of the account's, with what it paid for. */
export async function getReceipt(ctx: Ctx, paymentId: number) {
  const payment = Number.isSafeInteger(paymentId)
    ? await ctx.db
        .selectFrom('payments')
        .selectAll()
        .where('id', '=', paymentId)
        .where('account_id', '=', ctx.actor.accountId)
        .executeTakeFirst()
    : undefined;
  if (!payment) throw notFound('There is no such payment of yours.');
  const account = await accountOf(ctx.db, ctx.actor);
  let lines: ReceiptLine[];
  if (payment.order_id !== null) {
    const items = await ctx.db
      .selectFrom('order_items')
      .innerJoin('dids', 'dids.id', 'order_items.did_id')
      .select(['dids.number', 'order_items.setup_fee', 'order_items.recurring_fee', 'order_items.outcome'])
      .where('order_items.order_id', '=', payment.order_id)
      .orderBy('dids.number')
      .execute();
    lines = items.flatMap((i) => {
      const refunded = i.outcome === 'refunded' ? ' (refunded: taken by another buyer)' : '';
      return [
        ...(i.setup_fee > 0
          ? [{ description: `Setup of ${formatNumber(i.number)}${refunded}`, amount: i.setup_fee }]
          : []),
        ...(i.recurring_fee > 0
          ? [{ description: `${formatNumber(i.number)}, first period${refunded}`, amount: i.recurring_fee }]
          : []),
      ];
    });
  } else if (payment.subscription_id !== null) {
    const sub = await ctx.db
      .selectFrom('subscriptions')
      .innerJoin('dids', 'dids.id', 'subscriptions.did_id')
      .select(['dids.number'])
      .where('subscriptions.id', '=', payment.subscription_id)
      .executeTakeFirst();
    lines = [
      { description: `Renewal of ${sub ? formatNumber(sub.number) : 'a number'}`, amount: payment.amount },
    ];
  } else {
    lines = [{ description: 'Payment received', amount: payment.amount }];
  }
  return { payment, account: { name: account.name, slug: account.slug }, lines };
}
