// Handlebars helpers: formatting at the edge (money with its currency, phone numbers for people, dates and
// days in UTC, markups in percent) and the CSRF field. Helpers return plain strings, which Handlebars
// escapes; only csrfField builds HTML, from escaped parts.
import type { HelperOptions } from 'handlebars';
import type Handlebars from 'handlebars';
import type { BuyerPrice } from '../../core/billing/pricing.ts';
import { formatNumber } from '../../core/numbers/phone-number.ts';
import { formatMoney } from '../../core/shared/money.ts';
import { CSRF_FIELD } from './csrf.ts';

type Hbs = typeof Handlebars;

const NUMBER_TYPE_LABELS: Readonly<Record<string, string>> = {
  local: 'Local',
  toll_free: 'Toll-free',
  mobile: 'Mobile',
  national: 'National',
  other: 'Other',
};

const CAPABILITY_LABELS: Readonly<Record<string, string>> = {
  voice: 'Voice',
  sms: 'SMS',
  mms: 'MMS',
  fax: 'Fax',
};

export function registerHelpers(hbs: Hbs): void {
  /** {{money 150 "USD"}} → $1.50; always with the currency, so amounts are never bare numbers. */
  hbs.registerHelper('money', (amount: unknown, currency: unknown) =>
    typeof amount === 'number' && typeof currency === 'string' ? formatMoney(amount, currency) : '',
  );

  /** {{setupFee price}} → "$1.00" or "Free". */
  hbs.registerHelper('setupFee', (price: BuyerPrice | undefined) =>
    price ? (price.setupFee === 0 ? 'Free' : formatMoney(price.setupFee, price.currency)) : '',
  );

  /** {{recurringFee price}} → "$1.50 / month", "$9.00 every 90 days", "None" for one-time numbers. */
  hbs.registerHelper('recurringFee', (price: BuyerPrice | undefined) => (price ? recurringFee(price) : ''));

  /** {{phone "+18665550100"}} → +1 866 555 0100 */
  hbs.registerHelper('phone', (e164: unknown) => (typeof e164 === 'string' ? formatNumber(e164) : ''));

  /** {{date someDate}} → 2026-03-01 10:00 UTC */
  hbs.registerHelper('date', (value: unknown) => {
    const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : null;
    if (!date || Number.isNaN(date.getTime())) return '';
    return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  });

  hbs.registerHelper('numberType', (type: unknown) =>
    typeof type === 'string' ? (NUMBER_TYPE_LABELS[type] ?? type) : '',
  );

  hbs.registerHelper('capabilities', (list: unknown) =>
    Array.isArray(list) ? list.map((c: string) => CAPABILITY_LABELS[c] ?? c).join(', ') : '',
  );

  /** {{day someDate}} → 2026-03-01 (UTC): renewal dates, invoice periods. */
  hbs.registerHelper('day', (value: unknown) => {
    const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : null;
    return date && !Number.isNaN(date.getTime()) ? date.toISOString().slice(0, 10) : '';
  });

  /** {{percent 1250}} → "12.5 %" (basis points: reseller markups). */
  hbs.registerHelper('percent', (bp: unknown) =>
    typeof bp === 'number' ? `${(bp / 100).toLocaleString('en-US', { maximumFractionDigits: 2 })} %` : '',
  );

  hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  /** Set at all (0 counts): fixed fees that may be zero. */
  hbs.registerHelper('present', (a: unknown) => a !== null && a !== undefined);
  hbs.registerHelper('or', (a: unknown, b: unknown) => Boolean(a) || Boolean(b));

  /** {{csrfField}} inside every POST form: the hidden token the server checks. */
  hbs.registerHelper('csrfField', function (options: HelperOptions) {
    const root = (options.data as { root?: { csrfToken?: unknown } } | undefined)?.root;
    const token = typeof root?.csrfToken === 'string' ? root.csrfToken : '';
    return new hbs.SafeString(
      `<input type="hidden" name="${CSRF_FIELD}" value="${hbs.escapeExpression(token)}">`,
    );
  });
}

export function recurringFee(price: BuyerPrice): string {
  if (price.billingType === 'one_time') return 'None (one-time)';
  if (price.recurringFee === 0) return 'Free';
  const amount = formatMoney(price.recurringFee, price.currency);
  if (price.billingPeriod === 'monthly') return `${amount} / month`;
  if (price.billingPeriod === 'yearly') return `${amount} / year`;
  return `${amount} every ${price.billingDays} days`;
}
