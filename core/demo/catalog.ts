// The fixed part of the demo dataset: accounts, users, carriers and price lists. Rows name each other by
// slug or name; the loader turns names into ids once the rows exist.
import type { AccountKind, BillingMode, BillingPeriod, BillingType, UserRole } from '../db/schema.ts';

export interface DemoAccount {
  readonly slug: string;
  readonly kind: AccountKind;
  readonly name: string;
  readonly parent: string | null;
  readonly billingMode: BillingMode;
  readonly creditLimit: number;
  readonly email: string | null;
}

function account(
  slug: string,
  kind: AccountKind,
  name: string,
  parent: string | null,
  billing: { mode?: BillingMode; creditLimit?: number } = {},
): DemoAccount {
  return {
    slug,
    kind,
    name,
    parent,
    billingMode: billing.mode ?? 'prepaid',
    creditLimit: billing.creditLimit ?? 0,
    email: kind === 'admin' ? null : `billing@${slug}.example`,
  };
}

/** Parents come before their children, so inserting in order can resolve every parent id. */
export const DEMO_ACCOUNTS: readonly DemoAccount[] = [
  account('operator', 'admin', 'Demo Telecom (operator)', null),
  account('voipco', 'reseller', 'VoipCo', 'operator'),
  account('voipco-east', 'reseller', 'VoipCo East', 'voipco', { mode: 'postpaid', creditLimit: 50_000 }),
  account('globaltel', 'reseller', 'GlobalTel', 'operator', { mode: 'postpaid', creditLimit: 100_000 }),
  account('acme', 'customer', 'Acme Corp', 'operator'),
  account('bobs-bakery', 'customer', "Bob's Bakery", 'voipco'),
  account('eastside-dental', 'customer', 'Eastside Dental', 'voipco-east'),
  account('initech', 'customer', 'Initech', 'globaltel'),
  account('umbrella', 'customer', 'Umbrella Corporation', 'operator', {
    mode: 'postpaid',
    creditLimit: 20_000,
  }),
];

export const DEMO_CURRENCY = 'USD';

function findAccount(slug: string): DemoAccount {
  const found = DEMO_ACCOUNTS.find((a) => a.slug === slug);
  if (!found) throw new Error(`no demo account ${slug}`);
  return found;
}

/**
 * The reseller that holds a number sold to this account: the nearest reseller above it, the account itself
 * when it is a reseller, or null when the operator sells to it directly.
 */
export function holdingReseller(slug: string): string | null {
  for (let current: DemoAccount | null = findAccount(slug); current;) {
    if (current.kind === 'reseller') return current.slug;
    current = current.parent === null ? null : findAccount(current.parent);
  }
  return null;
}

export interface DemoUser {
  readonly account: string;
  readonly email: string;
  readonly name: string;
  readonly role: UserRole;
}

export const DEMO_USERS: readonly DemoUser[] = [
  { account: 'operator', email: 'admin@didops.local', name: 'Demo Admin', role: 'owner' },
  { account: 'voipco', email: 'owner@voipco.example', name: 'VoipCo Owner', role: 'owner' },
  { account: 'acme', email: 'it@acme.example', name: 'Acme IT', role: 'owner' },
];

export interface DemoProvider {
  readonly name: string;
  readonly description: string;
}

export const DEMO_PROVIDERS: readonly DemoProvider[] = [
  { name: 'NorthStar Telecom', description: 'US local and toll-free numbers (fictional carrier)' },
  { name: 'Atlantic Carrier', description: 'US and UK numbers (fictional carrier)' },
  { name: 'EuroDID', description: 'European geographic numbers (fictional carrier)' },
];

/** Costs are integer minor units of the batch currency, which is also the currency the numbers sell in. */
export interface DemoVendorBatch {
  readonly provider: string;
  readonly name: string;
  readonly activationCost: number;
  readonly recurringCost: number;
  readonly currency: string;
}

export const DEMO_VENDOR_BATCHES: readonly DemoVendorBatch[] = [
  {
    provider: 'NorthStar Telecom',
    name: 'NorthStar US Local 2026-Q1',
    activationCost: 50,
    recurringCost: 35,
    currency: 'USD',
  },
  {
    provider: 'NorthStar Telecom',
    name: 'NorthStar Toll-Free 2026-Q1',
    activationCost: 100,
    recurringCost: 75,
    currency: 'USD',
  },
  {
    provider: 'Atlantic Carrier',
    name: 'Atlantic US Local 2026-Q2',
    activationCost: 40,
    recurringCost: 30,
    currency: 'USD',
  },
  {
    provider: 'Atlantic Carrier',
    name: 'Atlantic UK Geographic',
    activationCost: 60,
    recurringCost: 45,
    currency: 'GBP',
  },
  {
    provider: 'EuroDID',
    name: 'EuroDID DE Geographic',
    activationCost: 50,
    recurringCost: 40,
    currency: 'EUR',
  },
  {
    provider: 'EuroDID',
    name: 'EuroDID UK Geographic',
    activationCost: 70,
    recurringCost: 50,
    currency: 'GBP',
  },
];

export const DEMO_GROUPS: readonly { readonly name: string; readonly description: string }[] = [
  { name: 'US Local', description: 'Geographic numbers in major US cities' },
  { name: 'US Toll-Free', description: '8XX toll-free numbers, including vanity numbers' },
  { name: 'UK Geographic', description: 'London, Manchester and Birmingham' },
  { name: 'DE Geographic', description: 'Berlin, Munich and Hamburg' },
  { name: 'Internal', description: 'Staff and test lines, free of charge' },
];

/** Fees are integer minor units. billing_days only matters for the 'days' period (ASTPP style). */
export interface DemoPricingBatch {
  readonly owner: string;
  readonly name: string;
  readonly setupFee: number;
  readonly recurringFee: number;
  readonly currency: string;
  readonly billingType: BillingType;
  readonly billingPeriod: BillingPeriod;
  readonly billingDays: number;
}

function pricing(
  owner: string,
  name: string,
  fees: { setup: number; recurring: number; currency?: string },
  period: BillingPeriod = 'monthly',
): DemoPricingBatch {
  return {
    owner,
    name,
    setupFee: fees.setup,
    recurringFee: fees.recurring,
    currency: fees.currency ?? DEMO_CURRENCY,
    billingType: 'recurring',
    billingPeriod: period,
    billingDays: 30,
  };
}

export const DEMO_PRICING_BATCHES: readonly DemoPricingBatch[] = [
  pricing('operator', 'US Local Standard', { setup: 100, recurring: 150 }),
  pricing('operator', 'US Local 30-day', { setup: 100, recurring: 140 }, 'days'),
  pricing('operator', 'US Toll-Free', { setup: 200, recurring: 250 }),
  pricing('operator', 'UK Geographic', { setup: 100, recurring: 200, currency: 'GBP' }),
  pricing('operator', 'DE Geographic', { setup: 100, recurring: 200, currency: 'EUR' }),
  // Free-of-charge numbers are first-class: zero fees, never billed.
  pricing('operator', 'Internal (free)', { setup: 0, recurring: 0 }),
  pricing('operator', 'Yearly Vanity', { setup: 500, recurring: 5000 }, 'yearly'),
  pricing('voipco', 'VoipCo Retail', { setup: 300, recurring: 400 }),
];

export function findPricingBatch(name: string): DemoPricingBatch {
  const found = DEMO_PRICING_BATCHES.find((b) => b.name === name);
  if (!found) throw new Error(`no demo pricing batch ${name}`);
  return found;
}

export function findVendorBatch(name: string): DemoVendorBatch {
  const found = DEMO_VENDOR_BATCHES.find((b) => b.name === name);
  if (!found) throw new Error(`no demo vendor batch ${name}`);
  return found;
}
