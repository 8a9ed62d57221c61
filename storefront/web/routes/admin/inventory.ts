// The inventory page (GET /admin/inventory): every filter of the search in the query string (so a results
// page is a link staff can share), sortable columns, keyset pages, the match count, and for operators the
// bulk form and the inline description edit. Also the CSV export of any search, streamed.
import type { Request, Response } from 'express';
import { listCatalog } from '../../../../core/catalog/catalog.ts';
import { setDescription } from '../../../../core/inventory/edit-did.ts';
import { exportDidsCsv } from '../../../../core/inventory/export-csv.ts';
import { COUNT_CAP, inventoryPage } from '../../../../core/inventory/inventory-page.ts';
import { BULK_INLINE_LIMIT, BULK_OPERATION_KINDS } from '../../../../core/inventory/bulk-operations.ts';
import { formPage, setFormData } from '../../errors.ts';
import { bodyField, postForm } from '../../form.ts';
import {
  adminPage,
  atLeast,
  backTo,
  formFlags,
  noticeOf,
  staffCtx,
  type AdminDeps,
  type AdminRoute,
} from './admin-web.ts';
import {
  PAGE_SIZES,
  STATUS_CHOICES,
  TYPE_CHOICES,
  choices,
  filterValues,
  inventoryRow,
  inventoryUrl,
  listOptions,
  sortLinks,
  toDidFilter,
  type FilterValues,
} from './inventory-view.ts';

const OPERATION_LABELS: Readonly<Record<(typeof BULK_OPERATION_KINDS)[number], string>> = {
  assign: 'Assign to an account',
  pricing_batch: 'Move to a pricing batch',
  group: 'Set the DID group',
  release: 'Release to the pool',
  enable: 'Enable',
  disable: 'Disable',
};

/** The filter inputs an error can name (DomainError.field of resolveFilter's refusals). */
const FILTER_FIELDS = [
  'pattern',
  'country',
  'area',
  'type',
  'status',
  'group',
  'provider',
  'vendor_batch',
  'pricing_batch',
  'account',
  'min_fee',
  'max_fee',
  'currency',
];

const NOTICES: Readonly<Record<string, string>> = { described: 'The description was saved.' };

const MORE_FILTERS = [
  'country',
  'area',
  'city',
  'province',
  'type',
  'provider',
  'vendor_batch',
  'min_fee',
  'max_fee',
  'currency',
] as const;

export function inventoryRoutes({ web }: AdminDeps): AdminRoute[] {
  /** The dropdowns' choices: catalog rows are few (tens), read on each page view. */
  const formChoices = async (req: Request, res: Response, values: FilterValues) => {
    const catalog = await listCatalog(staffCtx(web, res));
    const named = (rows: readonly { id: number; name: string }[], current: string) =>
      rows.map((r) => ({
        value: r.name,
        label: r.name,
        selected: r.name.toLowerCase() === current.toLowerCase(),
      }));
    return {
      ...formFlags(res, 'inventory'),
      section: 'inventory',
      statuses: choices(STATUS_CHOICES, values.status),
      types: choices(TYPE_CHOICES, values.type),
      groups: named(catalog.groups, values.group),
      providers: named(catalog.providers, values.provider),
      vendorBatches: named(catalog.vendorBatches, values.vendor_batch),
      pricingBatches: named(catalog.pricingBatches, values.pricing_batch),
      noPricingBatch: values.pricing_batch.toLowerCase() === 'none',
      // For the bulk form's targets (no current value).
      targetGroups: named(catalog.groups, ''),
      targetBatches: named(catalog.pricingBatches, ''),
      operations: BULK_OPERATION_KINDS.map((value) => ({ value, label: OPERATION_LABELS[value] })),
      pageSizes: PAGE_SIZES.map((n) => ({
        value: n,
        selected: n === Number(req.query.limit ?? PAGE_SIZES[0]),
      })),
      inlineLimit: BULK_INLINE_LIMIT.toLocaleString('en-US'),
      // The less used filters fold away unless one of them is set.
      moreFilters: MORE_FILTERS.some((name) => values[name] !== ''),
    };
  };

  return [
    {
      method: 'get',
      path: '/',
      role: 'viewer',
      handlers: [(_req, res) => res.redirect(303, '/admin/inventory')],
    },
    {
      method: 'get',
      path: '/inventory',
      role: 'viewer',
      handlers: [
        // A refused filter shows this page again with the problem next to its field.
        formPage('admin/inventory', 'Inventory', FILTER_FIELDS),
        async (req, res) => {
          const values = filterValues(req.query);
          const options = listOptions(req.query);
          const page_ = await formChoices(req, res, values);
          setFormData(res, { ...page_, values, searchFailed: true });
          const result = await inventoryPage(staffCtx(web, res), toDidFilter(values), options);
          const searched = Object.values(values).some((v) => v !== '');
          adminPage(web, req, res, 'inventory', {
            ...page_,
            title: searched ? 'Inventory: search results' : 'Inventory',
            section: 'inventory',
            notice: noticeOf(req, NOTICES),
            values,
            rows: result.items.map(inventoryRow),
            empty: result.items.length === 0,
            count: {
              value: result.matches.count.toLocaleString('en-US'),
              exact: result.matches.exact,
              one: result.matches.exact && result.matches.count === 1,
              cap: COUNT_CAP.toLocaleString('en-US'),
            },
            sort: sortLinks(values, options),
            nextUrl: result.nextCursor
              ? inventoryUrl(values, { ...options, after: result.nextCursor })
              : null,
            firstUrl: options.after ? inventoryUrl(values, { ...options, after: undefined }) : null,
            exportUrl: inventoryUrl(values, {}, '/admin/inventory/export.csv'),
            here: inventoryUrl(values, options),
            hidden: Object.entries(values)
              .filter(([, v]) => v !== '')
              .map(([name, value]) => ({ name, value })),
            listSort: options.sort,
            listOrder: options.order,
            listLimit: options.limit,
          });
        },
      ],
    },
    {
      method: 'get',
      path: '/inventory/export.csv',
      role: 'viewer',
      handlers: [
        async (req, res) => {
          const filter = toDidFilter(filterValues(req.query));
          const stamp = new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '');
          res.status(200);
          res.set({
            'Content-Type': 'text/csv; charset=utf-8',
            'Content-Disposition': `attachment; filename="didops-numbers-${stamp}.csv"`,
            'Cache-Control': 'no-store',
          });
          // Rows go out page by page as they are read: a million-number export never sits in memory.
          await exportDidsCsv(staffCtx(web, res), filter, res);
          res.end();
        },
      ],
    },
    {
      method: 'post',
      path: '/inventory/:number/description',
      role: 'operator',
      handlers: [
        atLeast('operator'),
        ...postForm(web),
        async (req, res) => {
          const number = String(req.params.number);
          await setDescription(staffCtx(web, res), number, bodyField(req, 'description'));
          const back = backTo(bodyField(req, 'back'), '/admin/inventory');
          res.redirect(
            303,
            `${back}${back.includes('?') ? '&' : '?'}done=described#n${number.replace(/\D/g, '')}`,
          );
        },
      ],
    },
  ];
}
