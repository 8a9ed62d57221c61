// The demo number inventory: several thousand DIDs drawn from a seeded PRNG, so every fresh database (and
// every test) gets the same numbers. Pure: DIDs name their accounts, carriers and price lists instead of
// holding ids, and times are offsets from "now"; the loader resolves both.
import { parsePhoneNumberFromString, type PhoneNumber } from 'libphonenumber-js/max';
import type {
  BillingPeriod,
  BillingType,
  Capability,
  DestinationType,
  DidStatus,
  NumberType,
} from '../db/schema.ts';
import { findPricingBatch, findVendorBatch, holdingReseller } from './catalog.ts';
import { describeParsed, typeOf } from '../numbers/phone-number.ts';
import { chance, pick, randomInt, weightedPick, type Random } from './random.ts';

export interface DemoRating {
  readonly connectionCostMicros: number;
  readonly perMinuteRateMicros: number;
  readonly graceSeconds: number;
  readonly initialIncrement: number;
  readonly increment: number;
  readonly callTimeoutSeconds: number;
  readonly maxConcurrentCalls: number;
}

/** Who holds a number. Account fields are slugs; times are hours before the load. */
export interface DemoHolding {
  readonly status: DidStatus;
  readonly owner: string | null;
  readonly assignedTo: string | null;
  readonly assignedHoursAgo: number | null;
  readonly freedHoursAgo: number | null;
  readonly destination: { readonly type: DestinationType; readonly value: string } | null;
}

export interface DemoDid {
  readonly number: string;
  readonly country: string;
  readonly areaCode: string;
  readonly numberType: NumberType;
  readonly city: string;
  readonly province: string;
  readonly provider: string;
  readonly vendorBatch: string;
  readonly group: string;
  readonly pricingBatch: string;
  readonly activationCost: number;
  readonly recurringCost: number;
  readonly setupFee: number;
  readonly recurringFee: number;
  readonly currency: string;
  readonly billingType: BillingType;
  readonly billingPeriod: BillingPeriod;
  readonly billingDays: number;
  readonly rating: DemoRating;
  readonly capabilities: readonly Capability[];
  readonly description: string;
  readonly holding: DemoHolding;
}

/** How numbers of one kind are bought, grouped and priced. */
interface ProductLine {
  readonly group: string;
  readonly numberType: NumberType;
  readonly pricingBatches: readonly (readonly [name: string, weight: number])[];
  readonly vendorBatches: readonly string[];
  readonly smsShare: number;
  readonly perMinuteMicros: readonly [min: number, max: number];
}

const US_LOCAL: ProductLine = {
  group: 'US Local',
  numberType: 'local',
  pricingBatches: [
    ['US Local Standard', 85],
    ['US Local 30-day', 15],
  ],
  vendorBatches: ['NorthStar US Local 2026-Q1', 'Atlantic US Local 2026-Q2'],
  smsShare: 0.6,
  perMinuteMicros: [4000, 9000],
};

const US_TOLL_FREE: ProductLine = {
  group: 'US Toll-Free',
  numberType: 'toll_free',
  pricingBatches: [['US Toll-Free', 1]],
  vendorBatches: ['NorthStar Toll-Free 2026-Q1'],
  smsShare: 0,
  perMinuteMicros: [8000, 12000],
};

const US_VANITY: ProductLine = { ...US_TOLL_FREE, pricingBatches: [['Yearly Vanity', 1]] };

const UK_GEOGRAPHIC: ProductLine = {
  group: 'UK Geographic',
  numberType: 'local',
  pricingBatches: [['UK Geographic', 1]],
  vendorBatches: ['Atlantic UK Geographic', 'EuroDID UK Geographic'],
  smsShare: 0,
  perMinuteMicros: [5000, 10000],
};

const DE_GEOGRAPHIC: ProductLine = {
  group: 'DE Geographic',
  numberType: 'local',
  pricingBatches: [['DE Geographic', 1]],
  vendorBatches: ['EuroDID DE Geographic'],
  smsShare: 0,
  perMinuteMicros: [5000, 10000],
};

const INTERNAL: ProductLine = {
  group: 'Internal',
  numberType: 'local',
  pricingBatches: [['Internal (free)', 1]],
  vendorBatches: ['NorthStar US Local 2026-Q1'],
  smsShare: 0.6,
  perMinuteMicros: [4000, 4000],
};

/** Where a number sits and how it is sold. */
interface Placement {
  readonly city: string;
  readonly province: string;
  readonly line: ProductLine;
  /** Numbers the README and the vanity search demo rely on must stay in the pool. */
  readonly alwaysAvailable?: boolean;
  readonly description?: string;
}

/**
 * A run of numbers drawn from templates of E.164 digits (no '+'): 'x' is any digit, 'N' is 2-9 (the first
 * digit of a subscriber number or a NANP exchange cannot be 0 or 1), anything else is literal.
 */
interface NumberBlock extends Placement {
  readonly templates: readonly string[];
  readonly count: number;
}

function usLocal(
  city: string,
  state: string,
  areaCodes: readonly string[],
  countPerCode: number,
): NumberBlock[] {
  return areaCodes.map((code) => ({
    city,
    province: state,
    line: US_LOCAL,
    templates: [`1${code}Nxxxxxx`],
    count: countPerCode,
  }));
}

const TOLL_FREE_PREFIXES = ['800', '833', '844', '855', '866', '877', '888'] as const;

function tollFree(prefix: string, count: number): NumberBlock {
  return { city: '', province: '', line: US_TOLL_FREE, templates: [`1${prefix}Nxxxxxx`], count };
}

function vanity(template: string, word: string, count: number): NumberBlock {
  return {
    city: '',
    province: '',
    line: US_VANITY,
    alwaysAvailable: true,
    description: `Vanity number: spells ${word} on the keypad`,
    templates: [template],
    count,
  };
}

const README_NUMBERS = Array.from({ length: 10 }, (_, i) => `+186655501${String(i).padStart(2, '0')}`);

const README_PLACEMENT: Placement = {
  city: '',
  province: '',
  line: US_TOLL_FREE,
  alwaysAvailable: true,
  description: 'Kept available for the README examples (assign 18665550100 acme)',
};

const BLOCKS: readonly NumberBlock[] = [
  // VOIP is 8647 and SHOP is 7464 on the keypad: `search 1800%VOIP` must find several.
  vanity('18008647xxx', 'VOIP', 8),
  vanity('1800Nxx8647', 'VOIP', 4),
  vanity('18888647xxx', 'VOIP', 2),
  vanity('18007464xxx', 'SHOP', 3),
  vanity('1877Nxx7464', 'SHOP', 2),
  ...usLocal('New York', 'NY', ['212', '646', '917'], 300),
  ...usLocal('Los Angeles', 'CA', ['213', '310'], 260),
  ...usLocal('Chicago', 'IL', ['312', '773'], 260),
  ...usLocal('Houston', 'TX', ['713'], 260),
  ...usLocal('Miami', 'FL', ['305'], 260),
  ...usLocal('Seattle', 'WA', ['206'], 260),
  ...usLocal('Boston', 'MA', ['617'], 260),
  ...usLocal('Atlanta', 'GA', ['404'], 260),
  ...usLocal('Denver', 'CO', ['303'], 260),
  ...usLocal('San Francisco', 'CA', ['415'], 260),
  {
    city: 'Denver',
    province: 'CO',
    line: INTERNAL,
    alwaysAvailable: true,
    description: 'Internal staff and test line',
    templates: ['1303Nxxxxxx'],
    count: 40,
  },
  ...TOLL_FREE_PREFIXES.map((prefix) => tollFree(prefix, 160)),
  // London numbers start 3, 7 or 8 after the 20.
  {
    city: 'London',
    province: 'England',
    line: UK_GEOGRAPHIC,
    templates: ['44203xxxxxxx', '44207xxxxxxx', '44208xxxxxxx'],
    count: 200,
  },
  { city: 'Manchester', province: 'England', line: UK_GEOGRAPHIC, templates: ['44161Nxxxxxx'], count: 140 },
  { city: 'Birmingham', province: 'England', line: UK_GEOGRAPHIC, templates: ['44121Nxxxxxx'], count: 140 },
  { city: 'Berlin', province: 'Berlin', line: DE_GEOGRAPHIC, templates: ['4930Nxxxxxxx'], count: 140 },
  { city: 'Munich', province: 'Bavaria', line: DE_GEOGRAPHIC, templates: ['4989Nxxxxxxx'], count: 110 },
  { city: 'Hamburg', province: 'Hamburg', line: DE_GEOGRAPHIC, templates: ['4940Nxxxxxxx'], count: 110 },
];

/** Who the assigned numbers go to, and how often. */
const HOLDERS: readonly (readonly [slug: string, weight: number])[] = [
  ['acme', 30],
  ['umbrella', 14],
  ['bobs-bakery', 16],
  ['eastside-dental', 10],
  ['initech', 12],
  ['voipco', 8],
  ['voipco-east', 5],
  ['globaltel', 5],
];

/** Area codes of the customers' offices, for PSTN forwarding destinations. */
const CUSTOMER_OFFICES: Readonly<Record<string, string>> = {
  acme: '212',
  umbrella: '312',
  'bobs-bakery': '206',
  'eastside-dental': '617',
  initech: '713',
};

// Only USD numbers can be sold (see drawHolding), so they carry a little more than the ~8% overall.
const STATUS_WEIGHTS: readonly (readonly [DidStatus, number])[] = [
  ['available', 87],
  ['assigned', 10],
  ['aging', 2],
  ['disabled', 1],
];

/** A released number rests this long before it is sold again (DESIGN §3: aging). */
export const DEMO_AGING_DAYS = 30;

const DISABLED_REASONS = [
  'Disabled: carrier reports a fault on this number',
  'Disabled: port-out request pending',
  'Disabled: reported for abuse, under review',
];

const NOTES = [
  'Ported in from a legacy carrier',
  'Easy to remember',
  'Good main office line',
  'Never assigned before',
];

const INCREMENTS: readonly (readonly [initial: number, increment: number])[] = [
  [1, 1],
  [6, 6],
  [30, 6],
  [60, 60],
  [60, 6],
  [30, 1],
];

const MAX_DRAWS_PER_NUMBER = 1000;

export function generateDemoInventory(random: Random): DemoDid[] {
  const taken = new Set<string>();
  const dids: DemoDid[] = [];
  for (const e164 of README_NUMBERS) {
    dids.push(buildDid(random, claimNumber(e164, README_PLACEMENT.line.numberType, taken), README_PLACEMENT));
  }
  for (const block of BLOCKS) {
    for (let i = 0; i < block.count; i++) {
      dids.push(buildDid(random, drawNumber(random, block, taken), block));
    }
  }
  return dids;
}

function claimNumber(e164: string, type: NumberType, taken: Set<string>): PhoneNumber {
  const parsed = acceptable(e164, type, taken);
  if (!parsed) throw new Error(`demo number ${e164} is not a valid, unused ${type} number`);
  taken.add(e164);
  return parsed;
}

function drawNumber(random: Random, block: NumberBlock, taken: Set<string>): PhoneNumber {
  for (let attempt = 0; attempt < MAX_DRAWS_PER_NUMBER; attempt++) {
    const e164 = `+${fillTemplate(random, pick(random, block.templates))}`;
    if (!looksReal(e164)) continue;
    const parsed = acceptable(e164, block.line.numberType, taken);
    if (!parsed) continue;
    taken.add(e164);
    return parsed;
  }
  throw new Error(`could not draw a valid number from ${block.templates.join(', ')}`);
}

function fillTemplate(random: Random, template: string): string {
  return template.replace(/[xN]/g, (slot) =>
    String(slot === 'N' ? randomInt(random, 2, 9) : randomInt(random, 0, 9)),
  );
}

/** libphonenumber accepts NANP exchanges that people read as fake (555) or reserve for services (N11). */
function looksReal(e164: string): boolean {
  if (!e164.startsWith('+1')) return true;
  const exchange = e164.slice(5, 8);
  return exchange !== '555' && !exchange.endsWith('11');
}

function acceptable(e164: string, type: NumberType, taken: ReadonlySet<string>): PhoneNumber | null {
  if (taken.has(e164)) return null;
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed?.isValid() || typeOf(parsed) !== type || parsed.number !== e164) return null;
  return parsed;
}

function buildDid(random: Random, parsed: PhoneNumber, placement: Placement): DemoDid {
  const { line } = placement;
  const country = parsed.country;
  if (!country) throw new Error(`no country for ${parsed.number}`);
  const vendorBatch = findVendorBatch(pick(random, line.vendorBatches));
  const holding = placement.alwaysAvailable
    ? AVAILABLE
    : drawHolding(random, parsed.number, vendorBatch.currency);
  const pricingBatch = findPricingBatch(choosePricingBatch(random, line, holding));
  if (pricingBatch.currency !== vendorBatch.currency) {
    throw new Error(`${pricingBatch.name} and ${vendorBatch.name} disagree on currency`);
  }
  return {
    number: parsed.number,
    country,
    areaCode: describeParsed(parsed).areaCode,
    numberType: line.numberType,
    city: placement.city,
    province: placement.province,
    provider: vendorBatch.provider,
    vendorBatch: vendorBatch.name,
    group: line.group,
    pricingBatch: pricingBatch.name,
    activationCost: vendorBatch.activationCost,
    recurringCost: vendorBatch.recurringCost,
    setupFee: pricingBatch.setupFee,
    recurringFee: pricingBatch.recurringFee,
    currency: pricingBatch.currency,
    billingType: pricingBatch.billingType,
    billingPeriod: pricingBatch.billingPeriod,
    billingDays: pricingBatch.billingDays,
    rating: drawRating(random, line),
    capabilities: chance(random, line.smsShare) ? ['voice', 'sms'] : ['voice'],
    description: placement.description ?? drawDescription(random, holding),
    holding,
  };
}

/** A reseller's numbers and its customers' numbers sell from its own retail price list. */
function choosePricingBatch(random: Random, line: ProductLine, holding: DemoHolding): string {
  if (line === US_LOCAL && holding.owner === 'voipco') return 'VoipCo Retail';
  return weightedPick(random, line.pricingBatches);
}

const AVAILABLE: DemoHolding = {
  status: 'available',
  owner: null,
  assignedTo: null,
  assignedHoursAgo: null,
  freedHoursAgo: null,
  destination: null,
};

function drawHolding(random: Random, number: string, currency: string): DemoHolding {
  const status = weightedPick(random, STATUS_WEIGHTS);
  switch (status) {
    case 'assigned':
      // Every demo account bills in USD, so only USD numbers are sold.
      return currency === 'USD' ? drawAssignment(random, number) : AVAILABLE;
    case 'aging':
      return { ...AVAILABLE, status, freedHoursAgo: randomInt(random, 1, (DEMO_AGING_DAYS - 1) * 24) };
    case 'disabled':
      return { ...AVAILABLE, status };
    default:
      return AVAILABLE;
  }
}

function drawAssignment(random: Random, number: string): DemoHolding {
  const holder = weightedPick(random, HOLDERS);
  const reseller = holdingReseller(holder);
  const assignedHoursAgo = randomInt(random, 24, 400 * 24);
  // A reseller may keep numbers in stock, not yet sold on to one of its customers.
  if (reseller === holder) {
    return { ...AVAILABLE, status: 'assigned', owner: holder, assignedHoursAgo };
  }
  return {
    ...AVAILABLE,
    status: 'assigned',
    owner: reseller,
    assignedTo: holder,
    assignedHoursAgo,
    destination: drawDestination(random, number, holder),
  };
}

function drawDestination(random: Random, number: string, customer: string): DemoHolding['destination'] {
  const roll = random();
  if (roll < 0.35) return { type: 'sip', value: `sip:${number}@pbx.${customer}.example` };
  const office = CUSTOMER_OFFICES[customer];
  if (roll < 0.5 && office) {
    return { type: 'pstn', value: `+1${office}55501${String(randomInt(random, 0, 99)).padStart(2, '0')}` };
  }
  return null;
}

function drawRating(random: Random, line: ProductLine): DemoRating {
  const [minRate, maxRate] = line.perMinuteMicros;
  const [initialIncrement, increment] = pick(random, INCREMENTS);
  return {
    connectionCostMicros: randomInt(random, 0, 20) * 500,
    perMinuteRateMicros: randomInt(random, minRate / 500, maxRate / 500) * 500,
    graceSeconds: randomInt(random, 0, 6),
    initialIncrement,
    increment,
    callTimeoutSeconds: 30,
    maxConcurrentCalls: randomInt(random, 2, 10),
  };
}

function drawDescription(random: Random, holding: DemoHolding): string {
  if (holding.status === 'disabled') return pick(random, DISABLED_REASONS);
  return chance(random, 0.1) ? pick(random, NOTES) : '';
}
