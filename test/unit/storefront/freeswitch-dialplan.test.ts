// The FreeSWITCH document builder on its own: escaping, what may go into a dial string, and documents that
// parse as FreeSWITCH expects whatever the decision holds.
import { describe, expect, it } from 'vitest';
import type { KnownNumberDecision } from '../../../core/routing/route-call.ts';
import {
  attr,
  dialString,
  dialplanDocument,
  notFoundDocument,
} from '../../../storefront/routes/freeswitch-dialplan.ts';
import { hunt, parseXml, readFreeswitchAnswer } from '../../helpers/xml.ts';

const OPTIONS = { context: 'public', gateway: 'pstn', profile: 'external' } as const;

const routed: KnownNumberDecision = {
  number: '+18665550100',
  action: 'route',
  account: { id: 7, slug: 'acme', name: 'Acme & Sons <"Ltd">' },
  reseller: null,
  destination: { type: 'sip', value: 'sip:reception@pbx.acme.example' },
  transfer: {
    enabled: false,
    busy: null,
    no_answer: null,
    unreachable: null,
    always: null,
    ring_timeout_seconds: 20,
  },
  call_timeout_seconds: 30,
  max_concurrent_calls: null,
  rating: {
    currency: 'USD',
    connection_cost: '0.00',
    per_minute_rate: '0.00',
    grace_seconds: 0,
    initial_increment: 1,
    increment: 1,
  },
};

describe('FreeSWITCH dialplan documents', () => {
  it('escapes the five XML specials in attribute values', () => {
    expect(attr(`a&b<c>d"e'f`)).toBe('a&amp;b&lt;c&gt;d&quot;e&apos;f');
    expect(parseXml(`<x v="${attr(`a&b<c>d"e'f`)}"/>`).attributes.v).toBe(`a&b<c>d"e'f`);
  });

  it.each([
    [
      { type: 'sip', value: 'sip:100@pbx.example.com:5060;transport=tcp' },
      'sofia/external/100@pbx.example.com:5060;transport=tcp',
    ],
    [{ type: 'sip', value: 'sips:bob@pbx.example.com' }, 'sofia/external/sips:bob@pbx.example.com'],
    [{ type: 'sip', value: 'sip:100@[2001:db8::1]:5060' }, 'sofia/external/100@[2001:db8::1]:5060'],
    [{ type: 'pstn', value: '+442079460000' }, 'sofia/gateway/pstn/+442079460000'],
    [{ type: 'extension', value: 'ext:1001' }, 'user/1001@${domain_name}'],
  ])('dials %j as %s', (destination, expected) => {
    expect(dialString(destination, OPTIONS)).toBe(expected);
  });

  it.each([
    'sip:${system(id)}@evil.example',
    'sip:a@b.example,sofia/gateway/x/+19005550100',
    'sip:a@b.example|sofia/gateway/x/+19005550100',
    'sip:a@b.example;x={y}',
    'sip:a b@c.example',
    'sip:a@b.example;x="1"',
  ])('refuses to dial %j', (value) => {
    expect(dialString({ type: 'sip', value }, OPTIONS)).toBeNull();
  });

  it('repeats only plain destination numbers in a pattern', () => {
    const odd = readFreeswitchAnswer(dialplanDocument(routed, { ...OPTIONS, calledAs: '${x}"<' }));
    expect(odd.kind === 'dialplan' && odd.extensions[0]!.expression).toBe('^(?:\\+?18665550100)$');
    const other = readFreeswitchAnswer(dialplanDocument(routed, { ...OPTIONS, calledAs: '0018665550100' }));
    expect(hunt(other, '0018665550100')?.name).toBe('didops +18665550100');
    expect(hunt(other, '+18665550100')?.name).toBe('didops +18665550100');
    expect(hunt(other, '28665550100')).toBeNull();
  });

  it('produces well-formed documents of the expected shape', () => {
    expect(readFreeswitchAnswer(notFoundDocument())).toEqual({ kind: 'not found' });
    const answer = readFreeswitchAnswer(dialplanDocument(routed, OPTIONS));
    expect(answer.kind).toBe('dialplan');
    expect(
      readFreeswitchAnswer(
        dialplanDocument({ number: '+18665550100', action: 'reject', reason: 'unknown_number' }, OPTIONS),
      ),
    ).toEqual({ kind: 'not found' });
  });
});
