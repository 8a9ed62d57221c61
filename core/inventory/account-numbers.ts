// The numbers an account uses, for the account's own people (Telegram's /numbers and /transfer, later the
// storefront's "My numbers"): the numbers assigned to the actor's account, and those a reseller holds
// without having assigned them on. Always the actor's own account, never one below it: a customer sees
// only its own numbers, and a number of someone else is simply not there (not_found, nothing revealed).
import { sql } from 'kysely';
import { requirePermission } from '../accounts/permissions.ts';
import type { Ctx, Executor } from '../context.ts';
import type { DidStatus } from '../db/schema.ts';
import { formatNumber, parseNumber } from '../numbers/phone-number.ts';
import { notFound } from '../shared/errors.ts';
import {
  DESTINATION_COLUMN,
  TRANSFER_CONDITIONS,
  storedDestination,
  type TransferCondition,
  type TransferDestination,
} from '../transfer/transfer-destination.ts';

/** A number's call transfer, as its user sees it. */
export interface AccountNumberTransfer {
  /** The number's own switch. */
  readonly enabled: boolean;
  /** The switches of the account and every account above it (the provider may turn transfer off). */
  readonly accountEnabled: boolean;
  /** Calls are transferred now: both switches on, the number in service and somewhere to go. */
  readonly effective: boolean;
  readonly destinations: Readonly<Record<TransferCondition, TransferDestination | null>>;
  readonly ringTimeoutSeconds: number;
}

export interface AccountNumber {
  readonly didId: number;
  /** E.164 */
  readonly number: string;
  /** Pass back as `expectedVersion` so a change made on what was shown is refused once it is stale. */
  readonly version: number;
  /** assigned (in service) or suspended. */
  readonly status: DidStatus;
  readonly country: string;
  readonly city: string;
  readonly description: string;
  readonly transfer: AccountNumberTransfer;
}

export interface AccountNumberList {
  /** In number order, at most `limit`. */
  readonly numbers: readonly AccountNumber[];
  /** How many the account has in all. */
  readonly total: number;
}

export const DEFAULT_ACCOUNT_NUMBERS_LIMIT = 200;
const MAX_ACCOUNT_NUMBERS_LIMIT = 1000;
const IN_USE: readonly DidStatus[] = ['assigned', 'suspended'];
const DEFAULT_RING_TIMEOUT_SECONDS = 20;

/** The numbers the actor's account uses, in number order. */
export async function listAccountNumbers(
  ctx: Ctx,
  options: { limit?: number } = {},
): Promise<AccountNumberList> {
  requirePermission(ctx.actor, 'inventory.read');
  const limit = Math.min(
    Math.max(1, Math.trunc(options.limit ?? DEFAULT_ACCOUNT_NUMBERS_LIMIT)),
    MAX_ACCOUNT_NUMBERS_LIMIT,
  );
  const [rows, counted, accountEnabled] = await Promise.all([
    accountNumbers(ctx).orderBy('dids.number').limit(limit).execute(),
    accountNumbersBase(ctx)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
    transferAllowed(ctx.db, ctx.actor.accountPath),
  ]);
  return { numbers: rows.map((r) => toAccountNumber(r, accountEnabled)), total: Number(counted.n) };
}

/**
 * One number of the actor's account, by DID id (what chat buttons carry) or as typed. Throws not_found
 * for a number the account does not use, whoever else has it.
 */
export async function getAccountNumber(
  ctx: Ctx,
  ref: { readonly didId: number } | { readonly number: string },
): Promise<AccountNumber> {
  requirePermission(ctx.actor, 'inventory.read');
  const number = 'number' in ref ? parseNumber(ref.number).e164 : undefined;
  const row = await (
    number === undefined
      ? accountNumbers(ctx).where('dids.id', '=', 'didId' in ref ? ref.didId : -1)
      : accountNumbers(ctx).where('dids.number', '=', number)
  ).executeTakeFirst();
  if (!row) {
    throw notFound(
      number ? `${formatNumber(number)} is not one of your numbers.` : 'That number is not yours.',
      {
        help: 'Your numbers are listed by /numbers.',
      },
    );
  }
  return toAccountNumber(row, await transferAllowed(ctx.db, ctx.actor.accountPath));
}

function accountNumbersBase(ctx: Ctx) {
  const accountId = ctx.actor.accountId;
  return ctx.db
    .selectFrom('dids')
    .where('dids.status', 'in', IN_USE)
    .where((eb) =>
      eb.or([
        eb('dids.assigned_account_id', '=', accountId),
        eb.and([eb('dids.owner_account_id', '=', accountId), eb('dids.assigned_account_id', 'is', null)]),
      ]),
    );
}

function accountNumbers(ctx: Ctx) {
  return accountNumbersBase(ctx)
    .leftJoin('call_transfers', 'call_transfers.did_id', 'dids.id')
    .select([
      'dids.id',
      'dids.number',
      'dids.version',
      'dids.status',
      'dids.country',
      'dids.city',
      'dids.description',
      'call_transfers.enabled',
      'call_transfers.ring_timeout_seconds',
      ...TRANSFER_CONDITIONS.map((c) => `call_transfers.${DESTINATION_COLUMN[c]}` as const),
    ]);
}

type Row = Awaited<ReturnType<ReturnType<typeof accountNumbers>['executeTakeFirstOrThrow']>>;

/** Whether the account and every account above it let their numbers transfer calls (seed 002). */
async function transferAllowed(db: Executor, accountPath: string): Promise<boolean> {
  const ids = accountPath.split('/').filter(Boolean).map(Number);
  const off = await db
    .selectFrom('accounts')
    .select('id')
    .where(sql<boolean>`id = any(${ids}::bigint[])`)
    .where('call_transfer_enabled', '=', false)
    .executeTakeFirst();
  return off === undefined;
}

function toAccountNumber(row: Row, accountEnabled: boolean): AccountNumber {
  const destinations = Object.fromEntries(
    TRANSFER_CONDITIONS.map((c) => [c, storedDestination(row[DESTINATION_COLUMN[c]])]),
  ) as Record<TransferCondition, TransferDestination | null>;
  const enabled = row.enabled ?? false;
  const hasDestination = Object.values(destinations).some((d) => d !== null);
  return {
    didId: row.id,
    number: row.number,
    version: row.version,
    status: row.status,
    country: row.country,
    city: row.city,
    description: row.description,
    transfer: {
      enabled,
      accountEnabled,
      effective: enabled && accountEnabled && row.status === 'assigned' && hasDestination,
      destinations,
      // A number without a call_transfers row rings for the column's default.
      ringTimeoutSeconds: row.ring_timeout_seconds ?? DEFAULT_RING_TIMEOUT_SECONDS,
    },
  };
}
