// The catalog: GET /numbers searches the numbers for sale (every filter and the page cursor live in the
// query string, so a results page is a link people can share), GET /numbers/:number shows one with what
// calls cost. Prices are the visitor's own: the operator's for anonymous visitors, a reseller's for its
// customers. Selected numbers go to /checkout (a POST form with one `did` per number).
import { Router, type Response } from 'express';
import type { BuyerPosition } from '../../../core/billing/pricing.ts';
import { formatNumber } from '../../../core/numbers/phone-number.ts';
import type { SaleFilter, SalePlaces } from '../../../core/inventory/numbers-for-sale.ts';
import type { Web } from '../deps.ts';
import { formPage, setFormData } from '../errors.ts';
import { queryField } from '../form.ts';
import { currentSession } from '../state.ts';

/** The query-string names of the search form's fields, in the order links are written. */
const FILTER_PARAMS = ['contains', 'country', 'area', 'city', 'type'] as const;

const NUMBER_TYPE_CHOICES = [
  { value: 'local', label: 'Local' },
  { value: 'toll_free', label: 'Toll-free' },
  { value: 'mobile', label: 'Mobile' },
  { value: 'national', label: 'National' },
];

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

/** Why a visitor was sent back here (checkout with nothing ticked). */
const NOTICES: Readonly<Record<string, string>> = {
  'none-selected': 'No numbers were selected: tick the numbers you want, then press "Buy selected".',
};

export function catalogRoutes(web: Web): Router {
  const router = Router();

  router.get(
    '/numbers',
    formPage('numbers/search', 'Find a phone number', FILTER_PARAMS),
    async (req, res) => {
      const values = Object.fromEntries(FILTER_PARAMS.map((name) => [name, queryField(req, name).trim()]));
      const choices = formChoices(await web.catalog.places(), values);
      setFormData(res, choices);
      const filter: SaleFilter = {
        contains: values.contains,
        country: values.country,
        areaCode: values.area,
        city: values.city,
        numberType: values.type,
      };
      const after = queryField(req, 'after') || undefined;
      const page = await web.catalog.search(buyerOf(res), filter, { after });
      const searched = FILTER_PARAMS.some((name) => values[name] !== '');
      web.pages.render(req, res, 'numbers/search', {
        title: searched ? 'Numbers for sale: search results' : 'Find a phone number',
        ...choices,
        values,
        numbers: page.items.map((n) => ({
          ...n,
          path: numberPath(n.number),
          countryName: country(n.country),
        })),
        nextUrl: page.nextCursor ? searchUrl(values, page.nextCursor) : null,
        firstUrl: after ? searchUrl(values) : null,
        showResults: true,
        empty: page.items.length === 0,
        notice: NOTICES[queryField(req, 'notice')],
      });
    },
  );

  router.get('/numbers/:number', async (req, res) => {
    const number = await web.catalog.number(buyerOf(res), String(req.params.number));
    web.pages.render(req, res, 'numbers/show', {
      title: `${formatNumber(number.number)}, ${number.city || country(number.country)}`,
      number: { ...number, countryName: country(number.country) },
    });
  });

  return router;
}

/** Who is buying: the signed-in user's account, or null for a visitor (who sees the operator's price). */
function buyerOf(res: Response): BuyerPosition | null {
  const session = currentSession(res);
  return session ? { id: session.account.id, path: session.account.path } : null;
}

/** /numbers/18665550100: digits only, so the link needs no escaping. */
export function numberPath(e164: string): string {
  return `/numbers/${e164.replace(/^\+/, '')}`;
}

function searchUrl(values: Readonly<Record<string, string>>, after?: string): string {
  const query = new URLSearchParams();
  for (const name of FILTER_PARAMS) if (values[name]) query.set(name, values[name]);
  if (after) query.set('after', after);
  const text = query.toString();
  return text ? `/numbers?${text}` : '/numbers';
}

function formChoices(places: SalePlaces, values: Readonly<Record<string, string>>) {
  const selectedCountry = values.country?.toUpperCase() ?? '';
  const cities = selectedCountry
    ? (places.citiesByCountry.get(selectedCountry) ?? [])
    : [...new Set([...places.citiesByCountry.values()].flat())].sort();
  return {
    countries: places.countries
      .map((code) => ({ code, name: country(code), selected: code === selectedCountry }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    cities,
    types: NUMBER_TYPE_CHOICES.map((t) => ({ ...t, selected: t.value === values.type })),
  };
}

function country(code: string): string {
  try {
    return regionNames.of(code) ?? code;
  } catch {
    return code;
  }
}
