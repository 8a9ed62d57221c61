// DID call transfer (seed 002) against a real PostgreSQL: destinations per condition, the number's and the
// account's switches, who may change what, loops through our own numbers, stale buttons, and the audit.
import { describe, expect, it } from 'vitest';
import { executeCommand } from '../../../bot/commands/execute.ts';
import { parseCommand } from '../../../bot/commands/parse.ts';
import { renderText } from '../../../bot/commands/render-text.ts';
import type { Ctx } from '../../../core/context.ts';
import type { Account, UserRole } from '../../../core/db/schema.ts';
import { releaseDid } from '../../../core/inventory/assignment.ts';
import { setDestination } from '../../../core/inventory/edit-did.ts';
import {
  getCallTransfer,
  setAccountCallTransfer,
  setRingTimeout,
  setTransferDestination,
  setTransferEnabled,
  TRANSFER_CONDITIONS,
} from '../../../core/transfer/call-transfer.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { errorOf } from '../../helpers/errors.ts';
import { actorOf, buildDid, buildHierarchy, ctxFor } from '../../helpers/factories.ts';

const t = useTestDatabase();

const A = '+18665550100';
const B = '+12125550142';
const C = '+13105550123';
const LONDON = '+442079460000';

/** The hierarchy, with numbers in use: A and B by acme, C by initech (via globaltel), one each for the
 * voipco side, one held by voipco itself, plus a free and an aging number. */
async function world() {
  const h = await buildHierarchy(t.db);
  const assigned = (number: string, customer: Account, owner: Account | null = null) =>
    buildDid(t.db, {
      number,
      status: 'assigned',
      assigned_account_id: customer.id,
      owner_account_id: owner?.id ?? null,
    });
  const dids = {
    a: await assigned(A, h.acme),
    b: await assigned(B, h.acme),
    c: await assigned(C, h.initech, h.otherReseller),
    bakeryLine: await assigned('+12125550150', h.bakery, h.reseller),
    dentalLine: await assigned('+12125550160', h.dental, h.subReseller),
    voipcoLine: await buildDid(t.db, {
      number: '+12125550170',
      status: 'assigned',
      owner_account_id: h.reseller.id,
    }),
    pool: await buildDid(t.db, { number: '+12125550180' }),
    aging: await buildDid(t.db, {
      number: '+12125550190',
      status: 'aging',
      aging_until: new Date('2026-03-20T00:00:00Z'),
    }),
  };
  const as = (account: Account, role: UserRole = 'owner') =>
    ctxFor(t.db, actorOf(account, role, 'telegram', 7));
  return { ...h, ...dids, as };
}

async function transferRow(number: string) {
  return t.db
    .selectFrom('call_transfers')
    .innerJoin('dids', 'dids.id', 'call_transfers.did_id')
    .selectAll('call_transfers')
    .where('dids.number', '=', number)
    .executeTakeFirst();
}

async function audits(action?: string) {
  let query = t.db.selectFrom('audit_events').selectAll().orderBy('id');
  if (action) query = query.where('action', '=', action);
  return query.execute();
}

async function versionOf(number: string) {
  const row = await t.db
    .selectFrom('dids')
    .select('version')
    .where('number', '=', number)
    .executeTakeFirstOrThrow();
  return row.version;
}

/** Sets destinations and, when asked, turns transfer on: the setup loop tests start from. */
async function configure(ctx: Ctx, number: string, destinations: Record<string, string>, enabled = true) {
  for (const [condition, destination] of Object.entries(destinations)) {
    await setTransferDestination(ctx, {
      number,
      condition: condition as (typeof TRANSFER_CONDITIONS)[number],
      destination,
    });
  }
  if (enabled) await setTransferEnabled(ctx, { number, enabled: true });
}

describe('getCallTransfer', () => {
  it('shows a number never configured: off, nothing set, 20 s ring, the holder and its switch', async () => {
    const w = await world();
    const view = await getCallTransfer(w.staff, '+1 (866) 555-0100');
    expect(view).toEqual({
      number: A,
      didId: w.a.id,
      version: w.a.version,
      status: 'assigned',
      holder: 'acme',
      enabled: false,
      accountEnabled: true,
      effective: false,
      destinations: { busy: null, no_answer: null, unreachable: null, always: null },
      ringTimeoutSeconds: 20,
    });
    expect(await transferRow(A)).toBeUndefined();
  });

  it('names the customer as holder of a reseller customer’s number, and the reseller for its own', async () => {
    const w = await world();
    expect((await getCallTransfer(w.staff, w.bakeryLine.number)).holder).toBe('bakery');
    expect((await getCallTransfer(w.staff, w.voipcoLine.number)).holder).toBe('voipco');
  });

  it('lets a viewer look', async () => {
    const w = await world();
    expect((await getCallTransfer(w.as(w.operator, 'viewer'), A)).number).toBe(A);
    expect((await getCallTransfer(w.as(w.acme, 'viewer'), A)).number).toBe(A);
  });
});

describe('setTransferDestination', () => {
  it('stores a PSTN number typed with spaces as E.164 and audits who, where from, before and after', async () => {
    const w = await world();
    const { view, changed } = await setTransferDestination(w.as(w.acme), {
      number: '+1 866 555 0100',
      condition: 'busy',
      destination: '+44 20 7946 0000',
    });
    expect(changed).toBe(true);
    expect(view.destinations.busy).toEqual({ type: 'pstn', value: LONDON });
    expect(view.enabled).toBe(false);
    expect(await transferRow(A)).toMatchObject({ busy_destination: LONDON, enabled: false });

    const [audit, ...more] = await audits();
    expect(more).toEqual([]);
    expect(audit).toMatchObject({
      action: 'transfer.destination',
      channel: 'telegram',
      actor_user_id: 7,
      actor_account_id: w.acme.id,
      actor_label: 'telegram:test-acme-owner',
      did_id: w.a.id,
      account_id: w.acme.id,
      subject: A,
      before: { busy_destination: null },
      after: { busy_destination: LONDON },
    });
  });

  it('stores a SIP address with a port, the scheme in lower case, for every condition', async () => {
    const w = await world();
    for (const condition of TRANSFER_CONDITIONS) {
      await setTransferDestination(w.staff, {
        number: A,
        condition,
        destination: `SIP:${condition}@pbx.acme.example:5061`,
      });
    }
    const view = await getCallTransfer(w.staff, A);
    expect(view.destinations).toEqual({
      busy: { type: 'sip', value: 'sip:busy@pbx.acme.example:5061' },
      no_answer: { type: 'sip', value: 'sip:no_answer@pbx.acme.example:5061' },
      unreachable: { type: 'sip', value: 'sip:unreachable@pbx.acme.example:5061' },
      always: { type: 'sip', value: 'sip:always@pbx.acme.example:5061' },
    });
    expect((await audits('transfer.destination')).map((a) => a.after)).toEqual([
      { busy_destination: 'sip:busy@pbx.acme.example:5061' },
      { no_answer_destination: 'sip:no_answer@pbx.acme.example:5061' },
      { unreachable_destination: 'sip:unreachable@pbx.acme.example:5061' },
      { always_destination: 'sip:always@pbx.acme.example:5061' },
    ]);
  });

  it('is idempotent: the same destination again, or clearing an unset one, writes nothing', async () => {
    const w = await world();
    await setTransferDestination(w.staff, { number: A, condition: 'busy', destination: LONDON });
    const version = await versionOf(A);
    const again = await setTransferDestination(w.staff, {
      number: A,
      condition: 'busy',
      destination: '0044 20 7946 0000',
    });
    expect(again.changed).toBe(false);
    expect(again.view.destinations.busy).toEqual({ type: 'pstn', value: LONDON });
    const clearUnset = await setTransferDestination(w.staff, {
      number: A,
      condition: 'always',
      destination: 'none',
    });
    expect(clearUnset.changed).toBe(false);
    expect(await audits()).toHaveLength(1);
    expect(await versionOf(A)).toBe(version);
  });

  it('moves the number’s version on a change, so buttons drawn before are stale', async () => {
    const w = await world();
    const before = await versionOf(A);
    const { view } = await setTransferDestination(w.staff, {
      number: A,
      condition: 'busy',
      destination: LONDON,
    });
    expect(view.version).toBe(before + 1);
    expect(await versionOf(A)).toBe(before + 1);
  });

  it('"none" clears; clearing the last destination of a transfer that is on turns it off too', async () => {
    const w = await world();
    await configure(w.staff, A, { busy: LONDON, always: 'sip:desk@pbx.example.com' });
    await setTransferDestination(w.staff, { number: A, condition: 'always', destination: 'None' });
    expect(await transferRow(A)).toMatchObject({ enabled: true, always_destination: null });
    const { view } = await setTransferDestination(w.staff, {
      number: A,
      condition: 'busy',
      destination: 'none',
    });
    expect(view).toMatchObject({ enabled: false, effective: false });
    expect(view.destinations.busy).toBeNull();
    const last = (await audits('transfer.destination')).at(-1);
    expect(last).toMatchObject({
      before: { enabled: true, busy_destination: LONDON },
      after: { enabled: false, busy_destination: null },
    });
  });

  const bad: [string, string, RegExp][] = [
    [
      'letters in a PSTN number',
      '+1 800 FLOWERS',
      /"\+1 800 FLOWERS" is not a phone number: it contains letters/,
    ],
    [
      'a SIP URI without a host',
      'sip:alice',
      /"sip:alice" is not a valid SIP URI: it needs a user and a host/,
    ],
    ['a SIP URI with an empty host', 'sip:alice@', /is not a valid SIP URI/],
    ['an extension', 'ext:1001', /"ext:1001" is an extension on the switch, not a transfer destination/],
    ['a bare extension', '1001', /is an extension on the switch/],
    ['a number with too few digits', '+44 12', /not a valid phone number/],
    ['nothing', '  ', /No destination given/],
  ];
  for (const [what, destination, message] of bad) {
    it(`refuses ${what} with a clear answer and changes nothing`, async () => {
      const w = await world();
      const error = await errorOf(
        setTransferDestination(w.staff, { number: A, condition: 'busy', destination }),
      );
      expect(error.code).toBe('invalid');
      expect(error.field).toBe('destination');
      expect(error.message).toMatch(message);
      expect(error.help).toContain('sip:desk@pbx.example.com');
      expect(error.help).not.toContain('ext:');
      expect(await transferRow(A)).toBeUndefined();
      expect(await audits()).toEqual([]);
    });
  }

  it('refuses the number forwarding to itself, however typed', async () => {
    const w = await world();
    for (const typed of ['+18665550100', '1 (866) 555-0100', '0018665550100']) {
      const error = await errorOf(
        setTransferDestination(w.staff, { number: A, condition: 'no_answer', destination: typed }),
      );
      expect(error.code).toBe('invalid');
      expect(error.message).toBe('+1 866 555 0100 cannot forward to itself.');
    }
    expect(await transferRow(A)).toBeUndefined();
    expect(await audits()).toEqual([]);
  });

  it('refuses an unknown condition from a front door that passes text', async () => {
    const w = await world();
    const error = await errorOf(
      setTransferDestination(w.staff, {
        number: A,
        condition: 'sometimes' as (typeof TRANSFER_CONDITIONS)[number],
        destination: LONDON,
      }),
    );
    expect(error).toMatchObject({ code: 'invalid', field: 'condition' });
  });
});

describe('loops through our own numbers', () => {
  it('refuses a two-hop loop, naming the numbers in turn, and changes nothing', async () => {
    const w = await world();
    await configure(w.staff, B, { busy: A });
    const before = await audits();
    const error = await errorOf(
      setTransferDestination(w.staff, { number: A, condition: 'busy', destination: B }),
    );
    expect(error.code).toBe('invalid');
    expect(error.message).toBe(
      '+1 866 555 0100 would forward round a loop: +1 866 555 0100 → +1 212 555 0142 → +1 866 555 0100.',
    );
    expect(await transferRow(A)).toBeUndefined();
    expect(await audits()).toEqual(before);
  });

  it('refuses a three-hop loop through another account’s number, whatever the conditions', async () => {
    const w = await world();
    await configure(w.staff, B, { no_answer: C });
    await configure(w.staff, C, { always: '+1 866 555 0100' });
    const error = await errorOf(
      setTransferDestination(w.staff, { number: A, condition: 'unreachable', destination: B }),
    );
    expect(error.message).toBe(
      '+1 866 555 0100 would forward round a loop: +1 866 555 0100 → +1 212 555 0142 → +1 310 555 0123 → +1 866 555 0100.',
    );
  });

  it('follows a number’s primary PSTN destination too', async () => {
    const w = await world();
    await t.db
      .updateTable('dids')
      .set({ destination_type: 'pstn', destination: A })
      .where('id', '=', w.b.id)
      .execute();
    const error = await errorOf(
      setTransferDestination(w.staff, { number: A, condition: 'busy', destination: B }),
    );
    expect(error.message).toContain(
      'would forward round a loop: +1 866 555 0100 → +1 212 555 0142 → +1 866 555 0100',
    );
  });

  it('does not follow a transfer that is off; turning it on later is refused when it closes the loop', async () => {
    const w = await world();
    await configure(w.staff, B, { busy: A }, false);
    await configure(w.staff, A, { busy: B }, true);
    expect((await getCallTransfer(w.staff, A)).effective).toBe(true);
    const error = await errorOf(setTransferEnabled(w.staff, { number: B, enabled: true }));
    expect(error.code).toBe('invalid');
    expect(error.message).toBe(
      '+1 212 555 0142 would forward round a loop: +1 212 555 0142 → +1 866 555 0100 → +1 212 555 0142.',
    );
    expect((await transferRow(B))?.enabled).toBe(false);
  });

  it('allows chains that end: at a SIP address, a number not ours, or a loop elsewhere that never returns', async () => {
    const w = await world();
    await configure(w.staff, B, { busy: C, always: 'sip:b@pbx.example.com' });
    await configure(w.staff, C, { no_answer: LONDON });
    // A loop between B and C from before these checks existed: the walk must end without coming back to A.
    await t.db
      .updateTable('call_transfers')
      .set({ busy_destination: B })
      .where('did_id', '=', w.c.id)
      .execute();
    const { changed } = await setTransferDestination(w.staff, {
      number: A,
      condition: 'busy',
      destination: B,
    });
    expect(changed).toBe(true);
  });

  it('two people closing a loop from both ends at once: the second waits for the first and is refused', async () => {
    const w = await world();
    await configure(w.staff, A, { always: LONDON });
    await configure(w.staff, B, { always: LONDON });
    // The first change is made but not yet committed while the second one runs.
    let applied!: () => void;
    let commit!: () => void;
    const firstApplied = new Promise<void>((resolve) => (applied = resolve));
    const committed = new Promise<void>((resolve) => (commit = resolve));
    const first = t.db.transaction().execute(async (trx) => {
      await setTransferDestination({ ...w.staff, db: trx }, { number: A, condition: 'busy', destination: B });
      applied();
      await committed;
    });
    await firstApplied;
    const second = setTransferDestination(w.as(w.acme), {
      number: B,
      condition: 'busy',
      destination: A,
    }).then(
      () => null,
      (error: unknown) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    commit();
    await first;
    const refusal = await second;
    expect(refusal).toMatchObject({ code: 'invalid' });
    expect((refusal as Error).message).toContain('would forward round a loop');
    expect((await transferRow(B))?.busy_destination).toBeNull();
  });
});

describe('setTransferEnabled', () => {
  it('refuses to turn on with no destination at all, saying to set one first', async () => {
    const w = await world();
    const error = await errorOf(setTransferEnabled(w.staff, { number: A, enabled: true }));
    expect(error.code).toBe('invalid');
    expect(error.message).toBe('+1 866 555 0100 has no transfer destination: set a destination first.');
    expect(error.help).toContain(`transfer ${A} busy +1 212 555 0142`);
    expect(await transferRow(A)).toBeUndefined();
    expect(await audits()).toEqual([]);
  });

  it('turns on and off, auditing each, and a repeat changes nothing', async () => {
    const w = await world();
    await setTransferDestination(w.staff, { number: A, condition: 'no_answer', destination: LONDON });
    const on = await setTransferEnabled(w.staff, { number: A, enabled: true });
    expect(on).toMatchObject({ changed: true, view: { enabled: true, effective: true } });
    expect((await setTransferEnabled(w.staff, { number: A, enabled: true })).changed).toBe(false);
    const off = await setTransferEnabled(w.staff, { number: A, enabled: false });
    expect(off).toMatchObject({ changed: true, view: { enabled: false, effective: false } });
    expect((await setTransferEnabled(w.staff, { number: A, enabled: false })).changed).toBe(false);
    const trail = (await audits()).filter((a) => a.action !== 'transfer.destination');
    expect(trail.map((a) => [a.action, a.before, a.after])).toEqual([
      ['transfer.enable', { enabled: false }, { enabled: true }],
      ['transfer.disable', { enabled: true }, { enabled: false }],
    ]);
  });

  it('turning off with nothing configured is a no-op that creates no row', async () => {
    const w = await world();
    expect((await setTransferEnabled(w.staff, { number: A, enabled: false })).changed).toBe(false);
    expect(await transferRow(A)).toBeUndefined();
  });

  it('refuses a stale version (a button drawn before the number changed) and changes nothing', async () => {
    const w = await world();
    await setTransferDestination(w.staff, { number: A, condition: 'busy', destination: LONDON });
    const shown = await getCallTransfer(w.staff, A);
    await setTransferDestination(w.staff, {
      number: A,
      condition: 'busy',
      destination: 'sip:x@pbx.example.com',
    });
    const error = await errorOf(
      setTransferEnabled(w.staff, { number: A, enabled: true, expectedVersion: shown.version }),
    );
    expect(error.code).toBe('conflict');
    expect(error.message).toBe('+1 866 555 0100 changed since it was shown; nothing was done.');
    expect((await transferRow(A))?.enabled).toBe(false);
    const current = await getCallTransfer(w.staff, A);
    const ok = await setTransferEnabled(w.staff, {
      number: A,
      enabled: true,
      expectedVersion: current.version,
    });
    expect(ok.changed).toBe(true);
  });

  it('a stale version is refused for destinations and ring timeouts too', async () => {
    const w = await world();
    const stale = (await getCallTransfer(w.staff, A)).version - 1;
    const destination = await errorOf(
      setTransferDestination(w.staff, {
        number: A,
        condition: 'busy',
        destination: LONDON,
        expectedVersion: stale,
      }),
    );
    expect(destination.code).toBe('conflict');
    const timeout = await errorOf(
      setRingTimeout(w.staff, { number: A, seconds: 30, expectedVersion: stale }),
    );
    expect(timeout.code).toBe('conflict');
    expect(await audits()).toEqual([]);
  });

  it('is not effective while the number is suspended', async () => {
    const w = await world();
    await configure(w.staff, A, { busy: LONDON });
    await t.db.updateTable('dids').set({ status: 'suspended' }).where('id', '=', w.a.id).execute();
    const view = await getCallTransfer(w.staff, A);
    expect(view).toMatchObject({ status: 'suspended', enabled: true, effective: false });
    // Settings can still be changed while it is suspended.
    expect((await setRingTimeout(w.staff, { number: A, seconds: 45 })).changed).toBe(true);
  });
});

describe('setRingTimeout', () => {
  it('sets 5 to 300 seconds, audits it, and a repeat changes nothing', async () => {
    const w = await world();
    const { view, changed } = await setRingTimeout(w.as(w.acme), { number: A, seconds: 35 });
    expect(changed).toBe(true);
    expect(view.ringTimeoutSeconds).toBe(35);
    expect((await setRingTimeout(w.as(w.acme), { number: A, seconds: 35 })).changed).toBe(false);
    await setRingTimeout(w.staff, { number: A, seconds: 5 });
    await setRingTimeout(w.staff, { number: A, seconds: 300 });
    expect((await audits('transfer.ring_timeout')).map((a) => [a.before, a.after])).toEqual([
      [{ ring_timeout_seconds: 20 }, { ring_timeout_seconds: 35 }],
      [{ ring_timeout_seconds: 35 }, { ring_timeout_seconds: 5 }],
      [{ ring_timeout_seconds: 5 }, { ring_timeout_seconds: 300 }],
    ]);
  });

  it.each([4, 301, 0, -5, 2.5, Number.NaN])('refuses %s seconds and changes nothing', async (seconds) => {
    const w = await world();
    const error = await errorOf(setRingTimeout(w.staff, { number: A, seconds }));
    expect(error).toMatchObject({ code: 'invalid', field: 'seconds' });
    expect(error.help).toBe('Use a whole number of seconds from 5 to 300.');
    expect(await transferRow(A)).toBeUndefined();
    expect(await audits()).toEqual([]);
  });
});

describe('who may change a number’s transfer', () => {
  it('a customer changes its own number, through its own channel', async () => {
    const w = await world();
    await configure(w.as(w.acme, 'operator'), A, { busy: LONDON });
    expect((await getCallTransfer(w.as(w.acme), A)).effective).toBe(true);
    expect((await audits()).every((a) => a.actor_account_id === w.acme.id && a.channel === 'telegram')).toBe(
      true,
    );
  });

  it("a customer is told another customer's number is not in the inventory, and nothing changes", async () => {
    const w = await world();
    const bakery = w.as(w.bakery);
    for (const attempt of [
      () => setTransferDestination(bakery, { number: A, condition: 'busy', destination: LONDON }),
      () => setTransferEnabled(bakery, { number: C, enabled: false }),
      () => setRingTimeout(bakery, { number: w.dentalLine.number, seconds: 30 }),
      () => getCallTransfer(bakery, A),
    ]) {
      const error = await errorOf(attempt());
      expect(error.code).toBe('not_found');
      expect(error.message).toMatch(/is not in the inventory\.$/);
      expect(error.message).not.toContain('acme');
    }
    expect(await t.db.selectFrom('call_transfers').selectAll().execute()).toEqual([]);
    expect(await audits()).toEqual([]);
  });

  it('a viewer, of a customer or of the operator, is forbidden', async () => {
    const w = await world();
    for (const ctx of [w.as(w.acme, 'viewer'), w.as(w.operator, 'viewer'), w.as(w.reseller, 'viewer')]) {
      const error = await errorOf(
        setTransferDestination(ctx, { number: A, condition: 'busy', destination: LONDON }),
      );
      expect(error.code).toBe('forbidden');
      expect(error.message).toBe('Your role (viewer) cannot change call transfer.');
      expect(error.help).toBe(
        'Ask someone with the operator or above role to do it, or to change your role.',
      );
    }
    expect(await audits()).toEqual([]);
  });

  it('a reseller changes the numbers of its subtree, not those of others', async () => {
    const w = await world();
    const voipco = w.as(w.reseller, 'operator');
    for (const number of [w.bakeryLine.number, w.dentalLine.number, w.voipcoLine.number]) {
      expect(
        (await setTransferDestination(voipco, { number, condition: 'busy', destination: LONDON })).changed,
      ).toBe(true);
    }
    for (const number of [A, C]) {
      const error = await errorOf(
        setTransferDestination(voipco, { number, condition: 'busy', destination: LONDON }),
      );
      expect(error.code).toBe('not_found');
    }
    // A sub-reseller reaches down, not up.
    const east = w.as(w.subReseller, 'admin');
    expect((await setRingTimeout(east, { number: w.dentalLine.number, seconds: 30 })).changed).toBe(true);
    expect((await errorOf(setRingTimeout(east, { number: w.bakeryLine.number, seconds: 30 }))).code).toBe(
      'not_found',
    );
  });

  it('operator staff change any number in use', async () => {
    const w = await world();
    for (const number of [A, C, w.bakeryLine.number, w.dentalLine.number]) {
      expect((await setRingTimeout(w.staff, { number, seconds: 25 })).changed).toBe(true);
    }
  });

  it('a number not in use has no transfer: assign it first', async () => {
    const w = await world();
    const disabled = await buildDid(t.db, { number: '+12125550199', status: 'disabled' });
    for (const number of [w.pool.number, w.aging.number, disabled.number]) {
      const error = await errorOf(
        setTransferDestination(w.staff, { number, condition: 'busy', destination: LONDON }),
      );
      expect(error.code).toBe('conflict');
      expect(error.message).toContain('Assign it first.');
      expect(error.help).toBe(`assign ${number} <account>`);
      expect((await errorOf(getCallTransfer(w.staff, number))).code).toBe('conflict');
    }
    // The pool is public, so a customer hears the same; an aging number is nobody's, so it is not found.
    expect(
      (await errorOf(setTransferEnabled(w.as(w.acme), { number: w.pool.number, enabled: true }))).code,
    ).toBe('conflict');
    expect(
      (await errorOf(setTransferEnabled(w.as(w.acme), { number: w.aging.number, enabled: true }))).code,
    ).toBe('not_found');
    expect(await audits()).toEqual([]);
  });

  it('a number not in the inventory, or not a number, is said so', async () => {
    const w = await world();
    expect((await errorOf(getCallTransfer(w.staff, '+12125559999'))).code).toBe('not_found');
    const notANumber = await errorOf(setTransferEnabled(w.staff, { number: 'acme', enabled: true }));
    expect(notANumber).toMatchObject({ code: 'invalid', field: 'number' });
  });
});

describe('setAccountCallTransfer', () => {
  it("switches an account off: its numbers' settings stay, but nothing is transferred; audited once", async () => {
    const w = await world();
    await configure(w.staff, A, { busy: LONDON });
    const admin = w.as(w.operator, 'admin');
    const off = await setAccountCallTransfer(admin, { account: 'acme', enabled: false });
    expect(off.changed).toBe(true);
    expect(off.account.call_transfer_enabled).toBe(false);
    expect(await getCallTransfer(w.staff, A)).toMatchObject({
      enabled: true,
      accountEnabled: false,
      effective: false,
    });
    expect((await setAccountCallTransfer(admin, { account: 'acme', enabled: false })).changed).toBe(false);
    const trail = await audits('account.call_transfer');
    expect(trail).toHaveLength(1);
    expect(trail[0]).toMatchObject({
      account_id: w.acme.id,
      subject: 'acme',
      channel: 'telegram',
      before: { call_transfer_enabled: true },
      after: { call_transfer_enabled: false },
    });
    await setAccountCallTransfer(admin, { account: w.acme.id, enabled: true });
    expect((await getCallTransfer(w.staff, A)).effective).toBe(true);
  });

  it('a reseller admin switches accounts below it, not others, and not its own', async () => {
    const w = await world();
    const voipco = w.as(w.reseller, 'admin');
    expect((await setAccountCallTransfer(voipco, { account: 'bakery', enabled: false })).changed).toBe(true);
    expect((await getCallTransfer(w.staff, w.bakeryLine.number)).accountEnabled).toBe(false);
    expect((await setAccountCallTransfer(voipco, { account: 'voipco-east', enabled: false })).changed).toBe(
      true,
    );
    expect((await errorOf(setAccountCallTransfer(voipco, { account: 'acme', enabled: false }))).code).toBe(
      'not_found',
    );
    const own = await errorOf(setAccountCallTransfer(voipco, { account: 'voipco', enabled: true }));
    expect(own.code).toBe('invalid');
    expect(own.message).toBe("You cannot change your own account's call transfer switch.");
  });

  it('needs the admin role, and customers cannot switch accounts at all', async () => {
    const w = await world();
    for (const ctx of [w.as(w.operator, 'operator'), w.as(w.reseller, 'operator'), w.as(w.acme, 'owner')]) {
      expect((await errorOf(setAccountCallTransfer(ctx, { account: 'bakery', enabled: false }))).code).toBe(
        'forbidden',
      );
    }
    expect(await audits()).toEqual([]);
  });

  it("a customer's own switch on and off leaves its numbers' settings as they were", async () => {
    const w = await world();
    await configure(w.as(w.acme), A, { busy: LONDON, no_answer: 'sip:desk@pbx.example.com' });
    const before = await transferRow(A);
    await setAccountCallTransfer(w.as(w.operator, 'admin'), { account: 'acme', enabled: false });
    await setAccountCallTransfer(w.as(w.operator, 'admin'), { account: 'acme', enabled: true });
    expect(await transferRow(A)).toEqual(before);
  });
});

describe('switches above the holder', () => {
  it("a reseller switched off stops its customers' and sub-resellers' transfers, and on gives them back", async () => {
    const w = await world();
    await configure(w.staff, '+12125550150', { busy: LONDON });
    await configure(w.staff, '+12125550160', { always: LONDON });
    await setAccountCallTransfer(w.as(w.operator, 'admin'), { account: 'voipco', enabled: false });
    expect(await getCallTransfer(w.staff, '+12125550150')).toMatchObject({
      enabled: true,
      accountEnabled: false,
      effective: false,
    });
    expect(await getCallTransfer(w.staff, '+12125550160')).toMatchObject({
      accountEnabled: false,
      effective: false,
    });
    expect((await getCallTransfer(w.staff, C)).accountEnabled).toBe(true);
    await setAccountCallTransfer(w.as(w.operator, 'admin'), { account: 'voipco', enabled: true });
    expect((await getCallTransfer(w.staff, '+12125550160')).effective).toBe(true);
  });
});

describe('primary destinations and loops', () => {
  it('refuses routing a number to one of ours that transfers back to it', async () => {
    const w = await world();
    await configure(w.staff, A, { always: B });
    const error = await errorOf(setDestination(w.staff, B, A));
    expect(error.code).toBe('invalid');
    expect(error.message).toBe(
      '+1 212 555 0142 would forward round a loop: +1 212 555 0142 → +1 866 555 0100 → +1 212 555 0142.',
    );
    const row = await t.db
      .selectFrom('dids')
      .select('destination')
      .where('number', '=', B)
      .executeTakeFirstOrThrow();
    expect(row.destination).toBeNull();
    expect((await setDestination(w.staff, B, LONDON)).changed).toBe(true);
  });
});

describe('release', () => {
  it('clears the transfer with the number', async () => {
    const w = await world();
    await configure(w.staff, A, { busy: LONDON });
    await setRingTimeout(w.staff, { number: A, seconds: 40 });
    await releaseDid(w.staff, { number: A });
    expect(await transferRow(A)).toBeUndefined();
    expect((await errorOf(getCallTransfer(w.staff, A))).code).toBe('conflict');
  });
});

describe('the transfer command', () => {
  async function run(ctx: Ctx, text: string) {
    const parsed = parseCommand(text, 'chat');
    if (!parsed.ok) expect.fail(parsed.message);
    return renderText(await executeCommand(ctx, parsed.command, { channel: 'chat' }));
  }

  it('shows the settings and what to do next, and words each change', async () => {
    const w = await world();
    const acme = w.as(w.acme);
    const empty = await run(acme, 'transfer +1 866 555 0100');
    expect(empty).toContain('Call transfer for +1 866 555 0100 (acme)');
    expect(empty).toMatch(/Transfer:\s+off/);
    expect(empty).toMatch(/No answer →\s+not set \(rings 20 s\)/);
    expect(empty).toContain(`/did transfer ${A} busy +1 212 555 0142`);

    expect(await run(acme, 'transfer +1 866 555 0100 no answer +44 20 7946 0000')).toContain(
      '✓ No answer: calls to +1 866 555 0100 now go to +44 20 7946 0000.',
    );
    const timed = await run(acme, 'transfer 18665550100 timeout 30');
    expect(timed).toContain('✓ Calls to +1 866 555 0100 now ring 30 s before no answer applies.');
    expect(timed).toMatch(/No answer →\s+\+44 20 7946 0000 \(after 30 s\)/);
    expect(timed).toContain(`/did transfer ${A} on`);
    const on = await run(acme, 'transfer 18665550100 on');
    expect(on).toContain('✓ Call transfer is now on for +1 866 555 0100.');
    expect(on).toMatch(/Transfer:\s+on$/m);
    expect(await run(acme, 'transfer 18665550100 on')).toContain('already was on');

    await setAccountCallTransfer(w.as(w.operator, 'admin'), { account: 'acme', enabled: false });
    expect(await run(acme, 'transfer 18665550100')).toMatch(
      /Transfer:\s+on, but off for the whole account acme: no calls are transferred/,
    );

    const cleared = await run(acme, 'transfer 18665550100 noanswer none');
    expect(cleared).toContain('✓ No answer: destination cleared for +1 866 555 0100.');
    expect(cleared).toContain('Call transfer is off: no destination is left.');
  });
});

describe('effects for audit channels', () => {
  it('a change carries a one-line effect; a no-op carries none', async () => {
    const w = await world();
    const run = async (text: string) => {
      const parsed = parseCommand(text, 'chat');
      if (!parsed.ok) expect.fail(parsed.message);
      return executeCommand(w.as(w.operator, 'admin'), parsed.command, { channel: 'chat' });
    };
    expect((await run('account transfer acme off')).effect).toBe('turned call transfer off for account acme');
    const again = await run('account transfer acme off');
    expect(again.effect).toBeUndefined();
    expect(renderText(again)).toBe('Call transfer already was off for acme; nothing changed.');
    expect((await run(`transfer ${A} busy +44 20 7946 0000`)).effect).toBe(
      'set busy transfer of +1 866 555 0100 to +44 20 7946 0000',
    );
    expect((await run('release +1 866 555 0100')).effect).toBe('released +1 866 555 0100');
    expect((await run('assign 12125550180 acme')).effect).toBe('assigned +1 212 555 0180 to acme');
    expect((await run('assign 12125550180 acme')).effect).toBeUndefined();
  });
});
