// Bulk import of numbers from a carrier's CSV (seed 000: "easy import and export"). Columns are found by
// their header (with the aliases of did-fields.ts); every row is validated on its own, so good rows go in
// and bad rows come back with their line number and reason. Numbers already in the inventory are left as
// they are: importing the same file twice changes nothing the second time.
import type { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { sql } from 'kysely';
import type { NewDid } from '../db/schema.ts';
import { isOperatorStaff } from '../accounts/actor.ts';
import { requirePermission } from '../accounts/permissions.ts';
import { recordAudit } from '../audit/audit.ts';
import { inTransaction, type Ctx } from '../context.ts';
import { DomainError, invalid } from '../shared/errors.ts';
import { loadCatalogIndex, type CatalogIndex } from './catalog-index.ts';
import {
  DID_FIELDS,
  fieldForHeader,
  validateDidFields,
  type DidField,
  type DidFieldValues,
} from './did-fields.ts';
import { unguardFormula } from './spreadsheet-cells.ts';

export interface ImportRowError {
  /** Line in the file where the row starts, counting the header as line 1. */
  readonly line: number;
  readonly number: string;
  readonly field: string | undefined;
  readonly message: string;
}

export interface ImportProgress {
  /** Data rows read so far. */
  readonly rows: number;
  readonly imported: number;
  /** Rows whose number was already in the inventory: left untouched. */
  readonly existing: number;
  readonly errors: number;
}

export interface ImportReport extends ImportProgress {
  readonly rowErrors: readonly ImportRowError[];
  /** Header cells that match no field: reported so a typo in a header is noticed, not silently lost. */
  readonly ignoredColumns: readonly string[];
}

export interface ImportOptions {
  /** Awaited when it returns a promise (a job writing its progress). */
  readonly onProgress?: (progress: ImportProgress) => unknown;
  /** Rows per transaction. Each chunk commits on its own, so a crash mid-file loses nothing already done. */
  readonly chunkSize?: number;
  /** Stop listing row errors after this many (the count stays exact). */
  readonly maxReportedErrors?: number;
}

/** Columns that describe a number's current use: exported for reading, never imported. */
const READ_ONLY_COLUMNS = new Set(['owner', 'customer', 'assigned_at', 'freed_at', 'aging_until']);

export async function importDidsCsv(
  ctx: Ctx,
  input: Readable | string,
  options: ImportOptions = {},
): Promise<ImportReport> {
  requirePermission(ctx.actor, 'inventory.write');
  if (!isOperatorStaff(ctx.actor)) throw invalid('Only the operator adds numbers to the inventory.');
  const chunkSize = options.chunkSize ?? 5_000;
  const maxReported = options.maxReportedErrors ?? 1_000;
  const catalog = await loadCatalogIndex(ctx.db, ctx.actor);

  let ignoredColumns: readonly string[] = [];
  const rowErrors: ImportRowError[] = [];
  let chunk: NewDid[] = [];
  const progress = { rows: 0, imported: 0, existing: 0, errors: 0 };

  const flush = async () => {
    if (chunk.length === 0) return;
    const inserted = await insertDids(ctx, chunk);
    progress.imported += inserted;
    progress.existing += chunk.length - inserted;
    chunk = [];
    await options.onProgress?.({ ...progress });
  };

  for await (const item of readDidCsv(input, catalog)) {
    if (item.type === 'header') {
      ignoredColumns = item.ignoredColumns;
      continue;
    }
    progress.rows++;
    if (item.type === 'error') {
      progress.errors++;
      if (rowErrors.length < maxReported) rowErrors.push(item.error);
    } else {
      chunk.push(item.row);
    }
    if (chunk.length >= chunkSize) await flush();
  }
  await flush();
  await options.onProgress?.({ ...progress });
  return { ...progress, rowErrors, ignoredColumns };
}

/** One item of a CSV as readDidCsv yields it: the header first, then each data row, valid or not. */
export type CsvItem =
  | { readonly type: 'header'; readonly ignoredColumns: readonly string[] }
  | { readonly type: 'row'; readonly line: number; readonly row: NewDid }
  | { readonly type: 'error'; readonly line: number; readonly error: ImportRowError };

/**
 * Reads a carrier's CSV row by row: finds the columns by the header, validates each row on its own
 * (against `catalog`) and reports a number repeated within the file. Throws for a file that cannot be
 * read at all (not CSV, not text, empty, no number column). Shared by the import, its preview and its
 * queued job.
 */
export async function* readDidCsv(input: Readable | string, catalog: CatalogIndex): AsyncGenerator<CsvItem> {
  const parser = parse({
    bom: true,
    // Any line ending, in any mix: left to guess, the parser keeps the first one it sees, and a file whose
    // rows were pasted together from a Windows and a Unix file silently glued two rows into one.
    record_delimiter: ['\r\n', '\n', '\r'],
    skip_empty_lines: true,
    relax_column_count: true,
    trim: true,
    info: true,
  });
  if (typeof input === 'string') parser.end(input);
  else input.pipe(parser);

  let columns: (DidField | null)[] | undefined;
  const seen = new Map<string, number>();
  // csv-parse reports the line a record ends on, and counts a CRLF inside a quoted cell as two lines;
  // rows are named by the line they start on, as an editor numbers it.
  let crlfInCells = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>) {
      let breaksInRecord = 0;
      for (const cell of record) {
        if (!cell.includes('\n') && !cell.includes('\r')) continue;
        breaksInRecord += cell.match(/\r\n|\r|\n/g)?.length ?? 0;
        crlfInCells += cell.match(/\r\n/g)?.length ?? 0;
      }
      const line = info.lines - crlfInCells - breaksInRecord;
      // PostgreSQL stores no NUL in text, and a text file has none: this is a UTF-16 or binary file.
      if (record.some((cell) => cell.includes('\0'))) {
        throw invalid(`The file is not a text CSV: line ${line} contains a NUL character.`, {
          help: 'If it was saved as UTF-16 ("Unicode text"), save it again as "CSV UTF-8".',
        });
      }
      // A spreadsheet saves a row it holds no value in as commas only: a blank line, not a bad row.
      if (record.every((cell) => cell.trim() === '')) continue;
      if (!columns) {
        columns = record.map(fieldForHeader);
        if (!columns.includes('number')) {
          throw invalid('The CSV has no number column.', {
            help: `Its first row must name the columns; one of them "number" (or DID, phone). Known columns: ${DID_FIELDS.join(', ')}.`,
          });
        }
        const known = columns;
        yield {
          type: 'header',
          ignoredColumns: record.filter(
            (h, i) => known[i] === null && !READ_ONLY_COLUMNS.has(h.trim().toLowerCase()),
          ),
        };
        continue;
      }
      const values: DidFieldValues = {};
      record.forEach((cell, i) => {
        const field = columns![i];
        if (field) values[field] = unguardFormula(cell);
      });
      try {
        const row = validateDidFields(values, catalog);
        const firstLine = seen.get(row.number);
        if (firstLine !== undefined) {
          throw invalid(`repeats ${row.number} from line ${firstLine}.`, { field: 'number' });
        }
        seen.set(row.number, line);
        yield { type: 'row', line, row };
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        yield {
          type: 'error',
          line,
          error: {
            line,
            number: values.number ?? '',
            field: error.field,
            message: error.fullMessage,
          },
        };
      }
    }
  } catch (error) {
    // Not every parse error's code starts with CSV_ (INVALID_OPENING_QUOTE does not): go by its class.
    if (error instanceof CsvError) {
      throw invalid(`The file is not valid CSV: ${error.message}`, {
        help: 'Check quoting and the separator (a comma).',
      });
    }
    throw error;
  }
  if (!columns)
    throw invalid('The CSV is empty.', {
      help: 'The first row must name the columns, e.g. number,city,setup_fee.',
    });
}

// Column arrays and unnest() insert any number of rows with one parameter per column: a multi-row VALUES
// would hit the protocol's 65,535-parameter limit at under 2,000 rows of this width.
const INSERT_COLUMNS = [
  ['number', 'text'],
  ['country', 'text'],
  ['area_code', 'text'],
  ['number_type', 'text'],
  ['city', 'text'],
  ['province', 'text'],
  ['provider_id', 'bigint'],
  ['vendor_batch_id', 'bigint'],
  ['group_id', 'bigint'],
  ['pricing_batch_id', 'bigint'],
  ['activation_cost', 'bigint'],
  ['recurring_cost', 'bigint'],
  ['setup_fee', 'bigint'],
  ['recurring_fee', 'bigint'],
  ['currency', 'text'],
  ['billing_type', 'text'],
  ['billing_period', 'text'],
  ['billing_days', 'int'],
  ['connection_cost_micros', 'bigint'],
  ['per_minute_rate_micros', 'bigint'],
  ['grace_seconds', 'int'],
  ['initial_increment', 'int'],
  ['increment', 'int'],
  ['call_timeout_seconds', 'int'],
  ['max_concurrent_calls', 'int'],
  ['description', 'text'],
  ['status', 'text'],
  ['destination_type', 'text'],
  ['destination', 'text'],
] as const satisfies readonly (readonly [keyof NewDid, string])[];

/**
 * Inserts validated rows (in the caller's transaction, or one of its own) and audits each new number;
 * numbers already in the inventory are left as they are. Returns how many were new.
 */
export async function insertDids(ctx: Ctx, rows: readonly NewDid[]): Promise<number> {
  if (rows.length === 0) return 0;
  return inTransaction(ctx, async (tx) => {
    const arrays = INSERT_COLUMNS.map(
      ([column, type]) => sql`${rows.map((r) => r[column] ?? null)}::${sql.raw(type)}[]`,
    );
    // Capabilities are an array per row; unnest() would flatten a 2-D array, so they travel as text.
    const capabilities = rows.map((r) => (r.capabilities ?? ['voice']).join(','));
    const names = INSERT_COLUMNS.map(([column]) => sql.ref(column));
    const result = await sql<{ id: number; number: string; status: string }>`
      INSERT INTO dids (${sql.join(names)}, capabilities)
      SELECT ${sql.join(names)}, string_to_array(t.capabilities, ',')
      FROM unnest(${sql.join(arrays)}, ${capabilities}::text[]) AS t(${sql.join(names)}, capabilities)
      ON CONFLICT (number) DO NOTHING
      RETURNING id, number, status`.execute(tx.db);
    await recordAudit(
      tx.db,
      tx.actor,
      result.rows.map((r) => ({
        action: 'did.import',
        didId: r.id,
        subject: r.number,
        after: { status: r.status },
      })),
    );
    return result.rows.length;
  });
}
