// Notices to an account: a payment failed, a number was suspended or released, a renewal was charged. The
// row is written in the same transaction as the change it reports (its key makes each notice happen once);
// a job then delivers it to every channel the account has (its users' Telegram chats, the staff Slack
// channel) and retries on failure. Email is out of scope: an account without a channel gets the notice
// on the storefront only, and the row says `skipped`.
import type { Executor } from '../context.ts';
import type { Notification, NotificationKind } from '../db/schema.ts';
import { formatNumber } from '../numbers/phone-number.ts';
import { formatMoney } from '../shared/money.ts';

export interface NewNotification {
  readonly accountId: number;
  readonly kind: NotificationKind;
  /** Unique per notice: e.g. `payment-failed-<subscription>-<period>-<attempt>`. */
  readonly key: string;
  readonly data: NotificationData;
}

export interface NotificationData {
  readonly number?: string;
  readonly amount?: number;
  readonly currency?: string;
  readonly reason?: string;
  readonly nextAttempt?: string;
  readonly releaseOn?: string;
  readonly periodEnd?: string;
  readonly payUrl?: string;
  readonly numbers?: readonly string[];
  readonly [extra: string]: unknown;
}

/** Records a notice; returns its id when new, null when this key was already recorded. */
export async function recordNotification(db: Executor, notice: NewNotification): Promise<number | null> {
  const row = await db
    .insertInto('notifications')
    .values({
      account_id: notice.accountId,
      kind: notice.kind,
      key: notice.key,
      data: JSON.stringify(notice.data),
    })
    .onConflict((oc) => oc.column('key').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row?.id ?? null;
}

const day = (iso: string | undefined) => (iso ? iso.slice(0, 10) : 'soon');

/** The notice in plain words, the same on every channel. */
export function notificationText(notice: Pick<Notification, 'kind' | 'data'>): string {
  const d = notice.data as NotificationData;
  const number = d.number ? formatNumber(d.number) : 'your number';
  const amount = d.amount !== undefined && d.currency ? formatMoney(d.amount, d.currency) : '';
  switch (notice.kind) {
    case 'payment_failed':
      return (
        `We could not charge ${amount} for ${number}` +
        (d.reason ? ` (${d.reason})` : '') +
        `. We will try again on ${day(d.nextAttempt)}; update your card or pay now to keep the number` +
        (d.payUrl ? `: ${d.payUrl}` : '.')
      );
    case 'payment_action_required':
      return (
        `Your bank asks you to confirm the ${amount} renewal of ${number}. ` +
        (d.payUrl ? `Pay here to keep the number: ${d.payUrl}` : 'Log in to the storefront to pay.')
      );
    case 'number_suspended':
      return (
        `${number} is suspended: its renewal of ${amount} could not be charged. Calls to it are refused. ` +
        `Pay before ${day(d.releaseOn)} to restore it; after that it goes back to the pool.`
      );
    case 'number_released':
      return `${number} was released to the pool after its unpaid renewal. It no longer receives calls.`;
    case 'renewal_receipt':
      return `Renewed ${number}: ${amount} charged, paid until ${day(d.periodEnd)}.`;
    case 'order_receipt':
      return `Your order is complete: ${(d.numbers ?? []).map(formatNumber).join(', ')}${amount ? ` (${amount})` : ''}.`;
  }
}

/** Where notices go: one adapter per channel (Telegram, Slack). */
export interface NotificationChannel {
  readonly name: string;
  /**
   * Delivers to the account's addresses on this channel; returns how many got it (0 when the account has
   * none here). Throws when delivery failed and is worth retrying.
   */
  deliver(notice: Notification, text: string): Promise<number>;
}

export type DeliveryOutcome = 'sent' | 'skipped' | 'already_done';

/**
 * Delivers one notice to every channel. Throws (so the job retries) when a channel failed; a notice that
 * reached at least one address is `sent`. Re-running a delivered notice does nothing.
 */
export async function deliverNotification(
  db: Executor,
  channels: readonly NotificationChannel[],
  id: number,
  now: Date,
): Promise<DeliveryOutcome> {
  const notice = await db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst();
  if (!notice || notice.status !== 'pending') return 'already_done';
  const text = notificationText(notice);
  let reached = 0;
  const failures: string[] = [];
  for (const channel of channels) {
    try {
      reached += await channel.deliver(notice, text);
    } catch (error) {
      failures.push(`${channel.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (failures.length && reached === 0) {
    await db
      .updateTable('notifications')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: failures.join('; ').slice(0, 1000) }))
      .where('id', '=', id)
      .execute();
    throw new Error(`Notification ${id} not delivered: ${failures.join('; ')}`);
  }
  const status = reached > 0 ? 'sent' : 'skipped';
  await db
    .updateTable('notifications')
    .set((eb) => ({
      status,
      sent_at: now,
      attempts: eb('attempts', '+', 1),
      last_error: failures.length ? failures.join('; ').slice(0, 1000) : null,
    }))
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .execute();
  return status;
}

/** Pending notices older than `before`: a sweep re-enqueues them in case their job was lost. */
export async function pendingNotifications(db: Executor, before: Date, limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('notifications')
    .select('id')
    .where('status', '=', 'pending')
    .where('created_at', '<', before)
    .orderBy('created_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}
