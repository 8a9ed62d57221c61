// POST /api/v1/freeswitch/dialplan as FreeSWITCH's mod_xml_curl calls it (a form post, basic auth with the
// token as password): the answer must be the XML FreeSWITCH expects, and hunting it must do what the
// routing decision says, failover per condition included.
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../helpers/database.ts';
import { buildDid } from '../../helpers/factories.ts';
import {
  hunt,
  readFreeswitchAnswer,
  type DialplanExtension,
  type FreeswitchAnswer,
} from '../../helpers/xml.ts';
import { bearer, routingWorld, serve } from './fixtures.ts';

const t = useTestDatabase();

const PATH = '/api/v1/freeswitch/dialplan';

/** The fields mod_xml_curl posts for a dialplan lookup (the real request carries hundreds more). */
function dialplanRequest(destination: string, extra: Record<string, string> = {}): URLSearchParams {
  return new URLSearchParams({
    hostname: 'fs1',
    section: 'dialplan',
    tag_name: '',
    key_name: '',
    key_value: '',
    'Event-Name': 'REQUEST_PARAMS',
    'Core-UUID': '4b6c3a0e-0f4a-4b0e-9f5e-2d1c9a7b8e6f',
    'Hunt-Context': 'public',
    'Hunt-Destination-Number': destination,
    'Caller-Context': 'public',
    'Caller-Destination-Number': destination,
    'Caller-Caller-ID-Number': '+442079460123',
    'Caller-Network-Addr': '203.0.113.7',
    variable_sip_to_user: destination,
    variable_sip_from_host: 'sbc.carrier.example',
    ...extra,
  });
}

const basic = (token: string, user = 'freeswitch') => ({
  authorization: `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`,
});

async function ask(
  base: string,
  headers: Record<string, string>,
  body: URLSearchParams,
  query = '',
): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(`${base}${PATH}${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

async function dialplanFor(
  base: string,
  token: string,
  destination: string,
  query = '',
): Promise<FreeswitchAnswer> {
  const response = await ask(base, basic(token), dialplanRequest(destination), query);
  expect(response.status).toBe(200);
  expect(response.type).toMatch(/^text\/xml/);
  return readFreeswitchAnswer(response.text);
}

/** The extension FreeSWITCH picks for a destination; fails the test when none matches. */
function picked(answer: FreeswitchAnswer, destination: string): DialplanExtension {
  const extension = hunt(answer, destination);
  if (!extension) expect.fail(`no extension matches ${destination}`);
  return extension;
}

const data = (extension: DialplanExtension, application: string) =>
  extension.actions.filter(([app]) => app === application).map(([, d]) => d);

describe('FreeSWITCH mod_xml_curl dialplan', () => {
  it('bridges to the primary destination and fails over per condition', async () => {
    const w = await routingWorld(t.db);
    const did = await w.assigned(w.bakery, {
      number: '+18665550100',
      destination: 'sip:reception@pbx.bakery.example:5070',
      max_concurrent_calls: 4,
      per_minute_rate_micros: 4_500,
    });
    await w.transfer(did, {
      enabled: true,
      busy_destination: '+442079460000',
      no_answer_destination: 'sip:desk@pbx.bakery.example',
      unreachable_destination: '+12125550199',
      ring_timeout_seconds: 25,
    });
    const answer = await dialplanFor(await serve(t.db), w.token, '+18665550100');
    if (answer.kind !== 'dialplan') expect.fail('expected a dialplan');
    expect(answer.context).toBe('public');

    // The call as dialled, with or without the +.
    const main = picked(answer, '+18665550100');
    expect(picked(answer, '18665550100')).toBe(main);
    expect(data(main, 'set')).toEqual(
      expect.arrayContaining([
        'didops_number=+18665550100',
        'didops_account=bakery',
        'didops_reseller=voipco',
        'didops_per_minute_rate=0.0045',
        // With a no-answer destination, ring for the transfer's ring timeout, not the number's call timeout.
        'call_timeout=25',
        'continue_on_fail=true',
        'hangup_after_bridge=true',
      ]),
    );
    expect(data(main, 'limit')).toEqual(['hash didops +18665550100 4 !USER_BUSY']);
    expect(main.actions.slice(-2)).toEqual([
      ['bridge', 'sofia/external/reception@pbx.bakery.example:5070'],
      ['transfer', 'didops-failover-${originate_disposition}-+18665550100 XML public'],
    ]);

    // What FreeSWITCH hunts after the bridge fails, by originate_disposition.
    const failover = (disposition: string) => picked(answer, `didops-failover-${disposition}-+18665550100`);
    expect(data(failover('USER_BUSY'), 'bridge')).toEqual(['sofia/gateway/pstn/+442079460000']);
    for (const disposition of ['NO_ANSWER', 'ALLOTTED_TIMEOUT']) {
      expect(data(failover(disposition), 'bridge'), disposition).toEqual([
        'sofia/external/desk@pbx.bakery.example',
      ]);
    }
    for (const disposition of [
      'USER_NOT_REGISTERED',
      'NORMAL_TEMPORARY_FAILURE',
      'NO_ROUTE_DESTINATION',
      '',
    ]) {
      expect(data(failover(disposition), 'bridge'), disposition).toEqual(['sofia/gateway/pstn/+12125550199']);
    }
    // A failed failover ends the call with the cause the caller should hear.
    expect(failover('USER_BUSY').actions.at(-1)).toEqual(['hangup', '${originate_disposition}']);
    // The failover names never match the primary extension (no loop back into the first bridge).
    expect(hunt(answer, 'didops-failover-USER_BUSY-+18665550100')).not.toBe(main);
  });

  it('answers the failover hunt itself: FreeSWITCH asks again with the failover name', async () => {
    const w = await routingWorld(t.db);
    const did = await w.assigned(w.acme, { number: '+18665550101' });
    await w.transfer(did, { enabled: true, busy_destination: '+442079460000' });
    const base = await serve(t.db);
    const again = await dialplanFor(base, w.token, 'didops-failover-USER_BUSY-+18665550101');
    expect(data(picked(again, 'didops-failover-USER_BUSY-+18665550101'), 'bridge')).toEqual([
      'sofia/gateway/pstn/+442079460000',
    ]);
    // Conditions without a destination hang up with the cause the primary leg ended with.
    expect(picked(again, 'didops-failover-NO_ANSWER-+18665550101').actions).toEqual([
      ['hangup', '${originate_disposition}'],
    ]);
  });

  it('hangs up with the failure cause when transfer is off, and uses the call timeout', async () => {
    const w = await routingWorld(t.db);
    const did = await w.assigned(w.acme, { number: '+18665550102', call_timeout_seconds: 40 });
    await w.transfer(did, { enabled: false, busy_destination: '+442079460000' });
    const answer = await dialplanFor(await serve(t.db), w.token, '+18665550102');
    const main = picked(answer, '+18665550102');
    expect(data(main, 'set')).toContain('call_timeout=40');
    expect(data(main, 'transfer')).toEqual([]);
    expect(main.actions.slice(-2)).toEqual([
      ['bridge', 'sofia/external/reception@pbx.acme.example'],
      ['hangup', '${originate_disposition}'],
    ]);
    expect(data(main, 'limit')).toEqual([]);
  });

  it('bridges straight to the always destination', async () => {
    const w = await routingWorld(t.db);
    const did = await w.assigned(w.acme, { number: '+18665550103' });
    await w.transfer(did, {
      enabled: true,
      always_destination: '+442079460000',
      busy_destination: 'sip:desk@pbx.acme.example',
    });
    const main = picked(await dialplanFor(await serve(t.db), w.token, '+18665550103'), '+18665550103');
    expect(data(main, 'bridge')).toEqual(['sofia/gateway/pstn/+442079460000']);
    expect(main.actions.at(-1)).toEqual(['hangup', '${originate_disposition}']);
  });

  it('uses the gateway and profile named in the gateway-url, and the caller’s context', async () => {
    const w = await routingWorld(t.db);
    const did = await w.assigned(w.acme, {
      number: '+18665550104',
      destination_type: 'pstn',
      destination: '+442079460000',
    });
    await w.transfer(did, { enabled: true, unreachable_destination: 'sip:backup@pbx.acme.example' });
    const base = await serve(t.db);
    const response = await ask(
      base,
      basic(w.token),
      dialplanRequest('18665550104', { 'Hunt-Context': 'from-carrier', 'Caller-Context': 'from-carrier' }),
      '?gateway=carrier-b&profile=internet',
    );
    const answer = readFreeswitchAnswer(response.text);
    if (answer.kind !== 'dialplan') expect.fail('expected a dialplan');
    expect(answer.context).toBe('from-carrier');
    const main = picked(answer, '18665550104');
    expect(data(main, 'bridge')).toEqual(['sofia/gateway/carrier-b/+442079460000']);
    expect(data(main, 'transfer')).toEqual([
      'didops-failover-${originate_disposition}-+18665550104 XML from-carrier',
    ]);
    expect(data(picked(answer, 'didops-failover-X-+18665550104'), 'bridge')).toEqual([
      'sofia/internet/backup@pbx.acme.example',
    ]);
    const bad = await ask(base, basic(w.token), dialplanRequest('18665550104'), '?gateway=a%20b');
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/gateway= and profile= must be plain names/);
  });

  it('bridges an extension on the switch to the registered user', async () => {
    const w = await routingWorld(t.db);
    await w.assigned(w.acme, {
      number: '+18665550105',
      destination_type: 'extension',
      destination: 'ext:1001',
    });
    const main = picked(await dialplanFor(await serve(t.db), w.token, '+18665550105'), '+18665550105');
    expect(data(main, 'bridge')).toEqual(['user/1001@${domain_name}']);
  });

  it('sends a number without a destination to its unreachable failover', async () => {
    const w = await routingWorld(t.db);
    const did = await w.assigned(w.acme, {
      number: '+18665550106',
      destination_type: null,
      destination: null,
    });
    const base = await serve(t.db);
    let main = picked(await dialplanFor(base, w.token, '+18665550106'), '+18665550106');
    expect(data(main, 'bridge')).toEqual([]);
    expect(main.actions.at(-1)).toEqual(['hangup', 'NO_ROUTE_DESTINATION']);
    await w.transfer(did, { enabled: true, unreachable_destination: '+442079460000' });
    const answer = await dialplanFor(await serve(t.db), w.token, '+18665550106');
    main = picked(answer, '+18665550106');
    expect(main.actions.at(-1)).toEqual([
      'transfer',
      'didops-failover-NO_ROUTE_DESTINATION-+18665550106 XML public',
    ]);
    expect(data(picked(answer, 'didops-failover-NO_ROUTE_DESTINATION-+18665550106'), 'bridge')).toEqual([
      'sofia/gateway/pstn/+442079460000',
    ]);
  });

  it.each([
    ['suspended', { status: 'suspended' }, 'INCOMING_CALL_BARRED'],
    [
      'not in service',
      { status: 'available', owner_account_id: null, assigned_account_id: null },
      'UNALLOCATED_NUMBER',
    ],
  ] as const)(
    'refuses a %s number with a hangup cause, failover names included',
    async (_label, overrides, cause) => {
      const w = await routingWorld(t.db);
      if (overrides.status === 'available') await buildDid(t.db, { number: '+18665550107' });
      else await w.assigned(w.acme, { number: '+18665550107', ...overrides });
      const answer = await dialplanFor(await serve(t.db), w.token, '18665550107');
      if (answer.kind !== 'dialplan') expect.fail('expected a dialplan');
      expect(answer.extensions).toHaveLength(1);
      for (const destination of ['18665550107', '+18665550107', 'didops-failover-USER_BUSY-+18665550107']) {
        const extension = picked(answer, destination);
        expect(extension.actions.at(-1), destination).toEqual(['hangup', cause]);
        expect(data(extension, 'bridge')).toEqual([]);
      }
    },
  );

  it('refuses calls to numbers of a suspended account', async () => {
    const w = await routingWorld(t.db);
    await w.assigned(w.acme, { number: '+18665550108' });
    await t.db.updateTable('accounts').set({ status: 'suspended' }).where('id', '=', w.acme.id).execute();
    const extension = picked(await dialplanFor(await serve(t.db), w.token, '+18665550108'), '+18665550108');
    expect(extension.actions).toEqual([
      ['set', 'didops_reject_reason=account_suspended'],
      ['hangup', 'INCOMING_CALL_BARRED'],
    ]);
  });

  it('answers "not found" for unknown numbers, internal extensions and other sections', async () => {
    const w = await routingWorld(t.db);
    const base = await serve(t.db);
    for (const body of [
      dialplanRequest('+18005550199'),
      dialplanRequest('1000'),
      dialplanRequest('*97'),
      new URLSearchParams({ section: 'directory', key_name: 'name', key_value: 'fs1', user: '1000' }),
      new URLSearchParams({ section: 'dialplan' }),
    ]) {
      const response = await ask(base, basic(w.token), body);
      expect(response.status).toBe(200);
      expect(readFreeswitchAnswer(response.text)).toEqual({ kind: 'not found' });
    }
  });

  it('never puts an unsafe destination in a dial string', async () => {
    const w = await routingWorld(t.db);
    // What the SIP URI check lets through (user part and parameters): FreeSWITCH would expand ${...} as an
    // API call, and a comma or | starts another call leg.
    const did = await w.assigned(w.acme, {
      number: '+18665550109',
      destination: 'sip:${system(id)}@evil.example',
    });
    await w.transfer(did, {
      enabled: true,
      busy_destination: 'sip:a@evil.example;x=1,sofia/gateway/premium/+19005550100',
      no_answer_destination: 'sip:a@b.example;x=|x',
      unreachable_destination: '+442079460000',
    });
    const response = await ask(await serve(t.db), basic(w.token), dialplanRequest('+18665550109'));
    expect(response.text).not.toMatch(/system|premium|\|x/);
    const answer = readFreeswitchAnswer(response.text);
    // The primary is unusable: the call goes straight to the unreachable failover.
    expect(picked(answer, '+18665550109').actions.at(-1)).toEqual([
      'transfer',
      'didops-failover-NO_ROUTE_DESTINATION-+18665550109 XML public',
    ]);
    expect(picked(answer, 'didops-failover-USER_BUSY-+18665550109').actions).toEqual([
      ['hangup', '${originate_disposition}'],
    ]);
    expect(data(picked(answer, 'didops-failover-X-+18665550109'), 'bridge')).toEqual([
      'sofia/gateway/pstn/+442079460000',
    ]);
  });

  it('takes the token as basic-auth password (any user) or as bearer, and refuses anything else', async () => {
    const w = await routingWorld(t.db);
    await w.assigned(w.acme, { number: '+18665550110' });
    const base = await serve(t.db);
    const body = () => dialplanRequest('+18665550110');
    expect((await ask(base, basic(w.token, 'anyone'), body())).status).toBe(200);
    expect((await ask(base, basic(w.token, ''), body())).status).toBe(200);
    expect((await ask(base, bearer(w.token), body())).status).toBe(200);
    for (const headers of [
      {},
      basic('didops_rt_' + 'B'.repeat(43)),
      basic('wrong'),
      { authorization: `Basic ${Buffer.from(w.token).toString('base64')}` },
      { authorization: 'Basic !!!' },
    ]) {
      const response = await ask(base, headers, body());
      expect(response.status).toBe(401);
      expect(response.text).not.toMatch(/<document/);
      expect((JSON.parse(response.text) as { error: string }).error).toBe('unauthorized');
    }
    const response = await fetch(`${base}${PATH}`, { method: 'POST', body: body() });
    expect(response.headers.get('www-authenticate')).toBe(
      'Basic realm="didops routing", Bearer realm="didops routing"',
    );
  });
});
