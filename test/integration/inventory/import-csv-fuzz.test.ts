// Property-based tests of the CSV import (core/inventory/import-csv.ts) against the real database.
// Whatever a file holds, the importer answers with its report or a DomainError, never a TypeError or a
// database error. Each bad row comes back with the line it starts on and the column at fault, and the
// inventory changes exactly as the report says: rows are judged one by one, good rows go in with one audit
// event each, bad rows stay out, numbers already in the inventory are left as they are; a file that turns
// out not to be text is refused from that row on, keeping the chunks committed before it.
import { PassThrough, Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Did } from '../../../core/db/schema.ts';
import { DID_FIELDS, type DidField } from '../../../core/inventory/did-fields.ts';
import { exportDidsCsv } from '../../../core/inventory/export-csv.ts';
import {
  importDidsCsv,
  type ImportOptions,
  type ImportProgress,
  type ImportReport,
} from '../../../core/inventory/import-csv.ts';
import { DomainError } from '../../../core/shared/errors.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import {
  actorOf,
  buildDid,
  buildGroup,
  buildOperator,
  buildPricingBatch,
  buildProvider,
  buildVendorBatch,
  ctxFor,
} from '../../helpers/factories.ts';

const t = useTestDatabase();

// --- the world every file is imported into ------------------------------------------------------------

async function setup() {
  const operator = await buildOperator(t.db);
  const staff = ctxFor(t.db, actorOf(operator, 'operator'));
  const provider = await buildProvider(t.db, { name: 'NorthStar' });
  const vendorBatch = await buildVendorBatch(t.db, {
    provider_id: provider.id,
    name: 'Bulk 2026',
    activation_cost: 50,
    recurring_cost: 40,
  });
  const group = await buildGroup(t.db, { name: 'US Local' });
  const batch = await buildPricingBatch(t.db, {
    owner_account_id: operator.id,
    name: 'Standard',
    setup_fee: 100,
    recurring_fee: 150,
  });
  return {
    staff,
    catalog: { provider: provider.id, vendorBatch: vendorBatch.id, group: group.id, batch: batch.id },
  };
}
type Catalog = Awaited<ReturnType<typeof setup>>['catalog'];

/**
 * Each generated file starts from an empty inventory; the catalog stays. The audit log is append-only, so
 * a run reads only the events after the mark this returns.
 */
async function emptyInventory(): Promise<number> {
  await t.db.deleteFrom('dids').execute();
  const last = await t.db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirst();
  return Number(last?.id ?? 0);
}

const inventory = () => t.db.selectFrom('dids').selectAll().orderBy('number').execute();
const auditEvents = (after: number) =>
  t.db
    .selectFrom('audit_events')
    .select(['action', 'subject'])
    .where('id', '>', after)
    .orderBy('id')
    .execute();

type Outcome = { readonly report: ImportReport } | { readonly error: DomainError };

/** The importer's answer; anything but its report or a DomainError fails the property as it is. */
async function attempt(
  staff: Awaited<ReturnType<typeof setup>>['staff'],
  input: string | Buffer,
  how: { chunks?: readonly number[]; options?: ImportOptions } = {},
): Promise<Outcome> {
  const source = how.chunks ? Readable.from(split(Buffer.from(input), how.chunks)) : input.toString();
  try {
    return { report: await importDidsCsv(staff, source, how.options) };
  } catch (error) {
    if (error instanceof DomainError) return { error };
    throw error;
  }
}

/** Cuts bytes at arbitrary offsets (inside a UTF-8 character, between \r and \n): how a stream delivers them. */
function split(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const cut of [...at, bytes.length]) {
    if (cut > from) parts.push(bytes.subarray(from, cut));
    from = cut;
  }
  return parts;
}

const LINE_BREAK = /\r\n|\r|\n/g;
const linesIn = (text: string) => (text.match(LINE_BREAK)?.length ?? 0) + 1;

// --- cells: what a carrier's file may hold in each column, and what the inventory must then hold -------

interface Cell {
  readonly text: string;
  /** Whether the importer must accept this cell (whatever else the row holds). */
  readonly ok: boolean;
  /** What the imported row holds because of this cell. */
  readonly expect: Partial<Did>;
}
const good = (text: string, expect: Partial<Did> = {}): Cell => ({ text, ok: true, expect });
const bad = (text: string): Cell => ({ text, ok: false, expect: {} });

/** Mostly good cells, sometimes bad ones (never when `validOnly`). */
function column(goods: fc.Arbitrary<Cell>, bads: readonly string[], validOnly: boolean): fc.Arbitrary<Cell> {
  if (validOnly) return goods;
  return fc.oneof(
    { weight: 6, arbitrary: goods },
    { weight: 1, arbitrary: fc.constantFrom(...bads).map(bad) },
  );
}

/** 12345 units with 2 decimals as "123.45"; `short` drops trailing zeros ("1.5", "2"). */
function decimal(units: number, exponent: number, short: boolean): string {
  const whole = Math.floor(units / 10 ** exponent);
  let fraction = String(units % 10 ** exponent).padStart(exponent, '0');
  if (short) fraction = fraction.replace(/0+$/, '');
  return fraction === '' ? String(whole) : `${whole}.${fraction}`;
}

const MONEY_BAD = [
  '-1',
  '$-1',
  '-0',
  '- 1',
  '1.505',
  '1,50',
  'abc',
  '1e3',
  '=1+1',
  '١٫٥٠',
  '１.５０',
  '90071992547409.92',
  '99999999999999999999',
  'NaN',
  'Infinity',
  '0x10',
  '.5',
  '+1',
  '1.2.3',
];

function money(
  field: 'activation_cost' | 'recurring_cost' | 'setup_fee' | 'recurring_fee',
  validOnly: boolean,
) {
  return column(
    fc.oneof(
      fc.constant(good('')),
      fc
        .tuple(fc.integer({ min: 0, max: 10 ** 12 }), fc.constantFrom('', '', '$', '€', '£'), fc.boolean())
        .map(([cents, sign, short]) => good(sign + decimal(cents, 2, short), { [field]: cents })),
      fc.constant(good('90071992547409.91', { [field]: Number.MAX_SAFE_INTEGER })),
      fc.constant(good(' 007.50 ', { [field]: 750 })),
    ),
    MONEY_BAD,
    validOnly,
  );
}

function rate(field: 'connection_cost_micros' | 'per_minute_rate_micros', validOnly: boolean) {
  return column(
    fc.oneof(
      fc.constant(good('', { [field]: 0 })),
      fc
        .tuple(fc.integer({ min: 0, max: 10 ** 9 }), fc.boolean())
        .map(([micros, short]) => good(decimal(micros, 6, short), { [field]: micros })),
    ),
    ['0.0000001', '-0.01', 'x', '1,5', '٠٫٠١'],
    validOnly,
  );
}

function whole(key: keyof Did, min: number, max: number, fallback: number | undefined, validOnly: boolean) {
  return column(
    fc.oneof(
      fc.constant(good('', fallback === undefined ? {} : { [key]: fallback })),
      fc
        .tuple(fc.integer({ min, max }), fc.constantFrom('', '0', '00'))
        .map(([n, zeros]) => good(zeros + String(n), { [key]: n })),
    ),
    [
      String(min - 1),
      String(max + 1),
      '1.5',
      '-1',
      '١',
      '1e2',
      '99999999999999999999999',
      'ten',
      '0x1',
      '+1',
    ],
    validOnly,
  );
}

/** Text people put in a cell: printable anything, and cells built to trip up parsers and spreadsheets. */
const TRICKY_TEXT = [
  "=cmd|' /C calc'!A0",
  '@SUM(A1:A2)',
  '+1+1',
  '-2+3',
  "'quoted'",
  'say "hi"',
  'a,b',
  'two\nlines',
  'crlf\r\ninside',
  'cr\ronly',
  '\n\nleading breaks',
  ' padded ',
  '\u00a0nbsp\u00a0',
  'São Paulo',
  '東京',
  'مدينة',
  '١٢٣',
  '🙂👍🏽',
  'x\u2028y',
  '\ufeffbom',
  '""',
  '"',
  ',',
  '\\N',
  'NULL',
  '<script>alert(1)</script>',
  "Robert'); DROP TABLE dids;--",
];
/** Text a file cannot hold (UTF-16 or binary): it makes the importer refuse the file from that row on. */
const NUL_TEXT = ['nul\0inside', '\0'];

function anyText(validOnly: boolean): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 30, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
    { weight: 30, arbitrary: fc.constantFrom(...TRICKY_TEXT) },
    { weight: 10, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 95, maxLength: 520 }) },
    { weight: validOnly ? 0 : 1, arbitrary: fc.constantFrom(...NUL_TEXT) },
  );
}

function text(key: 'city' | 'province' | 'description' | 'area_code', max: number, validOnly: boolean) {
  return anyText(validOnly)
    .map((s): Cell => {
      const value = s.trim();
      if (value.length > max) return bad(s);
      // A blank area code takes the number's own.
      return good(s, key === 'area_code' && value === '' ? {} : { [key]: value });
    })
    .filter((cell) => cell.ok || !validOnly);
}

function cellsFor(
  catalog: Catalog,
  validOnly: boolean,
): Record<Exclude<DidField, 'number' | 'country'>, fc.Arbitrary<Cell>> {
  const one = (goods: readonly Cell[], bads: readonly string[]) =>
    column(fc.constantFrom(...goods), bads, validOnly);
  return {
    area_code: text('area_code', 100, validOnly),
    number_type: one(
      [
        good(''),
        good('local', { number_type: 'local' }),
        good('Toll-Free', { number_type: 'toll_free' }),
        good('toll free', { number_type: 'toll_free' }),
        good('MOBILE', { number_type: 'mobile' }),
        good('national', { number_type: 'national' }),
        good('other', { number_type: 'other' }),
      ],
      ['landline', 'x', 'toll--free'],
    ),
    city: text('city', 100, validOnly),
    province: text('province', 100, validOnly),
    provider: one(
      [
        good(''),
        good('NorthStar', { provider_id: catalog.provider }),
        good(' northstar ', { provider_id: catalog.provider }),
        good(String(catalog.provider), { provider_id: catalog.provider }),
      ],
      ['Nobody Telecom', '999999', 'North Star'],
    ),
    vendor_batch: one(
      [
        good(''),
        good('Bulk 2026', { vendor_batch_id: catalog.vendorBatch, provider_id: catalog.provider }),
        good('BULK 2026', { vendor_batch_id: catalog.vendorBatch, provider_id: catalog.provider }),
        good(String(catalog.vendorBatch), {
          vendor_batch_id: catalog.vendorBatch,
          provider_id: catalog.provider,
        }),
      ],
      ['Nope', '424242'],
    ),
    group: one(
      [
        good(''),
        good('US Local', { group_id: catalog.group }),
        good('us local', { group_id: catalog.group }),
        good(String(catalog.group), { group_id: catalog.group }),
      ],
      ['Nope Group', '31337'],
    ),
    pricing_batch: one(
      [
        good(''),
        good('Standard', { pricing_batch_id: catalog.batch }),
        good('STANDARD', { pricing_batch_id: catalog.batch }),
        good(String(catalog.batch), { pricing_batch_id: catalog.batch }),
        good('none', { pricing_batch_id: null }),
        good('None', { pricing_batch_id: null }),
      ],
      ['Premium', '77777'],
    ),
    activation_cost: money('activation_cost', validOnly),
    recurring_cost: money('recurring_cost', validOnly),
    setup_fee: money('setup_fee', validOnly),
    recurring_fee: money('recurring_fee', validOnly),
    currency: one(
      [good(''), good('USD', { currency: 'USD' }), good(' usd ', { currency: 'USD' })],
      ['QQQ', 'dollars', 'US', '$', 'usd1'],
    ),
    billing_type: one(
      [
        good(''),
        good('recurring', { billing_type: 'recurring' }),
        good('one_time', { billing_type: 'one_time' }),
        good('One-Time', { billing_type: 'one_time' }),
      ],
      ['monthly', 'free', 'x'],
    ),
    billing_period: one(
      [
        good(''),
        good('monthly', { billing_period: 'monthly' }),
        good('Yearly', { billing_period: 'yearly' }),
        good('days', { billing_period: 'days' }),
      ],
      ['weekly', 'daily', 'x'],
    ),
    billing_days: whole('billing_days', 1, 3660, undefined, validOnly),
    connection_cost: rate('connection_cost_micros', validOnly),
    per_minute_rate: rate('per_minute_rate_micros', validOnly),
    grace_seconds: whole('grace_seconds', 0, 3600, 0, validOnly),
    initial_increment: whole('initial_increment', 1, 3600, 1, validOnly),
    increment: whole('increment', 1, 3600, 1, validOnly),
    call_timeout: whole('call_timeout_seconds', 1, 600, 30, validOnly),
    max_concurrent_calls: whole('max_concurrent_calls', 0, 100_000, 0, validOnly),
    capabilities: one(
      [
        good('', { capabilities: ['voice'] }),
        good('voice', { capabilities: ['voice'] }),
        good('voice;sms', { capabilities: ['voice', 'sms'] }),
        good('SMS, fax', { capabilities: ['sms', 'fax'] }),
        good('voice|mms', { capabilities: ['voice', 'mms'] }),
        good('fax+voice+fax', { capabilities: ['fax', 'voice'] }),
      ],
      ['video', 'voice;telepathy', 'sms;;x'],
    ),
    description: text('description', 500, validOnly),
    status: one(
      [
        good('', { status: 'available' }),
        good('available', { status: 'available' }),
        good('Disabled', { status: 'disabled' }),
        good(' AVAILABLE ', { status: 'available' }),
      ],
      ['assigned', 'sold', 'aging', 'reserved'],
    ),
    destination: one(
      [
        good('', { destination_type: null, destination: null }),
        good('sip:100@pbx.example.com', { destination_type: 'sip', destination: 'sip:100@pbx.example.com' }),
        good('SIP:200@10.0.0.1:5060', { destination_type: 'sip', destination: 'sip:200@10.0.0.1:5060' }),
        good('sips:ops@[2001:db8::1]', { destination_type: 'sip', destination: 'sips:ops@[2001:db8::1]' }),
        good('+44 20 7946 0000', { destination_type: 'pstn', destination: '+442079460000' }),
        good('ext:1001', { destination_type: 'extension', destination: 'ext:1001' }),
        good('1001', { destination_type: 'extension', destination: 'ext:1001' }),
      ],
      [
        'sip:',
        'sip:${x}@host',
        'hello',
        `sip:${'a'.repeat(300)}@pbx.example.com`,
        'ext:1',
        '+1 999',
        'sip:100@pbx.example.com:70000',
      ],
    ),
  };
}

// --- numbers ---------------------------------------------------------------------------------------------

interface PoolNumber {
  readonly e164: string;
  readonly country: 'US' | 'GB';
  readonly areaCode: string;
  readonly formats: readonly string[];
}
/** A few numbers, so files repeat them and the inventory already holds some; each as people type it. */
const POOL: readonly PoolNumber[] = [
  ...[0, 1, 2, 3, 4, 5].map((i): PoolNumber => {
    const d = `010${i}`;
    return {
      e164: `+1212555${d}`,
      country: 'US',
      areaCode: '212',
      formats: [`+1 212 555 ${d}`, `1212555${d}`, `+1 (212) 555-${d}`, `001 212 555 ${d}`, `+1.212.555.${d}`],
    };
  }),
  ...[0, 1, 2].map((i): PoolNumber => {
    const d = `010${i}`;
    return {
      e164: `+44207946${d}`,
      country: 'GB',
      areaCode: '20',
      formats: [`+44 20 7946 ${d}`, `44207946${d}`, `0044 20 7946 ${d}`, `+44 (20) 7946-${d}`],
    };
  }),
];

/** Not numbers the inventory can hold, though some look close. */
const BAD_NUMBERS = [
  'not-a-number',
  '',
  '12',
  '+1 212 555 014',
  '+800 1234 5678',
  '+1 212 555 0142 ext 5',
  '＋１ ２１２ ５５５ ０１４２',
  '١٢١٢٥٥٥٠١٤٢',
  '=HYPERLINK("http://evil.example")',
  '+49 301234567890123',
  '+49 30123456789012',
  '+43 8888',
  '1'.repeat(40),
];

const COUNTRY_KINDS = ['blank', 'same', 'lower', 'padded', 'other', 'bogus'] as const;

// --- headers ---------------------------------------------------------------------------------------------

const ALIASES: Partial<Record<DidField, readonly string[]>> = {
  number: ['DID', 'Phone Number', 'e164'],
  province: ['State', 'Region'],
  provider: ['Carrier', 'Vendor'],
  group: ['DID Group'],
  pricing_batch: ['Batch'],
  setup_fee: ['Setup'],
  recurring_fee: ['Monthly', 'Price'],
  per_minute_rate: ['Cost per minute', 'Rate'],
  description: ['Notes', 'Comment'],
  max_concurrent_calls: ['Max Channels'],
  call_timeout: ['Ring Timeout'],
  grace_seconds: ['Grace'],
  number_type: ['Type'],
  area_code: ['Area'],
  activation_cost: ['Buy Cost'],
  connection_cost: ['Connection Fee'],
};
const spellings = (field: DidField) => [
  field,
  field.toUpperCase(),
  field.replace(/_/g, ' '),
  field.replace(/_/g, '-'),
  ...(ALIASES[field] ?? []),
];
/** Columns the importer does not know; the first five describe a number's use (exported, never imported). */
const READ_ONLY = ['owner', 'Customer', 'assigned_at', 'freed_at', 'aging_until'];
const UNKNOWN = [
  'colour',
  'Constructor',
  'toString',
  '__proto__',
  'hasOwnProperty',
  'Notes 2',
  'x y',
  '=cmd',
  '',
];

interface Column {
  readonly header: string;
  readonly field: DidField | null;
}

const columnsArb: fc.Arbitrary<Column[]> = fc
  .tuple(
    fc.shuffledSubarray(
      DID_FIELDS.filter((f) => f !== 'number'),
      { maxLength: 12 },
    ),
    fc.subarray([...READ_ONLY, ...UNKNOWN], { maxLength: 3 }),
    fc.nat(),
    fc.array(fc.nat(), { minLength: 32, maxLength: 32 }),
  )
  .map(([fields, unknown, at, picks]) => {
    const known: Column[] = fields.map((field, i) => {
      const names = spellings(field);
      return { header: names[(picks[i] ?? 0) % names.length]!, field };
    });
    const numberNames = spellings('number');
    known.splice(at % (known.length + 1), 0, {
      header: numberNames[(picks[31] ?? 0) % numberNames.length]!,
      field: 'number',
    });
    const all = [...known];
    for (const [i, header] of unknown.entries())
      all.splice((picks[20 + i] ?? 0) % (all.length + 1), 0, { header, field: null });
    // One column only would make a row with a blank number an empty line, which CSV readers skip.
    if (all.length < 2) all.push({ header: 'colour', field: null });
    return all;
  });

// --- rows and files --------------------------------------------------------------------------------------

interface RowSpec {
  /** The cells in column order, then any cells past the header's columns. */
  readonly cells: readonly string[];
  readonly quote: readonly boolean[];
  /** Set when every cell is good: the number the row imports. */
  readonly e164: string | undefined;
  /** The columns whose cell is bad: the error must name one of them. */
  readonly badFields: readonly DidField[];
  readonly expect: Partial<Did>;
  /** The line ending after the row, and blank lines after it. */
  readonly ending: string;
  /** Whether a cell holds a NUL character. */
  readonly nul: boolean;
}

const ENDING = fc.constantFrom('\n', '\r\n', '\r');

function rowArb(columns: readonly Column[], catalog: Catalog, validOnly: boolean): fc.Arbitrary<RowSpec> {
  const cellArbs = cellsFor(catalog, validOnly);
  const others = columns.map((c) =>
    c.field === null || c.field === 'number' || c.field === 'country'
      ? fc.constant(good(''))
      : cellArbs[c.field],
  );
  const unknownCell = anyText(validOnly);
  return fc
    .record({
      pooled: validOnly ? fc.constant(true) : fc.nat({ max: 5 }).map((n) => n !== 0),
      entry: fc.constantFrom(...POOL),
      format: fc.nat(),
      badNumber: fc.constantFrom(...BAD_NUMBERS),
      countryKind: validOnly
        ? fc.constantFrom('blank', 'same', 'lower', 'padded')
        : fc.constantFrom(...COUNTRY_KINDS),
      cells: fc.tuple(...others),
      unknown: fc.array(unknownCell, { minLength: columns.length, maxLength: columns.length }),
      extra: fc.array(unknownCell, { maxLength: 2 }),
      quote: fc.array(
        fc.nat({ max: 3 }).map((n) => n === 0),
        { minLength: columns.length + 2, maxLength: columns.length + 2 },
      ),
      ending: fc
        .tuple(ENDING, fc.array(ENDING, { maxLength: 2 }))
        .map(([end, blanks]) => end + blanks.join('')),
    })
    .map((r): RowSpec => {
      const country = {
        blank: '',
        same: r.entry.country,
        lower: r.entry.country.toLowerCase(),
        padded: ` ${r.entry.country} `,
        other: r.entry.country === 'US' ? 'GB' : 'US',
        bogus: 'ZZ',
      }[r.countryKind];
      const countryOk = !r.pooled || ['blank', 'same', 'lower', 'padded'].includes(r.countryKind);
      const texts: string[] = [];
      const badFields: DidField[] = [];
      let expect: Partial<Did> = { country: r.entry.country, area_code: r.entry.areaCode };
      columns.forEach((c, i) => {
        if (c.field === null) {
          texts.push(r.unknown[i] ?? '');
        } else if (c.field === 'number') {
          if (r.pooled) {
            texts.push(r.entry.formats[r.format % r.entry.formats.length]!);
            expect = { ...expect, number: r.entry.e164 };
          } else {
            texts.push(r.badNumber);
            badFields.push('number');
          }
        } else if (c.field === 'country') {
          texts.push(country);
          if (!countryOk) badFields.push('country');
        } else {
          const cell = r.cells[i]!;
          texts.push(cell.text);
          if (cell.ok) expect = { ...expect, ...cell.expect };
          else badFields.push(c.field);
        }
      });
      return {
        cells: [...texts, ...r.extra],
        quote: r.quote,
        e164: badFields.length === 0 ? r.entry.e164 : undefined,
        badFields,
        expect,
        ending: r.ending,
        nul: [...texts, ...r.extra].some((cell) => cell.includes('\0')),
      };
    });
}

/** A cell as CSV: quoted when it must be, and sometimes when it need not. */
function csvCell(text: string, quote: boolean): string {
  return quote || /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

interface FileSpec {
  readonly columns: readonly Column[];
  readonly rows: readonly RowSpec[];
  readonly bom: boolean;
  readonly headerEnding: string;
  /** The last row without a line ending, as editors often leave it. */
  readonly lastEndingDropped: boolean;
}

function fileArb(catalog: Catalog, validOnly: boolean, maxRows = 12): fc.Arbitrary<FileSpec> {
  return columnsArb.chain((columns) =>
    fc.record({
      columns: fc.constant(columns),
      rows: fc.array(rowArb(columns, catalog, validOnly), { maxLength: maxRows }),
      bom: fc.boolean(),
      headerEnding: ENDING,
      lastEndingDropped: fc.boolean(),
    }),
  );
}

/** The file's text, and the line each row starts on (the header is line 1). */
function render(file: FileSpec): { text: string; lines: number[] } {
  let text = file.bom ? '\ufeff' : '';
  text += file.columns.map((c) => csvCell(c.header, false)).join(',') + file.headerEnding;
  const lines: number[] = [];
  file.rows.forEach((row, i) => {
    lines.push(linesIn(text.replace(/^\ufeff/, '')));
    const last = i === file.rows.length - 1;
    text += row.cells.map((cell, j) => csvCell(cell, row.quote[j] ?? false)).join(',');
    text += last && file.lastEndingDropped ? '' : row.ending;
  });
  return { text, lines };
}

interface Expectation {
  /** The line of the first row with a NUL character: the importer refuses the file there. */
  readonly refusedAt: number | undefined;
  /** Data rows counted: all but those of blank cells only (a spreadsheet's empty row, saved as commas). */
  readonly rows: number;
  readonly imported: readonly RowSpec[];
  readonly existing: number;
  /** Per bad row: its line, the columns it may be refused for, and the line it repeats (duplicates). */
  readonly errors: readonly { line: number; fields: readonly DidField[]; repeats?: number }[];
  readonly ignoredColumns: readonly string[];
}

/**
 * What the importer's documented semantics make of a file, given the numbers already in the inventory and
 * the rows per transaction: each row on its own, each full chunk of good rows committed as it fills.
 */
function expected(
  file: FileSpec,
  lines: readonly number[],
  before: ReadonlySet<string>,
  chunkSize: number,
): Expectation {
  const seen = new Map<string, number>();
  const good: RowSpec[] = [];
  const errors: { line: number; fields: readonly DidField[]; repeats?: number }[] = [];
  let refusedAt: number | undefined;
  let rows = 0;
  for (const [i, row] of file.rows.entries()) {
    const line = lines[i]!;
    if (row.nul) {
      refusedAt = line;
      // The rows read since the last full chunk are lost with the file; the chunks before stay.
      good.length -= good.length % chunkSize;
      break;
    }
    if (row.cells.every((cell) => cell.trim() === '')) continue;
    rows++;
    if (row.e164 === undefined) {
      errors.push({ line, fields: row.badFields });
      continue;
    }
    const first = seen.get(row.e164);
    if (first !== undefined) {
      errors.push({ line, fields: ['number'], repeats: first });
      continue;
    }
    seen.set(row.e164, line);
    good.push(row);
  }
  const imported = good.filter((row) => !before.has(row.e164!));
  const existing = good.length - imported.length;
  const readOnly = new Set(READ_ONLY.map((h) => h.toLowerCase()));
  const ignoredColumns = file.columns
    .filter((c) => c.field === null && !readOnly.has(c.header.trim().toLowerCase()))
    .map((c) => c.header.trim());
  return { refusedAt, rows, imported, existing, errors, ignoredColumns };
}

const comparable = (rows: readonly Did[]) =>
  rows.map(({ id: _id, created_at: _c, updated_at: _u, ...rest }) => rest);

// --- properties ------------------------------------------------------------------------------------------

// A run takes a few seconds; a failing one shrinks its counterexample, which takes longer.
const PROPERTY = { timeout: 180_000 };

describe('CSV import, fuzzed', () => {
  it(
    'answers any input with its report or a DomainError, and changes the inventory as reported',
    PROPERTY,
    async () => {
      const { staff } = await setup();
      const token = fc.oneof(
        fc.constantFrom(
          '"',
          '""',
          ',',
          '\r',
          '\n',
          '\r\n',
          '\0',
          '\ufeff',
          ' ',
          '\t',
          'number',
          'DID',
          'city',
          'setup_fee',
          'destination',
          'constructor',
          '+12125550100',
          '12125550101',
          '+44 20 7946 0100',
          '+49301234567890123',
          '١٢١٢٥٥٥٠١٠٠',
          '-1',
          '1.505',
          '99999999999999999999',
          "=cmd|' /C calc'!A0",
          'x'.repeat(600),
          'y'.repeat(20_000),
          `sip:${'a'.repeat(300)}@pbx.example.com`,
        ),
        fc.string({ unit: 'binary', maxLength: 6 }),
      );
      const cell = fc.array(token, { maxLength: 3 }).map((parts) => parts.join(''));
      // Rows mostly start with a number the importer accepts, so the nasty cells after it reach the database.
      const firstCell = fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...POOL.flatMap((p) => p.formats), ...BAD_NUMBERS) },
        { weight: 1, arbitrary: cell },
      );
      const cells = fc
        .tuple(firstCell, fc.array(cell, { maxLength: 5 }))
        .map(([first, rest]) => [first, ...rest]);
      const csvLike = fc
        .tuple(
          fc.constantFrom('', '\ufeff'),
          fc.constantFrom(
            'number,city,setup_fee,destination',
            'DID,constructor,Notes',
            'number,description',
            'number',
            '',
          ),
          fc.array(fc.tuple(cells, ENDING, fc.boolean()), { maxLength: 8 }),
        )
        .map(([bom, header, rows]) => {
          const body = rows
            .map(([row, end, quoted]) => row.map((c) => (quoted ? csvCell(c, false) : c)).join(',') + end)
            .join('');
          return bom + header + (header ? '\n' : '') + body;
        });
      const input = fc.oneof(
        csvLike,
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
      );

      await fc.assert(
        fc.asyncProperty(input, fc.option(fc.array(fc.nat(), { maxLength: 4 })), async (data, chunks) => {
          const mark = await emptyInventory();
          await buildDid(t.db, { number: '+12125550100' });
          const before = await inventory();
          const outcome = await attempt(staff, data, chunks ? { chunks } : {});
          if ('error' in outcome) {
            expect(outcome.error.code).toBe('invalid');
            expect(outcome.error.message).toMatch(
              /^The (CSV has no number column\.|CSV is empty\.|file is not valid CSV: .*line \d+|file is not a text CSV: line \d+ contains a NUL character\.)/s,
            );
            expect(await inventory()).toEqual(before);
            expect(await auditEvents(mark)).toEqual([]);
            return;
          }
          const { report } = outcome;
          const lines = linesIn(data.toString());
          expect(report.imported + report.existing + report.errors).toBe(report.rows);
          expect(report.rowErrors).toHaveLength(report.errors);
          for (const error of report.rowErrors) {
            expect(error.line).toBeGreaterThanOrEqual(2);
            expect(error.line).toBeLessThanOrEqual(lines);
            expect(DID_FIELDS).toContain(error.field);
            expect(error.message).not.toBe('');
          }
          const after = await inventory();
          expect(after).toHaveLength(before.length + report.imported);
          expect(after.filter((d) => d.number === '+12125550100')).toEqual(before);
          const audit = await auditEvents(mark);
          expect(audit).toHaveLength(report.imported);
          expect(audit.map((a) => a.subject).sort()).toEqual(
            after.map((d) => d.number).filter((n) => n !== '+12125550100'),
          );
        }),
        { numRuns: 300 },
      );
    },
  );

  it(
    'imports exactly the good rows of a file, reporting each bad one by its line and column',
    PROPERTY,
    async () => {
      const { staff, catalog } = await setup();
      const cuts = fc.option(fc.array(fc.nat(), { maxLength: 6 }));
      const chunkSize = fc.constantFrom(undefined, 1, 2, 5);
      const preexisting = fc.subarray(POOL.map((p) => p.e164));

      await fc.assert(
        fc.asyncProperty(
          fileArb(catalog, false),
          preexisting,
          cuts,
          chunkSize,
          async (file, inStock, chunks, size) => {
            const mark = await emptyInventory();
            for (const number of inStock) await buildDid(t.db, { number });
            const before = await inventory();
            const { text, lines } = render(file);
            const want = expected(file, lines, new Set(inStock), size ?? 5_000);

            const progress: ImportProgress[] = [];
            const outcome = await attempt(staff, text, {
              ...(chunks ? { chunks } : {}),
              options: { ...(size ? { chunkSize: size } : {}), onProgress: (p) => progress.push(p) },
            });
            if (want.refusedAt !== undefined) {
              expect('error' in outcome && outcome.error.message).toBe(
                `The file is not a text CSV: line ${want.refusedAt} contains a NUL character.`,
              );
            } else {
              if ('error' in outcome) throw outcome.error;
              const { report } = outcome;
              expect(report.ignoredColumns).toEqual(want.ignoredColumns);
              expect(report).toMatchObject({
                rows: want.rows,
                imported: want.imported.length,
                existing: want.existing,
                errors: want.errors.length,
              });
              expect(report.rowErrors.map((e) => e.line)).toEqual(want.errors.map((e) => e.line));
              report.rowErrors.forEach((error, i) => {
                const { fields, repeats } = want.errors[i]!;
                expect(fields, error.message).toContain(error.field);
                if (repeats !== undefined)
                  expect(error.message).toMatch(new RegExp(`from line ${repeats}\\.`));
              });
              expect(progress.at(-1)).toEqual({
                rows: report.rows,
                imported: report.imported,
                existing: report.existing,
                errors: report.errors,
              });
            }

            const after = await inventory();
            expect(after.filter((d) => inStock.includes(d.number))).toEqual(before);
            const added = after.filter((d) => !inStock.includes(d.number));
            expect(added.map((d) => d.number)).toEqual(want.imported.map((r) => r.e164).sort());
            for (const row of want.imported) {
              expect(added.find((d) => d.number === row.e164)).toMatchObject(row.expect);
            }
            const audit = await auditEvents(mark);
            expect(audit.every((a) => a.action === 'did.import')).toBe(true);
            expect(audit.map((a) => a.subject).sort()).toEqual(added.map((d) => d.number));
          },
        ),
        { numRuns: 250 },
      );
    },
  );

  it('imports its own export into an empty inventory as the same rows', PROPERTY, async () => {
    const { staff, catalog } = await setup();
    await fc.assert(
      fc.asyncProperty(fileArb(catalog, true, 6), async (file) => {
        await emptyInventory();
        const first = await attempt(staff, render(file).text);
        if ('error' in first) throw first.error;
        const original = await inventory();

        const out = new PassThrough();
        const chunks: Buffer[] = [];
        out.on('data', (c: Buffer) => chunks.push(c));
        expect(await exportDidsCsv(staff, {}, out)).toBe(original.length);

        await emptyInventory();
        const again = await attempt(staff, Buffer.concat(chunks).toString('utf8'));
        if ('error' in again) throw again.error;
        expect(again.report).toMatchObject({ imported: original.length, errors: 0, ignoredColumns: [] });
        expect(comparable(await inventory())).toEqual(comparable(original));
      }),
      { numRuns: 40 },
    );
  });
});

describe('CSV import, cases fuzzing found', () => {
  it('refuses a quote inside an unquoted cell as invalid CSV naming the line, not with a parser error', async () => {
    const { staff } = await setup();
    const outcome = await attempt(staff, 'number,city\n+12125550100,New York\n+12125550101,Say "hi"\n');
    expect('error' in outcome && outcome.error.message).toMatch(
      /^The file is not valid CSV: Invalid Opening Quote: .* at line 3/,
    );
    expect(await inventory()).toEqual([]);
  });

  it('reads UTF-16 by its byte order mark, and refuses NUL characters instead of failing in the database', async () => {
    const { staff } = await setup();
    const utf16 = (text: string) => Buffer.from(text, 'utf16le');
    const marked = await attempt(staff, utf16('\ufeffnumber,city\r\n+12125550100,New York\r\n'), {
      chunks: [],
    });
    expect('report' in marked && marked.report).toMatchObject({ imported: 1, errors: 0 });
    const unmarked = await attempt(staff, utf16('number,city\r\n+12125550101,Boston\r\n'), { chunks: [] });
    expect('error' in unmarked && unmarked.error.message).toBe(
      'The file is not a text CSV: line 1 contains a NUL character.',
    );
    const nulInCell = await attempt(staff, 'number,city\n+12125550102,New\0York\n');
    expect('error' in nulInCell && nulInCell.error.fullMessage).toBe(
      'The file is not a text CSV: line 2 contains a NUL character. If it was saved as UTF-16 ("Unicode text"), save it again as "CSV UTF-8".',
    );
    expect((await inventory()).map((d) => [d.number, d.city])).toEqual([['+12125550100', 'New York']]);
  });

  it('reads rows whatever their line endings, and names lines as an editor numbers them', async () => {
    const { staff } = await setup();
    // Windows rows, then Unix rows pasted below them, a CRLF inside a quoted cell, an old Mac ending.
    const csv =
      'number,description\r\n+12125550100,"first\r\nnote"\r\n+12125550101,a\nbad,b\n+12125550102,c\rworse,d';
    const outcome = await attempt(staff, csv);
    if ('error' in outcome) throw outcome.error;
    expect(outcome.report).toMatchObject({ rows: 5, imported: 3, errors: 2 });
    expect(outcome.report.rowErrors.map((e) => e.line)).toEqual([5, 7]);
    expect((await inventory()).map((d) => [d.number, d.description])).toEqual([
      ['+12125550100', 'first\r\nnote'],
      ['+12125550101', 'a'],
      ['+12125550102', 'c'],
    ]);
  });

  it('refuses numbers E.164 cannot hold, an oversized area code and SIP destination, per row', async () => {
    const { staff } = await setup();
    const csv = [
      'number,area_code,destination',
      '+49 301234567890123,,',
      '+43 8888,,',
      `+12125550100,${'9'.repeat(101)},`,
      `+12125550101,,sip:${'a'.repeat(300)}@pbx.example.com`,
      '+12125550102,,',
    ].join('\n');
    const outcome = await attempt(staff, csv);
    if ('error' in outcome) throw outcome.error;
    // Each message goes on with how to write the value; what matters is its start.
    expect(outcome.report.rowErrors.map((e) => [e.line, e.field, e.message.split('. ')[0]])).toEqual([
      [2, 'number', '+49 301234567890123 has 17 digits; a number has 7 to 15 with its country code'],
      [3, 'number', '+43 8888 has 6 digits; a number has 7 to 15 with its country code'],
      [4, 'area_code', 'area_code is longer than 100 characters.'],
      [5, 'destination', 'That SIP URI has 320 characters; at most 255 fit'],
    ]);
    expect((await inventory()).map((d) => d.number)).toEqual(['+12125550102']);
  });

  it('names a column headed like a property every object has as unknown', async () => {
    const { staff } = await setup();
    const outcome = await attempt(staff, 'number,constructor,toString\n+12125550100,x,y\n');
    if ('error' in outcome) throw outcome.error;
    expect(outcome.report).toMatchObject({ imported: 1, ignoredColumns: ['constructor', 'toString'] });
  });
});
