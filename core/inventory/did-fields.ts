// Every field of an ASTPP DID product (seed 000), validated from text as people and CSV files give it.
// One definition serves creating one number, importing a file and exporting it again (the export's header
// row is this list, so an export can be imported elsewhere as it is).
import type { CountryCode } from 'libphonenumber-js/max';
import type { Capability, DidStatus, NewDid, NumberType } from '../db/schema.ts';
import { CAPABILITIES, NUMBER_TYPES } from '../db/schema.ts';
import { billingTerms, checkCurrency } from '../catalog/catalog.ts';
import { parseDestination } from '../numbers/destination.ts';
import { parseNumber } from '../numbers/phone-number.ts';
import { DomainError, invalid } from '../shared/errors.ts';
import { parseMoney, parseRate } from '../shared/money.ts';
import { lookup, type CatalogIndex } from './catalog-index.ts';

/** Canonical field names, in export column order. */
export const DID_FIELDS = [
  'number',
  'country',
  'area_code',
  'number_type',
  'city',
  'province',
  'provider',
  'vendor_batch',
  'group',
  'pricing_batch',
  'activation_cost',
  'recurring_cost',
  'setup_fee',
  'recurring_fee',
  'currency',
  'billing_type',
  'billing_period',
  'billing_days',
  'connection_cost',
  'per_minute_rate',
  'grace_seconds',
  'initial_increment',
  'increment',
  'call_timeout',
  'max_concurrent_calls',
  'capabilities',
  'description',
  'status',
  'destination',
] as const;
export type DidField = (typeof DID_FIELDS)[number];
export type DidFieldValues = Partial<Record<DidField, string>>;

/** Other names the same columns go by in carriers' files and other billing systems. */
const ALIASES: Readonly<Record<string, DidField>> = {
  did: 'number',
  did_number: 'number',
  phone: 'number',
  phone_number: 'number',
  e164: 'number',
  area: 'area_code',
  type: 'number_type',
  state: 'province',
  region: 'province',
  carrier: 'provider',
  vendor: 'provider',
  did_group: 'group',
  batch: 'pricing_batch',
  buy_cost: 'activation_cost',
  activation: 'activation_cost',
  vendor_recurring_cost: 'recurring_cost',
  setup: 'setup_fee',
  monthly: 'recurring_fee',
  monthly_fee: 'recurring_fee',
  monthly_cost: 'recurring_fee',
  recurring: 'recurring_fee',
  price: 'recurring_fee',
  connection_fee: 'connection_cost',
  cost_per_minute: 'per_minute_rate',
  per_minute: 'per_minute_rate',
  rate: 'per_minute_rate',
  grace: 'grace_seconds',
  grace_time: 'grace_seconds',
  grace_time_sec: 'grace_seconds',
  call_timeout_sec: 'call_timeout',
  ring_timeout: 'call_timeout',
  concurrent_calls: 'max_concurrent_calls',
  max_channels: 'max_concurrent_calls',
  notes: 'description',
  comment: 'description',
};

/** Maps a header cell to a field: "Setup Fee" -> setup_fee, "DID" -> number. Null when unknown. */
export function fieldForHeader(header: string): DidField | null {
  const key = header
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
  if ((DID_FIELDS as readonly string[]).includes(key)) return key as DidField;
  // Own keys only: a column headed "constructor" is not a field because every object has one.
  return Object.hasOwn(ALIASES, key) ? (ALIASES[key] ?? null) : null;
}

const CREATABLE_STATUSES: readonly DidStatus[] = ['available', 'disabled'];

/**
 * Validates one DID's fields into a row ready to insert. Throws a DomainError naming the first bad field.
 * Blank fee fields take the pricing batch's price; blank cost fields take the vendor batch's cost.
 */
export function validateDidFields(values: DidFieldValues, catalog: CatalogIndex): NewDid {
  const get = (field: DidField) => values[field]?.trim() ?? '';
  const given = (field: DidField) => get(field) !== '';

  const info = parseNumber(
    get('number'),
    (get('country').toUpperCase() || undefined) as CountryCode | undefined,
  );
  if (given('country') && get('country').toUpperCase() !== info.country) {
    throw invalid(`country ${get('country')} does not match the number, which is in ${info.country}.`, {
      field: 'country',
    });
  }

  const provider = ref(catalog.providers, catalog.byId.providers, 'provider', get('provider'));
  const vendorBatch = ref(
    catalog.vendorBatches,
    catalog.byId.vendorBatches,
    'vendor_batch',
    get('vendor_batch'),
  );
  if (vendorBatch && provider && vendorBatch.provider_id !== provider.id) {
    throw invalid(`vendor batch "${vendorBatch.name}" belongs to another provider.`, {
      field: 'vendor_batch',
    });
  }
  const group = ref(catalog.groups, catalog.byId.groups, 'group', get('group'));
  const batch = ref(
    catalog.pricingBatches,
    catalog.byId.pricingBatches,
    'pricing_batch',
    get('pricing_batch'),
  );

  const currency = field('currency', () => checkCurrency(get('currency') || batch?.currency || 'USD'));
  if (batch && batch.currency !== currency) {
    throw invalid(`pricing batch "${batch.name}" is in ${batch.currency}, the number in ${currency}.`, {
      field: 'currency',
    });
  }
  const money = (f: DidField, fallback: number, what: string) =>
    given(f) ? field(f, () => parseMoney(get(f), currency, what)) : fallback;
  const terms = field('billing_type', () =>
    billingTerms(
      get('billing_type') || batch?.billing_type,
      get('billing_period') || (given('billing_days') ? undefined : batch?.billing_period),
      given('billing_days') ? wholeNumber('billing_days', get('billing_days'), 1, 3660) : batch?.billing_days,
    ),
  );

  const numberType = (get('number_type').toLowerCase().replace(/[\s-]/g, '_') ||
    info.numberType) as NumberType;
  if (!NUMBER_TYPES.includes(numberType)) {
    throw invalid(`number_type "${get('number_type')}" is not one of ${NUMBER_TYPES.join(', ')}.`, {
      field: 'number_type',
    });
  }
  const status = (get('status').toLowerCase() || 'available') as DidStatus;
  if (!CREATABLE_STATUSES.includes(status)) {
    throw invalid(`status "${get('status')}" cannot be imported: new numbers are available or disabled.`, {
      help: 'Import as available, then assign with `assign <number> <account>`.',
      field: 'status',
    });
  }
  const destination = given('destination')
    ? field('destination', () => parseDestination(get('destination')))
    : null;
  const description = get('description');
  if (description.length > 500)
    throw invalid('description is longer than 500 characters.', { field: 'description' });

  return {
    number: info.e164,
    country: info.country,
    area_code: text('area_code', get('area_code')) || info.areaCode,
    number_type: numberType,
    city: text('city', get('city')),
    province: text('province', get('province')),
    provider_id: provider?.id ?? vendorBatch?.provider_id ?? null,
    vendor_batch_id: vendorBatch?.id ?? null,
    group_id: group?.id ?? null,
    pricing_batch_id: batch?.id ?? null,
    activation_cost: money('activation_cost', vendorBatch?.activation_cost ?? 0, 'activation_cost'),
    recurring_cost: money('recurring_cost', vendorBatch?.recurring_cost ?? 0, 'recurring_cost'),
    setup_fee: money('setup_fee', batch?.setup_fee ?? 0, 'setup_fee'),
    recurring_fee: money('recurring_fee', batch?.recurring_fee ?? 0, 'recurring_fee'),
    currency,
    billing_type: terms.billingType,
    billing_period: terms.billingPeriod,
    billing_days: terms.billingDays,
    connection_cost_micros: given('connection_cost')
      ? field('connection_cost', () => parseRate(get('connection_cost'), 'connection_cost'))
      : 0,
    per_minute_rate_micros: given('per_minute_rate')
      ? field('per_minute_rate', () => parseRate(get('per_minute_rate'), 'per_minute_rate'))
      : 0,
    grace_seconds: optionalWhole('grace_seconds', get('grace_seconds'), 0, 3600, 0),
    initial_increment: optionalWhole('initial_increment', get('initial_increment'), 1, 3600, 1),
    increment: optionalWhole('increment', get('increment'), 1, 3600, 1),
    call_timeout_seconds: optionalWhole('call_timeout', get('call_timeout'), 1, 600, 30),
    max_concurrent_calls: optionalWhole('max_concurrent_calls', get('max_concurrent_calls'), 0, 100000, 0),
    capabilities: capabilities(get('capabilities')),
    description,
    status,
    destination_type: destination?.type ?? null,
    destination: destination?.value ?? null,
  };
}

function ref<T extends { id: number }>(
  names: ReadonlyMap<string, T>,
  ids: ReadonlyMap<number, T>,
  name: 'provider' | 'vendor_batch' | 'group' | 'pricing_batch',
  value: string,
): T | undefined {
  if (value === '' || (name === 'pricing_batch' && value.toLowerCase() === 'none')) return undefined;
  const found = lookup(names, ids, value);
  if (found) return found;
  const command = {
    provider: 'provider',
    vendor_batch: 'vendor-batch',
    group: 'group',
    pricing_batch: 'batch',
  }[name];
  throw invalid(`unknown ${name.replace('_', ' ')} "${value}".`, {
    help: `Create it first with \`${command} create "${value}"\`.`,
    field: name,
  });
}

/** Labels an error from a shared parser with the column it came from, unless the parser named a column itself. */
function field<T>(name: DidField, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof DomainError)
      throw invalid(error.message, { help: error.help, field: error.field ?? name });
    throw error;
  }
}

function wholeNumber(name: DidField, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw invalid(`${name} must be a whole number from ${min} to ${max} (got "${value}").`, { field: name });
  }
  return n;
}

function optionalWhole(name: DidField, value: string, min: number, max: number, fallback: number): number {
  return value === '' ? fallback : wholeNumber(name, value, min, max);
}

function text(name: DidField, value: string): string {
  if (value.length > 100) throw invalid(`${name} is longer than 100 characters.`, { field: name });
  return value;
}

function capabilities(value: string): Capability[] {
  if (value === '') return ['voice'];
  const list = [
    ...new Set(
      value
        .toLowerCase()
        .split(/[\s,;|+]+/)
        .filter(Boolean),
    ),
  ];
  const unknown = list.filter((c) => !(CAPABILITIES as readonly string[]).includes(c));
  if (unknown.length > 0) {
    throw invalid(`capabilities "${unknown.join(', ')}" unknown; use ${CAPABILITIES.join(', ')}.`, {
      field: 'capabilities',
    });
  }
  return list as Capability[];
}
