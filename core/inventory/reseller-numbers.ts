// The numbers a reseller holds, for its portal: those it keeps for itself ("in stock") and those it has
// handed to its customers, each with who uses it. A number held by anyone else (another reseller, a
// sub-reseller, the pool) is "not found" here. Assigning and releasing go through assignment.ts, as the
// chat commands do, with the reseller as the actor.
import { sql } from 'kysely';
import { requireResellerPortal } from '../accounts/reseller-customers.ts';
import { requirePermission } from '../accounts/permissions.ts';
import type { Ctx } from '../context.ts';
import { invalid, notFound } from '../shared/errors.ts';
import { callTransferById } from '../transfer/call-transfer.ts';
import { assignDid, releaseDid } from './assignment.ts';
import { selectDidView } from './search-dids.ts';

const LIST_LIMIT = 1000;
const IN_USE = ['assigned', 'suspended'] as const;

export async function listHeldNumbers(ctx: Ctx) {
  requireResellerPortal(ctx.actor);
  requirePermission(ctx.actor, 'inventory.read');
  const held = ctx.db
    .selectFrom('dids')
    .where('dids.owner_account_id', '=', ctx.actor.accountId)
    .where('dids.status', 'in', IN_USE);
  const [numbers, counted] = await Promise.all([
    held
      .leftJoin('accounts', 'accounts.id', 'dids.assigned_account_id')
      .select([
        'dids.id',
        'dids.number',
        'dids.status',
        'dids.country',
        'dids.city',
        'dids.version',
        'accounts.id as customerId',
        'accounts.slug as customerSlug',
        'accounts.name as customerName',
      ])
      .orderBy('dids.number')
      .limit(LIST_LIMIT)
      .execute(),
    held.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { numbers, total: Number(counted.n) };
}

/** One number the reseller holds, and the active customers it may hand it to. */
export async function getHeldNumber(ctx: Ctx, didId: number) {
  requireResellerPortal(ctx.actor);
  requirePermission(ctx.actor, 'inventory.read');
  const did = Number.isSafeInteger(didId)
    ? await selectDidView(ctx.db)
        .where('dids.id', '=', didId)
        .where('dids.owner_account_id', '=', ctx.actor.accountId)
        .where('dids.status', 'in', IN_USE)
        .executeTakeFirst()
    : undefined;
  if (!did) throw notFound('There is no such number among yours.');
  const customers = await ctx.db
    .selectFrom('accounts')
    .select(['id', 'slug', 'name'])
    .where('kind', '=', 'customer')
    .where('status', '=', 'active')
    .where('path', 'like', `${ctx.actor.accountPath}%`)
    // A customer of a sub-reseller gets numbers from that sub-reseller, not from here.
    .where('parent_id', '=', ctx.actor.accountId)
    .orderBy(sql`lower(name)`)
    .limit(LIST_LIMIT)
    .execute();
  const customer =
    did.assigned_account_id === null
      ? null
      : await ctx.db
          .selectFrom('accounts')
          .select(['id', 'slug', 'name'])
          .where('id', '=', did.assigned_account_id)
          .executeTakeFirst();
  const transfer = await callTransferById(ctx, did.id);
  return { did, customer: customer ?? null, customers, transfer };
}

/** Hands one of the reseller's numbers (by DID id) to one of its customers (by account id). */
export async function assignHeldNumber(
  ctx: Ctx,
  input: { didId: number; customerId: string; expectedVersion?: number },
) {
  const did = await heldDid(ctx, input.didId);
  if (!/^\d{1,15}$/.test(input.customerId.trim())) {
    throw invalid('Pick the customer to give the number to.', { field: 'customer' });
  }
  return assignDid(ctx, {
    number: did.number,
    account: Number(input.customerId),
    ...(input.expectedVersion === undefined ? {} : { expectedVersion: input.expectedVersion }),
  });
}

/** Gives one of the reseller's numbers (by DID id) back to the pool. */
export async function releaseHeldNumber(ctx: Ctx, input: { didId: number; expectedVersion?: number }) {
  const did = await heldDid(ctx, input.didId);
  return releaseDid(ctx, {
    number: did.number,
    ...(input.expectedVersion === undefined ? {} : { expectedVersion: input.expectedVersion }),
  });
}

async function heldDid(ctx: Ctx, didId: number): Promise<{ number: string }> {
  requireResellerPortal(ctx.actor);
  const did = Number.isSafeInteger(didId)
    ? await ctx.db
        .selectFrom('dids')
        .select('number')
        .where('id', '=', didId)
        .where('owner_account_id', '=', ctx.actor.accountId)
        .where('status', 'in', IN_USE)
        .executeTakeFirst()
    : undefined;
  if (!did) throw notFound('There is no such number among yours.');
  return did;
}
