// Rating a call on a DID: what a call of N seconds costs under the number's connection cost, grace time,
// per-minute rate, initial increment and increment (the ASTPP DID product fields, seed 000).
//
// The rules follow ASTPP's own rater, `calc_cost` in freeswitch/fs/lib/astpp.cdr.php (iNextrix/ASTPP),
// with one deliberate difference, marked (*):
//   1. A call of 0 seconds was never connected: it costs nothing. Negative or fractional seconds are refused.
//   2. Grace time is taken off every call ("seconds free from the call duration for each call"): ASTPP
//      subtracts INCLUDEDSECONDS from billsec before anything else, so a 65 s call with 5 s grace is rated
//      as 60 s.
//   3. (*) A call no longer than the grace time is free outright, connection fee included. ASTPP adds
//      CONNECTIONCOST before looking at the grace time, so there such a call still pays the fee. Here
//      "first 5 s free" means what a buyer reads: hang up within it and pay nothing.
//   4. What is left is billed as one initial block of `initialIncrement` seconds (in full, however short),
//      then the rest rounded up to whole steps of `increment`: 30/6 bills 31 s as 36 s and 12 s as 30 s.
//   5. cost = connection cost + billedSeconds × per-minute rate / 60.
// All arithmetic is exact (BigInt, in sixtieths of a micro-unit). `costMicros` and `cost` (minor units) are
// each rounded half up once from that exact amount, never one from the other, so no double rounding.
import type { Selectable } from 'kysely';
import type { DidsTable } from '../db/schema.ts';
import { invalid } from '../shared/errors.ts';
import {
  currencyExponent,
  formatMoney,
  isCurrencyCode,
  microsToDecimal,
  RATE_EXPONENT,
} from '../shared/money.ts';

/** The rating fields of a DID; amounts are micro-units (10^-6) of `currency`. */
export interface RatingTerms {
  readonly connectionCostMicros: number;
  readonly perMinuteRateMicros: number;
  readonly graceSeconds: number;
  readonly initialIncrement: number;
  readonly increment: number;
  readonly currency: string;
}

export interface CallCost {
  /** Seconds charged at the per-minute rate, after grace and rounding up to the increments. */
  readonly billedSeconds: number;
  /** Exact cost in micro-units, rounded half up to a whole micro-unit. */
  readonly costMicros: number;
  /** Cost in integer minor units of `currency` (cents), rounded half up. */
  readonly cost: number;
  readonly currency: string;
}

export interface CallCostRow {
  readonly seconds: number;
  /** "30 s", "1 min", "1 min 30 s" */
  readonly label: string;
  readonly billedSeconds: number;
  readonly cost: number;
  /** The cost for people: "$0.02" */
  readonly formatted: string;
}

type RatingColumns =
  | 'connection_cost_micros'
  | 'per_minute_rate_micros'
  | 'grace_seconds'
  | 'initial_increment'
  | 'increment'
  | 'currency';

/** The rating terms of a DID row (or any view of one carrying its rating columns). */
export function ratingTermsOf(did: Pick<Selectable<DidsTable>, RatingColumns>): RatingTerms {
  return {
    connectionCostMicros: did.connection_cost_micros,
    perMinuteRateMicros: did.per_minute_rate_micros,
    graceSeconds: did.grace_seconds,
    initialIncrement: did.initial_increment,
    increment: did.increment,
    currency: did.currency,
  };
}

/** Durations the storefront's "what a call costs" table shows. */
export const DEFAULT_TABLE_SECONDS: readonly number[] = [30, 60, 180, 600, 1800];

// Same bounds as the dids table's CHECK constraints, so every stored DID can be rated.
const MAX_INCREMENT_SECONDS = 3600;
const MAX_GRACE_SECONDS = 3600;

/** What a call of `seconds` (answered duration, whole seconds) costs. */
export function rateCall(terms: RatingTerms, seconds: number): CallCost {
  checkTerms(terms);
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw invalid(`A call lasts a whole number of seconds, 0 or more (got ${seconds}).`, {
      field: 'seconds',
    });
  }
  const free: CallCost = { billedSeconds: 0, costMicros: 0, cost: 0, currency: terms.currency };
  const chargeable = seconds - terms.graceSeconds;
  if (seconds === 0 || chargeable <= 0) return free;

  const { initialIncrement: first, increment: step } = terms;
  const billedSeconds = chargeable <= first ? first : first + Math.ceil((chargeable - first) / step) * step;

  // In sixtieths of a micro-unit, so the per-second share of a per-minute rate stays exact.
  const sixtieths =
    60n * BigInt(terms.connectionCostMicros) + BigInt(billedSeconds) * BigInt(terms.perMinuteRateMicros);
  const costMicros = divideHalfUp(sixtieths, 60n);
  const cost = divideHalfUp(sixtieths, 60n * 10n ** BigInt(RATE_EXPONENT - currencyExponent(terms.currency)));
  if (costMicros > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalid(`A ${seconds} s call costs more than can be counted.`, { field: 'seconds' });
  }
  return { billedSeconds, costMicros: Number(costMicros), cost: Number(cost), currency: terms.currency };
}

/** Rows for a small "what a call costs" table: one per duration. */
export function callCostTable(
  terms: RatingTerms,
  durations: readonly number[] = DEFAULT_TABLE_SECONDS,
): CallCostRow[] {
  return durations.map((seconds) => {
    const { billedSeconds, cost } = rateCall(terms, seconds);
    return {
      seconds,
      label: durationLabel(seconds),
      billedSeconds,
      cost,
      formatted: formatMoney(cost, terms.currency),
    };
  });
}

/** One line for people: "$0.0045/min, billed 60 s then 6 s; $0.01 connection; first 5 s free". */
export function describeRating(terms: RatingTerms): string {
  checkTerms(terms);
  const parts: string[] = [];
  if (terms.perMinuteRateMicros > 0) {
    parts.push(`${formatRate(terms.perMinuteRateMicros, terms.currency)}/min, ${incrementsLabel(terms)}`);
  }
  if (terms.connectionCostMicros > 0) {
    parts.push(`${formatRate(terms.connectionCostMicros, terms.currency)} connection`);
  }
  if (parts.length === 0) return 'calls are free';
  if (terms.graceSeconds > 0) parts.push(`first ${terms.graceSeconds} s free`);
  return parts.join('; ');
}

/** 30 -> "30 s", 180 -> "3 min", 90 -> "1 min 30 s" */
export function durationLabel(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}

function incrementsLabel({ initialIncrement, increment }: RatingTerms): string {
  if (initialIncrement !== increment) return `billed ${initialIncrement} s then ${increment} s`;
  if (increment === 1) return 'billed per second';
  if (increment === 60) return 'billed per minute';
  return `billed per ${increment} s`;
}

/** A micro-unit amount with its currency sign and the sub-cent digits it needs: 4500 USD -> "$0.0045". */
function formatRate(micros: number, currency: string): string {
  return new Intl.NumberFormat('en-US', {
    style: 'currency',
    currency,
    minimumFractionDigits: currencyExponent(currency),
    maximumFractionDigits: RATE_EXPONENT,
  }).format(microsToDecimal(micros) as Intl.StringNumericLiteral);
}

/** n / d rounded half up, for n >= 0 and d > 0. */
function divideHalfUp(n: bigint, d: bigint): bigint {
  return (2n * n + d) / (2n * d);
}

function checkTerms(terms: RatingTerms): void {
  const amount = (value: number, field: string, what: string) => {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw invalid(`${what} must be a whole number of micro-units, 0 or more (got ${value}).`, { field });
    }
  };
  const seconds = (value: number, min: number, max: number, field: string, what: string) => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw invalid(`${what} must be a whole number of seconds from ${min} to ${max} (got ${value}).`, {
        field,
      });
    }
  };
  amount(terms.connectionCostMicros, 'connection_cost_micros', 'The connection cost');
  amount(terms.perMinuteRateMicros, 'per_minute_rate_micros', 'The per-minute rate');
  seconds(terms.graceSeconds, 0, MAX_GRACE_SECONDS, 'grace_seconds', 'The grace time');
  seconds(terms.initialIncrement, 1, MAX_INCREMENT_SECONDS, 'initial_increment', 'The initial increment');
  seconds(terms.increment, 1, MAX_INCREMENT_SECONDS, 'increment', 'The increment');
  if (!isCurrencyCode(terms.currency)) {
    throw invalid(`"${terms.currency}" is not a currency code.`, {
      field: 'currency',
      help: 'Use one like USD.',
    });
  }
}
