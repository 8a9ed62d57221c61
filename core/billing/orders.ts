// Buying numbers (seed 000 "Buy DIDs"). The server prices everything itself (the form only names numbers),
// holds the numbers while the buyer pays, and hands them over only once payment is confirmed:
// - on account (postpaid, within the credit limit): at once, in the same transaction;
// - by card: a Stripe Checkout page; the numbers change hands when the webhook confirms it. A payment that
//   arrives after the hold expired still gets the number if nobody else took it, and is refunded for every
//   number that somebody else bought meanwhile: never two owners, never a charge without a number.
// A double-clicked pay button sends the same submit key twice and finds the first order.
import { sql } from 'kysely';
import { accountOf } from '../accounts/accounts.ts';
import { requirePermission } from '../accounts/permissions.ts';
import { recordAudit } from '../audit/audit.ts';
import { inTransaction } from '../context.ts';
import type { Account, Did, Order, OrderItem } from '../db/schema.ts';
import { uniqueViolation } from '../db/errors.ts';
import { formatNumber } from '../numbers/phone-number.ts';
import { recordNotification } from '../notifications/notifications.ts';
import type { CompletedCheckout } from '../payments/gateway.ts';
import { conflict, DomainError, forbidden, invalid, notFound } from '../shared/errors.ts';
import { formatMoney } from '../shared/money.ts';
import type { BillingCtx } from './billing-context.ts';
import { fulfillItem } from './fulfillment.ts';
import { amountOwed } from './ledger.ts';
import { periodLabel } from './periods.ts';
import { pricesForBuyer } from './pricing.ts';
import { ensureStripeCustomer } from './stripe-customer.ts';

export const MAX_ORDER_NUMBERS = 50;
/** Stripe refuses a Checkout that expires sooner than this. */
const MIN_CHECKOUT_MINUTES = 30;

export interface OrderLine {
  readonly didId: number;
  readonly number: string;
  readonly setupFee: number;
  readonly recurringFee: number;
  readonly currency: string;
  readonly billingType: 'one_time' | 'recurring';
  readonly billingPeriod: 'days' | 'monthly' | 'yearly';
  readonly billingDays: number;
}

export interface Quote {
  readonly lines: readonly OrderLine[];
  readonly currency: string;
  /** Setup fees plus the first period of every number: what is paid now. */
  readonly total: number;
  /** What renews each period (recurring numbers only), per period kind. */
  readonly renewals: readonly { readonly label: string; readonly amount: number }[];
}

export interface PlacedOrder {
  readonly order: Order;
  /** Where to send the buyer: Stripe Checkout for a card order still to be paid, else null. */
  readonly checkoutUrl: string | null;
}

function parseIds(ids: readonly (number | string)[]): number[] {
  const parsed = [...new Set(ids.map((id) => Number(id)))];
  if (parsed.length === 0) throw invalid('Pick at least one number.', { field: 'did' });
  if (parsed.some((id) => !Number.isSafeInteger(id) || id <= 0)) {
    throw invalid('The selection names a number that does not exist.', { field: 'did' });
  }
  if (parsed.length > MAX_ORDER_NUMBERS) {
    throw invalid(`Buy at most ${MAX_ORDER_NUMBERS} numbers in one order.`, { field: 'did' });
  }
  return parsed;
}

async function buyerAccount(ctx: BillingCtx): Promise<Account> {
  requirePermission(ctx.actor, 'billing.buy');
  const buyer = await accountOf(ctx.db, ctx.actor);
  if (buyer.kind === 'admin') {
    throw invalid("The operator's staff assign numbers; they do not buy them.", {
      help: 'Use `assign <number> <account>` in chat or the console.',
    });
  }
  if (buyer.status !== 'active') {
    throw forbidden(`Your account is ${buyer.status}, so it cannot buy numbers.`, {
      help: 'Contact your provider to re-activate it.',
    });
  }
  return buyer;
}

/** Prices a selection for the current buyer without holding anything: the cart and confirmation page. */
export async function quoteOrder(ctx: BillingCtx, didIds: readonly (number | string)[]): Promise<Quote> {
  const buyer = await buyerAccount(ctx);
  const ids = parseIds(didIds);
  const dids = await ctx.db.selectFrom('dids').selectAll().where('id', 'in', ids).execute();
  const unavailable = dids.filter((d) => d.status !== 'available');
  if (dids.length !== ids.length || unavailable.length) {
    const names = unavailable.map((d) => formatNumber(d.number)).join(', ');
    throw conflict(
      names
        ? `${names} ${unavailable.length === 1 ? 'is' : 'are'} no longer available.`
        : 'A number you picked no longer exists.',
      { help: 'Remove it from your selection and pick another.', field: 'did' },
    );
  }
  return priceLines(ctx, buyer, dids);
}

async function priceLines(
  ctx: BillingCtx,
  buyer: Account,
  dids: readonly Did[],
): Promise<Quote & { prices: Awaited<ReturnType<typeof pricesForBuyer>> }> {
  const operatorId = Number(buyer.path.split('/')[1]);
  const prices = await pricesForBuyer(ctx.db, operatorId, buyer, dids);
  const lines = dids.map((d): OrderLine => {
    const p = prices.get(d.id)!;
    return {
      didId: d.id,
      number: d.number,
      setupFee: p.setupFee,
      recurringFee: p.recurringFee,
      currency: p.currency,
      billingType: p.billingType,
      billingPeriod: p.billingPeriod,
      billingDays: p.billingDays,
    };
  });
  const currencies = new Set(lines.map((l) => l.currency));
  if (currencies.size > 1) {
    throw invalid(`These numbers are priced in different currencies (${[...currencies].join(', ')}).`, {
      help: 'Buy the numbers of each currency in a separate order.',
      field: 'did',
    });
  }
  const currency = lines[0]?.currency ?? buyer.currency;
  const total = lines.reduce((sum, l) => sum + l.setupFee + l.recurringFee, 0);
  const renewals = new Map<string, number>();
  for (const l of lines) {
    if (l.billingType !== 'recurring' || l.recurringFee === 0) continue;
    const label = periodLabel({
      billing_type: l.billingType,
      billing_period: l.billingPeriod,
      billing_days: l.billingDays,
    });
    renewals.set(label, (renewals.get(label) ?? 0) + l.recurringFee);
  }
  return {
    lines,
    currency,
    total,
    renewals: [...renewals].map(([label, amount]) => ({ label, amount })),
    prices,
  };
}

export interface PlaceOrderInput {
  readonly didIds: readonly (number | string)[];
  readonly method: 'card' | 'invoice';
  /** A random token rendered into the form: the same token twice is the same order. */
  readonly submitKey: string;
}

export async function placeOrder(ctx: BillingCtx, input: PlaceOrderInput): Promise<PlacedOrder> {
  const buyer = await buyerAccount(ctx);
  if (!/^[A-Za-z0-9_-]{8,100}$/.test(input.submitKey)) {
    throw invalid('This form has expired.', { help: 'Reload the page and try again.' });
  }
  const existing = await ctx.db
    .selectFrom('orders')
    .selectAll()
    .where('submit_key', '=', input.submitKey)
    .executeTakeFirst();
  if (existing) return sameOrder(buyer, existing);
  const ids = parseIds(input.didIds);
  if (input.method === 'invoice' && buyer.billing_mode !== 'postpaid') {
    throw invalid('Only postpaid accounts can order on account.', {
      help: 'Pay by card instead.',
      field: 'method',
    });
  }

  let placed: { order: Order; immediate: boolean; existing: boolean };
  try {
    placed = await inTransaction(ctx, async (tx) => {
      // The two requests of a double-click queue up here; the second then finds the first one's order.
      await sql`SELECT pg_advisory_xact_lock(hashtext(${`order:${input.submitKey}`}))`.execute(tx.db);
      const first = await tx.db
        .selectFrom('orders')
        .selectAll()
        .where('submit_key', '=', input.submitKey)
        .executeTakeFirst();
      if (first) return { order: first, immediate: true, existing: true };
      // Lock the numbers in id order so two buyers of overlapping selections cannot deadlock.
      const dids = await tx.db
        .selectFrom('dids')
        .selectAll()
        .where('id', 'in', ids)
        .orderBy('id')
        .forUpdate()
        .execute();
      if (dids.length !== ids.length)
        throw conflict('A number you picked no longer exists.', { field: 'did' });
      const taken = dids.filter((d) => d.status !== 'available');
      if (taken.length) {
        throw conflict(
          `${taken.map((d) => formatNumber(d.number)).join(', ')} ${taken.length === 1 ? 'was' : 'were'} just taken by another buyer.`,
          { help: 'Nothing was charged. Pick other numbers and try again.', field: 'did' },
        );
      }
      const quote = await priceLines(tx, buyer, dids);
      const now = tx.clock.now();
      const free = quote.total === 0;
      const immediate = input.method === 'invoice' || free;
      // Free numbers need no card, so only a priced card order needs Stripe.
      if (input.method === 'card' && !free && !tx.payments) {
        throw new DomainError('unavailable', 'Card payments are not set up on this server.', {
          help:
            buyer.billing_mode === 'postpaid'
              ? 'Order on account instead.'
              : 'Ask your provider to make your account postpaid, or try again later.',
          field: 'method',
        });
      }
      if (input.method === 'invoice' && !free) {
        const owed = await amountOwed(tx.db, buyer.id);
        if (owed + quote.total > buyer.credit_limit) {
          throw new DomainError(
            'payment_failed',
            `This order (${formatMoney(quote.total, quote.currency)}) would take your account over its credit limit of ${formatMoney(buyer.credit_limit, buyer.currency)} (you owe ${formatMoney(owed, buyer.currency)}).`,
            { help: 'Pay your open invoice, pick fewer numbers, or ask your provider for a higher limit.' },
          );
        }
      }
      const holdMinutes = tx.policy.reservationMinutes;
      const order = await tx.db
        .insertInto('orders')
        .values({
          account_id: buyer.id,
          user_id: tx.actor.userId,
          method: input.method,
          status: immediate ? 'paid' : 'pending',
          currency: quote.currency,
          total: quote.total,
          submit_key: input.submitKey,
          expires_at: new Date(now.getTime() + holdMinutes * 60_000),
          paid_at: immediate ? now : null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();

      for (const did of dids) {
        const price = quote.prices.get(did.id)!;
        const reservation = immediate
          ? null
          : await tx.db
              .insertInto('reservations')
              .values({
                did_id: did.id,
                account_id: buyer.id,
                order_id: order.id,
                expires_at: order.expires_at,
              })
              .returning('id')
              .executeTakeFirstOrThrow();
        const item = await tx.db
          .insertInto('order_items')
          .values({
            order_id: order.id,
            did_id: did.id,
            reservation_id: reservation?.id ?? null,
            seller_account_id: price.sellerAccountId,
            setup_fee: price.setupFee,
            recurring_fee: price.recurringFee,
            upstream: JSON.stringify(price.upstream),
            outcome: immediate ? 'fulfilled' : 'pending',
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        if (immediate) {
          await fulfillItem(tx.db, tx.actor, {
            buyer,
            order,
            item,
            did,
            method: 'invoice',
            stripePaymentMethodId: null,
            now,
          });
        }
      }
      if (!immediate) {
        await tx.db.updateTable('dids').set({ status: 'reserved' }).where('id', 'in', ids).execute();
        await recordAudit(
          tx.db,
          tx.actor,
          dids.map((d) => ({
            action: 'did.reserve',
            didId: d.id,
            accountId: buyer.id,
            subject: d.number,
            before: { status: 'available' },
            after: { status: 'reserved', order: order.id, until: order.expires_at },
          })),
        );
      } else {
        await recordNotification(tx.db, {
          accountId: buyer.id,
          kind: 'order_receipt',
          key: `order-receipt-${order.id}`,
          data: { numbers: dids.map((d) => d.number), amount: quote.total, currency: quote.currency },
        });
      }
      return { order, immediate, existing: false };
    });
  } catch (error) {
    if (uniqueViolation(error)) {
      // The other click of a double-click won the race to insert the order: show that one.
      const winner = await ctx.db
        .selectFrom('orders')
        .selectAll()
        .where('submit_key', '=', input.submitKey)
        .executeTakeFirst();
      if (winner) return sameOrder(buyer, winner);
    }
    throw error;
  }

  if (placed.existing) return sameOrder(buyer, placed.order);
  if (placed.immediate) return { order: placed.order, checkoutUrl: null };
  await ctx.enqueue(
    'expire-order',
    { orderId: placed.order.id },
    { key: `expire-order-${placed.order.id}`, delayMs: ctx.policy.reservationMinutes * 60_000 + 1_000 },
  );
  return startCheckout(ctx, buyer, placed.order);
}

function sameOrder(buyer: Account, order: Order): PlacedOrder {
  if (order.account_id !== buyer.id)
    throw invalid('This form has expired.', { help: 'Reload the page and try again.' });
  return { order, checkoutUrl: order.status === 'pending' ? order.checkout_url : null };
}

async function startCheckout(ctx: BillingCtx, buyer: Account, order: Order): Promise<PlacedOrder> {
  const payments = ctx.payments!;
  try {
    const customerId = await ensureStripeCustomer(ctx, buyer);
    const items = await ctx.db
      .selectFrom('order_items')
      .innerJoin('dids', 'dids.id', 'order_items.did_id')
      .select(['dids.number', 'order_items.setup_fee', 'order_items.recurring_fee', 'dids.billing_type'])
      .where('order_id', '=', order.id)
      .orderBy('dids.number')
      .execute();
    const lines = items.flatMap((i) => [
      ...(i.setup_fee > 0
        ? [{ name: `Setup of ${formatNumber(i.number)}`, amount: i.setup_fee, quantity: 1 }]
        : []),
      ...(i.recurring_fee > 0
        ? [
            {
              name: `${formatNumber(i.number)}, ${i.billing_type === 'one_time' ? 'one-time fee' : 'first period'}`,
              amount: i.recurring_fee,
              quantity: 1,
            },
          ]
        : []),
    ]);
    const now = ctx.clock.now();
    const session = await payments.createCheckout({
      customerId,
      currency: order.currency,
      lines,
      successUrl: `${ctx.publicUrl}/orders/${order.id}?from=checkout`,
      cancelUrl: `${ctx.publicUrl}/orders/${order.id}/cancel`,
      expiresAt: new Date(
        now.getTime() + Math.max(MIN_CHECKOUT_MINUTES, ctx.policy.reservationMinutes) * 60_000 + 60_000,
      ),
      metadata: { order_id: String(order.id), account_id: String(buyer.id) },
      idempotencyKey: `checkout-order-${order.id}`,
      saveCard: true,
    });
    const updated = await ctx.db
      .updateTable('orders')
      .set({ checkout_session_id: session.id, checkout_url: session.url })
      .where('id', '=', order.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return { order: updated, checkoutUrl: session.url };
  } catch (error) {
    // No payment page, no hold: give the numbers back at once rather than after the hold expires.
    await endOrder(ctx, order.id, 'failed');
    throw error;
  }
}

/**
 * A completed Checkout (from the webhook, or read back from Stripe). Idempotent: a second delivery finds
 * the order paid and only makes sure refunds owed were sent.
 */
export async function completeCheckout(
  ctx: BillingCtx,
  checkout: CompletedCheckout,
): Promise<'fulfilled' | 'already_done' | 'unpaid' | 'unknown'> {
  if (!checkout.paid) return 'unpaid';
  const orderId = Number(checkout.metadata['order_id']);
  const result = await inTransaction(ctx, async (tx) => {
    const order = await tx.db
      .selectFrom('orders')
      .selectAll()
      .where((eb) =>
        Number.isSafeInteger(orderId) && orderId > 0
          ? eb.or([eb('id', '=', orderId), eb('checkout_session_id', '=', checkout.sessionId)])
          : eb('checkout_session_id', '=', checkout.sessionId),
      )
      .forUpdate()
      .executeTakeFirst();
    if (!order) return 'unknown' as const;
    if (order.status === 'paid') return 'already_done' as const;
    const buyer = await tx.db
      .selectFrom('accounts')
      .selectAll()
      .where('id', '=', order.account_id)
      .executeTakeFirstOrThrow();
    const now = tx.clock.now();
    await tx.db
      .insertInto('payments')
      .values({
        account_id: buyer.id,
        amount: checkout.amountTotal || order.total,
        currency: order.currency,
        method: 'card',
        status: 'succeeded',
        provider_ref: checkout.paymentId,
        order_id: order.id,
        idempotency_key: `checkout-${checkout.sessionId}`,
      })
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .execute();
    if (checkout.customerId && !buyer.stripe_customer_id) {
      await tx.db
        .updateTable('accounts')
        .set({ stripe_customer_id: checkout.customerId })
        .where('id', '=', buyer.id)
        .execute();
    }
    const items = await tx.db
      .selectFrom('order_items')
      .selectAll()
      .where('order_id', '=', order.id)
      .orderBy('did_id')
      .execute();
    const fulfilled: string[] = [];
    for (const item of items) {
      const did = await tx.db
        .selectFrom('dids')
        .selectAll()
        .where('id', '=', item.did_id)
        .forUpdate()
        .executeTakeFirstOrThrow();
      const heldForUs =
        did.status === 'reserved' &&
        (await tx.db
          .selectFrom('reservations')
          .select('id')
          .where('did_id', '=', did.id)
          .where('order_id', '=', order.id)
          .where('status', 'in', ['active', 'expired'])
          .executeTakeFirst()) !== undefined &&
        // An expired hold may have been taken over by another buyer's active one.
        (await tx.db
          .selectFrom('reservations')
          .select('id')
          .where('did_id', '=', did.id)
          .where('status', '=', 'active')
          .where('order_id', '<>', order.id)
          .executeTakeFirst()) === undefined;
      if (heldForUs || did.status === 'available') {
        await fulfillItem(tx.db, tx.actor, {
          buyer,
          order,
          item,
          did,
          method: 'card',
          stripePaymentMethodId: checkout.paymentMethodId,
          now,
        });
        await setOutcome(tx.db, item, 'fulfilled');
        fulfilled.push(did.number);
      } else {
        await setOutcome(tx.db, item, 'refunded');
        await recordAudit(tx.db, tx.actor, [
          {
            action: 'order.refund_item',
            didId: did.id,
            accountId: buyer.id,
            subject: did.number,
            after: { order: order.id, reason: 'the hold had expired and another buyer took the number' },
          },
        ]);
      }
    }
    await tx.db
      .updateTable('reservations')
      .set({ status: 'converted' })
      .where('order_id', '=', order.id)
      .where('status', 'in', ['active', 'expired'])
      .execute();
    await tx.db
      .updateTable('orders')
      .set({ status: 'paid', paid_at: now })
      .where('id', '=', order.id)
      .execute();
    if (fulfilled.length) {
      await recordNotification(tx.db, {
        accountId: buyer.id,
        kind: 'order_receipt',
        key: `order-receipt-${order.id}`,
        data: { numbers: fulfilled, amount: order.total, currency: order.currency },
      });
    }
    return 'fulfilled' as const;
  });
  if (result !== 'unknown') await settleRefunds(ctx, checkout.sessionId);
  return result;
}

async function setOutcome(db: BillingCtx['db'], item: OrderItem, outcome: OrderItem['outcome']) {
  await db.updateTable('order_items').set({ outcome }).where('id', '=', item.id).execute();
}

/**
 * Refunds what was paid for numbers the buyer did not get. Safe to repeat: it refunds only the difference
 * between what is owed back and what was already refunded, under a key naming that amount.
 */
async function settleRefunds(ctx: BillingCtx, sessionId: string): Promise<void> {
  const payment = await ctx.db
    .selectFrom('payments')
    .selectAll()
    .where('idempotency_key', '=', `checkout-${sessionId}`)
    .executeTakeFirst();
  if (!payment || payment.order_id === null || !payment.provider_ref || !ctx.payments) return;
  const { rows } = await sql<{ owed: number }>`
    SELECT coalesce(sum(setup_fee + recurring_fee), 0) AS owed FROM order_items
    WHERE order_id = ${payment.order_id} AND outcome = 'refunded'`.execute(ctx.db);
  const owedBack = Number(rows[0]?.owed ?? 0);
  const due = owedBack - payment.refunded_amount;
  if (due <= 0) return;
  await ctx.payments.refund({
    paymentId: payment.provider_ref,
    amount: due,
    idempotencyKey: `refund-order-${payment.order_id}-${owedBack}`,
    reason: 'number taken by another buyer after the hold expired',
  });
  await ctx.db
    .updateTable('payments')
    .set({ refunded_amount: owedBack, status: owedBack >= payment.amount ? 'refunded' : 'succeeded' })
    .where('id', '=', payment.id)
    .execute();
}

/**
 * Ends an unpaid order: its holds lapse and its numbers return to the pool. Used when the hold expires
 * (a job), when Stripe says the checkout expired, and when the buyer cancels. Paid orders are left alone.
 */
export async function endOrder(
  ctx: BillingCtx,
  orderId: number,
  status: 'expired' | 'canceled' | 'failed',
): Promise<boolean> {
  const ended = await inTransaction(ctx, async (tx) => {
    const order = await tx.db
      .selectFrom('orders')
      .selectAll()
      .where('id', '=', orderId)
      .forUpdate()
      .executeTakeFirst();
    if (!order || order.status !== 'pending') return null;
    if (status === 'expired' && order.expires_at > tx.clock.now()) return null;
    const held = await tx.db
      .selectFrom('reservations')
      .innerJoin('dids', 'dids.id', 'reservations.did_id')
      .select(['reservations.id', 'dids.id as did_id', 'dids.number', 'dids.status'])
      .where('reservations.order_id', '=', orderId)
      .where('reservations.status', '=', 'active')
      .execute();
    await tx.db
      .updateTable('reservations')
      .set({ status: status === 'expired' ? 'expired' : 'canceled' })
      .where('order_id', '=', orderId)
      .where('status', '=', 'active')
      .execute();
    const back = held.filter((h) => h.status === 'reserved');
    if (back.length) {
      await tx.db
        .updateTable('dids')
        .set({ status: 'available' })
        .where(
          'id',
          'in',
          back.map((h) => h.did_id),
        )
        .where('status', '=', 'reserved')
        .execute();
      await recordAudit(
        tx.db,
        tx.actor,
        back.map((h) => ({
          action: 'did.reservation_end',
          didId: h.did_id,
          accountId: order.account_id,
          subject: h.number,
          before: { status: 'reserved', order: orderId },
          after: { status: 'available', reason: status },
        })),
      );
    }
    await tx.db.updateTable('orders').set({ status }).where('id', '=', orderId).execute();
    return order;
  });
  if (ended?.checkout_session_id && ctx.payments) {
    // Close the payment page too, so nobody pays for numbers that went back to the pool. Best effort: a
    // payment that slips through is handled by completeCheckout (number if still free, else refund).
    await ctx.payments.expireCheckout(ended.checkout_session_id).catch(() => undefined);
  }
  return ended !== null;
}

/** The buyer's own order, for the order page; anybody else's is "not found". */
export async function getOrder(ctx: BillingCtx, orderId: number) {
  const order = await ctx.db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirst();
  if (!order || order.account_id !== ctx.actor.accountId) throw notFound('There is no such order.');
  const items = await ctx.db
    .selectFrom('order_items')
    .innerJoin('dids', 'dids.id', 'order_items.did_id')
    .select([
      'order_items.did_id',
      'dids.number',
      'order_items.setup_fee',
      'order_items.recurring_fee',
      'order_items.outcome',
      'dids.billing_type',
      'dids.billing_period',
      'dids.billing_days',
    ])
    .where('order_id', '=', orderId)
    .orderBy('dids.number')
    .execute();
  return { order, items };
}

/** The buyer gives up an order still to be paid: the hold ends now. Buying rights are needed, as to place it. */
export async function cancelOrder(ctx: BillingCtx, orderId: number): Promise<boolean> {
  await getOrder(ctx, orderId);
  requirePermission(ctx.actor, 'billing.buy');
  return endOrder(ctx, orderId, 'canceled');
}
