// The storefront's catalog: numbers for sale (status available only) as buyers look for them, by country,
// area code, city, type and what the number contains (digits or vanity letters), each priced for the buyer
// who looks (an anonymous visitor sees the operator's price, a reseller's customer the reseller's). It runs
// the inventory search's one keyset-paginated statement plus at most two pricing queries per page, so a
// page costs the same on a million numbers and on page 1,000.
import { sql } from 'kysely';
import { getOperatorAccount } from '../accounts/accounts.ts';
import { pricesForBuyer, type BuyerPosition, type BuyerPrice } from '../billing/pricing.ts';
import { callCostTable, describeRating, ratingTermsOf, type CallCostRow } from '../billing/rating.ts';
import type { Executor } from '../context.ts';
import type { Capability, Did, NumberType } from '../db/schema.ts';
import { NUMBER_TYPES } from '../db/schema.ts';
import { formatNumber, tryParseNumber } from '../numbers/phone-number.ts';
import { parsePattern } from '../numbers/vanity.ts';
import { DomainError, invalid, notFound } from '../shared/errors.ts';
import { numberCondition, searchPage, type ResolvedFilter } from './search-dids.ts';

/** What a buyer filters by, as typed in the form. */
export interface SaleFilter {
  /** Digits or letters anywhere in the number (VOIP, 555); with % or a leading +, a full pattern (1800%FLOWERS). */
  readonly contains?: string;
  readonly country?: string;
  readonly areaCode?: string;
  /** Matched whatever its case: "new york" finds New York. */
  readonly city?: string;
  readonly numberType?: string;
}

export const SALE_PAGE_SIZE = 25;
const MAX_SALE_PAGE_SIZE = 100;

/** A number for sale as a buyer sees it: where it is, what it does, what it costs them. No vendor data. */
export interface NumberForSale {
  readonly id: number;
  /** E.164 */
  readonly number: string;
  readonly country: string;
  readonly areaCode: string;
  readonly city: string;
  readonly province: string;
  readonly numberType: NumberType;
  readonly capabilities: readonly Capability[];
  readonly description: string;
  readonly price: BuyerPrice;
}

export interface NumberForSaleDetails extends NumberForSale {
  /** "$0.0045/min, billed 60 s then 6 s; first 5 s free" */
  readonly ratingSummary: string;
  /** What calls of a few typical lengths cost. */
  readonly callCosts: readonly CallCostRow[];
}

export interface SalePage {
  readonly items: readonly NumberForSale[];
  /** Pass as `after` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

/** Countries and cities with numbers, for the search form's choices. */
export interface SalePlaces {
  readonly countries: readonly string[];
  readonly citiesByCountry: ReadonlyMap<string, readonly string[]>;
}

export interface SaleCatalog {
  places(): Promise<SalePlaces>;
  search(
    buyer: BuyerPosition | null,
    filter: SaleFilter,
    options?: { after?: string; limit?: number },
  ): Promise<SalePage>;
  /** One number for sale, by its number as typed; not_found when it is not for sale. */
  number(buyer: BuyerPosition | null, typed: string): Promise<NumberForSaleDetails>;
}

export interface SaleCatalogOptions {
  /** How long the list of places is reused; cities come and go with imports, rarely. */
  readonly placesTtlMs?: number;
  /** Milliseconds on a monotonic clock (tests pass their own). */
  readonly now?: () => number;
}

/** A catalog reading from `db`. Keep one per process: it remembers the list of places for a minute. */
export function saleCatalog(db: Executor, options: SaleCatalogOptions = {}): SaleCatalog {
  const ttl = options.placesTtlMs ?? 60_000;
  const now = options.now ?? (() => performance.now());
  let cached: { at: number; places: Promise<SalePlaces> } | undefined;

  const places = (): Promise<SalePlaces> => {
    if (!cached || now() - cached.at > ttl) {
      const loading = loadPlaces(db);
      cached = { at: now(), places: loading };
      loading.catch(() => {
        if (cached?.places === loading) cached = undefined;
      });
    }
    return cached.places;
  };

  // The operator account is created once and never replaced: read its id once, not on every page.
  let operatorId: Promise<number> | undefined;
  const operator = () => {
    operatorId ??= getOperatorAccount(db).then(
      (account) => account.id,
      (error: unknown) => {
        operatorId = undefined;
        throw error;
      },
    );
    return operatorId;
  };

  return {
    places,
    async search(buyer, filter, searchOptions = {}) {
      const limit = searchOptions.limit ?? SALE_PAGE_SIZE;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SALE_PAGE_SIZE) {
        throw invalid(`A page of ${limit} numbers is out of range.`, {
          help: `Use 1 to ${MAX_SALE_PAGE_SIZE}.`,
        });
      }
      const resolved = await resolveSaleFilter(filter, places);
      const page = await searchPage(db.selectFrom('dids').select(SALE_COLUMNS), resolved, {
        limit,
        after: searchOptions.after?.trim() || undefined,
      });
      const prices = await pricesForBuyer(db, await operator(), buyer, page.items);
      return {
        items: page.items.map((did) => forSale(did, prices.get(did.id)!)),
        nextCursor: page.nextCursor,
      };
    },
    async number(buyer, typed) {
      const parsed = tryParseNumber(typed);
      const did = parsed
        ? await db
            .selectFrom('dids')
            .selectAll()
            .where('number', '=', parsed.e164)
            .where('status', '=', 'available')
            .executeTakeFirst()
        : undefined;
      if (!did) {
        throw notFound(`${parsed ? formatNumber(parsed.e164) : 'That number'} is not for sale.`, {
          help: 'Search the catalog for another one.',
        });
      }
      const prices = await pricesForBuyer(db, await operator(), buyer, [did]);
      const terms = ratingTermsOf(did);
      return {
        ...forSale(did, prices.get(did.id)!),
        ratingSummary: describeRating(terms),
        callCosts: callCostTable(terms),
      };
    },
  };
}

/** The inventory search's filter for a buyer's form: available numbers only, nobody's scope. */
export async function resolveSaleFilter(
  filter: SaleFilter,
  places: () => Promise<SalePlaces>,
): Promise<ResolvedFilter> {
  const country = filter.country?.trim().toUpperCase() || undefined;
  if (country !== undefined && !/^[A-Z]{2}$/.test(country)) {
    throw invalid(`"${filter.country}" is not a country.`, {
      help: 'Pick one from the list.',
      field: 'country',
    });
  }
  const areaCode = filter.areaCode?.trim() || undefined;
  if (areaCode !== undefined && !/^\d{1,6}$/.test(areaCode)) {
    throw invalid(`"${areaCode}" is not an area code.`, {
      help: 'Use digits only, e.g. 212.',
      field: 'area',
    });
  }
  const type = filter.numberType?.trim().toLowerCase().replace(/[\s-]/g, '_') || undefined;
  if (type !== undefined && !(NUMBER_TYPES as readonly string[]).includes(type)) {
    throw invalid(`"${filter.numberType}" is not a kind of number.`, {
      help: 'Pick local or toll-free.',
      field: 'type',
    });
  }
  const typedCity = filter.city?.trim() || undefined;
  const place = typedCity === undefined ? undefined : findCity(await places(), country, typedCity);
  return {
    number: containsCondition(filter.contains),
    // A city known in one country only brings its country along, for the (country, city, number) index.
    country: country ?? place?.country,
    city: place?.city,
    areaCode,
    numberType: type as NumberType | undefined,
    statuses: ['available'],
  };
}

/**
 * Buyers type what they want "in" the number: plain digits or letters match anywhere. The console's full
 * pattern language (a leading digit anchors at the country code) applies once they use % or a leading +.
 */
function containsCondition(text: string | undefined) {
  const typed = text?.trim();
  if (!typed) return undefined;
  const full = typed.startsWith('+') || /[%_?*]/.test(typed);
  try {
    return numberCondition(parsePattern(full ? typed : `%${typed}`));
  } catch (error) {
    if (error instanceof DomainError) throw invalid(error.message, { help: error.help, field: 'contains' });
    throw error;
  }
}

/**
 * The stored spelling of a typed city (case and spacing aside), with its country when only one country has
 * a city of that name; the typed text alone when no city matches (the search then finds nothing).
 */
function findCity(
  places: SalePlaces,
  country: string | undefined,
  typed: string,
): { city: string; country?: string } {
  const key = typed.toLowerCase().replace(/\s+/g, ' ');
  const matches: { city: string; country: string }[] = [];
  for (const [code, cities] of places.citiesByCountry) {
    if (country !== undefined && code !== country) continue;
    const found = cities.find((c) => c.toLowerCase() === key);
    if (found !== undefined) matches.push({ city: found, country: code });
  }
  const [first] = matches;
  if (!first) return { city: typed };
  return matches.length === 1 ? first : { city: first.city };
}

/**
 * Distinct (country, city) pairs by a skip scan of the (country, city, number) index: one index probe per
 * pair instead of reading every number.
 */
async function loadPlaces(db: Executor): Promise<SalePlaces> {
  const { rows } = await sql<{ country: string; city: string }>`
    WITH RECURSIVE places AS (
      (SELECT country, city FROM dids ORDER BY country, city LIMIT 1)
      UNION ALL
      SELECT n.country, n.city
      FROM places p
      CROSS JOIN LATERAL (
        SELECT country, city FROM dids
        WHERE (country, city) > (p.country, p.city)
        ORDER BY country, city
        LIMIT 1
      ) n
    )
    SELECT country, city FROM places`.execute(db);
  const citiesByCountry = new Map<string, string[]>();
  for (const { country, city } of rows) {
    const list = citiesByCountry.get(country) ?? [];
    if (city !== '') list.push(city);
    citiesByCountry.set(country, list);
  }
  return { countries: [...citiesByCountry.keys()], citiesByCountry };
}

/**
 * What a page of the catalog reads of each number: what the buyer sees and what its price needs. Not the
 * names of its owner, vendor or batches, which the inventory's own pages look up for every row.
 */
const SALE_COLUMNS = [
  'id',
  'number',
  'country',
  'area_code',
  'city',
  'province',
  'number_type',
  'capabilities',
  'description',
  'pricing_batch_id',
  'setup_fee',
  'recurring_fee',
  'currency',
  'billing_type',
  'billing_period',
  'billing_days',
] as const satisfies readonly (keyof Did)[];

type SaleRow = Pick<Did, (typeof SALE_COLUMNS)[number]>;

function forSale(did: SaleRow, price: BuyerPrice): NumberForSale {
  return {
    id: did.id,
    number: did.number,
    country: did.country,
    areaCode: did.area_code,
    city: did.city,
    province: did.province,
    numberType: did.number_type,
    capabilities: did.capabilities,
    description: did.description,
    price,
  };
}
