// Call rating: worked examples computed by hand, then properties that hold for any DID's terms.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  callCostTable,
  describeRating,
  durationLabel,
  rateCall,
  ratingTermsOf,
  type RatingTerms,
} from '../../../core/billing/rating.ts';
import { syncErrorOf } from '../../helpers/errors.ts';

/** USD, per-second billing, nothing free, nothing per call: each case overrides what it is about. */
const terms = (overrides: Partial<RatingTerms> = {}): RatingTerms => ({
  connectionCostMicros: 0,
  perMinuteRateMicros: 0,
  graceSeconds: 0,
  initialIncrement: 1,
  increment: 1,
  currency: 'USD',
  ...overrides,
});

// USD: 1 cent = 10,000 micros. A rate of 60,000 micros/min ($0.06) is 1,000 micros a second.
const SIX_CENTS = 60_000;

describe('rateCall: worked examples', () => {
  // [what, terms, seconds, billedSeconds, costMicros, cost (minor units)]
  const cases: [string, Partial<RatingTerms>, number, number, number, number][] = [
    // 6/6 at $0.06/min: every started 6 s block is 6,000 micros (0.6 ¢).
    [
      '6/6, 1 s bills one block',
      { perMinuteRateMicros: SIX_CENTS, initialIncrement: 6, increment: 6 },
      1,
      6,
      6_000,
      1,
    ],
    [
      '6/6, exactly one block',
      { perMinuteRateMicros: SIX_CENTS, initialIncrement: 6, increment: 6 },
      6,
      6,
      6_000,
      1,
    ],
    [
      '6/6, 7 s is two blocks (1.2 ¢ -> 1 ¢)',
      { perMinuteRateMicros: SIX_CENTS, initialIncrement: 6, increment: 6 },
      7,
      12,
      12_000,
      1,
    ],
    [
      '6/6, 61 s -> 66 s (6.6 ¢ -> 7 ¢)',
      { perMinuteRateMicros: SIX_CENTS, initialIncrement: 6, increment: 6 },
      61,
      66,
      66_000,
      7,
    ],
    // 60/60 at $0.01/min: per started minute.
    [
      '60/60, 1 s is a whole minute',
      { perMinuteRateMicros: 10_000, initialIncrement: 60, increment: 60 },
      1,
      60,
      10_000,
      1,
    ],
    ['60/60, 60 s', { perMinuteRateMicros: 10_000, initialIncrement: 60, increment: 60 }, 60, 60, 10_000, 1],
    [
      '60/60, 61 s is two minutes',
      { perMinuteRateMicros: 10_000, initialIncrement: 60, increment: 60 },
      61,
      120,
      20_000,
      2,
    ],
    // 30/6 at $0.06/min: 30 s minimum, then 6 s steps (12 s -> 30 s; 39 s -> 30 + 6 + 6 = 42 s).
    [
      '30/6, 12 s -> 30 s',
      { perMinuteRateMicros: SIX_CENTS, initialIncrement: 30, increment: 6 },
      12,
      30,
      30_000,
      3,
    ],
    ['30/6, 30 s', { perMinuteRateMicros: SIX_CENTS, initialIncrement: 30, increment: 6 }, 30, 30, 30_000, 3],
    [
      '30/6, 31 s -> 36 s (3.6 ¢ -> 4 ¢)',
      { perMinuteRateMicros: SIX_CENTS, initialIncrement: 30, increment: 6 },
      31,
      36,
      36_000,
      4,
    ],
    [
      '30/6, 39 s -> 42 s (4.2 ¢ -> 4 ¢)',
      { perMinuteRateMicros: SIX_CENTS, initialIncrement: 30, increment: 6 },
      39,
      42,
      42_000,
      4,
    ],
    // Grace 5 s, $0.01 connection, $0.06/min per second.
    [
      'grace: a 4 s call is free',
      { graceSeconds: 5, connectionCostMicros: 10_000, perMinuteRateMicros: SIX_CENTS },
      4,
      0,
      0,
      0,
    ],
    [
      'grace: a 5 s call is free, no connection fee',
      { graceSeconds: 5, connectionCostMicros: 10_000, perMinuteRateMicros: SIX_CENTS },
      5,
      0,
      0,
      0,
    ],
    // 6 s - 5 s grace = 1 s billed: 10,000 + 1,000 micros = 1.1 ¢ -> 1 ¢.
    [
      'grace: a 6 s call pays the fee and 1 s',
      { graceSeconds: 5, connectionCostMicros: 10_000, perMinuteRateMicros: SIX_CENTS },
      6,
      1,
      11_000,
      1,
    ],
    // 65 s - 5 s = 60 s: 10,000 + 60,000 = 7 ¢.
    [
      'grace comes off longer calls too',
      { graceSeconds: 5, connectionCostMicros: 10_000, perMinuteRateMicros: SIX_CENTS },
      65,
      60,
      70_000,
      7,
    ],
    // Grace then 60/6: 70 s - 10 s = 60 s, exactly the initial block.
    [
      'grace, then the initial block',
      { graceSeconds: 10, perMinuteRateMicros: SIX_CENTS, initialIncrement: 60, increment: 6 },
      70,
      60,
      60_000,
      6,
    ],
    // Connection cost only: $0.25 whatever the length.
    ['connection cost only, 1 s', { connectionCostMicros: 250_000 }, 1, 1, 250_000, 25],
    ['connection cost only, an hour', { connectionCostMicros: 250_000 }, 3600, 3600, 250_000, 25],
    ['connection cost only, not connected', { connectionCostMicros: 250_000 }, 0, 0, 0, 0],
    // A free-of-charge DID: rated, but costs nothing.
    ['free DID', {}, 600, 600, 0, 0],
    // $0.0045/min = 75 micros a second.
    ['0.0045/min, 1 s', { perMinuteRateMicros: 4_500 }, 1, 1, 75, 0],
    ['0.0045/min, 60 s (0.45 ¢ -> 0)', { perMinuteRateMicros: 4_500 }, 60, 60, 4_500, 0],
    ['0.0045/min, 100 s (0.75 ¢ -> 1 ¢)', { perMinuteRateMicros: 4_500 }, 100, 100, 7_500, 1],
    ['0.0045/min, 6/6, 1 s', { perMinuteRateMicros: 4_500, initialIncrement: 6, increment: 6 }, 1, 6, 450, 0],
    // Exactly half a cent rounds up: $0.005/min for a minute.
    ['half a cent rounds up', { perMinuteRateMicros: 5_000 }, 60, 60, 5_000, 1],
    // 1 micro/min: 29 s is 29/60 micro (-> 0), 30 s is exactly half a micro (-> 1).
    ['a fraction of a micro rounds down below half', { perMinuteRateMicros: 1 }, 29, 29, 0, 0],
    ['a fraction of a micro rounds up at half', { perMinuteRateMicros: 1 }, 30, 30, 1, 0],
    // The exact cost is 299,970 / 60 = 4,999.5 micros: costMicros rounds to 5,000, but the cents come from
    // the exact 0.49995 ¢ (-> 0), not from the rounded 5,000 micros (which would give 1 ¢).
    ['cents are rounded once, from the exact amount', { perMinuteRateMicros: 299_970 }, 1, 1, 5_000, 0],
    // JPY has no minor units: 1 yen = 1,000,000 micros. ¥1.5/min, 60/60.
    [
      'JPY, 61 s -> 2 minutes = ¥3',
      { perMinuteRateMicros: 1_500_000, initialIncrement: 60, increment: 60, currency: 'JPY' },
      61,
      120,
      3_000_000,
      3,
    ],
    [
      'JPY, ¥1.5 rounds up to ¥2',
      { perMinuteRateMicros: 1_500_000, initialIncrement: 60, increment: 60, currency: 'JPY' },
      30,
      60,
      1_500_000,
      2,
    ],
    // BHD has 3 decimals: 1 fils = 1,000 micros; 4,500 micros = 4.5 fils -> 5.
    ['BHD, 4.5 fils -> 5', { perMinuteRateMicros: 4_500, currency: 'BHD' }, 60, 60, 4_500, 5],
  ];

  it.each(cases)('%s', (_what, overrides, seconds, billedSeconds, costMicros, cost) => {
    const t = terms(overrides);
    expect(rateCall(t, seconds)).toEqual({ billedSeconds, costMicros, cost, currency: t.currency });
  });
});

describe('rateCall: refusals', () => {
  it.each([
    ['negative seconds', terms(), -1, 'seconds'],
    ['fractional seconds', terms(), 1.5, 'seconds'],
    ['NaN seconds', terms(), Number.NaN, 'seconds'],
    ['an initial increment of 0', terms({ initialIncrement: 0 }), 10, 'initial_increment'],
    ['an increment of 0', terms({ increment: 0 }), 10, 'increment'],
    ['a fractional increment', terms({ increment: 1.5 }), 10, 'increment'],
    ['an increment over an hour', terms({ increment: 3601 }), 10, 'increment'],
    ['negative grace', terms({ graceSeconds: -1 }), 10, 'grace_seconds'],
    ['a negative rate', terms({ perMinuteRateMicros: -1 }), 10, 'per_minute_rate_micros'],
    ['a fractional rate', terms({ perMinuteRateMicros: 0.5 }), 10, 'per_minute_rate_micros'],
    ['a negative connection cost', terms({ connectionCostMicros: -1 }), 10, 'connection_cost_micros'],
    ['a currency that is not a code', terms({ currency: 'usd' }), 10, 'currency'],
  ])('refuses %s', (_what, t, seconds, field) => {
    const error = syncErrorOf(() => rateCall(t, seconds));
    expect(error.code).toBe('invalid');
    expect(error.field).toBe(field);
  });
});

describe('ratingTermsOf', () => {
  it('takes the rating columns of a DID row', () => {
    const did = {
      id: 7,
      number: '+18665550100',
      connection_cost_micros: 10_000,
      per_minute_rate_micros: 4_500,
      grace_seconds: 5,
      initial_increment: 60,
      increment: 6,
      currency: 'EUR',
    };
    expect(ratingTermsOf(did)).toEqual({
      connectionCostMicros: 10_000,
      perMinuteRateMicros: 4_500,
      graceSeconds: 5,
      initialIncrement: 60,
      increment: 6,
      currency: 'EUR',
    });
  });
});

describe('callCostTable', () => {
  it('rates the storefront durations', () => {
    // $0.0045/min, 60/6, $0.01 connection, 5 s grace.
    // 30 s: 25 s left -> 60 s: 10,000 + 4,500 = 1.45 ¢ -> 1 ¢
    // 60 s: 55 s left -> 60 s: 1 ¢
    // 180 s: 175 s -> 60 + ceil(115 / 6) * 6 = 180 s: 10,000 + 13,500 = 2.35 ¢ -> 2 ¢
    // 600 s: 595 s -> 60 + 90 * 6 = 600 s: 10,000 + 45,000 = 5.5 ¢ -> 6 ¢
    // 1800 s: 1795 s -> 1800 s: 10,000 + 135,000 = 14.5 ¢ -> 15 ¢
    const t = terms({
      perMinuteRateMicros: 4_500,
      initialIncrement: 60,
      increment: 6,
      connectionCostMicros: 10_000,
      graceSeconds: 5,
    });
    expect(callCostTable(t)).toEqual([
      { seconds: 30, label: '30 s', billedSeconds: 60, cost: 1, formatted: '$0.01' },
      { seconds: 60, label: '1 min', billedSeconds: 60, cost: 1, formatted: '$0.01' },
      { seconds: 180, label: '3 min', billedSeconds: 180, cost: 2, formatted: '$0.02' },
      { seconds: 600, label: '10 min', billedSeconds: 600, cost: 6, formatted: '$0.06' },
      { seconds: 1800, label: '30 min', billedSeconds: 1800, cost: 15, formatted: '$0.15' },
    ]);
  });

  it('takes other durations and formats in the DID currency', () => {
    const t = terms({ perMinuteRateMicros: 1_500_000, currency: 'JPY' });
    expect(callCostTable(t, [90])).toEqual([
      { seconds: 90, label: '1 min 30 s', billedSeconds: 90, cost: 2, formatted: '¥2' },
    ]);
  });

  it('labels durations', () => {
    expect([1, 30, 59, 60, 90, 180, 3600].map(durationLabel)).toEqual([
      '1 s',
      '30 s',
      '59 s',
      '1 min',
      '1 min 30 s',
      '3 min',
      '60 min',
    ]);
  });
});

describe('describeRating', () => {
  it.each([
    [
      'everything',
      {
        perMinuteRateMicros: 4_500,
        initialIncrement: 60,
        increment: 6,
        connectionCostMicros: 10_000,
        graceSeconds: 5,
      },
      '$0.0045/min, billed 60 s then 6 s; $0.01 connection; first 5 s free',
    ],
    ['per-second billing', { perMinuteRateMicros: 10_000 }, '$0.01/min, billed per second'],
    [
      'per-minute billing',
      { perMinuteRateMicros: 10_000, initialIncrement: 60, increment: 60 },
      '$0.01/min, billed per minute',
    ],
    [
      'equal increments',
      { perMinuteRateMicros: 12_345, initialIncrement: 6, increment: 6 },
      '$0.012345/min, billed per 6 s',
    ],
    ['connection cost only', { connectionCostMicros: 250_000 }, '$0.25 connection'],
    ['a free DID', { graceSeconds: 5 }, 'calls are free'],
    ['another currency', { perMinuteRateMicros: 1_500_000, currency: 'JPY' }, '¥1.5/min, billed per second'],
  ])('%s', (_what, overrides, text) => {
    expect(describeRating(terms(overrides))).toBe(text);
  });

  it('refuses terms out of range', () => {
    expect(syncErrorOf(() => describeRating(terms({ increment: 0 }))).code).toBe('invalid');
  });
});

// Terms a DID may hold (the dids table's CHECK constraints) with amounts up to $1,000.
const termsArb = fc.record({
  connectionCostMicros: fc.integer({ min: 0, max: 1_000_000_000 }),
  perMinuteRateMicros: fc.integer({ min: 0, max: 1_000_000_000 }),
  graceSeconds: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: 3600 })),
  initialIncrement: fc.oneof(fc.constantFrom(1, 6, 30, 60), fc.integer({ min: 1, max: 3600 })),
  increment: fc.oneof(fc.constantFrom(1, 6, 60), fc.integer({ min: 1, max: 3600 })),
  currency: fc.constantFrom('USD', 'EUR', 'JPY', 'BHD'),
});
// Up to a day: long enough to cross every increment many times.
const secondsArb = fc.integer({ min: 0, max: 86_400 });

const MINOR_DIVISOR: Record<string, bigint> = { USD: 10_000n, EUR: 10_000n, JPY: 1_000_000n, BHD: 1_000n };

describe('rateCall: properties', () => {
  it('never costs less for a longer call', () => {
    fc.assert(
      fc.property(termsArb, secondsArb, secondsArb, (t, a, b) => {
        const [short, long] = a <= b ? [a, b] : [b, a];
        const s = rateCall(t, short);
        const l = rateCall(t, long);
        expect(l.billedSeconds).toBeGreaterThanOrEqual(s.billedSeconds);
        expect(l.costMicros).toBeGreaterThanOrEqual(s.costMicros);
        expect(l.cost).toBeGreaterThanOrEqual(s.cost);
      }),
    );
  });

  it('without grace, bills at least the call and less than one block more', () => {
    fc.assert(
      fc.property(termsArb, fc.integer({ min: 1, max: 86_400 }), (t0, seconds) => {
        const t = { ...t0, graceSeconds: 0 };
        const { billedSeconds } = rateCall(t, seconds);
        expect(billedSeconds).toBeGreaterThanOrEqual(seconds);
        expect(billedSeconds).toBeLessThan(seconds + Math.max(t.increment, t.initialIncrement));
      }),
    );
  });

  it('with grace, bills at least the call less the grace, and less than one block more', () => {
    fc.assert(
      fc.property(termsArb, secondsArb, (t, seconds) => {
        const { billedSeconds } = rateCall(t, seconds);
        const chargeable = seconds - t.graceSeconds;
        if (chargeable <= 0) return;
        expect(billedSeconds).toBeGreaterThanOrEqual(chargeable);
        expect(billedSeconds).toBeLessThan(chargeable + Math.max(t.increment, t.initialIncrement));
      }),
    );
  });

  it('bills the initial block, then whole increments', () => {
    fc.assert(
      fc.property(termsArb, secondsArb, (t, seconds) => {
        const { billedSeconds } = rateCall(t, seconds);
        if (billedSeconds === 0) return;
        expect(billedSeconds).toBeGreaterThanOrEqual(t.initialIncrement);
        expect((billedSeconds - t.initialIncrement) % t.increment).toBe(0);
      }),
    );
  });

  it('charges nothing, not even the connection fee, within the grace time', () => {
    fc.assert(
      fc.property(termsArb, (t) => {
        fc.pre(t.graceSeconds > 0);
        for (const seconds of [0, 1, t.graceSeconds]) {
          expect(rateCall(t, seconds)).toEqual({
            billedSeconds: 0,
            costMicros: 0,
            cost: 0,
            currency: t.currency,
          });
        }
      }),
    );
  });

  it('costs nothing when neither the rate nor the connection costs anything', () => {
    fc.assert(
      fc.property(termsArb, secondsArb, (t0, seconds) => {
        const t = { ...t0, perMinuteRateMicros: 0, connectionCostMicros: 0 };
        const call = rateCall(t, seconds);
        expect(call.costMicros).toBe(0);
        expect(call.cost).toBe(0);
      }),
    );
  });

  it('is exact: matches a step-by-step BigInt model', () => {
    fc.assert(
      fc.property(termsArb, secondsArb, (t, seconds) => {
        // The model walks block by block instead of dividing.
        let billed = 0;
        const chargeable = seconds - t.graceSeconds;
        if (seconds > 0 && chargeable > 0) {
          billed = t.initialIncrement;
          while (billed < chargeable) billed += t.increment;
        }
        const exact60 =
          billed === 0
            ? 0n
            : 60n * BigInt(t.connectionCostMicros) + BigInt(billed) * BigInt(t.perMinuteRateMicros);
        // Half up: add half the divisor, then floor.
        const micros = (exact60 + 30n) / 60n;
        const divisor = 60n * MINOR_DIVISOR[t.currency]!;
        const minor = (exact60 + divisor / 2n) / divisor;
        expect(rateCall(t, seconds)).toEqual({
          billedSeconds: billed,
          costMicros: Number(micros),
          cost: Number(minor),
          currency: t.currency,
        });
      }),
    );
  });

  it('never throws for terms a DID may hold, whatever the duration', () => {
    fc.assert(
      fc.property(termsArb, fc.integer({ min: 0, max: 100_000_000 }), (t, seconds) => {
        const call = rateCall(t, seconds);
        expect(Number.isSafeInteger(call.costMicros)).toBe(true);
        expect(Number.isSafeInteger(call.cost)).toBe(true);
        expect(callCostTable(t)).toHaveLength(5);
        expect(describeRating(t)).not.toBe('');
      }),
    );
  });
});
