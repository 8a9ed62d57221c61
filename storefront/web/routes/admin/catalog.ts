// Catalog data (seed 001): providers and their vendor batches (activation and recurring cost), DID groups,
// pricing batches (setup and recurring fee, billing type and period). GET /admin/catalog lists them with
// what uses each; admins create, edit and delete, and a delete of something in use is refused with how
// many numbers (or other rows) use it.
import type { Request, Response } from 'express';
import {
  catalogOverview,
  createGroup,
  createPricingBatch,
  createProvider,
  createVendorBatch,
  deleteGroup,
  deletePricingBatch,
  deleteProvider,
  deleteVendorBatch,
  updateGroup,
  updatePricingBatch,
  updateProvider,
  updateVendorBatch,
} from '../../../../core/catalog/catalog.ts';
import { BILLING_PERIODS, BILLING_TYPES } from '../../../../core/db/schema.ts';
import { minorToDecimal } from '../../../../core/shared/money.ts';
import { notFound } from '../../../../core/shared/errors.ts';
import { setFormData } from '../../errors.ts';
import { bodyField, postForm } from '../../form.ts';
import {
  adminPage,
  atLeast,
  formFlags,
  idParam,
  noticeOf,
  staffCtx,
  type AdminDeps,
  type AdminRoute,
} from './admin-web.ts';

export const CATALOG_KINDS = ['providers', 'vendor-batches', 'groups', 'pricing-batches'] as const;
type Kind = (typeof CATALOG_KINDS)[number];

const ONE: Readonly<Record<Kind, string>> = {
  providers: 'provider',
  'vendor-batches': 'vendor batch',
  groups: 'DID group',
  'pricing-batches': 'pricing batch',
};

const NOTICES: Readonly<Record<string, string>> = Object.fromEntries(
  CATALOG_KINDS.flatMap((kind) => [
    [`${kind}-created`, `The ${ONE[kind]} was created.`],
    [`${kind}-saved`, `The ${ONE[kind]} was saved.`],
    [`${kind}-deleted`, `The ${ONE[kind]} was deleted.`],
  ]),
);

const FIELDS = [
  'name',
  'description',
  'provider',
  'activation_cost',
  'recurring_cost',
  'currency',
  'setup_fee',
  'recurring_fee',
  'billing_type',
  'billing_period',
  'billing_days',
  'owner',
];

function kindOf(req: Request): Kind {
  const kind = String(req.params.kind);
  if (!(CATALOG_KINDS as readonly string[]).includes(kind)) throw notFound('There is no such catalog list.');
  return kind as Kind;
}

export function catalogRoutes({ web }: AdminDeps): AdminRoute[] {
  const overview = async (res: Response) => {
    const data = await catalogOverview(staffCtx(web, res));
    const money = (amount: number, currency: string) => minorToDecimal(amount, currency);
    return {
      providers: data.providers,
      vendorBatches: data.vendorBatches.map((b) => ({
        ...b,
        activation: money(b.activation_cost, b.currency),
        recurring: money(b.recurring_cost, b.currency),
      })),
      groups: data.groups,
      pricingBatches: data.pricingBatches.map((b) => ({
        ...b,
        setup: money(b.setup_fee, b.currency),
        recurring: money(b.recurring_fee, b.currency),
        period:
          b.billing_type === 'one_time'
            ? 'one-time'
            : b.billing_period === 'days'
              ? `every ${b.billing_days} days`
              : b.billing_period,
      })),
      billingTypes: BILLING_TYPES,
      billingPeriods: BILLING_PERIODS,
    };
  };

  const listPage = async (req: Request, res: Response) => ({
    ...formFlags(res, 'catalog'),
    ...(await overview(res)),
    notice: noticeOf(req, NOTICES),
  });

  /** The edit page of one row: its current values as the form's values. */
  const editData = async (res: Response, kind: Kind, id: number) => {
    const data = await overview(res);
    const list =
      kind === 'providers'
        ? data.providers
        : kind === 'vendor-batches'
          ? data.vendorBatches
          : kind === 'groups'
            ? data.groups
            : data.pricingBatches;
    const row = (list as readonly ({ id: number; name: string } & Record<string, unknown>)[]).find(
      (r) => r.id === id,
    );
    if (!row)
      throw notFound(`There is no such ${ONE[kind]}.`, { help: 'It may have been deleted meanwhile.' });
    return {
      ...formFlags(res, 'catalog'),
      kind,
      one: ONE[kind],
      row,
      ...flagsFor(kind),
      billingTypes: BILLING_TYPES,
      billingPeriods: BILLING_PERIODS,
    };
  };

  const currentValues = (kind: Kind, row: Record<string, unknown>): Record<string, string> => {
    const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
    switch (kind) {
      case 'providers':
      case 'groups':
        return { name: text(row.name), description: text(row.description) };
      case 'vendor-batches':
        return {
          name: text(row.name),
          activation_cost: text(row.activation),
          recurring_cost: text(row.recurring),
        };
      case 'pricing-batches':
        return {
          name: text(row.name),
          setup_fee: text(row.setup),
          recurring_fee: text(row.recurring),
          currency: text(row.currency),
          billing_type: text(row.billing_type),
          billing_period: text(row.billing_period),
          billing_days: text(row.billing_days),
        };
    }
  };

  const field = (req: Request, name: string) => bodyField(req, name);
  const days = (req: Request) => {
    const text = field(req, 'billing_days').trim();
    return text === '' ? undefined : Number(text);
  };

  return [
    {
      method: 'get',
      path: '/catalog',
      role: 'viewer',
      handlers: [
        async (req, res) => {
          adminPage(web, req, res, 'catalog', {
            ...(await listPage(req, res)),
            title: 'Catalog',
            section: 'catalog',
          });
        },
      ],
    },
    {
      method: 'get',
      path: '/catalog/:kind/:id',
      role: 'admin',
      handlers: [
        atLeast('admin'),
        async (req, res) => {
          const kind = kindOf(req);
          const data = await editData(res, kind, idParam(req));
          adminPage(web, req, res, 'catalog-edit', {
            ...data,
            title: `Edit the ${data.one} "${data.row.name}"`,
            section: 'catalog',
            values: currentValues(kind, data.row),
          });
        },
      ],
    },
    {
      method: 'post',
      path: '/catalog/:kind',
      role: 'admin',
      handlers: [
        atLeast('admin'),
        ...postForm(web, { view: 'admin/catalog', title: 'Catalog', fields: FIELDS }),
        async (req, res) => {
          const kind = kindOf(req);
          setFormData(res, { ...(await listPage(req, res)), [`create_${kind.replace('-', '_')}`]: true });
          const ctx = staffCtx(web, res);
          switch (kind) {
            case 'providers':
              await createProvider(ctx, { name: field(req, 'name'), description: field(req, 'description') });
              break;
            case 'groups':
              await createGroup(ctx, { name: field(req, 'name'), description: field(req, 'description') });
              break;
            case 'vendor-batches':
              await createVendorBatch(ctx, {
                provider: field(req, 'provider'),
                name: field(req, 'name'),
                activationCost: field(req, 'activation_cost') || '0',
                recurringCost: field(req, 'recurring_cost') || '0',
                currency: field(req, 'currency') || undefined,
              });
              break;
            case 'pricing-batches':
              await createPricingBatch(ctx, {
                name: field(req, 'name'),
                owner: field(req, 'owner') || undefined,
                setupFee: field(req, 'setup_fee') || '0',
                recurringFee: field(req, 'recurring_fee') || '0',
                currency: field(req, 'currency') || undefined,
                billingType: field(req, 'billing_type') || undefined,
                billingPeriod: field(req, 'billing_period') || undefined,
                billingDays: days(req),
              });
              break;
          }
          res.redirect(303, `/admin/catalog?done=${kind}-created`);
        },
      ],
    },
    {
      method: 'post',
      path: '/catalog/:kind/:id',
      role: 'admin',
      handlers: [
        atLeast('admin'),
        ...postForm(web, { view: 'admin/catalog-edit', title: 'Edit', fields: FIELDS }),
        async (req, res) => {
          const kind = kindOf(req);
          const id = idParam(req);
          setFormData(res, await editData(res, kind, id));
          const ctx = staffCtx(web, res);
          switch (kind) {
            case 'providers':
              await updateProvider(ctx, id, {
                name: field(req, 'name'),
                description: field(req, 'description'),
              });
              break;
            case 'groups':
              await updateGroup(ctx, id, {
                name: field(req, 'name'),
                description: field(req, 'description'),
              });
              break;
            case 'vendor-batches':
              await updateVendorBatch(ctx, id, {
                name: field(req, 'name'),
                activationCost: field(req, 'activation_cost'),
                recurringCost: field(req, 'recurring_cost'),
              });
              break;
            case 'pricing-batches':
              await updatePricingBatch(ctx, id, {
                name: field(req, 'name'),
                setupFee: field(req, 'setup_fee'),
                recurringFee: field(req, 'recurring_fee'),
                currency: field(req, 'currency') || undefined,
                billingType: field(req, 'billing_type') || undefined,
                billingPeriod: field(req, 'billing_period') || undefined,
                billingDays: days(req),
              });
              break;
          }
          res.redirect(303, `/admin/catalog?done=${kind}-saved`);
        },
      ],
    },
    {
      method: 'post',
      path: '/catalog/:kind/:id/delete',
      role: 'admin',
      handlers: [
        atLeast('admin'),
        ...postForm(web, { view: 'admin/catalog-edit', title: 'Delete', fields: [] }),
        async (req, res) => {
          const kind = kindOf(req);
          const id = idParam(req);
          const data = await editData(res, kind, id);
          // A refusal (in use) shows the edit page again with the reason and the counts above the form.
          setFormData(res, { ...data, title: `Edit the ${data.one}`, values: currentValues(kind, data.row) });
          const ctx = staffCtx(web, res);
          if (kind === 'providers') await deleteProvider(ctx, id);
          else if (kind === 'groups') await deleteGroup(ctx, id);
          else if (kind === 'vendor-batches') await deleteVendorBatch(ctx, id);
          else await deletePricingBatch(ctx, id);
          res.redirect(303, `/admin/catalog?done=${kind}-deleted`);
        },
      ],
    },
  ];
}

function flagsFor(kind: Kind) {
  return {
    isProvider: kind === 'providers',
    isVendorBatch: kind === 'vendor-batches',
    isGroup: kind === 'groups',
    isPricingBatch: kind === 'pricing-batches',
  };
}
