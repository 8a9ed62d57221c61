// Builders for test data: real rows in the real database, with defaults a test overrides as it needs.
import type { Insertable } from 'kysely';
import type { Actor } from '../../core/accounts/actor.ts';
import type { Ctx } from '../../core/context.ts';
import type { Db } from '../../core/db/connect.ts';
import type {
  Account,
  AccountsTable,
  Channel,
  Database,
  Did,
  NewDid,
  UserRole,
  UsersTable,
} from '../../core/db/schema.ts';
import { ManualClock, type Clock } from '../../core/shared/clock.ts';

let sequence = 0;
const next = () => ++sequence;

export async function buildOperator(
  db: Db,
  overrides: Partial<Insertable<AccountsTable>> = {},
): Promise<Account> {
  return db
    .insertInto('accounts')
    .values({
      kind: 'admin',
      slug: 'operator',
      name: 'Operator',
      parent_id: null,
      stripe_customer_id: null,
      email: null,
      ...overrides,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function buildAccount(
  db: Db,
  parent: Account,
  overrides: Partial<Insertable<AccountsTable>> = {},
): Promise<Account> {
  const n = next();
  return db
    .insertInto('accounts')
    .values({
      kind: 'customer',
      slug: `account-${n}`,
      name: `Account ${n}`,
      parent_id: parent.id,
      stripe_customer_id: null,
      email: null,
      ...overrides,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function buildUser(db: Db, account: Account, overrides: Partial<Insertable<UsersTable>> = {}) {
  return db
    .insertInto('users')
    .values({
      account_id: account.id,
      role: 'owner',
      email: null,
      name: '',
      password_hash: null,
      slack_user_id: null,
      telegram_user_id: null,
      ...overrides,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A valid, unique US number: +1 212 2xx xxxx. */
export function uniqueNumber(): string {
  return `+1212${2_000_000 + next()}`;
}

export async function buildDid(db: Db, overrides: Partial<NewDid> = {}): Promise<Did> {
  return db
    .insertInto('dids')
    .values({
      number: uniqueNumber(),
      country: 'US',
      area_code: '212',
      city: 'New York',
      province: 'NY',
      provider_id: null,
      vendor_batch_id: null,
      group_id: null,
      pricing_batch_id: null,
      setup_fee: 100,
      recurring_fee: 150,
      activation_cost: 50,
      recurring_cost: 40,
      connection_cost_micros: 0,
      per_minute_rate_micros: 0,
      owner_account_id: null,
      assigned_account_id: null,
      destination_type: null,
      destination: null,
      ...overrides,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function actorOf(
  account: Account,
  role: UserRole = 'owner',
  channel: Channel = 'cli',
  userId: number | null = null,
): Actor {
  return {
    userId,
    accountId: account.id,
    accountKind: account.kind,
    accountPath: account.path,
    role,
    channel,
    label: `${channel}:test-${account.slug}-${role}`,
  };
}

export function ctxFor(db: Db, actor: Actor, options: { clock?: Clock; didAgingDays?: number } = {}): Ctx {
  return {
    db,
    actor,
    clock: options.clock ?? new ManualClock('2026-03-01T10:00:00Z'),
    settings: { didAgingDays: options.didAgingDays ?? 30 },
  };
}

type Values<T extends keyof Database> = Insertable<Database[T]>;

export const buildProvider = (db: Db, values: Partial<Values<'providers'>> = {}) =>
  db
    .insertInto('providers')
    .values({ name: `Provider ${next()}`, ...values })
    .returningAll()
    .executeTakeFirstOrThrow();

export const buildVendorBatch = (
  db: Db,
  values: Partial<Values<'vendor_batches'>> & { provider_id: number },
) =>
  db
    .insertInto('vendor_batches')
    .values({ name: `Vendor batch ${next()}`, activation_cost: 0, recurring_cost: 0, ...values })
    .returningAll()
    .executeTakeFirstOrThrow();

export const buildGroup = (db: Db, values: Partial<Values<'did_groups'>> = {}) =>
  db
    .insertInto('did_groups')
    .values({ name: `Group ${next()}`, ...values })
    .returningAll()
    .executeTakeFirstOrThrow();

export const buildPricingBatch = (
  db: Db,
  values: Partial<Values<'pricing_batches'>> & { owner_account_id: number },
) =>
  db
    .insertInto('pricing_batches')
    .values({ name: `Batch ${next()}`, setup_fee: 0, recurring_fee: 0, ...values })
    .returningAll()
    .executeTakeFirstOrThrow();

/**
 * The account tree most tests need: the operator with a direct customer (acme), a reseller (voipco) with a
 * customer (bakery) and a sub-reseller (voipco-east) with a customer (dental), and a second reseller
 * (globaltel) with a customer (initech); plus a context for operator staff.
 */
export async function buildHierarchy(db: Db) {
  const operator = await buildOperator(db);
  const reseller = await buildAccount(db, operator, { kind: 'reseller', slug: 'voipco' });
  const subReseller = await buildAccount(db, reseller, { kind: 'reseller', slug: 'voipco-east' });
  const acme = await buildAccount(db, operator, { slug: 'acme' });
  const bakery = await buildAccount(db, reseller, { slug: 'bakery' });
  const dental = await buildAccount(db, subReseller, { slug: 'dental' });
  const otherReseller = await buildAccount(db, operator, { kind: 'reseller', slug: 'globaltel' });
  const initech = await buildAccount(db, otherReseller, { slug: 'initech' });
  const staff = ctxFor(db, actorOf(operator, 'operator'));
  return { operator, reseller, subReseller, acme, bakery, dental, otherReseller, initech, staff };
}
