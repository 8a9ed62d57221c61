// Money is integer minor units plus a currency code. Parsing what people type and formatting for people
// happen here, at the edge; nothing in between does arithmetic on decimals.
import { invalid } from './errors.ts';

const exponentCache = new Map<string, number>();

/** Minor-unit digits of a currency: USD 2, JPY 0, BHD 3. */
export function currencyExponent(currency: string): number {
  let exponent = exponentCache.get(currency);
  if (exponent === undefined) {
    exponent =
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ??
      2;
    exponentCache.set(currency, exponent);
  }
  return exponent;
}

export function isCurrencyCode(code: string): boolean {
  if (!/^[A-Z]{3}$/.test(code)) return false;
  return Intl.supportedValuesOf('currency').includes(code);
}

/**
 * Parses a decimal amount ("1.50", "0", "12") into integer units of 10^-exponent. Refuses negative
 * amounts, more decimals than the unit holds, and anything that is not a plain decimal.
 */
export function parseDecimalUnits(text: string, exponent: number, what: string): number {
  const t = text.trim().replace(/^\$|^€|^£/, '');
  const match = /^(\d+)(?:\.(\d*))?$/.exec(t);
  if (!match) {
    if (/^-/.test(t))
      throw invalid(`${what} cannot be negative (got ${text.trim()}).`, { help: 'Use 0 for free.' });
    throw invalid(`${what} must be an amount like 1.50 (got "${text.trim()}").`);
  }
  const whole = match[1] ?? '0';
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (fraction.length > exponent) {
    throw invalid(`${what} has more than ${exponent} decimal places (got ${text.trim()}).`);
  }
  const units = Number(whole) * 10 ** exponent + Number(fraction.padEnd(exponent, '0') || '0');
  if (!Number.isSafeInteger(units)) throw invalid(`${what} is too large (got ${text.trim()}).`);
  return units;
}

/** "1.50" USD -> 150 */
export function parseMoney(text: string, currency: string, what = 'The amount'): number {
  return parseDecimalUnits(text, currencyExponent(currency), what);
}

/** Per-minute rates and connection costs need sub-cent precision: micro-units (10^-6). */
export const RATE_EXPONENT = 6;
export const parseRate = (text: string, what = 'The rate') => parseDecimalUnits(text, RATE_EXPONENT, what);

/** 150 USD -> "1.50" (no symbol: for CSV and forms). */
export function minorToDecimal(amount: number, currency: string): string {
  return unitsToDecimal(amount, currencyExponent(currency));
}

export function unitsToDecimal(units: number, exponent: number): string {
  const sign = units < 0 ? '-' : '';
  const abs = Math.abs(units);
  if (exponent === 0) return sign + String(abs);
  const text = String(abs).padStart(exponent + 1, '0');
  return `${sign}${text.slice(0, -exponent)}.${text.slice(-exponent)}`;
}

/** Micro-units to the shortest decimal that keeps at least 2 places: 4500 -> "0.0045". */
export function microsToDecimal(micros: number): string {
  const full = unitsToDecimal(micros, RATE_EXPONENT);
  return full.replace(/(\.\d{2}\d*?)0+$/, '$1');
}

// Building an Intl.NumberFormat costs ~50 µs, formatting with one ~1 µs: a page of 50 numbers with three
// amounts each spent 7 ms building formatters. One per currency, kept.
const formatters = new Map<string, Intl.NumberFormat>();

/** 150 USD -> "$1.50" */
export function formatMoney(amount: number, currency: string): string {
  const exponent = currencyExponent(currency);
  let formatter = formatters.get(currency);
  if (!formatter) {
    formatter = new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency,
      minimumFractionDigits: exponent,
      maximumFractionDigits: exponent,
    });
    formatters.set(currency, formatter);
  }
  return formatter.format(amount / 10 ** exponent);
}
