// Bulk operations from the inventory page: POST /admin/bulk/preview turns the bulk form (operation, target,
// apply to selected / first N / all matching, and the search's filters) into a confirmation page that says
// exactly how many numbers will change; its button (POST /admin/bulk/:id/start) runs it: at once when it is
// small, else as a queued job. GET /admin/bulk/:id is the progress page (it reloads itself until the work is
// done) and then the result: changed, unchanged, skipped with reasons. Imports share the last two steps.
import type { Request } from 'express';
import {
  BULK_INLINE_LIMIT,
  getBulkOperation,
  listBulkOperations,
  markFailed,
  planBulkOperation,
  runBulkOperation,
  startBulkOperation,
  type BulkOperationKind,
  type BulkRequest,
} from '../../../../core/inventory/bulk-operations.ts';
import type { DidFilter } from '../../../../core/inventory/search-dids.ts';
import { tryParseNumber } from '../../../../core/numbers/phone-number.ts';
import { DomainError, invalid } from '../../../../core/shared/errors.ts';
import { setFormData } from '../../errors.ts';
import { bodyField, postForm } from '../../form.ts';
import {
  adminPage,
  atLeast,
  formFlags,
  idParam,
  staffCtx,
  type AdminDeps,
  type AdminRoute,
} from './admin-web.ts';
import { filterValues, inventoryUrl, toDidFilter } from './inventory-view.ts';

/** Seconds between reloads of a progress page. */
const REFRESH_SECONDS = 2;

export function bulkRoutes({ web }: AdminDeps): AdminRoute[] {
  return [
    {
      method: 'post',
      path: '/bulk/preview',
      role: 'operator',
      handlers: [
        atLeast('operator'),
        ...postForm(web, {
          view: 'admin/bulk-confirm',
          title: 'Check the bulk operation',
          // No inputs on that page: every refusal is shown above it, with the way back.
          fields: [],
        }),
        async (req, res) => {
          const values = filterValues(req.body as Record<string, unknown>);
          const backUrl = inventoryUrl(values, {});
          setFormData(res, { ...formFlags(res, 'inventory'), section: 'inventory', backUrl });
          const plan = await planBulkOperation(staffCtx(web, res), bulkRequest(req, toDidFilter(values)));
          adminPage(web, req, res, 'bulk-confirm', {
            title: `Confirm: ${plan.operation.title}`,
            section: 'inventory',
            backUrl,
            plan,
            op: plan.operation,
            willChange: plan.willChange.toLocaleString('en-US'),
            nothing: plan.willChange === 0,
            one: plan.willChange === 1,
            covered: plan.covered.toLocaleString('en-US'),
            others: (plan.covered - plan.willChange).toLocaleString('en-US'),
            hasOthers: plan.operation.params.selection?.mode === 'all' && plan.covered > plan.willChange,
            unchanged: plan.unchanged,
            skipped: plan.skipped,
            queued: plan.operation.total > BULK_INLINE_LIMIT,
          });
        },
      ],
    },
    {
      method: 'post',
      path: '/bulk/:id/start',
      role: 'operator',
      handlers: [
        atLeast('operator'),
        ...postForm(web),
        async (req, res) => {
          const id = idParam(req);
          const { operation, inline } = await startBulkOperation(staffCtx(web, res), id);
          if (operation.status === 'queued') await run(operation.id, inline);
          res.redirect(303, `/admin/bulk/${operation.id}`);
        },
      ],
    },
    {
      method: 'get',
      path: '/bulk',
      role: 'viewer',
      handlers: [
        async (req, res) => {
          const operations = await listBulkOperations(staffCtx(web, res));
          adminPage(web, req, res, 'bulk-list', {
            title: 'Bulk operations',
            section: 'bulk',
            operations,
            empty: operations.length === 0,
          });
        },
      ],
    },
    {
      method: 'get',
      path: '/bulk/:id',
      role: 'viewer',
      handlers: [
        async (req, res) => {
          const op = await getBulkOperation(staffCtx(web, res), idParam(req));
          // The page reloads itself (an HTTP header: no script, no meta tag) until the work is done.
          if (!op.finished) res.set('Refresh', String(REFRESH_SECONDS));
          adminPage(web, req, res, 'bulk-show', {
            title: `${op.title}: ${op.finished ? (op.status === 'done' ? 'done' : 'failed') : 'in progress'}`,
            section: op.kind === 'import' ? 'import' : 'bulk',
            op,
            isImport: op.kind === 'import',
            running: !op.finished,
            failed: op.status === 'failed',
            counts: {
              total: op.total.toLocaleString('en-US'),
              processed: op.processed.toLocaleString('en-US'),
              changed: op.changed.toLocaleString('en-US'),
              unchanged: op.unchanged.toLocaleString('en-US'),
              skipped: op.skipped.toLocaleString('en-US'),
            },
            // Entries without a number are notes about the whole operation (first N: fewer could change).
            notes: op.details.filter((d) => d.number === ''),
            skippedRows: op.details.filter((d) => d.number !== ''),
            moreDetails:
              op.skipped > op.details.length
                ? (op.skipped - op.details.length).toLocaleString('en-US')
                : null,
            reloadSeconds: REFRESH_SECONDS,
          });
        },
      ],
    },
  ];

  /**
   * Small operations run now, while the person waits; big ones go to the queue. Without a queue in this
   * process (tests, a web role started alone by mistake) everything runs now.
   */
  async function run(id: number, inline: boolean): Promise<void> {
    const enqueue = web.jobs?.enqueue;
    if (inline || !enqueue) {
      try {
        await runBulkOperation({ db: web.db, clock: web.clock, settings: web.settings }, id);
      } catch (error) {
        // The operation is marked failed with the reason: its page says so.
        if (!(error instanceof DomainError)) throw error;
      }
      return;
    }
    try {
      await enqueue('bulk-operation', { bulkOperationId: id }, { key: `bulk-operation-${id}` });
    } catch (error) {
      web.log.error({ err: error, bulkOperationId: id }, 'Could not queue a bulk operation');
      await markFailed(
        web.db,
        id,
        'The job queue did not answer, so nothing was changed. Try again in a minute.',
      );
    }
  }
}

/**
 * The bulk form as a core request: operation, target, and what to apply it to. The target inputs have
 * names of their own (assign_to, not account): the form also carries the search's filters.
 */
function bulkRequest(req: Request, filter: DidFilter): BulkRequest {
  const kind = bodyField(req, 'operation') as BulkOperationKind;
  const target =
    kind === 'assign'
      ? bodyField(req, 'assign_to')
      : kind === 'pricing_batch'
        ? bodyField(req, 'pricing_batch_target')
        : kind === 'group'
          ? bodyField(req, 'group_target')
          : undefined;
  const apply = bodyField(req, 'apply');
  if (apply === 'all') return { kind, target, selection: { mode: 'all', filter } };
  if (apply === 'first') {
    const text = bodyField(req, 'count').trim();
    if (!/^\d{1,7}$/.test(text)) {
      throw invalid('Give N, the number of numbers to change, as a whole number.', { field: 'count' });
    }
    return { kind, target, selection: { mode: 'first', count: Number(text), filter } };
  }
  if (apply !== 'selected') {
    throw invalid('Choose what to apply it to: the selected numbers, the first N, or all matching.', {
      field: 'apply',
    });
  }
  // Each checked row posts "<E.164>@<version>": the version it had on the page.
  const raw = (req.body as Record<string, unknown>).did;
  const items = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter(
    (v): v is string => typeof v === 'string',
  );
  const numbers: string[] = [];
  const versions: Record<string, number> = {};
  for (const item of items) {
    const [number = '', version] = item.split('@');
    numbers.push(number);
    const e164 = tryParseNumber(number)?.e164;
    if (e164 && version && /^\d+$/.test(version)) versions[e164] = Number(version);
  }
  return { kind, target, selection: { mode: 'selected', numbers, versions } };
}
