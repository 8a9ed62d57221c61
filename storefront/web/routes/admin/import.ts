// Importing numbers: GET /admin/import is the form (a carrier's CSV, or numbers and ranges pasted as text
// with the catalog names to give them); POST /admin/import/preview validates every row without writing and
// shows the result (rows to add, rows already in the inventory, bad rows with their line and reason); its
// button starts the import through the bulk operations' start step (inline when small, else a job).
import type { Request, Response } from 'express';
import { listCatalog } from '../../../../core/catalog/catalog.ts';
import { BULK_INLINE_LIMIT } from '../../../../core/inventory/bulk-operations.ts';
import { MAX_IMPORT_BYTES, csvFromPastedNumbers, planImport } from '../../../../core/inventory/import-job.ts';
import { invalid } from '../../../../core/shared/errors.ts';
import { formPage, setFormData } from '../../errors.ts';
import { bodyField } from '../../form.ts';
import { adminPage, atLeast, formFlags, staffCtx, type AdminDeps, type AdminRoute } from './admin-web.ts';
import { multipartForm, uploadOf } from './multipart.ts';

const FIELDS = ['file', 'numbers', 'provider', 'vendor_batch', 'group', 'pricing_batch'];

export function importRoutes({ web }: AdminDeps): AdminRoute[] {
  const choices = async (res: Response) => {
    const catalog = await listCatalog(staffCtx(web, res));
    const names = (rows: readonly { name: string }[]) => rows.map((r) => r.name);
    return {
      ...formFlags(res, 'import'),
      providers: names(catalog.providers),
      vendorBatches: names(catalog.vendorBatches),
      groups: names(catalog.groups),
      pricingBatches: names(catalog.pricingBatches),
      maxMegabytes: MAX_IMPORT_BYTES / 1024 / 1024,
    };
  };

  const form = async (req: Request, res: Response) => {
    adminPage(web, req, res, 'import', {
      ...(await choices(res)),
      title: 'Import numbers',
      section: 'import',
    });
  };

  return [
    { method: 'get', path: '/import', role: 'operator', handlers: [atLeast('operator'), form] },
    {
      method: 'post',
      path: '/import/preview',
      role: 'operator',
      handlers: [
        atLeast('operator'),
        // The file is the body: a little over the import's own limit, which core reports in words.
        ...multipartForm(MAX_IMPORT_BYTES + 1024 * 1024),
        web.csrf.verify,
        formPage('admin/import', 'Import numbers', FIELDS),
        async (req, res) => {
          setFormData(res, await choices(res));
          const ctx = staffCtx(web, res);
          const file = uploadOf(res, 'file');
          const pasted = bodyField(req, 'numbers');
          let planned;
          if (file && file.data.length > 0) {
            planned = await planImport(ctx, {
              csv: file.data.toString('utf8'),
              filename: file.filename || 'upload.csv',
            });
          } else if (pasted.trim() !== '') {
            const { csv, problems } = csvFromPastedNumbers(pasted, {
              provider: bodyField(req, 'provider'),
              vendorBatch: bodyField(req, 'vendor_batch'),
              group: bodyField(req, 'group'),
              pricingBatch: bodyField(req, 'pricing_batch'),
            });
            planned = await planImport(ctx, { csv, filename: 'pasted numbers', problems });
          } else {
            throw invalid('Choose a CSV file, or paste numbers.', { field: 'file' });
          }
          const { operation, preview } = planned;
          adminPage(web, req, res, 'import-preview', {
            title: `Check the import: ${operation.title}`,
            section: 'import',
            op: operation,
            preview,
            counts: {
              rows: preview.rows.toLocaleString('en-US'),
              toImport: preview.toImport.toLocaleString('en-US'),
              existing: preview.existing.toLocaleString('en-US'),
              errors: preview.errors.toLocaleString('en-US'),
            },
            nothing: preview.toImport === 0,
            moreProblems:
              preview.errors > preview.problems.length
                ? (preview.errors - preview.problems.length).toLocaleString('en-US')
                : null,
            queued: operation.total > BULK_INLINE_LIMIT,
          });
        },
      ],
    },
  ];
}
