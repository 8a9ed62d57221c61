// Who may use each back-office route, table-driven from the route table the router itself is built from:
// every /admin route × every kind of visitor. Visitors go to the log-in page; customers and resellers get
// a 404 (the back office does not exist for them); staff below a route's role get a 403 page; staff at or
// above it get through (whatever the handler then answers to the empty form: never 403 or 404).
import { describe, expect, it } from 'vitest';
import type { UserRole } from '../../../core/db/schema.ts';
import type { Web } from '../../../storefront/web/deps.ts';
import { adminRouteTable } from '../../../storefront/web/routes/admin/index.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import {
  buildDid,
  buildGroup,
  buildPricingBatch,
  buildProvider,
  buildVendorBatch,
} from '../../helpers/factories.ts';
import {
  adminWorld,
  Browser,
  RecordingQueue,
  serveAdmin,
  signIn,
  STAFF_ROLES,
  staffEmail,
} from './harness.ts';

const t = useTestDatabase();

const RANK: Record<UserRole, number> = { viewer: 0, operator: 1, admin: 2, owner: 3 };

/** The routes as mounted (a pg-boss queue: the plain queue page), built with a stand-in for the app's deps. */
const ROUTES = adminRouteTable({
  web: { csrf: { verify: (_req: unknown, _res: unknown, next: () => void) => next() } } as unknown as Web,
  queue: new RecordingQueue(),
}).map((r) => ({ method: r.method, path: r.path, role: r.role }));

/** Fixtures for every route parameter: rows that exist and are in use (so no allowed delete succeeds). */
async function fixtures() {
  const world = await adminWorld(t.db);
  const provider = await buildProvider(t.db, { name: 'NorthStar' });
  const vendorBatch = await buildVendorBatch(t.db, { provider_id: provider.id, name: 'NS-2026' });
  const group = await buildGroup(t.db, { name: 'US Local' });
  const batch = await buildPricingBatch(t.db, { owner_account_id: world.operator.id, name: 'Standard' });
  const did = await buildDid(t.db, {
    number: '+12125550142',
    provider_id: provider.id,
    vendor_batch_id: vendorBatch.id,
    group_id: group.id,
    pricing_batch_id: batch.id,
  });
  const op = await t.db
    .insertInto('bulk_operations')
    .values({ kind: 'enable', status: 'done', user_id: world.staff.admin.id, params: '{}' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const ids: Record<string, number> = {
    providers: provider.id,
    'vendor-batches': vendorBatch.id,
    groups: group.id,
    'pricing-batches': batch.id,
  };
  return { world, did, op, ids };
}

/** Concrete URLs for a route: one per catalog kind for /catalog/:kind routes. */
function urlsFor(path: string, f: Awaited<ReturnType<typeof fixtures>>): string[] {
  const kinds = path.includes(':kind') ? Object.keys(f.ids) : [''];
  return kinds.map(
    (kind) =>
      '/admin' +
      path
        .replace(':kind', kind)
        .replace(
          ':id',
          path.startsWith('/catalog')
            ? String(f.ids[kind])
            : path.startsWith('/queues')
              ? 'job-1'
              : String(f.op.id),
        )
        .replace(':name', 'bulk-operation')
        .replace(':number', encodeURIComponent(f.did.number))
        .replace(':slug', 'acme'),
  );
}

describe('back-office routes by role', () => {
  it('covers a route table with every route the router mounts', () => {
    expect(ROUTES.length).toBeGreaterThan(25);
    expect(new Set(ROUTES.map((r) => `${r.method} ${r.path}`)).size).toBe(ROUTES.length);
    // Reads are open to viewers; every change needs an operator at least.
    for (const route of ROUTES) {
      if (route.method === 'post') expect(RANK[route.role], `${route.path}`).toBeGreaterThanOrEqual(1);
    }
  });

  it('lets each role through exactly where its role reaches, and nowhere else', async () => {
    const f = await fixtures();
    const { base, logs } = await serveAdmin(t.db);
    const browsers = Object.fromEntries(
      await Promise.all(
        STAFF_ROLES.map(async (role) => [role, await signIn(base, staffEmail(role))] as const),
      ),
    ) as Record<UserRole, Browser>;
    const outsiders = {
      visitor: new Browser(base),
      customer: await signIn(base, 'owner@acme.example'),
      reseller: await signIn(base, 'owner@voipco.example'),
    };
    // A page of the storefront gives each browser its CSRF token (forms are refused without it).
    for (const browser of [...Object.values(browsers), ...Object.values(outsiders)])
      await browser.get('/numbers');

    const table: string[] = [];
    for (const route of ROUTES) {
      for (const url of urlsFor(route.path, f)) {
        const send = (browser: Browser) =>
          route.method === 'post' ? browser.post(url, {}) : browser.get(url);
        const visitor = await send(outsiders.visitor);
        expect(visitor.status, `visitor ${route.method} ${url}`).toBe(303);
        expect(visitor.location, url).toMatch(/^\/login\?next=/);
        for (const outsider of ['customer', 'reseller'] as const) {
          expect((await send(outsiders[outsider])).status, `${outsider} ${route.method} ${url}`).toBe(404);
        }
        for (const role of STAFF_ROLES) {
          const page = await send(browsers[role]);
          const allowed = RANK[role] >= RANK[route.role];
          table.push(`${route.method.toUpperCase()} ${url} ${role}: ${page.status}`);
          if (allowed) {
            expect([403, 404], `${role} ${route.method} ${url} should be allowed`).not.toContain(page.status);
            expect(page.status, `${role} ${route.method} ${url}`).toBeLessThan(500);
          } else {
            expect(page.status, `${role} ${route.method} ${url} should be refused`).toBe(403);
            expect(page.html).toContain('Not allowed');
          }
        }
      }
    }
    expect(logs.filter((l) => l.level === 'error' || (l.level as number) >= 50)).toEqual([]);
    // The refused deletes left everything in place (in use).
    expect(await t.db.selectFrom('pricing_batches').select('id').execute()).toHaveLength(1);
    if (process.env.SHOW_ROLE_TABLE) console.log(table.join('\n'));
    expect(table.length).toBeGreaterThan(100);
  });

  it('answers 404 for the whole /admin tree to customers, even for paths that do not exist', async () => {
    await adminWorld(t.db);
    const { base } = await serveAdmin(t.db);
    const customer = await signIn(base, 'owner@acme.example');
    expect((await customer.get('/admin/no-such-page')).status).toBe(404);
    const staff = await signIn(base, staffEmail('viewer'));
    expect((await staff.get('/admin/no-such-page')).status).toBe(404);
  });
});
