// Where a DID forwards calls: a SIP URI, a PSTN number or an extension, told apart by the form of the text.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseDestination } from '../../../core/numbers/destination.ts';
import { DomainError } from '../../../core/shared/errors.ts';
import { syncErrorOf } from '../../helpers/errors.ts';

const HELP =
  'Use a SIP URI (sip:user@host[:port]), a phone number with country code (+1 212 555 0123), or an extension (ext:1001).';

describe('parseDestination', () => {
  it.each([
    ['sip:100@pbx.example.com', 'sip:100@pbx.example.com'],
    ['sip:alice@10.0.0.1:5060', 'sip:alice@10.0.0.1:5060'],
    ['sips:bob@pbx.example.com', 'sips:bob@pbx.example.com'],
    ['sips:bob@pbx.example.com:5061', 'sips:bob@pbx.example.com:5061'],
    ['sip:100@pbx.example.com;transport=tcp', 'sip:100@pbx.example.com;transport=tcp'],
    ['sip:100@[2001:db8::1]:5060', 'sip:100@[2001:db8::1]:5060'],
    ['sip:+12125550123@trunk.carrier.net', 'sip:+12125550123@trunk.carrier.net'],
    ['  sip:100@pbx.example.com  ', 'sip:100@pbx.example.com'],
    ['SIP:100@PBX.example.com', 'sip:100@PBX.example.com'],
  ])('takes %j as the SIP URI %s', (typed, value) => {
    expect(parseDestination(typed)).toEqual({ type: 'sip', value });
  });

  it.each([
    ['1001', 'ext:1001'],
    ['ext:1001', 'ext:1001'],
    ['EXT:1001', 'ext:1001'],
    ['12', 'ext:12'],
    ['12345678', 'ext:12345678'],
  ])('takes %j as the extension %s', (typed, value) => {
    expect(parseDestination(typed)).toEqual({ type: 'extension', value });
  });

  it.each([
    ['+442079460000', '+442079460000'],
    ['+1 212 555 0123', '+12125550123'],
    ['+1 (212) 555-0123', '+12125550123'],
    ['0044 20 7946 0000', '+442079460000'],
    ['12125550123', '+12125550123'],
  ])('takes %j as the PSTN number %s', (typed, value) => {
    expect(parseDestination(typed)).toEqual({ type: 'pstn', value });
  });

  describe('refuses what is none of the three, saying what to type', () => {
    it.each([
      ['', 'No destination given.'],
      ['   ', 'No destination given.'],
      [
        'sip:pbx.example.com',
        '"sip:pbx.example.com" is not a valid SIP URI: it needs a user and a host, like sip:100@pbx.example.com.',
      ],
      [
        'sip:100@',
        '"sip:100@" is not a valid SIP URI: it needs a user and a host, like sip:100@pbx.example.com.',
      ],
      [
        'sip:@pbx.example.com',
        '"sip:@pbx.example.com" is not a valid SIP URI: it needs a user and a host, like sip:100@pbx.example.com.',
      ],
      [
        'sip:100@pbx.example.com:99999',
        '"sip:100@pbx.example.com:99999" is not a valid SIP URI: it needs a user and a host, like sip:100@pbx.example.com.',
      ],
      [
        'sip:100@-pbx.example.com',
        '"sip:100@-pbx.example.com" is not a valid SIP URI: it needs a user and a host, like sip:100@pbx.example.com.',
      ],
      [
        'sip:1 00@pbx.example.com',
        '"sip:1 00@pbx.example.com" is not a valid SIP URI: it needs a user and a host, like sip:100@pbx.example.com.',
      ],
      ['+1 212 CALL NOW', '"+1 212 CALL NOW" is not a phone number: it contains letters.'],
      ['pbx.example.com', '"pbx.example.com" is not a phone number: it contains letters.'],
      ['ext:1', '"ext:1" is not a phone number: it contains letters.'],
      ['1', '"1" is not a valid phone number.'],
      ['123456789', '"123456789" is not a valid phone number.'],
      ['+999 123 4567', '"+999 123 4567" is not a valid phone number.'],
      [`sip:${'a'.repeat(300)}@pbx.example.com`, 'That SIP URI has 320 characters; at most 255 fit.'],
    ])('%j', (typed, message) => {
      const error = syncErrorOf(() => parseDestination(typed));
      expect(error).toMatchObject({ code: 'invalid', message, help: HELP, field: 'destination' });
    });
  });

  describe('properties', () => {
    it('takes any 2 to 8 digits as an extension, with or without ext:', () => {
      fc.assert(
        fc.property(
          fc.stringMatching(/^[0-9]{2,8}$/),
          fc.constantFrom('', 'ext:', 'Ext:'),
          (digits, lead) => {
            expect(parseDestination(lead + digits)).toEqual({ type: 'extension', value: `ext:${digits}` });
          },
        ),
      );
    });

    it('refuses SIP users and parameters a switch would expand or split (FreeSWITCH ${...}, commas, pipes)', () => {
      for (const text of [
        'sip:${system(id)}@pbx.example.com',
        'sip:a,b@pbx.example.com',
        'sip:a|b@pbx.example.com',
        'sip:100@pbx.example.com;x=${y}',
        "sip:a'b@pbx.example.com",
      ]) {
        expect(syncErrorOf(() => parseDestination(text)).code).toBe('invalid');
      }
      expect(parseDestination('sip:100@pbx.example.com;transport=tcp').value).toBe(
        'sip:100@pbx.example.com;transport=tcp',
      );
    });

    it('keeps any well-formed SIP URI as typed, scheme in lower case', () => {
      const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
      fc.assert(
        fc.property(
          fc.constantFrom('sip', 'sips', 'SIP'),
          fc.stringMatching(/^[A-Za-z0-9_.~*+#-]{1,20}$/),
          fc.array(label, { minLength: 1, maxLength: 4 }),
          fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
          (scheme, user, labels, port) => {
            const rest = `${user}@${labels.join('.')}${port === undefined ? '' : `:${port}`}`;
            expect(parseDestination(`${scheme}:${rest}`)).toEqual({
              type: 'sip',
              value: `${scheme.toLowerCase()}:${rest}`,
            });
          },
        ),
      );
    });

    it('throws nothing but an invalid DomainError, and returns values of the stored forms', () => {
      const destinationish = fc.string({
        unit: fc.constantFrom(...'sip:ext@.0123456789+ -()[]abc;='),
        maxLength: 30,
      });
      for (const text of [fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), destinationish]) {
        fc.assert(
          fc.property(text, (input) => {
            try {
              const { type, value } = parseDestination(input);
              if (type === 'sip') expect(value).toMatch(/^sips?:[^@\s]+@\S+$/);
              if (type === 'pstn') expect(value).toMatch(/^\+[1-9]\d{1,14}$/);
              if (type === 'extension') expect(value).toMatch(/^ext:\d{2,8}$/);
            } catch (error) {
              expect(error).toBeInstanceOf(DomainError);
              expect((error as DomainError).code).toBe('invalid');
            }
          }),
          { numRuns: 300 },
        );
      }
    });
  });
});
