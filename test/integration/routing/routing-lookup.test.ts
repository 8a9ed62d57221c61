// The routing API's cache against the real database: a suspension, a closed account, transfer switched off
// or a revoked token are obeyed within the 2-second bound, never later; lookups that miss together are
// read with one query.
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { revokeApiToken } from '../../../core/api-tokens/api-tokens.ts';
import type { Database } from '../../../core/db/schema.ts';
import { createRoutingLookup, ROUTING_CACHE_TTL_MS } from '../../../core/routing/routing-lookup.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { bearer, path, routingWorld, serve } from './fixtures.ts';

const t = useTestDatabase();
const handles: Kysely<Database>[] = [];

afterEach(async () => {
  while (handles.length) await handles.pop()!.destroy();
});

/** A handle on the test database that counts the statements it runs. */
function countingDb() {
  const statements: string[] = [];
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: t.url, max: 4 }) }),
    log: (event) => {
      statements.push(event.query.sql.trim().split(/\s+/).slice(0, 3).join(' '));
    },
  });
  handles.push(db);
  return { db, statements };
}

describe('routing lookup cache', () => {
  it('serves a decision for at most the TTL, then reads the change', async () => {
    const w = await routingWorld(t.db);
    const did = await w.assigned(w.acme);
    let time = 0;
    const lookup = createRoutingLookup(t.db, { now: () => time });
    expect(await lookup.route(did.number)).toMatchObject({ action: 'route' });
    await t.db.updateTable('dids').set({ status: 'suspended' }).where('id', '=', did.id).execute();
    time = ROUTING_CACHE_TTL_MS - 1;
    expect(lookup.cachedRoute(did.number)).toMatchObject({ action: 'route' });
    time = ROUTING_CACHE_TTL_MS;
    expect(lookup.cachedRoute(did.number)).toBeUndefined();
    expect(await lookup.route(did.number)).toMatchObject({ action: 'reject', reason: 'suspended' });
  });

  it('reads numbers missed together with one query, and parses only what it must', async () => {
    const w = await routingWorld(t.db);
    const dids = await Promise.all(Array.from({ length: 20 }, () => w.assigned(w.acme)));
    const { db, statements } = countingDb();
    const lookup = createRoutingLookup(db);
    const forms = dids.flatMap((d) => [d.number, d.number.slice(1), `sip:${d.number}@sbc.example`]);
    const decisions = await Promise.all(forms.map((n) => lookup.route(n)));
    expect(decisions.map((d) => d.number)).toEqual(dids.flatMap((d) => [d.number, d.number, d.number]));
    expect(statements).toEqual(['SELECT d.number, d.status,']);
    // Known now: answered from memory in any of the forms switches send.
    expect(lookup.cachedRoute(dids[0]!.number.slice(1))).toBe(decisions[0]);
    expect(await lookup.route('+1 800 555 0199')).toMatchObject({ reason: 'unknown_number' });
    expect(statements).toHaveLength(2);
  });

  it('obeys a suspension and a revocation through the web app within the bound', async () => {
    const w = await routingWorld(t.db);
    const did = await w.assigned(w.acme);
    const base = await serve(t.db);
    const get = () => fetch(base + path(did.number), { headers: bearer(w.token) });
    expect(((await (await get()).json()) as { action: string }).action).toBe('route');

    await t.db.updateTable('accounts').set({ status: 'suspended' }).where('id', '=', w.acme.id).execute();
    const suspendedAt = Date.now();
    await expect
      .poll(async () => ((await (await get()).json()) as { reason?: string }).reason, {
        timeout: ROUTING_CACHE_TTL_MS + 1_000,
        interval: 50,
      })
      .toBe('account_suspended');
    expect(Date.now() - suspendedAt).toBeLessThanOrEqual(ROUTING_CACHE_TTL_MS + 250);

    await revokeApiToken(w.admin, 'freeswitch');
    const revokedAt = Date.now();
    await expect
      .poll(async () => (await get()).status, { timeout: ROUTING_CACHE_TTL_MS + 1_000, interval: 50 })
      .toBe(401);
    expect(Date.now() - revokedAt).toBeLessThanOrEqual(ROUTING_CACHE_TTL_MS + 250);
  });
});
