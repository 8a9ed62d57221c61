// GET /api/v1/routing/:number through the real web app: what the switch is told for a number in every
// state, and what a request without a valid token gets (401, nothing changed).
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createApiToken, revokeApiToken } from '../../../core/api-tokens/api-tokens.ts';
import type { Db } from '../../../core/db/connect.ts';
import type { DidStatus } from '../../../core/db/schema.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { buildDid } from '../../helpers/factories.ts';
import { bearer, path, routingWorld, serve } from './fixtures.ts';

const t = useTestDatabase();

async function get(base: string, number: string, token: string) {
  const response = await fetch(base + path(number), { headers: bearer(token) });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

const NO_TRANSFER = {
  enabled: false,
  busy: null,
  no_answer: null,
  unreachable: null,
  always: null,
  ring_timeout_seconds: 20,
};

describe('GET /api/v1/routing/:number', () => {
  it('routes an assigned number: account, destination, limits and rating', async () => {
    const w = await routingWorld(t.db);
    const did = await w.assigned(w.acme, {
      connection_cost_micros: 15_000,
      per_minute_rate_micros: 4_500,
      grace_seconds: 5,
      initial_increment: 30,
      increment: 6,
      call_timeout_seconds: 45,
      max_concurrent_calls: 3,
    });
    const base = await serve(t.db);
    const { status, headers, body } = await get(base, did.number, w.token);
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(headers.get('content-type')).toMatch(/^application\/json/);
    expect(body).toEqual({
      number: did.number,
      action: 'route',
      account: { id: w.acme.id, slug: 'acme', name: w.acme.name },
      reseller: null,
      destination: { type: 'sip', value: 'sip:reception@pbx.acme.example' },
      transfer: NO_TRANSFER,
      call_timeout_seconds: 45,
      max_concurrent_calls: 3,
      rating: {
        currency: 'USD',
        connection_cost: '0.015',
        per_minute_rate: '0.0045',
        grace_seconds: 5,
        initial_increment: 30,
        increment: 6,
      },
    });
    expect(Object.keys(body)).toEqual([
      'number',
      'action',
      'account',
      'reseller',
      'destination',
      'transfer',
      'call_timeout_seconds',
      'max_concurrent_calls',
      'rating',
    ]);
  });

  it("names the reseller holding a reseller's customer's number, and routes a number a reseller keeps", async () => {
    const w = await routingWorld(t.db);
    const dental = await w.assigned(w.dental, { destination_type: 'pstn', destination: '+442079460000' });
    const held = await buildDid(t.db, {
      status: 'assigned',
      owner_account_id: w.reseller.id,
      destination_type: 'extension',
      destination: 'ext:1001',
    });
    const base = await serve(t.db);
    expect((await get(base, dental.number, w.token)).body).toMatchObject({
      action: 'route',
      account: { slug: 'dental' },
      reseller: { slug: 'voipco-east' },
      destination: { type: 'pstn', value: '+442079460000' },
      max_concurrent_calls: null,
    });
    expect((await get(base, held.number, w.token)).body).toMatchObject({
      action: 'route',
      account: { id: w.reseller.id, slug: 'voipco' },
      reseller: { slug: 'voipco' },
      destination: { type: 'extension', value: 'ext:1001' },
    });
  });

  it('routes a number with no destination set, saying so (null: treat as unreachable)', async () => {
    const w = await routingWorld(t.db);
    const did = await w.assigned(w.acme, { destination_type: null, destination: null });
    const { status, body } = await get(await serve(t.db), did.number, w.token);
    expect(status).toBe(200);
    expect(body).toMatchObject({ action: 'route', destination: null });
  });

  it.each<[DidStatus, object]>([
    ['available', {}],
    ['reserved', {}],
    ['disabled', {}],
    ['aging', { aging_until: new Date('2030-01-01T00:00:00Z') }],
  ])('rejects a %s number as not in service (200, action reject)', async (status, extra) => {
    const w = await routingWorld(t.db);
    const did = await buildDid(t.db, { status, ...extra });
    const response = await get(await serve(t.db), did.number, w.token);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      number: did.number,
      action: 'reject',
      reason: 'not_in_service',
      destination: null,
      transfer: NO_TRANSFER,
    });
    expect(response.body).not.toHaveProperty('account');
  });

  it('rejects a suspended number, even with a destination and transfer on', async () => {
    const w = await routingWorld(t.db);
    const did = await w.assigned(w.acme, { status: 'suspended' });
    await w.transfer(did, { enabled: true, always_destination: '+442079460000' });
    const { status, body } = await get(await serve(t.db), did.number, w.token);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      action: 'reject',
      reason: 'suspended',
      account: { slug: 'acme' },
      destination: null,
      transfer: NO_TRANSFER,
    });
  });

  it('rejects a number whose subscription is suspended for non-payment (billing bug: still routed)', async () => {
    const w = await routingWorld(t.db);
    const did = await w.assigned(w.acme);
    await t.db
      .insertInto('subscriptions')
      .values({
        did_id: did.id,
        account_id: w.acme.id,
        status: 'suspended',
        billing_type: 'recurring',
        billing_period: 'monthly',
        billing_days: 30,
        setup_fee: 0,
        recurring_fee: 150,
        currency: 'USD',
        anchor_day: 1,
        current_period_start: new Date('2026-01-01T00:00:00Z'),
        current_period_end: new Date('2026-02-01T00:00:00Z'),
      })
      .execute();
    expect((await get(await serve(t.db), did.number, w.token)).body).toMatchObject({
      action: 'reject',
      reason: 'suspended',
    });
  });

  it('rejects numbers of suspended and closed accounts, and of accounts under a suspended reseller', async () => {
    const w = await routingWorld(t.db);
    const acme = await w.assigned(w.acme);
    const bakery = await w.assigned(w.bakery);
    const dental = await w.assigned(w.dental);
    const initech = await w.assigned(w.initech);
    const status = (id: number, value: 'suspended' | 'closed') =>
      t.db.updateTable('accounts').set({ status: value }).where('id', '=', id).execute();
    await status(w.acme.id, 'suspended');
    await status(w.reseller.id, 'suspended');
    await status(w.initech.id, 'closed');
    const base = await serve(t.db);
    for (const [did, reason] of [
      [acme, 'account_suspended'],
      [bakery, 'account_suspended'],
      [dental, 'account_suspended'],
      [initech, 'account_closed'],
    ] as const) {
      const { status: code, body } = await get(base, did.number, w.token);
      expect(code).toBe(200);
      expect(body, did.number).toMatchObject({ action: 'reject', reason, destination: null });
    }
    // Closed above suspended: the stronger reason wins.
    await status(w.subReseller.id, 'closed');
    expect((await get(await serve(t.db), dental.number, w.token)).body).toMatchObject({
      reason: 'account_closed',
    });
  });

  it('gives the transfer rules per condition while transfer is on, and none while it is off', async () => {
    const w = await routingWorld(t.db);
    const on = await w.assigned(w.acme);
    const off = await w.assigned(w.acme);
    const settings = {
      busy_destination: '+442079460000',
      no_answer_destination: 'sip:desk@pbx.acme.example',
      unreachable_destination: '+12125550199',
      ring_timeout_seconds: 25,
    };
    await w.transfer(on, { enabled: true, ...settings });
    await w.transfer(off, { enabled: false, ...settings });
    const base = await serve(t.db);
    expect((await get(base, on.number, w.token)).body).toMatchObject({
      action: 'route',
      destination: { type: 'sip', value: 'sip:reception@pbx.acme.example' },
      transfer: {
        enabled: true,
        busy: { type: 'pstn', value: '+442079460000' },
        no_answer: { type: 'sip', value: 'sip:desk@pbx.acme.example' },
        unreachable: { type: 'pstn', value: '+12125550199' },
        always: null,
        ring_timeout_seconds: 25,
      },
    });
    expect((await get(base, off.number, w.token)).body).toMatchObject({
      action: 'route',
      transfer: { ...NO_TRANSFER, ring_timeout_seconds: 25 },
    });
  });

  it('gives the always rule alone when only always is set', async () => {
    const w = await routingWorld(t.db);
    const did = await w.assigned(w.acme);
    await w.transfer(did, { enabled: true, always_destination: 'sip:night@pbx.acme.example' });
    expect((await get(await serve(t.db), did.number, w.token)).body).toMatchObject({
      transfer: {
        enabled: true,
        busy: null,
        no_answer: null,
        unreachable: null,
        always: { type: 'sip', value: 'sip:night@pbx.acme.example' },
      },
    });
  });

  it("turns transfer off when the holder's switch or any account switch above it is off", async () => {
    const w = await routingWorld(t.db);
    const bakery = await w.assigned(w.bakery);
    const dental = await w.assigned(w.dental);
    const acme = await w.assigned(w.acme);
    for (const did of [bakery, dental, acme]) {
      await w.transfer(did, { enabled: true, busy_destination: '+442079460000' });
    }
    // The reseller voipco is switched off: its customer bakery and the sub-reseller's customer dental lose it.
    await t.db
      .updateTable('accounts')
      .set({ call_transfer_enabled: false })
      .where('id', '=', w.reseller.id)
      .execute();
    const base = await serve(t.db);
    expect((await get(base, bakery.number, w.token)).body).toMatchObject({
      action: 'route',
      transfer: NO_TRANSFER,
    });
    expect((await get(base, dental.number, w.token)).body).toMatchObject({
      action: 'route',
      transfer: NO_TRANSFER,
    });
    expect((await get(base, acme.number, w.token)).body).toMatchObject({
      transfer: { enabled: true, busy: { type: 'pstn', value: '+442079460000' } },
    });
  });

  it('answers 404 with a reject for a number not in the inventory', async () => {
    const w = await routingWorld(t.db);
    const { status, headers, body } = await get(await serve(t.db), '+18005550199', w.token);
    expect(status).toBe(404);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body).toEqual({ number: '+18005550199', action: 'reject', reason: 'unknown_number' });
  });

  it('reads the number as switches send it', async () => {
    const w = await routingWorld(t.db);
    const did = await w.assigned(w.acme, { number: '+18665550100' });
    const base = await serve(t.db);
    for (const form of [
      '18665550100',
      '+18665550100',
      'sip:+18665550100@sbc.carrier.example',
      'sip:18665550100@10.0.0.1:5060;user=phone',
      'tel:+1-866-555-0100',
    ]) {
      const { status, body } = await get(base, form, w.token);
      expect(status, form).toBe(200);
      expect(body, form).toMatchObject({ number: did.number, action: 'route' });
    }
    // An unencoded + in the path is a plus, not a space.
    const raw = await fetch(`${base}/api/v1/routing/+18665550100`, { headers: bearer(w.token) });
    expect(((await raw.json()) as { number: string }).number).toBe('+18665550100');
  });

  it.each(['banana', '12', 'sip:reception@pbx.example', '+1866555010012345678', 'x'.repeat(300)])(
    'answers 400 with a clear JSON error for %s',
    async (input) => {
      const w = await routingWorld(t.db);
      const response = await fetch((await serve(t.db)) + path(input), { headers: bearer(w.token) });
      expect(response.status).toBe(400);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const body = (await response.json()) as { error: string; message: string; help: string };
      expect(body.error).toBe('invalid_number');
      expect(body.message).toMatch(/is not a called number we can read|too long/);
      expect(body.help).toMatch(/country code/);
    },
  );
});

describe('routing API tokens', () => {
  /** Everything a refused request could have touched. */
  const snapshot = async (db: Db) => ({
    tokens: await db.selectFrom('api_tokens').selectAll().orderBy('id').execute(),
    audit: (await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_events`.execute(db)).rows[0]!.n,
    dids: await db.selectFrom('dids').selectAll().orderBy('id').execute(),
  });

  it('refuses a missing, malformed, unknown, revoked or basic-auth token alike: 401, nothing changed', async () => {
    const w = await routingWorld(t.db);
    const did = await w.assigned(w.acme);
    const { plaintext: revoked } = await createApiToken(w.admin, { name: 'old-switch' });
    await revokeApiToken(w.admin, 'old-switch');
    const base = await serve(t.db);
    const before = await snapshot(t.db);
    const unknown = 'didops_rt_' + 'A'.repeat(43);
    const attempts: Record<string, Record<string, string>> = {
      missing: {},
      'not bearer': { authorization: w.token },
      malformed: bearer('secret'),
      'empty bearer': { authorization: 'Bearer ' },
      unknown: bearer(unknown),
      revoked: bearer(revoked),
      'token with a character changed': bearer(w.token.slice(0, -1) + (w.token.endsWith('A') ? 'B' : 'A')),
      'basic auth (the JSON API takes bearer only)': {
        authorization: `Basic ${Buffer.from(`switch:${w.token}`).toString('base64')}`,
      },
    };
    const bodies = new Set<string>();
    for (const [what, headers] of Object.entries(attempts)) {
      const response = await fetch(base + path(did.number), { headers });
      expect(response.status, what).toBe(401);
      expect(response.headers.get('www-authenticate'), what).toBe('Bearer realm="didops routing"');
      expect(response.headers.get('cache-control'), what).toBe('no-store');
      const body = (await response.json()) as { error: string; message: string };
      expect(body.error).toBe('unauthorized');
      expect(body.message).toMatch(/token create/);
      bodies.add(JSON.stringify(body));
    }
    // One answer for every kind of failure: nothing tells a prober which tokens exist.
    expect(bodies.size).toBe(1);
    // 401 comes before the number is even read: a bad number with a bad token is still 401.
    expect((await fetch(base + path('banana'))).status).toBe(401);
    expect(await snapshot(t.db)).toEqual(before);
  });

  it('records when a token was last used (once a minute at most), and nothing else', async () => {
    const w = await routingWorld(t.db);
    const did = await w.assigned(w.acme);
    const base = await serve(t.db);
    const auditBefore = await t.db.selectFrom('audit_events').select('id').execute();
    for (let i = 0; i < 3; i++) expect((await get(base, did.number, w.token)).status).toBe(200);
    await expect
      .poll(async () => {
        const row = await t.db.selectFrom('api_tokens').select('last_used_at').executeTakeFirstOrThrow();
        return row.last_used_at;
      })
      .toBeInstanceOf(Date);
    expect(await t.db.selectFrom('audit_events').select('id').execute()).toEqual(auditBefore);
  });
});
