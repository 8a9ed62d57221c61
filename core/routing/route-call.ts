// What the switch should do with an inbound call to one of our numbers (DESIGN §4, the routing API): route
// it (to the primary destination, with the call-transfer rules that apply now) or reject it, and why. One
// query reads the number, its transfer settings, its holder and every account above the holder.
//
// Only a number in use routes: status `assigned`, held by an account that is active with every account
// above it active too, and no suspended subscription. Everything else is rejected with a reason, so a
// suspended or released number never keeps ringing (the billing bug "a suspended or expired number still
// routed": expiry suspends or releases the number, and either stops its calls here).
import { sql } from 'kysely';
import type { AccountStatus, DestinationType, DidStatus } from '../db/schema.ts';
import type { Executor } from '../context.ts';
import { parseNumber } from '../numbers/phone-number.ts';
import { invalid } from '../shared/errors.ts';
import { microsToDecimal } from '../shared/money.ts';
import { storedDestination, type TransferDestination } from '../transfer/transfer-destination.ts';

export type RejectReason =
  'unknown_number' | 'not_in_service' | 'suspended' | 'account_suspended' | 'account_closed';

export interface RouteDestination {
  readonly type: DestinationType;
  /** sip:user@host, +E.164, or ext:1001 (an extension on the operator's switch). */
  readonly value: string;
}

/** The transfer rules as they apply now: all off unless transfer is in effect for the number. */
export interface TransferRules {
  /** Effective: the number's switch and every account switch above it on, and somewhere to go. */
  readonly enabled: boolean;
  readonly busy: TransferDestination | null;
  readonly no_answer: TransferDestination | null;
  readonly unreachable: TransferDestination | null;
  readonly always: TransferDestination | null;
  /** How long to ring the primary destination before NO ANSWER applies. */
  readonly ring_timeout_seconds: number;
}

/** Call rating (seed 000), as decimal strings in the number's currency: "0.0045". */
export interface Rating {
  readonly currency: string;
  readonly connection_cost: string;
  readonly per_minute_rate: string;
  readonly grace_seconds: number;
  readonly initial_increment: number;
  readonly increment: number;
}

/** A number that is not in the inventory: nothing else is known. */
export interface UnknownNumber {
  readonly number: string;
  readonly action: 'reject';
  readonly reason: 'unknown_number';
}

/** A number in the inventory: routed, or rejected with the reason. */
export interface KnownNumberDecision {
  readonly number: string;
  readonly action: 'route' | 'reject';
  /** Set when the action is reject. */
  readonly reason?: Exclude<RejectReason, 'unknown_number'>;
  /** The account using the number (the customer, else the reseller holding it); absent for pool numbers. */
  readonly account?: { readonly id: number; readonly slug: string; readonly name: string };
  /** The reseller holding the number, null for the operator's direct customers. */
  readonly reseller?: { readonly slug: string } | null;
  /** Where calls go when no transfer rule applies; null when none is set (treat as unreachable). */
  readonly destination: RouteDestination | null;
  readonly transfer: TransferRules;
  /** How long to ring the destination when no transfer rule is in effect. */
  readonly call_timeout_seconds: number;
  /** null: no limit. */
  readonly max_concurrent_calls: number | null;
  readonly rating: Rating;
}

export type RouteDecision = UnknownNumber | KnownNumberDecision;

interface RouteRow {
  readonly number: string;
  readonly status: DidStatus;
  readonly destination_type: DestinationType | null;
  readonly destination: string | null;
  readonly currency: string;
  readonly connection_cost_micros: number;
  readonly per_minute_rate_micros: number;
  readonly grace_seconds: number;
  readonly initial_increment: number;
  readonly increment: number;
  readonly call_timeout_seconds: number;
  readonly max_concurrent_calls: number;
  readonly transfer_enabled: boolean | null;
  readonly busy_destination: string | null;
  readonly no_answer_destination: string | null;
  readonly unreachable_destination: string | null;
  readonly always_destination: string | null;
  readonly ring_timeout_seconds: number | null;
  readonly holder_id: number | null;
  readonly holder_slug: string | null;
  readonly holder_name: string | null;
  readonly reseller_slug: string | null;
  /** The holder's status, or the worst status of any account above it. */
  readonly path_status: AccountStatus | null;
  /** Every account switch on the holder's path is on (seed 002: the account level overrides). */
  readonly accounts_allow_transfer: boolean | null;
  readonly subscription_suspended: boolean;
}

/** The ring timeout a number has before anyone set one (call_transfers' column default). */
const DEFAULT_RING_TIMEOUT_SECONDS = 20;
const MAX_INPUT_LENGTH = 256;
const HELP =
  'Send the called number with its country code: 18665550100, +18665550100, or sip:+18665550100@host.';

/**
 * The called number as a switch sends it, in E.164: `18665550100`, `+18665550100`, `tel:+18665550100`,
 * `sip:+18665550100@host;user=phone`. Throws an `invalid` DomainError for anything else.
 */
export function parseCalledNumber(text: string): string {
  let candidate = text.trim();
  if (candidate.length > MAX_INPUT_LENGTH) {
    throw invalid('The called number is too long to be a phone number.', { help: HELP, field: 'number' });
  }
  const uri = /^(?:sips?|tel):([^@;?]*)/i.exec(candidate);
  if (uri) candidate = uri[1] ?? '';
  try {
    return parseNumber(candidate).e164;
  } catch (error) {
    throw invalid(`"${truncate(text.trim())}" is not a called number we can read.`, {
      help: HELP,
      field: 'number',
      cause: error,
    });
  }
}

/** What to do with a call to `typedNumber` now. Throws `invalid` when it is not a phone number. */
export async function routeCall(db: Executor, typedNumber: string): Promise<RouteDecision> {
  const number = parseCalledNumber(typedNumber);
  const [decision] = await routeNumbers(db, [number]);
  return decision!;
}

/** Decisions for already normalized E.164 numbers, in the order given: one query for all of them. */
export async function routeNumbers(db: Executor, numbers: readonly string[]): Promise<RouteDecision[]> {
  if (numbers.length === 0) return [];
  const { rows } = await sql<RouteRow>`
    SELECT d.number, d.status, d.destination_type, d.destination, d.currency, d.connection_cost_micros,
           d.per_minute_rate_micros, d.grace_seconds, d.initial_increment, d.increment,
           d.call_timeout_seconds, d.max_concurrent_calls,
           t.enabled AS transfer_enabled, t.busy_destination, t.no_answer_destination,
           t.unreachable_destination, t.always_destination, t.ring_timeout_seconds,
           h.id AS holder_id, h.slug AS holder_slug, h.name AS holder_name,
           (SELECT o.slug FROM accounts o WHERE o.id = d.owner_account_id) AS reseller_slug,
           p.path_status, p.accounts_allow_transfer,
           EXISTS (SELECT 1 FROM subscriptions s WHERE s.did_id = d.id AND s.status = 'suspended')
             AS subscription_suspended
    FROM dids d
    LEFT JOIN call_transfers t ON t.did_id = d.id
    LEFT JOIN accounts h ON h.id = coalesce(d.assigned_account_id, d.owner_account_id)
    LEFT JOIN LATERAL (
      SELECT CASE WHEN bool_or(a.status = 'closed') THEN 'closed'
                  WHEN bool_or(a.status = 'suspended') THEN 'suspended'
                  ELSE 'active' END AS path_status,
             bool_and(a.call_transfer_enabled) AS accounts_allow_transfer
      FROM unnest(string_to_array(trim(BOTH '/' FROM h.path), '/')::bigint[]) AS up (id)
      JOIN accounts a ON a.id = up.id
    ) p ON h.id IS NOT NULL
    WHERE d.number = ANY (${numbers}::text[])
  `.execute(db);
  const byNumber = new Map(rows.map((row) => [row.number, row]));
  return numbers.map((number) => {
    const row = byNumber.get(number);
    return row ? decide(row) : { number, action: 'reject', reason: 'unknown_number' };
  });
}

function decide(row: RouteRow): KnownNumberDecision {
  const ringTimeout = row.ring_timeout_seconds ?? DEFAULT_RING_TIMEOUT_SECONDS;
  // Built in the order the JSON answer reads best: verdict, who, where, how long, how rated.
  const answer = (
    verdict: { action: 'route' } | { action: 'reject'; reason: Exclude<RejectReason, 'unknown_number'> },
    destination: RouteDestination | null,
    transfer: TransferRules,
  ): KnownNumberDecision => ({
    number: row.number,
    ...verdict,
    ...(row.holder_id !== null && row.holder_slug !== null && row.holder_name !== null
      ? {
          account: { id: row.holder_id, slug: row.holder_slug, name: row.holder_name },
          reseller: row.reseller_slug === null ? null : { slug: row.reseller_slug },
        }
      : {}),
    destination,
    transfer,
    call_timeout_seconds: row.call_timeout_seconds,
    max_concurrent_calls: row.max_concurrent_calls === 0 ? null : row.max_concurrent_calls,
    rating: {
      currency: row.currency,
      connection_cost: decimal(row.connection_cost_micros),
      per_minute_rate: decimal(row.per_minute_rate_micros),
      grace_seconds: row.grace_seconds,
      initial_increment: row.initial_increment,
      increment: row.increment,
    },
  });
  const reject = (reason: Exclude<RejectReason, 'unknown_number'>) =>
    answer({ action: 'reject', reason }, null, noTransfer(ringTimeout));

  if (row.status === 'suspended') return reject('suspended');
  if (row.status !== 'assigned' || row.holder_id === null) return reject('not_in_service');
  if (row.path_status === 'closed') return reject('account_closed');
  if (row.path_status !== 'active') return reject('account_suspended');
  if (row.subscription_suspended) return reject('suspended');

  const destinations = {
    busy: storedDestination(row.busy_destination),
    no_answer: storedDestination(row.no_answer_destination),
    unreachable: storedDestination(row.unreachable_destination),
    always: storedDestination(row.always_destination),
  };
  const effective =
    row.transfer_enabled === true &&
    row.accounts_allow_transfer === true &&
    Object.values(destinations).some((d) => d !== null);
  return answer(
    { action: 'route' },
    row.destination_type !== null && row.destination !== null
      ? { type: row.destination_type, value: row.destination }
      : null,
    effective
      ? { enabled: true, ...destinations, ring_timeout_seconds: ringTimeout }
      : noTransfer(ringTimeout),
  );
}

/**
 * microsToDecimal, remembered: an inventory has a handful of distinct rates, and the routing cache
 * rebuilds thousands of decisions a second.
 */
const decimals = new Map<number, string>();
function decimal(micros: number): string {
  let text = decimals.get(micros);
  if (text === undefined) {
    text = microsToDecimal(micros);
    if (decimals.size >= 10_000) decimals.clear();
    decimals.set(micros, text);
  }
  return text;
}

function noTransfer(ringTimeoutSeconds: number): TransferRules {
  return {
    enabled: false,
    busy: null,
    no_answer: null,
    unreachable: null,
    always: null,
    ring_timeout_seconds: ringTimeoutSeconds,
  };
}

function truncate(text: string): string {
  return text.length > 40 ? text.slice(0, 37) + '...' : text;
}
