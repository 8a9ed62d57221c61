// Deterministic inventory generator for the benchmark: N valid, unique numbers as a carrier CSV, the same
// file for the same (count, seed) on every machine. Mostly US local numbers (with realistic city and state
// per area code), a large toll-free share (800 heavy), and some London (+44 20) and Berlin (+49 30) ranges.
// A few hundred 1-800 numbers spell VOIP (8647) somewhere after the 800, so `search 1800%VOIP` finds a
// realistic handful; every other subscriber digit is random.
//
//   node test/bench/generate.ts <out.csv> [count] [seed]
import { seededRandom } from '../../core/demo/random.ts';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/** Catalog rows the CSV refers to by name; the bench creates them before importing. */
export const BENCH_CATALOG = {
  providers: ['NorthStar Telecom', 'Atlantic Carrier', 'EuroDID'],
  groups: ['US Local', 'US Toll-Free', 'UK Geographic', 'DE Geographic'],
  pricingBatches: [
    { name: 'US Local Standard', currency: 'USD', setupFee: '1.00', recurringFee: '1.50' },
    { name: 'US Toll-Free', currency: 'USD', setupFee: '2.00', recurringFee: '3.00' },
    { name: 'UK Geographic', currency: 'GBP', setupFee: '1.00', recurringFee: '2.00' },
    { name: 'DE Geographic', currency: 'EUR', setupFee: '1.00', recurringFee: '2.00' },
  ],
} as const;

export const CSV_HEADER = [
  'number',
  'city',
  'province',
  'provider',
  'group',
  'pricing_batch',
  'setup_fee',
  'recurring_fee',
  'capabilities',
  'description',
] as const;

/** The city the filtered-search benchmark asks for: the largest one. */
export const BIG_CITY = 'New York';

/** Planted numbers matching 1800%8647 (VOIP); random 1-800 numbers add a few dozen more per million. */
export const PLANTED_VANITY = 300;

/** The demo data's PRNG (mulberry32): same seed, same million numbers, on every machine. */
export const prng = seededRandom;

interface Range {
  /** E.164 digits without '+': 'x' any digit, 'N' 2-9, anything else literal. */
  readonly template: string;
  readonly weight: number;
  readonly city: string;
  readonly province: string;
  readonly provider: string;
  readonly group: string;
  readonly batch: string;
  readonly localNanp?: boolean;
}

const US_CITIES: readonly (readonly [areaCode: string, city: string, state: string, weight: number])[] = [
  // New York gets the largest stock: 212 alone is the prefix and bulk-assign benchmark.
  ['212', 'New York', 'NY', 12],
  ['646', 'New York', 'NY', 2],
  ['917', 'New York', 'NY', 2],
  ['718', 'New York', 'NY', 2],
  ['347', 'New York', 'NY', 2],
  ['213', 'Los Angeles', 'CA', 2],
  ['310', 'Los Angeles', 'CA', 2],
  ['323', 'Los Angeles', 'CA', 1.5],
  ['312', 'Chicago', 'IL', 2],
  ['773', 'Chicago', 'IL', 1.5],
  ['713', 'Houston', 'TX', 1.5],
  ['832', 'Houston', 'TX', 1],
  ['305', 'Miami', 'FL', 1.5],
  ['786', 'Miami', 'FL', 1],
  ['206', 'Seattle', 'WA', 1.2],
  ['617', 'Boston', 'MA', 1.2],
  ['404', 'Atlanta', 'GA', 1.2],
  ['303', 'Denver', 'CO', 1.2],
  ['415', 'San Francisco', 'CA', 1.2],
  ['214', 'Dallas', 'TX', 1.2],
  ['602', 'Phoenix', 'AZ', 1],
  ['215', 'Philadelphia', 'PA', 1],
  ['702', 'Las Vegas', 'NV', 1],
  ['512', 'Austin', 'TX', 1],
  ['503', 'Portland', 'OR', 1],
  ['612', 'Minneapolis', 'MN', 1],
  ['313', 'Detroit', 'MI', 1],
  ['615', 'Nashville', 'TN', 1],
  ['704', 'Charlotte', 'NC', 1],
  ['619', 'San Diego', 'CA', 1],
  ['202', 'Washington', 'DC', 1],
  ['314', 'St. Louis', 'MO', 0.8],
  ['216', 'Cleveland', 'OH', 0.8],
  ['412', 'Pittsburgh', 'PA', 0.8],
  ['801', 'Salt Lake City', 'UT', 0.8],
  ['816', 'Kansas City', 'MO', 0.8],
  ['504', 'New Orleans', 'LA', 0.8],
  ['210', 'San Antonio', 'TX', 0.8],
  ['407', 'Orlando', 'FL', 0.8],
  ['813', 'Tampa', 'FL', 0.8],
];

const TOLL_FREE: readonly (readonly [prefix: string, weight: number])[] = [
  ['800', 12],
  ['833', 3],
  ['844', 3],
  ['855', 3],
  ['866', 3],
  ['877', 3],
  ['888', 3],
];

export const RANGES: readonly Range[] = [
  ...US_CITIES.map(([code, city, state, weight], i) => ({
    template: `1${code}Nxxxxxx`,
    weight,
    city,
    province: state,
    provider: i % 3 === 2 ? 'Atlantic Carrier' : 'NorthStar Telecom',
    group: 'US Local',
    batch: 'US Local Standard',
    localNanp: true,
  })),
  ...TOLL_FREE.map(([prefix, weight]) => ({
    template: `1${prefix}Nxxxxxx`,
    weight,
    city: '',
    province: '',
    provider: 'NorthStar Telecom',
    group: 'US Toll-Free',
    batch: 'US Toll-Free',
    localNanp: true,
  })),
  // London: 020 numbers start 3, 7 or 8.
  ...['3', '7', '8'].map((lead) => ({
    template: `4420${lead}xxxxxxx`,
    weight: 4 / 3,
    city: 'London',
    province: 'England',
    provider: 'EuroDID',
    group: 'UK Geographic',
    batch: 'UK Geographic',
  })),
  {
    template: '4930Nxxxxxxx',
    weight: 3,
    city: 'Berlin',
    province: 'Berlin',
    provider: 'EuroDID',
    group: 'DE Geographic',
    batch: 'DE Geographic',
  },
];

/** 1-800 numbers that spell VOIP after the 800: the vanity search's planted answers. */
const VANITY_TEMPLATES = ['18008647xxx', '1800N8647xx', '1800Nx8647x', '1800Nxx8647'];

const CAPABILITIES: readonly (readonly [string, number])[] = [
  ['voice', 50],
  ['voice,sms', 35],
  ['voice,sms,mms', 10],
  ['voice,fax', 5],
];

const NOTES = [
  'Ported in from a legacy carrier',
  'Easy to remember',
  'Good main office line',
  'Never assigned before',
];

export interface GeneratedRow {
  readonly number: string;
  readonly city: string;
  readonly province: string;
  readonly provider: string;
  readonly group: string;
  readonly pricingBatch: string;
  readonly setupFee: string;
  readonly recurringFee: string;
  readonly capabilities: string;
  readonly description: string;
}

function weighted<T>(random: () => number, items: readonly T[], weightOf: (item: T) => number): () => T {
  const total = items.reduce((sum, item) => sum + weightOf(item), 0);
  const cumulative: number[] = [];
  let running = 0;
  for (const item of items) cumulative.push((running += weightOf(item) / total));
  return () => {
    const point = random();
    for (let i = 0; i < cumulative.length; i++) if (point < cumulative[i]!) return items[i]!;
    return items[items.length - 1]!;
  };
}

function fill(random: () => number, template: string): string {
  let out = '';
  for (const c of template) {
    if (c === 'x') out += String(Math.floor(random() * 10));
    else if (c === 'N') out += String(2 + Math.floor(random() * 8));
    else out += c;
  }
  return out;
}

/** libphonenumber accepts NANP exchanges people read as fake (555) or reserve for services (N11). */
function looksReal(digits: string): boolean {
  if (!digits.startsWith('1')) return true;
  const exchange = digits.slice(4, 7);
  return exchange !== '555' && !exchange.endsWith('11');
}

/** Valid (not merely possible) in libphonenumber's full metadata, and written the way it formats E.164. */
function valid(e164: string): boolean {
  const parsed = parsePhoneNumberFromString(e164);
  return parsed !== undefined && parsed.isValid() && parsed.number === e164;
}

/** Random digits for one of the templates until the number is valid, looks real and is not taken yet. */
function drawNumber(
  random: () => number,
  templates: readonly string[],
  taken: Set<string>,
  row: number,
): string {
  for (let attempt = 0; attempt <= 1000; attempt++) {
    const template =
      templates.length === 1 ? templates[0]! : templates[Math.floor(random() * templates.length)]!;
    const digits = fill(random, template);
    const e164 = '+' + digits;
    if (!taken.has(e164) && looksReal(digits) && valid(e164)) {
      taken.add(e164);
      return e164;
    }
  }
  throw new Error(`cannot draw a new valid number from ${templates.join(', ')} (row ${row})`);
}

/**
 * Yields `count` rows in file order. The planted vanity numbers are spread through the file; the rest draw
 * a range by weight, then random subscriber digits until the number is valid and unused.
 */
export function* generateRows(count: number, seed = 20261122): Generator<GeneratedRow> {
  const random = prng(seed);
  const range = weighted(random, RANGES, (r) => r.weight);
  const capabilities = weighted(random, CAPABILITIES, ([, w]) => w);
  const taken = new Set<string>();
  const planted = Math.min(PLANTED_VANITY, Math.floor(count / 100));
  const tollFree800 = RANGES.find((r) => r.template.startsWith('1800'))!;
  // Planted rows sit at evenly spaced positions so any prefix of the file holds its share of them.
  const plantEvery = planted > 0 ? Math.floor(count / planted) : Infinity;

  for (let i = 0; i < count; i++) {
    const plant = planted > 0 && i % plantEvery === 0 && i / plantEvery < planted;
    const r = plant ? tollFree800 : range();
    const e164 = drawNumber(random, plant ? VANITY_TEMPLATES : [r.template], taken, i);

    // Most rows leave prices blank (the pricing batch's price applies); some carry their own.
    const ownPrice = random() < 0.15;
    yield {
      number: e164,
      city: r.city,
      province: r.province,
      provider: r.provider,
      group: r.group,
      pricingBatch: r.batch,
      setupFee: ownPrice ? (random() < 0.5 ? '0.00' : '0.50') : '',
      recurringFee: ownPrice ? ['0.99', '1.25', '1.99', '2.49'][Math.floor(random() * 4)]! : '',
      capabilities: r.group === 'US Local' ? capabilities()[0] : 'voice',
      description: plant
        ? 'Vanity: spells VOIP on the keypad'
        : random() < 0.05
          ? NOTES[Math.floor(random() * NOTES.length)]!
          : '',
    };
  }
}

/** RFC 4180 quoting, only where needed. */
export function csvCell(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

export function rowToCsv(row: GeneratedRow): string {
  return [
    row.number,
    row.city,
    row.province,
    row.provider,
    row.group,
    row.pricingBatch,
    row.setupFee,
    row.recurringFee,
    row.capabilities,
    row.description,
  ]
    .map(csvCell)
    .join(',');
}

export interface GenerateSummary {
  readonly rows: number;
  readonly bytes: number;
  /** Numbers matching 1800%8647, counted the way the LIKE pattern +1800%8647% does. */
  readonly vanityMatches: number;
  readonly byCity: Readonly<Record<string, number>>;
  /** Numbers starting +1212. */
  readonly prefix1212: number;
}

/** Writes the CSV (header plus `count` rows) and counts what the benchmark queries will find. */
export async function writeInventoryCsv(
  file: string,
  count: number,
  seed?: number,
): Promise<GenerateSummary> {
  const out = createWriteStream(file, { mode: 0o644 });
  let bytes = 0;
  let vanityMatches = 0;
  let prefix1212 = 0;
  const byCity: Record<string, number> = {};
  let buffer: string[] = [CSV_HEADER.join(',')];
  const flushBuffer = async () => {
    const text = buffer.join('\n') + '\n';
    buffer = [];
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  for (const row of generateRows(count, seed)) {
    if (row.number.startsWith('+1800') && row.number.indexOf('8647', 5) !== -1) vanityMatches++;
    if (row.number.startsWith('+1212')) prefix1212++;
    if (row.city) byCity[row.city] = (byCity[row.city] ?? 0) + 1;
    buffer.push(rowToCsv(row));
    if (buffer.length >= 10_000) await flushBuffer();
  }
  await flushBuffer();
  out.end();
  await once(out, 'close');
  return { rows: count, bytes, vanityMatches, byCity, prefix1212 };
}

if (import.meta.main) {
  const [file, count = '1000000', seed] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node test/bench/generate.ts <out.csv> [count] [seed]');
    process.exit(2);
  }
  const started = performance.now();
  const summary = await writeInventoryCsv(file, Number(count), seed === undefined ? undefined : Number(seed));
  console.log(
    `${summary.rows} rows, ${(summary.bytes / 1e6).toFixed(1)} MB, ${summary.vanityMatches} match 1800%VOIP, ` +
      `${summary.prefix1212} start +1212, in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}
