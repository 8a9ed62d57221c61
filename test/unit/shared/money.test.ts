// Money in integer minor units: parsing what people type, formatting for people.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  currencyExponent,
  formatMoney,
  isCurrencyCode,
  microsToDecimal,
  minorToDecimal,
  parseDecimalUnits,
  parseMoney,
  parseRate,
  unitsToDecimal,
} from '../../../core/shared/money.ts';
import { DomainError } from '../../../core/shared/errors.ts';
import { syncErrorOf } from '../../helpers/errors.ts';

describe('currencyExponent and isCurrencyCode', () => {
  it('knows the minor units of a currency', () => {
    expect(currencyExponent('USD')).toBe(2);
    expect(currencyExponent('EUR')).toBe(2);
    expect(currencyExponent('GBP')).toBe(2);
    expect(currencyExponent('JPY')).toBe(0);
    expect(currencyExponent('BHD')).toBe(3);
  });

  it('accepts ISO 4217 codes in capitals only', () => {
    expect(isCurrencyCode('USD')).toBe(true);
    expect(isCurrencyCode('JPY')).toBe(true);
    expect(isCurrencyCode('usd')).toBe(false);
    expect(isCurrencyCode('US')).toBe(false);
    expect(isCurrencyCode('ABC')).toBe(false);
    expect(isCurrencyCode('')).toBe(false);
  });
});

describe('parseMoney', () => {
  it.each([
    ['1.50', 'USD', 150],
    ['0', 'USD', 0],
    ['12', 'USD', 1200],
    ['1.5', 'USD', 150],
    ['0.01', 'USD', 1],
    ['1.', 'USD', 100],
    [' 2.00 ', 'USD', 200],
    ['1.500', 'USD', 150],
    ['$1.50', 'USD', 150],
    ['€9.99', 'EUR', 999],
    ['£0.75', 'GBP', 75],
    ['1500', 'JPY', 1500],
    ['1500.0', 'JPY', 1500],
    ['1.505', 'BHD', 1505],
    ['10000000000000', 'USD', 1_000_000_000_000_000],
  ])('reads %j %s as %d minor units', (typed, currency, minor) => {
    expect(parseMoney(typed, currency)).toBe(minor);
  });

  it('refuses a negative amount and says to use 0', () => {
    for (const typed of ['-1.50', '-0', '$-1', ' -12 ']) {
      const error = syncErrorOf(() => parseMoney(typed, 'USD', 'The setup fee'));
      expect(error.code).toBe('invalid');
      expect(error.message).toBe(`The setup fee cannot be negative (got ${typed.trim()}).`);
      expect(error.help).toBe('Use 0 for free.');
    }
  });

  it('refuses more decimals than the currency has', () => {
    expect(syncErrorOf(() => parseMoney('1.505', 'USD')).message).toBe(
      'The amount has more than 2 decimal places (got 1.505).',
    );
    expect(syncErrorOf(() => parseMoney('0.001', 'EUR')).message).toBe(
      'The amount has more than 2 decimal places (got 0.001).',
    );
    expect(syncErrorOf(() => parseMoney('1.5', 'JPY')).message).toBe(
      'The amount has more than 0 decimal places (got 1.5).',
    );
  });

  it.each([
    '',
    'abc',
    '1,50',
    '1,000.00',
    '1.2.3',
    '.50',
    '1e3',
    'Infinity',
    'NaN',
    '0x10',
    '+1',
    '1 50',
    '٣',
  ])('refuses %j as not an amount', (typed) => {
    const error = syncErrorOf(() => parseMoney(typed, 'USD', 'The monthly fee'));
    expect(error.code).toBe('invalid');
    expect(error.message).toBe(`The monthly fee must be an amount like 1.50 (got "${typed.trim()}").`);
  });

  it('refuses amounts beyond exact integers, saying they are too large', () => {
    expect(syncErrorOf(() => parseMoney('90071992547409.92', 'USD')).message).toBe(
      'The amount is too large (got 90071992547409.92).',
    );
    expect(syncErrorOf(() => parseMoney('9'.repeat(400), 'JPY')).message).toMatch(/^The amount is too large/);
    expect(parseMoney('90071992547409.91', 'USD')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('reads rates in micro-units', () => {
    expect(parseRate('0.0045')).toBe(4500);
    expect(parseRate('1')).toBe(1_000_000);
    expect(syncErrorOf(() => parseRate('0.0000001', 'The cost per minute')).message).toBe(
      'The cost per minute has more than 6 decimal places (got 0.0000001).',
    );
  });
});

describe('formatting', () => {
  it('formats for people with the currency symbol', () => {
    expect(formatMoney(150, 'USD')).toBe('$1.50');
    expect(formatMoney(150, 'GBP')).toBe('£1.50');
    expect(formatMoney(150, 'EUR')).toBe('€1.50');
    expect(formatMoney(0, 'USD')).toBe('$0.00');
    expect(formatMoney(123456, 'USD')).toBe('$1,234.56');
    expect(formatMoney(150, 'JPY')).toBe('¥150');
  });

  it('writes plain decimals for CSV and forms', () => {
    expect(minorToDecimal(150, 'USD')).toBe('1.50');
    expect(minorToDecimal(5, 'USD')).toBe('0.05');
    expect(minorToDecimal(0, 'USD')).toBe('0.00');
    expect(minorToDecimal(150, 'JPY')).toBe('150');
    expect(minorToDecimal(1505, 'BHD')).toBe('1.505');
    expect(unitsToDecimal(-5, 2)).toBe('-0.05');
    expect(unitsToDecimal(Number.MAX_SAFE_INTEGER, 6)).toBe('9007199254.740991');
  });

  it('writes rates with at least two decimals and no trailing zeros beyond them', () => {
    expect(microsToDecimal(4500)).toBe('0.0045');
    expect(microsToDecimal(0)).toBe('0.00');
    expect(microsToDecimal(10)).toBe('0.00001');
    expect(microsToDecimal(50_000)).toBe('0.05');
    expect(microsToDecimal(1_000_000)).toBe('1.00');
    expect(microsToDecimal(1_234_567)).toBe('1.234567');
  });
});

describe('properties', () => {
  it('reads back any non-negative safe amount it writes, for exponents 0 to 6', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat(), fc.maxSafeNat()), fc.integer({ min: 0, max: 6 }), (units, exponent) => {
        expect(parseDecimalUnits(unitsToDecimal(units, exponent), exponent, 'x')).toBe(units);
      }),
    );
  });

  it('reads back what minorToDecimal and microsToDecimal write', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.constantFrom('USD', 'EUR', 'JPY', 'BHD'), (amount, currency) => {
        expect(parseMoney(minorToDecimal(amount, currency), currency)).toBe(amount);
      }),
    );
    fc.assert(
      fc.property(fc.maxSafeNat(), (micros) => {
        const text = microsToDecimal(micros);
        expect(text).toMatch(/^\d+\.\d{2,6}$/);
        expect(parseRate(text)).toBe(micros);
      }),
    );
  });

  it('throws nothing but an invalid DomainError, on any text', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 30 }),
        fc.integer({ min: 0, max: 6 }),
        (text, exponent) => {
          try {
            const units = parseDecimalUnits(text, exponent, 'x');
            expect(Number.isSafeInteger(units) && units >= 0).toBe(true);
          } catch (error) {
            expect(error).toBeInstanceOf(DomainError);
            expect((error as DomainError).code).toBe('invalid');
          }
        },
      ),
    );
  });
});
