// Loads the demo dataset (DESIGN §2: a fresh embedded database gets demo data) and `npm run seed`'s data:
// an operator with resellers and customers, three login users, carriers, price lists and a few thousand
// numbers. Writes straight through Kysely in one transaction, so a failed load leaves nothing behind.
// Not idempotent: a second run on the same database fails on unique constraints; callers check first.
import { randomBytes } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import { billStaffAssignment } from '../billing/staff-assignment.ts';
import type { Kysely, Transaction } from 'kysely';
import type { Database, NewDid } from '../db/schema.ts';
import { DAY_MS, systemClock, type Clock } from '../shared/clock.ts';
import {
  DEMO_ACCOUNTS,
  DEMO_CURRENCY,
  DEMO_GROUPS,
  DEMO_PRICING_BATCHES,
  DEMO_PROVIDERS,
  DEMO_USERS,
  DEMO_VENDOR_BATCHES,
  type DemoUser,
} from './catalog.ts';
import { DEMO_AGING_DAYS, generateDemoInventory, type DemoDid } from './inventory.ts';
import { seededRandom } from './random.ts';

export { generateDemoInventory, type DemoDid, type DemoHolding, type DemoRating } from './inventory.ts';
export { seededRandom } from './random.ts';

export interface DemoCredentials {
  readonly email: string;
  readonly password: string;
  readonly account: string;
  readonly role: string;
}

export interface DemoSummary {
  readonly accounts: number;
  readonly dids: number;
  /** Plaintext, so the caller can print them once; only their hashes are stored. */
  readonly credentials: readonly DemoCredentials[];
}

export interface DemoOptions {
  /** Draws the inventory; defaults to a fixed seed so every fresh database looks the same. */
  readonly random?: () => number;
  readonly hashPassword?: (password: string) => Promise<string>;
  /** Assignment and aging times are set relative to this clock. */
  readonly clock?: Clock;
}

const DEFAULT_SEED = 20261122;
const DID_CHUNK = 1000;

export async function loadDemoData(db: Kysely<Database>, options: DemoOptions = {}): Promise<DemoSummary> {
  const inventory = generateDemoInventory(options.random ?? seededRandom(DEFAULT_SEED));
  const hashPassword = options.hashPassword ?? ((password: string) => hash(password));
  // Hash before the transaction opens: argon2 is deliberately slow and needs no locks.
  const logins = await Promise.all(
    DEMO_USERS.map(async (user) => {
      const password = newPassword();
      return { user, password, passwordHash: await hashPassword(password) };
    }),
  );
  const credentials = logins.map(({ user, password }) => ({
    email: user.email,
    password,
    account: user.account,
    role: user.role,
  }));
  const now = (options.clock ?? systemClock).now();

  return db.transaction().execute(async (trx) => {
    const accounts = await insertAccounts(trx);
    await insertUsers(trx, accounts, logins);
    const catalog = await insertCatalog(trx, accounts);
    const rows = inventory.map((did) => toDidRow(did, { accounts, ...catalog }, now));
    for (let start = 0; start < rows.length; start += DID_CHUNK) {
      await trx
        .insertInto('dids')
        .values(rows.slice(start, start + DID_CHUNK))
        .execute();
    }
    await billDemoHoldings(trx, now);
    return { accounts: accounts.size, dids: rows.length, credentials };
  });
}

/**
 * Numbers in use are billed like any staff assignment (a subscription and its first charges each), so the
 * storefront's "My numbers", invoices and the renewals have something real to show.
 */
async function billDemoHoldings(trx: Transaction<Database>, now: Date): Promise<void> {
  const inUse = await trx
    .selectFrom('dids')
    .selectAll()
    .where('status', 'in', ['assigned', 'suspended'])
    .orderBy('id')
    .execute();
  const byHolder = Map.groupBy(inUse, (did) => did.assigned_account_id ?? did.owner_account_id!);
  const holders = await trx
    .selectFrom('accounts')
    .selectAll()
    .where('id', 'in', [...byHolder.keys(), -1])
    .execute();
  for (const account of holders) await billStaffAssignment(trx, account, byHolder.get(account.id) ?? [], now);
}

/** 12 random bytes are exactly 16 base64url characters. */
function newPassword(): string {
  return randomBytes(12).toString('base64url');
}

type Ids = ReadonlyMap<string, number>;

function idOf(ids: Ids, name: string): number {
  const id = ids.get(name);
  if (id === undefined) throw new Error(`demo data refers to unknown ${name}`);
  return id;
}

function idOrNull(ids: Ids, name: string | null): number | null {
  return name === null ? null : idOf(ids, name);
}

/** One at a time, parents first: a child needs its parent's id, and the path trigger reads the parent. */
async function insertAccounts(trx: Transaction<Database>): Promise<Ids> {
  const ids = new Map<string, number>();
  for (const account of DEMO_ACCOUNTS) {
    const { id } = await trx
      .insertInto('accounts')
      .values({
        kind: account.kind,
        parent_id: idOrNull(ids, account.parent),
        slug: account.slug,
        name: account.name,
        billing_mode: account.billingMode,
        credit_limit: account.creditLimit,
        currency: DEMO_CURRENCY,
        stripe_customer_id: null,
        email: account.email,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids.set(account.slug, id);
  }
  return ids;
}

interface Login {
  readonly user: DemoUser;
  readonly password: string;
  readonly passwordHash: string;
}

async function insertUsers(
  trx: Transaction<Database>,
  accounts: Ids,
  logins: readonly Login[],
): Promise<void> {
  await trx
    .insertInto('users')
    .values(
      logins.map(({ user, passwordHash }) => ({
        account_id: idOf(accounts, user.account),
        email: user.email,
        name: user.name,
        role: user.role,
        password_hash: passwordHash,
        slack_user_id: null,
        telegram_user_id: null,
      })),
    )
    .execute();
}

interface CatalogIds {
  readonly providers: Ids;
  readonly vendorBatches: Ids;
  readonly groups: Ids;
  readonly pricingBatches: Ids;
}

async function insertCatalog(trx: Transaction<Database>, accounts: Ids): Promise<CatalogIds> {
  const providers = byName(
    await trx
      .insertInto('providers')
      .values(DEMO_PROVIDERS.map((p) => ({ name: p.name, description: p.description })))
      .returning(['id', 'name'])
      .execute(),
  );
  const vendorBatches = byName(
    await trx
      .insertInto('vendor_batches')
      .values(
        DEMO_VENDOR_BATCHES.map((b) => ({
          provider_id: idOf(providers, b.provider),
          name: b.name,
          activation_cost: b.activationCost,
          recurring_cost: b.recurringCost,
          currency: b.currency,
        })),
      )
      .returning(['id', 'name'])
      .execute(),
  );
  const groups = byName(
    await trx
      .insertInto('did_groups')
      .values(DEMO_GROUPS.map((g) => ({ name: g.name, description: g.description })))
      .returning(['id', 'name'])
      .execute(),
  );
  const pricingBatches = byName(
    await trx
      .insertInto('pricing_batches')
      .values(
        DEMO_PRICING_BATCHES.map((b) => ({
          owner_account_id: idOf(accounts, b.owner),
          name: b.name,
          setup_fee: b.setupFee,
          recurring_fee: b.recurringFee,
          currency: b.currency,
          billing_type: b.billingType,
          billing_period: b.billingPeriod,
          billing_days: b.billingDays,
        })),
      )
      .returning(['id', 'name'])
      .execute(),
  );
  return { providers, vendorBatches, groups, pricingBatches };
}

/** Demo names are unique per table (vendor and pricing batches included), so a name finds its row. */
function byName(rows: readonly { id: number; name: string }[]): Ids {
  return new Map(rows.map((row) => [row.name, row.id]));
}

function hoursBefore(now: Date, hours: number | null): Date | null {
  return hours === null ? null : new Date(now.getTime() - hours * 3_600_000);
}

function toDidRow(did: DemoDid, ids: CatalogIds & { readonly accounts: Ids }, now: Date): NewDid {
  const { holding, rating } = did;
  const freedAt = hoursBefore(now, holding.freedHoursAgo);
  return {
    number: did.number,
    country: did.country,
    area_code: did.areaCode,
    number_type: did.numberType,
    city: did.city,
    province: did.province,
    provider_id: idOf(ids.providers, did.provider),
    vendor_batch_id: idOf(ids.vendorBatches, did.vendorBatch),
    group_id: idOf(ids.groups, did.group),
    pricing_batch_id: idOf(ids.pricingBatches, did.pricingBatch),
    activation_cost: did.activationCost,
    recurring_cost: did.recurringCost,
    setup_fee: did.setupFee,
    recurring_fee: did.recurringFee,
    currency: did.currency,
    billing_type: did.billingType,
    billing_period: did.billingPeriod,
    billing_days: did.billingDays,
    connection_cost_micros: rating.connectionCostMicros,
    per_minute_rate_micros: rating.perMinuteRateMicros,
    grace_seconds: rating.graceSeconds,
    initial_increment: rating.initialIncrement,
    increment: rating.increment,
    call_timeout_seconds: rating.callTimeoutSeconds,
    max_concurrent_calls: rating.maxConcurrentCalls,
    capabilities: [...did.capabilities],
    description: did.description,
    status: holding.status,
    owner_account_id: idOrNull(ids.accounts, holding.owner),
    assigned_account_id: idOrNull(ids.accounts, holding.assignedTo),
    assigned_at: hoursBefore(now, holding.assignedHoursAgo),
    freed_at: freedAt,
    aging_until:
      holding.status === 'aging' && freedAt ? new Date(freedAt.getTime() + DEMO_AGING_DAYS * DAY_MS) : null,
    destination_type: holding.destination?.type ?? null,
    destination: holding.destination?.value ?? null,
  };
}
