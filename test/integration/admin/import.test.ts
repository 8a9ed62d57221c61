import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../helpers/database.ts';
import { buildDid, buildGroup, buildProvider } from '../../helpers/factories.ts';
import { adminWorld, postMultipart, serveAdmin, signIn, staffEmail, textOf } from './harness.ts';

const t = useTestDatabase();

const MIXED = [
  'DID,City,State,Carrier,Setup Fee,Colour',
  '+1 212 555 0142,New York,NY,NorthStar,1.00,blue',
  'not-a-number,New York,NY,NorthStar,,',
  '+1 212 555 0143,New York,NY,Nobody Telecom,,',
  '+1 212 555 0144,New York,NY,NorthStar,-1,',
  '+1 212 555 0145,New York,NY,NorthStar,,',
  '+1 (212) 555-0142,New York,NY,NorthStar,,',
  '+1 212 555 0146,New York,NY,,,',
].join('\n');

const numbers = async () =>
  (await t.db.selectFrom('dids').select('number').orderBy('number').execute()).map((r) => r.number);

describe('importing numbers', () => {
  it('previews a CSV with mixed rows (each bad one with its line and reason), then imports the good ones', async () => {
    await adminWorld(t.db);
    await buildProvider(t.db, { name: 'NorthStar' });
    await buildDid(t.db, { number: '+12125550145' });
    const { base } = await serveAdmin(t.db);
    const operator = await signIn(base, staffEmail('operator'));
    const form = await operator.get('/admin/import');
    expect(form.html).toContain('enctype="multipart/form-data"');

    const preview = await postMultipart(
      operator,
      '/admin/import/preview',
      {},
      { field: 'file', name: 'carrier.csv', content: MIXED },
    );
    expect(preview.status).toBe(200);
    const text = textOf(preview.html);
    expect(text).toContain('Import carrier.csv: 2 numbers to add');
    expect(text).toContain(
      'Rows read 7 New numbers to add 2 Already in the inventory (left as they are) 1 Rows with errors (not imported) 4',
    );
    expect(text).toContain('These columns are not known and will be ignored: Colour');
    expect(text).toContain('3 not-a-number');
    expect(text).toContain('4 +1 212 555 0143 unknown provider "Nobody Telecom"');
    expect(text).toContain('5 +1 212 555 0144 setup_fee cannot be negative (got -1).');
    expect(text).toContain('7 +1 (212) 555-0142 repeats +12125550142 from line 2.');
    // The preview wrote nothing.
    expect(await numbers()).toEqual(['+12125550145']);

    const start = /action="(\/admin\/bulk\/\d+\/start)"/.exec(preview.html)![1]!;
    const started = await operator.post(start, {});
    expect(started.status).toBe(303);
    const result = textOf((await operator.get(started.location!)).html);
    expect(result).toContain('Import carrier.csv');
    expect(result).toContain('Imported 2 Already in the inventory 1 Skipped 4');
    expect(result).toContain('Line Number Reason 3 not-a-number');
    expect(await numbers()).toEqual(['+12125550142', '+12125550145', '+12125550146']);
    const audit = await t.db
      .selectFrom('audit_events')
      .select('actor_label')
      .where('action', '=', 'did.import')
      .execute();
    expect(audit.map((a) => a.actor_label)).toEqual([
      'web:operator@operator.example',
      'web:operator@operator.example',
    ]);
  });

  it('imports pasted numbers and ranges with the chosen group, listing lines that are not numbers', async () => {
    await adminWorld(t.db);
    const group = await buildGroup(t.db, { name: 'Toll-Free' });
    const { base } = await serveAdmin(t.db);
    const operator = await signIn(base, staffEmail('operator'));
    await operator.get('/admin/import');
    const preview = await postMultipart(operator, '/admin/import/preview', {
      numbers: '+1 866 555 0100-0104\nsoon\n+1 866 555 0200',
      group: 'Toll-Free',
    });
    expect(preview.status).toBe(200);
    const text = textOf(preview.html);
    expect(text).toContain('Import pasted numbers: 6 numbers to add');
    expect(text).toContain('2 soon is not a phone number');
    const start = /action="(\/admin\/bulk\/\d+\/start)"/.exec(preview.html)![1]!;
    const result = textOf((await operator.get((await operator.post(start, {})).location!)).html);
    expect(result).toContain('Imported 6 Already in the inventory 0 Skipped 1');
    const rows = await t.db.selectFrom('dids').select(['number', 'group_id']).orderBy('number').execute();
    expect(rows.map((r) => r.number)).toEqual([
      '+18665550100',
      '+18665550101',
      '+18665550102',
      '+18665550103',
      '+18665550104',
      '+18665550200',
    ]);
    expect(rows.every((r) => r.group_id === group.id)).toBe(true);
  });

  it('queues a big import and shows its progress', async () => {
    await adminWorld(t.db);
    const lines = ['number'];
    for (let i = 0; i < 2100; i++) lines.push(`+1646${2000000 + i}`);
    const served = await serveAdmin(t.db);
    const operator = await signIn(served.base, staffEmail('operator'));
    await operator.get('/admin/import');
    const preview = await postMultipart(
      operator,
      '/admin/import/preview',
      {},
      { field: 'file', name: 'big.csv', content: lines.join('\n') },
    );
    expect(textOf(preview.html)).toContain('A big file: it is imported in the background');
    const start = /action="(\/admin\/bulk\/\d+\/start)"/.exec(preview.html)![1]!;
    const url = (await operator.post(start, {})).location!;
    const waiting = await operator.get(url);
    expect(waiting.headers.get('refresh')).toBe('2');
    expect(textOf(waiting.html)).toContain('0 of 2,100 rows done');
    await served.runQueued();
    expect(textOf((await operator.get(url)).html)).toContain('Imported 2,100');
  });

  it('says what is wrong with the form instead of importing', async () => {
    await adminWorld(t.db);
    const { base } = await serveAdmin(t.db);
    const operator = await signIn(base, staffEmail('operator'));
    await operator.get('/admin/import');
    const empty = await postMultipart(operator, '/admin/import/preview', { numbers: '  ' });
    expect(empty.status).toBe(400);
    expect(textOf(empty.html)).toContain('Choose a CSV file, or paste numbers.');
    const noColumn = await postMultipart(
      operator,
      '/admin/import/preview',
      {},
      { field: 'file', name: 'x.csv', content: 'city\nNew York' },
    );
    expect(noColumn.status).toBe(400);
    expect(textOf(noColumn.html)).toContain('The CSV has no number column.');
    // Not a multipart form, or no CSRF token: refused before anything is read.
    expect((await operator.post('/admin/import/preview', { numbers: '+12125550100' })).status).toBe(400);
    expect(
      (await postMultipart(operator, '/admin/import/preview', { _csrf: 'forged', numbers: '+12125550100' }))
        .status,
    ).toBe(403);
    const viewer = await signIn(base, staffEmail('viewer'));
    await viewer.get('/admin/inventory');
    expect((await postMultipart(viewer, '/admin/import/preview', { numbers: '+12125550100' })).status).toBe(
      403,
    );
    expect(await numbers()).toEqual([]);
  });
});
