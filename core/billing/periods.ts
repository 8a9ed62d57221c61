// Billing periods, in UTC. Two ways to count, because operators ask for both: every N days (ASTPP's
// "billing days") or calendar months/years that renew on the same day of the month the number was bought
// (users of day-counting systems complain of being charged after 27 days, or on the 28th forever after a
// February). A calendar period keeps its anchor day: bought on the 31st, it renews on 28/29 Feb, then 31 Mar.
import type { BillingPeriod } from '../db/schema.ts';
import { DAY_MS } from '../shared/clock.ts';
import { formatMoney } from '../shared/money.ts';

export interface PeriodTerms {
  readonly billingPeriod: BillingPeriod;
  readonly billingDays: number;
  /** Day of month (1-31) calendar periods renew on; taken from the first period's start when absent. */
  readonly anchorDay?: number | null;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/** `from` moved by whole calendar months, on the anchor day (clamped to the month's length), same time. */
export function addMonths(from: Date, months: number, anchorDay: number): Date {
  const total = from.getUTCFullYear() * 12 + from.getUTCMonth() + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  const day = Math.min(anchorDay, daysInMonth(year, month));
  return new Date(
    Date.UTC(
      year,
      month,
      day,
      from.getUTCHours(),
      from.getUTCMinutes(),
      from.getUTCSeconds(),
      from.getUTCMilliseconds(),
    ),
  );
}

/** The end of the period that starts at `start`. */
export function periodEnd(start: Date, terms: PeriodTerms): Date {
  const anchor = terms.anchorDay ?? start.getUTCDate();
  switch (terms.billingPeriod) {
    case 'days':
      return new Date(start.getTime() + terms.billingDays * DAY_MS);
    case 'monthly':
      return addMonths(start, 1, anchor);
    case 'yearly':
      return addMonths(start, 12, anchor);
  }
}

/** The anchor day a subscription keeps, or null for day-counted periods. */
export function anchorDayFor(start: Date, period: BillingPeriod): number | null {
  return period === 'days' ? null : start.getUTCDate();
}

/** Row-shaped billing terms (a DID, a pricing batch, a subscription). */
export interface BillingTermsRow {
  readonly billing_type: string;
  readonly billing_period: string;
  readonly billing_days: number;
}

/** "per month", "every 30 days", "one-time": for price lists, receipts and renewal terms. */
export function periodLabel(terms: BillingTermsRow): string {
  if (terms.billing_type === 'one_time') return 'one-time';
  if (terms.billing_period === 'days') return `every ${terms.billing_days} days`;
  return terms.billing_period === 'yearly' ? 'per year' : 'per month';
}

/** "$1.50 per month", "free of charge", "no recurring fee". */
export function recurringLabel(
  price: BillingTermsRow & {
    readonly setup_fee: number;
    readonly recurring_fee: number;
    readonly currency: string;
  },
): string {
  if (price.billing_type === 'one_time') return 'no recurring fee';
  if (price.recurring_fee === 0 && price.setup_fee === 0) return 'free of charge';
  return `${formatMoney(price.recurring_fee, price.currency)} ${periodLabel(price)}`;
}
