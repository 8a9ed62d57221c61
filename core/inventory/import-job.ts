// Imports from the back office: a CSV upload or pasted numbers and ranges are first previewed (every row
// validated, numbers already in the inventory found, nothing written) and kept as a draft; once confirmed,
// the import runs in batches as a bulk operation (bulk-operations.ts), inline or as a queued job. Each
// batch inserts its rows and records the progress (the last line done) in one transaction, so a job that
// runs again skips what is committed and never counts a row twice.
import { sql } from 'kysely';
import { isOperatorStaff } from '../accounts/actor.ts';
import { requirePermission } from '../accounts/permissions.ts';
import { inTransaction, type Ctx } from '../context.ts';
import type { NewDid } from '../db/schema.ts';
import { parsePastedNumbers } from '../numbers/number-ranges.ts';
import { forbidden, invalid } from '../shared/errors.ts';
import {
  MAX_DETAILS,
  lockRunning,
  pruneDrafts,
  saveProgress,
  viewOf,
  type BulkDetail,
  type BulkOperationView,
  type BulkParams,
} from './bulk-store.ts';
import { loadCatalogIndex } from './catalog-index.ts';
import { readDidCsv, insertDids, type CsvItem } from './import-csv.ts';

/** One batch of a bulk operation; true when the operation is finished. */
export type Step = (id: number) => Promise<boolean>;

/** The largest file the back office takes (about 200,000 rows of a carrier's usual width). */
export const MAX_IMPORT_BYTES = 20 * 1024 * 1024;
/** Valid rows shown on the preview page. */
const SAMPLE_ROWS = 20;

export interface ImportPreview {
  /** Data rows in the file. */
  readonly rows: number;
  /** Valid rows whose number is new: what the import will add. */
  readonly toImport: number;
  /** Valid rows whose number is in the inventory already: left as they are. */
  readonly existing: number;
  readonly errors: number;
  /** Bad rows (and, for pasted text, unreadable lines) with their line and reason; the first thousand. */
  readonly problems: readonly BulkDetail[];
  readonly sample: readonly NewDid[];
  readonly ignoredColumns: readonly string[];
}

function requireImportRights(ctx: Ctx): void {
  requirePermission(ctx.actor, 'inventory.write');
  if (!isOperatorStaff(ctx.actor)) {
    throw forbidden('Only the operator adds numbers to the inventory.');
  }
}

/**
 * Validates a CSV without writing anything and keeps it as an import draft for its author: the preview
 * page shows what the draft would do, its button starts it (startBulkOperation). `problems` are reported
 * before the file's own (the unreadable lines of pasted text).
 */
export async function planImport(
  ctx: Ctx,
  input: { csv: string; filename: string; problems?: readonly BulkDetail[] },
): Promise<{ operation: BulkOperationView; preview: ImportPreview }> {
  requireImportRights(ctx);
  if (ctx.actor.userId === null) throw invalid('Imports are started by a signed-in user.');
  if (Buffer.byteLength(input.csv) > MAX_IMPORT_BYTES) {
    throw invalid(`The file is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MB.`, {
      help: 'Split it into smaller files.',
      field: 'file',
    });
  }
  const earlier = input.problems ?? [];
  const preview = await previewCsv(ctx, input.csv, earlier);
  await pruneDrafts(ctx.db, ctx.clock.now());
  const row = await ctx.db
    .insertInto('bulk_operations')
    .values({
      kind: 'import',
      user_id: ctx.actor.userId,
      params: JSON.stringify({ filename: input.filename } satisfies BulkParams),
      input: input.csv,
      total: preview.rows,
      // Lines of pasted text that were not numbers count as skipped from the start.
      skipped: earlier.length,
      details: JSON.stringify(earlier.slice(0, MAX_DETAILS)),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { operation: await viewOf(ctx.db, row), preview };
}

async function previewCsv(ctx: Ctx, csv: string, earlier: readonly BulkDetail[]): Promise<ImportPreview> {
  const catalog = await loadCatalogIndex(ctx.db, ctx.actor);
  let rows = 0;
  let errors = 0;
  let toImport = 0;
  let existing = 0;
  let ignoredColumns: readonly string[] = [];
  const problems: BulkDetail[] = [...earlier.slice(0, MAX_DETAILS)];
  const sample: NewDid[] = [];
  let pending: NewDid[] = [];
  const checkExisting = async () => {
    if (pending.length === 0) return;
    const numbers = pending.map((r) => r.number);
    const found = await ctx.db
      .selectFrom('dids')
      .select('number')
      .where(sql<boolean>`number = any(${numbers}::text[])`)
      .execute();
    existing += found.length;
    toImport += pending.length - found.length;
    const taken = new Set(found.map((f) => f.number));
    for (const row of pending) if (!taken.has(row.number) && sample.length < SAMPLE_ROWS) sample.push(row);
    pending = [];
  };
  for await (const item of readDidCsv(csv, catalog)) {
    if (item.type === 'header') {
      ignoredColumns = item.ignoredColumns;
      continue;
    }
    rows++;
    if (item.type === 'error') {
      errors++;
      if (problems.length < MAX_DETAILS) problems.push(detailOf(item));
      continue;
    }
    pending.push(item.row);
    if (pending.length >= 5_000) await checkExisting();
  }
  await checkExisting();
  return { rows, toImport, existing, errors: errors + earlier.length, problems, sample, ignoredColumns };
}

function detailOf(item: Extract<CsvItem, { type: 'error' }>): BulkDetail {
  return { line: item.line, number: item.error.number, reason: item.error.message };
}

/** Catalog names applied to every pasted number (blank: none). */
export interface PastedDefaults {
  readonly provider?: string;
  readonly vendorBatch?: string;
  readonly group?: string;
  readonly pricingBatch?: string;
}

/**
 * Pasted numbers and ranges as the CSV an import reads, one row per number with the chosen catalog names;
 * lines that are not numbers come back as problems (with their line in the pasted text).
 */
export function csvFromPastedNumbers(
  text: string,
  defaults: PastedDefaults = {},
): { csv: string; problems: BulkDetail[] } {
  const { numbers, problems } = parsePastedNumbers(text);
  if (numbers.length === 0 && problems.length === 0) {
    throw invalid('Paste at least one number or range.', {
      help: 'One per line, e.g. +1 866 555 0100 or +1 866 555 0100-0199.',
      field: 'numbers',
    });
  }
  const quote = (value: string | undefined) => `"${(value ?? '').trim().replace(/"/g, '""')}"`;
  const fixed = [defaults.provider, defaults.vendorBatch, defaults.group, defaults.pricingBatch]
    .map(quote)
    .join(',');
  const csv = [
    'number,provider,vendor_batch,group,pricing_batch',
    ...numbers.map((n) => `${n},${fixed}`),
  ].join('\n');
  return {
    csv,
    problems: problems.map((p) => ({ line: p.line, number: p.text, reason: p.reason })),
  };
}

/**
 * The import's batches: the file is read once per run from the start; rows up to the committed line are
 * passed over, then each batch of rows is inserted with its progress in one transaction.
 */
export function importStep(ctx: Ctx, batchSize: number): Step {
  let reader: AsyncGenerator<CsvItem> | undefined;
  let startLine = 0;
  return async (id) => {
    if (!reader) {
      requireImportRights(ctx);
      const op = await ctx.db
        .selectFrom('bulk_operations')
        .select(['input', 'cursor'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      startLine = Number(op.cursor ?? 0);
      reader = readDidCsv(op.input ?? '', await loadCatalogIndex(ctx.db, ctx.actor));
    }
    const rows: NewDid[] = [];
    const problems: BulkDetail[] = [];
    let lastLine = startLine;
    let taken = 0;
    let done = false;
    while (taken < batchSize) {
      const next = await reader.next();
      if (next.done) {
        done = true;
        break;
      }
      const item = next.value;
      if (item.type === 'header' || item.line <= startLine) continue;
      taken++;
      lastLine = item.line;
      if (item.type === 'row') rows.push(item.row);
      else problems.push(detailOf(item));
    }
    return inTransaction(ctx, async (tx) => {
      const op = await lockRunning(tx.db, id);
      if (!op) return true;
      // Another run of the same job committed this batch meanwhile: nothing to do twice.
      if (Number(op.cursor ?? 0) >= lastLine && taken > 0) return done;
      const inserted = await insertDids(tx, rows);
      await saveProgress(tx.db, op, {
        cursor: String(lastLine),
        finished: done,
        processed: taken,
        changed: inserted,
        unchanged: rows.length - inserted,
        skipped: problems.length,
        details: problems,
      });
      startLine = lastLine;
      return done;
    });
  };
}
