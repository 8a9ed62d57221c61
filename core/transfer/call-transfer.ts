// DID call transfer (seed 002): per number an on/off switch, destinations for BUSY, NO ANSWER, UNREACHABLE
// and ALWAYS, and how long to ring before NO ANSWER; per account a switch that overrides its numbers.
// Every change goes through `changeTransfer`: lock the number, check who may, compute the change, refuse
// loops, apply it and audit what changed — a no-op writes nothing.
import { sql } from 'kysely';
import type { Account, DidStatus } from '../db/schema.ts';
import { isOperatorStaff } from '../accounts/actor.ts';
import { findAccount, type AccountRef } from '../accounts/accounts.ts';
import { requirePermission } from '../accounts/permissions.ts';
import { recordAudit } from '../audit/audit.ts';
import { inTransaction, type Ctx, type Executor } from '../context.ts';
import { visibleTo } from '../inventory/assignment.ts';
import { lockDidViews, selectDidView, type DidView } from '../inventory/search-dids.ts';
import { formatNumber, parseNumber } from '../numbers/phone-number.ts';
import { conflict, DomainError, invalid, notFound } from '../shared/errors.ts';
import { findForwardingLoop } from './forwarding-loop.ts';
import {
  DESTINATION_COLUMN,
  TRANSFER_CONDITIONS,
  TRANSFER_DESTINATION_HELP,
  isTransferCondition,
  parseTransferDestination,
  storedDestination,
  type TransferCondition,
  type TransferDestination,
} from './transfer-destination.ts';

export {
  CONDITION_LABEL,
  TRANSFER_CONDITIONS,
  formatDestination,
  type TransferCondition,
  type TransferDestination,
} from './transfer-destination.ts';

export const MIN_RING_TIMEOUT_SECONDS = 5;
export const MAX_RING_TIMEOUT_SECONDS = 300;

/** A number's call transfer as people see it. */
export interface CallTransferView {
  /** E.164 */
  readonly number: string;
  readonly didId: number;
  /** The DID's version: pass it back as `expectedVersion` so a change made on stale facts is refused. */
  readonly version: number;
  readonly status: DidStatus;
  /** Slug of the account using the number: the customer, else the reseller holding it. */
  readonly holder: string | null;
  /** The number's own switch. */
  readonly enabled: boolean;
  /** The holder account's switch (seed 002: admins and resellers turn it off for an account). */
  readonly accountEnabled: boolean;
  /** Whether calls are transferred now: both switches on, the number in use and somewhere to go. */
  readonly effective: boolean;
  readonly destinations: Readonly<Record<TransferCondition, TransferDestination | null>>;
  /** How long a call rings before NO ANSWER applies. */
  readonly ringTimeoutSeconds: number;
}

export interface TransferChangeResult {
  readonly view: CallTransferView;
  /** false when the settings already were so: nothing was written, nothing audited. */
  readonly changed: boolean;
}

/** A call_transfers row without its key, as stored (the defaults when the number has none yet). */
interface TransferSettings {
  readonly enabled: boolean;
  readonly busy_destination: string | null;
  readonly no_answer_destination: string | null;
  readonly unreachable_destination: string | null;
  readonly always_destination: string | null;
  readonly ring_timeout_seconds: number;
}

type SettingsKey = keyof TransferSettings;

const NO_TRANSFER: TransferSettings = {
  enabled: false,
  busy_destination: null,
  no_answer_destination: null,
  unreachable_destination: null,
  always_destination: null,
  ring_timeout_seconds: 20,
};

const SETTINGS_KEYS = Object.keys(NO_TRANSFER) as SettingsKey[];

/** `transfer <number>`: the number's transfer settings, for anyone who may see the number. */
export async function getCallTransfer(ctx: Ctx, typedNumber: string): Promise<CallTransferView> {
  requirePermission(ctx.actor, 'inventory.read');
  const number = parseNumber(typedNumber).e164;
  const did = await selectDidView(ctx.db).where('dids.number', '=', number).executeTakeFirst();
  checkInUse(ctx, number, did);
  return viewOf(ctx.db, did, await loadSettings(ctx.db, did.id));
}

/** `transfer <number> busy|noanswer|unreachable|always <destination|none>`. */
export async function setTransferDestination(
  ctx: Ctx,
  input: { number: string; condition: TransferCondition; destination: string; expectedVersion?: number },
): Promise<TransferChangeResult> {
  if (!isTransferCondition(input.condition)) {
    throw invalid(`"${String(input.condition)}" is not a transfer condition.`, {
      help: `Use ${TRANSFER_CONDITIONS.join(', ')}.`,
      field: 'condition',
    });
  }
  const column = DESTINATION_COLUMN[input.condition];
  const clear = input.destination.trim().toLowerCase() === 'none';
  const destination = clear ? null : parseTransferDestination(input.destination);
  return changeTransfer(ctx, input, async (did, settings, tx) => {
    if (destination?.value === did.number) {
      throw invalid(`${formatNumber(did.number)} cannot forward to itself.`, {
        help: TRANSFER_DESTINATION_HELP,
        field: 'destination',
      });
    }
    if (settings[column] === (destination?.value ?? null)) return null;
    if (destination?.type === 'pstn') await refuseLoop(tx.db, did.number, [destination.value]);
    const after = { ...settings, [column]: destination?.value ?? null };
    // Transfer stays on only while it has somewhere to go: clearing the last destination turns it off.
    const enabled = settings.enabled && hasDestination(after);
    return { action: 'transfer.destination', settings: { ...after, enabled } };
  });
}

/** `transfer <number> on|off`. Turning it on needs a destination first. */
export async function setTransferEnabled(
  ctx: Ctx,
  input: { number: string; enabled: boolean; expectedVersion?: number },
): Promise<TransferChangeResult> {
  return changeTransfer(ctx, input, async (did, settings, tx) => {
    if (settings.enabled === input.enabled) return null;
    if (input.enabled) {
      if (!hasDestination(settings)) {
        throw invalid(`${formatNumber(did.number)} has no transfer destination: set a destination first.`, {
          help: `For example: transfer ${did.number} busy +1 212 555 0142 (or noanswer, unreachable, always).`,
          field: 'destination',
        });
      }
      await refuseLoop(tx.db, did.number, destinationsOf(settings));
    }
    return {
      action: input.enabled ? 'transfer.enable' : 'transfer.disable',
      settings: { ...settings, enabled: input.enabled },
    };
  });
}

/** `transfer <number> timeout <seconds>`: how long a call rings before NO ANSWER applies (5 to 300 s). */
export async function setRingTimeout(
  ctx: Ctx,
  input: { number: string; seconds: number; expectedVersion?: number },
): Promise<TransferChangeResult> {
  const { seconds } = input;
  if (
    !Number.isInteger(seconds) ||
    seconds < MIN_RING_TIMEOUT_SECONDS ||
    seconds > MAX_RING_TIMEOUT_SECONDS
  ) {
    throw invalid(`A ring timeout of ${seconds} seconds is out of range.`, {
      help: `Use a whole number of seconds from ${MIN_RING_TIMEOUT_SECONDS} to ${MAX_RING_TIMEOUT_SECONDS}.`,
      field: 'seconds',
    });
  }
  return changeTransfer(ctx, input, (_did, settings) =>
    settings.ring_timeout_seconds === seconds
      ? null
      : { action: 'transfer.ring_timeout', settings: { ...settings, ring_timeout_seconds: seconds } },
  );
}

/**
 * The account-level switch (seed 002): off, none of the account's numbers transfer calls, whatever their
 * own settings say. The operator's admins and resellers' admins set it for accounts below their own.
 */
export async function setAccountCallTransfer(
  ctx: Ctx,
  input: { account: AccountRef; enabled: boolean },
): Promise<{ account: Account; changed: boolean }> {
  requirePermission(ctx.actor, 'accounts.write');
  return inTransaction(ctx, async (tx) => {
    const account = await findAccount(tx, input.account);
    // A reseller the operator switched off must not switch itself back on.
    if (account.id === tx.actor.accountId) {
      throw invalid("You cannot change your own account's call transfer switch.", {
        help: 'The account above yours sets it.',
        field: 'account',
      });
    }
    const locked = await tx.db
      .selectFrom('accounts')
      .select('call_transfer_enabled')
      .where('id', '=', account.id)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (locked.call_transfer_enabled === input.enabled) {
      return { account: { ...account, call_transfer_enabled: input.enabled }, changed: false };
    }
    const updated = await tx.db
      .updateTable('accounts')
      .set({ call_transfer_enabled: input.enabled })
      .where('id', '=', account.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(tx.db, tx.actor, [
      {
        action: 'account.call_transfer',
        accountId: account.id,
        subject: account.slug,
        before: { call_transfer_enabled: locked.call_transfer_enabled },
        after: { call_transfer_enabled: input.enabled },
      },
    ]);
    return { account: updated, changed: true };
  });
}

interface Decision {
  readonly action: string;
  readonly settings: TransferSettings;
}

/** Locks a number, lets `decide` compute its new settings (or refuse), applies and audits them. */
async function changeTransfer(
  ctx: Ctx,
  input: { number: string; expectedVersion?: number },
  decide: (did: DidView, settings: TransferSettings, tx: Ctx) => Promise<Decision | null> | Decision | null,
): Promise<TransferChangeResult> {
  requirePermission(ctx.actor, 'transfer.write');
  const number = parseNumber(input.number).e164;
  return inTransaction(ctx, async (tx) => {
    const [did] = await lockDidViews(tx.db, (q) => q.where('dids.number', '=', number));
    checkInUse(tx, number, did, input.expectedVersion);
    const settings = await loadSettings(tx.db, did.id);
    const decision = await decide(did, settings, tx);
    const changedKeys = SETTINGS_KEYS.filter((k) => decision && decision.settings[k] !== settings[k]);
    if (!decision || changedKeys.length === 0) {
      return { view: await viewOf(tx.db, did, settings), changed: false };
    }
    const now = tx.clock.now();
    await tx.db
      .insertInto('call_transfers')
      .values({ did_id: did.id, ...decision.settings, updated_at: now })
      .onConflict((oc) => oc.column('did_id').doUpdateSet({ ...decision.settings, updated_at: now }))
      .execute();
    // The transfer is part of the number: its version moves, so buttons drawn before this are stale.
    await tx.db
      .updateTable('dids')
      .set({ version: sql<number>`version` })
      .where('id', '=', did.id)
      .execute();
    const pick = (source: TransferSettings) => Object.fromEntries(changedKeys.map((k) => [k, source[k]]));
    await recordAudit(tx.db, tx.actor, [
      {
        action: decision.action,
        didId: did.id,
        accountId: did.assigned_account_id ?? did.owner_account_id,
        subject: did.number,
        before: pick(settings),
        after: pick(decision.settings),
      },
    ]);
    const after = await selectDidView(tx.db).where('dids.id', '=', did.id).executeTakeFirstOrThrow();
    return { view: await viewOf(tx.db, after, decision.settings), changed: true };
  });
}

/**
 * Refuses numbers the actor may not see (as absent: others' numbers are not revealed), stale versions, and
 * numbers not in use: call transfer belongs to an assigned (or suspended) number. Seeing a number is holding
 * it here: the operator's staff see every number, a reseller its subtree's, a customer the ones it uses.
 */
function checkInUse(
  ctx: Ctx,
  number: string,
  did: DidView | undefined,
  expectedVersion?: number,
): asserts did is DidView {
  if (!did || !visibleTo(ctx.actor, did)) {
    throw notFound(`${formatNumber(number)} is not in the inventory.`, {
      help: isOperatorStaff(ctx.actor)
        ? 'Search with `search <pattern>`.'
        : 'Check the number: is it one of yours?',
    });
  }
  if (expectedVersion !== undefined && expectedVersion !== did.version) {
    throw conflict(`${formatNumber(number)} changed since it was shown; nothing was done.`, {
      help: `Look again with: transfer ${number}`,
    });
  }
  if (did.status !== 'assigned' && did.status !== 'suspended') {
    throw conflict(
      `${formatNumber(number)} is ${did.status}, not in use: a number has call transfer only while it is assigned. Assign it first.`,
      { help: isOperatorStaff(ctx.actor) ? `assign ${number} <account>` : undefined },
    );
  }
}

/** Refuses a change that would make calls to `number` come back to it through numbers of ours. */
export async function refuseLoop(db: Executor, number: string, firstHops: readonly string[]): Promise<void> {
  const loop = await findForwardingLoop(db, number, firstHops);
  if (!loop) return;
  throw invalid(
    `${formatNumber(number)} would forward round a loop: ${loop.map((n) => formatNumber(n)).join(' → ')}.`,
    {
      help: "Forward to a number outside the loop, or change the other numbers' transfer first.",
      field: 'destination',
    },
  );
}

async function loadSettings(db: Executor, didId: number): Promise<TransferSettings> {
  const row = await db
    .selectFrom('call_transfers')
    .select(SETTINGS_KEYS)
    .where('did_id', '=', didId)
    .executeTakeFirst();
  return row ?? NO_TRANSFER;
}

function destinationsOf(settings: TransferSettings): string[] {
  return TRANSFER_CONDITIONS.map((c) => settings[DESTINATION_COLUMN[c]]).filter((d) => d !== null);
}

function hasDestination(settings: TransferSettings): boolean {
  return destinationsOf(settings).length > 0;
}

async function viewOf(db: Executor, did: DidView, settings: TransferSettings): Promise<CallTransferView> {
  // The holder's switch and every switch above it count: an operator turning call transfer off for a
  // reseller turns it off for the reseller's customers too (seed 002: the account level overrides).
  const path = did.customer_path ?? did.owner_path;
  const ids = path ? path.split('/').filter(Boolean).map(Number) : [];
  const switches = ids.length
    ? await db.selectFrom('accounts').select('call_transfer_enabled').where('id', 'in', ids).execute()
    : [];
  const accountEnabled = switches.every((a) => a.call_transfer_enabled);
  return {
    number: did.number,
    didId: did.id,
    version: did.version,
    status: did.status,
    holder: did.customer_slug ?? did.owner_slug,
    enabled: settings.enabled,
    accountEnabled,
    effective: settings.enabled && accountEnabled && did.status === 'assigned' && hasDestination(settings),
    destinations: {
      busy: storedDestination(settings.busy_destination),
      no_answer: storedDestination(settings.no_answer_destination),
      unreachable: storedDestination(settings.unreachable_destination),
      always: storedDestination(settings.always_destination),
    },
    ringTimeoutSeconds: settings.ring_timeout_seconds,
  };
}

/** A number's transfer settings by DID id (a storefront page), for anyone who may see the number. */
export async function callTransferById(ctx: Ctx, didId: number): Promise<CallTransferView> {
  requirePermission(ctx.actor, 'inventory.read');
  const did = await visibleDidById(ctx, didId);
  checkInUse(ctx, did.number, did);
  return viewOf(ctx.db, did, await loadSettings(ctx.db, did.id));
}

export interface CallTransferForm {
  readonly didId: number;
  readonly enabled: boolean;
  /** Typed destinations; empty or "none" clears one. */
  readonly destinations: Readonly<Partial<Record<TransferCondition, string>>>;
  /** Typed seconds. */
  readonly ringTimeout: string;
  readonly expectedVersion?: number;
}

/**
 * A whole settings form (the storefront), saved through the same use cases the chat commands call, in one
 * transaction: one invalid field and nothing is saved. Errors name the form's fields (the condition,
 * `ring_timeout`, `enabled`). Turning off comes first and turning on last, so a form that clears the
 * destinations and turns transfer off, or sets the first destination and turns it on, both work.
 */
export async function saveCallTransfer(ctx: Ctx, input: CallTransferForm): Promise<TransferChangeResult> {
  requirePermission(ctx.actor, 'transfer.write');
  const seconds = input.ringTimeout.trim();
  if (!/^\d{1,4}$/.test(seconds)) {
    throw invalid(`"${seconds}" is not a number of seconds.`, {
      help: `Use a whole number of seconds from ${MIN_RING_TIMEOUT_SECONDS} to ${MAX_RING_TIMEOUT_SECONDS}.`,
      field: 'ring_timeout',
    });
  }
  return inTransaction(ctx, async (tx) => {
    const did = await visibleDidById(tx, input.didId);
    const number = did.number;
    // The first step locks the number and checks the version; later steps run under that lock.
    let expectedVersion = input.expectedVersion;
    const version = () => {
      const v = expectedVersion;
      expectedVersion = undefined;
      return v;
    };
    let result: TransferChangeResult | undefined;
    let changed = false;
    const step = async (field: string, run: () => Promise<TransferChangeResult>) => {
      try {
        result = await run();
      } catch (error) {
        if (error instanceof DomainError && error.field !== undefined) {
          throw new DomainError(error.code, error.message, { help: error.help, field, cause: error });
        }
        throw error;
      }
      changed ||= result.changed;
    };
    if (!input.enabled) {
      await step('enabled', () =>
        setTransferEnabled(tx, { number, enabled: false, expectedVersion: version() }),
      );
    }
    for (const condition of TRANSFER_CONDITIONS) {
      const typed = input.destinations[condition]?.trim() ?? '';
      await step(condition, () =>
        setTransferDestination(tx, {
          number,
          condition,
          destination: typed === '' ? 'none' : typed,
          expectedVersion: version(),
        }),
      );
    }
    await step('ring_timeout', () =>
      setRingTimeout(tx, { number, seconds: Number(seconds), expectedVersion: version() }),
    );
    if (input.enabled) {
      await step('enabled', () =>
        setTransferEnabled(tx, { number, enabled: true, expectedVersion: version() }),
      );
    }
    return { view: result!.view, changed };
  });
}

/** The DID with this id if the actor may see it; "not found" otherwise, naming nothing. */
async function visibleDidById(ctx: Ctx, didId: number): Promise<DidView> {
  const did = Number.isSafeInteger(didId)
    ? await selectDidView(ctx.db).where('dids.id', '=', didId).executeTakeFirst()
    : undefined;
  if (!did || !visibleTo(ctx.actor, did) || did.status === 'available') {
    throw notFound('There is no such number among yours.', { help: 'Check the link: is it one of yours?' });
  }
  return did;
}
