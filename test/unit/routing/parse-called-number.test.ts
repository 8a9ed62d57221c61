// The called number as switches send it: bare digits, E.164, tel: and SIP URIs; anything else is refused
// with advice.
import { describe, expect, it } from 'vitest';
import { parseCalledNumber } from '../../../core/routing/route-call.ts';
import { syncErrorOf } from '../../helpers/errors.ts';

describe('parseCalledNumber', () => {
  it.each([
    ['18665550100', '+18665550100'],
    ['+18665550100', '+18665550100'],
    [' +1 (866) 555-0100 ', '+18665550100'],
    ['442079460000', '+442079460000'],
    ['tel:+18665550100', '+18665550100'],
    ['tel:+1-866-555-0100;phone-context=+1', '+18665550100'],
    ['sip:+18665550100@sbc.carrier.example', '+18665550100'],
    ['SIP:18665550100@10.0.0.1:5060;user=phone', '+18665550100'],
    ['sips:+442079460000@[2001:db8::1]', '+442079460000'],
    ['sip:+18665550100?Subject=x', '+18665550100'],
  ])('reads %j as %s', (sent, e164) => {
    expect(parseCalledNumber(sent)).toBe(e164);
  });

  it.each([
    '',
    'banana',
    '12',
    'sip:reception@pbx.example',
    'sip:@host',
    '+1866555010012345678',
    '1000',
    'x'.repeat(300),
  ])('refuses %j with advice', (sent) => {
    const error = syncErrorOf(() => parseCalledNumber(sent));
    expect(error.code).toBe('invalid');
    expect(error.field).toBe('number');
    expect(error.help).toBe(
      'Send the called number with its country code: 18665550100, +18665550100, or sip:+18665550100@host.',
    );
  });
});
