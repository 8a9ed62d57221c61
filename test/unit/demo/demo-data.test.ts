// The demo inventory generator: deterministic, big enough to exercise search, and valid against both
// libphonenumber and the dids table's CHECK constraints (so a fresh demo database always loads).
import { describe, it, expect } from 'vitest';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { generateDemoInventory, seededRandom, type DemoDid } from '../../../core/demo/demo-data.ts';

const SEED = 42;
const dids = generateDemoInventory(seededRandom(SEED));

function find(number: string): DemoDid | undefined {
  return dids.find((d) => d.number === number);
}

describe('seededRandom', () => {
  it('repeats its sequence for a seed and stays in [0, 1)', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const draws = Array.from({ length: 1000 }, () => a());
    expect(draws).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(draws.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(seededRandom(8)()).not.toBe(draws[0]);
  });
});

describe('generateDemoInventory', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    expect(generateDemoInventory(seededRandom(SEED))).toEqual(dids);
    const other = generateDemoInventory(seededRandom(SEED + 1));
    expect(other.map((d) => d.number)).not.toEqual(dids.map((d) => d.number));
  });

  it('holds at least 5,500 distinct numbers', () => {
    expect(dids.length).toBeGreaterThanOrEqual(5500);
    expect(new Set(dids.map((d) => d.number)).size).toBe(dids.length);
  });

  it('stores only valid E.164 numbers whose country, area code and type match libphonenumber', () => {
    const wrong = dids.filter((d) => {
      const parsed = parsePhoneNumberFromString(d.number);
      if (!/^\+[1-9]\d{6,14}$/.test(d.number) || !parsed?.isValid() || parsed.number !== d.number)
        return true;
      const type = parsed.getType();
      const expectedType = type === 'TOLL_FREE' ? 'toll_free' : 'local';
      return (
        parsed.country !== d.country ||
        !d.number.slice(1 + parsed.countryCallingCode.length).startsWith(d.areaCode) ||
        d.areaCode === '' ||
        d.numberType !== expectedType
      );
    });
    expect(wrong.map((d) => d.number)).toEqual([]);
  });

  it('keeps the README example number and its neighbours available on US Toll-Free', () => {
    for (let i = 0; i <= 9; i++) {
      const did = find(`+186655501${String(i).padStart(2, '0')}`);
      expect(did?.holding.status).toBe('available');
      expect(did?.group).toBe('US Toll-Free');
      expect(did?.pricingBatch).toBe('US Toll-Free');
    }
  });

  it('covers every toll-free prefix, the US cities, the UK and Germany', () => {
    const tollFree = new Set(dids.filter((d) => d.numberType === 'toll_free').map((d) => d.areaCode));
    expect([...tollFree].sort()).toEqual(['800', '833', '844', '855', '866', '877', '888']);
    expect(
      dids.filter((d) => d.numberType === 'toll_free').every((d) => d.city === '' && d.country === 'US'),
    ).toBe(true);
    const cities = new Set(dids.map((d) => d.city));
    for (const city of [
      'New York',
      'Los Angeles',
      'Chicago',
      'London',
      'Manchester',
      'Berlin',
      'Munich',
      'Hamburg',
    ]) {
      expect(cities).toContain(city);
    }
    expect(dids.some((d) => d.country === 'GB' && d.currency === 'GBP')).toBe(true);
    expect(dids.some((d) => d.country === 'DE' && d.currency === 'EUR')).toBe(true);
  });

  it('prices UK numbers in GBP, German ones in EUR and the rest in USD', () => {
    const currency: Record<string, string> = { US: 'USD', GB: 'GBP', DE: 'EUR' };
    expect(dids.filter((d) => d.currency !== currency[d.country])).toEqual([]);
  });

  it('has vanity numbers for `1800%VOIP` and `%SHOP`', () => {
    const voip = dids.filter((d) => /^\+1800\d*8647/.test(d.number));
    expect(voip.length).toBeGreaterThanOrEqual(3);
    expect(voip.every((d) => d.holding.status === 'available')).toBe(true);
    expect(
      dids.filter((d) => /^\+1\d*7464/.test(d.number) && d.numberType === 'toll_free').length,
    ).toBeGreaterThan(0);
  });

  it('puts about 40 numbers in the free Internal group', () => {
    const internal = dids.filter((d) => d.group === 'Internal');
    expect(internal.length).toBe(40);
    expect(
      internal.every((d) => d.pricingBatch === 'Internal (free)' && d.setupFee === 0 && d.recurringFee === 0),
    ).toBe(true);
  });

  it('mixes statuses realistically', () => {
    const share = (status: string) => dids.filter((d) => d.holding.status === status).length / dids.length;
    expect(share('available')).toBeGreaterThan(0.84);
    expect(share('available')).toBeLessThan(0.92);
    expect(share('assigned')).toBeGreaterThan(0.05);
    expect(share('assigned')).toBeLessThan(0.11);
    expect(share('aging')).toBeGreaterThan(0.01);
    expect(share('disabled')).toBeGreaterThan(0.004);
  });

  it('respects the dids table CHECK constraints', () => {
    const broken = dids.filter(({ holding: h, description }) => {
      const pooled = ['available', 'aging', 'disabled'].includes(h.status);
      const held = ['assigned', 'suspended'].includes(h.status);
      return (
        (pooled && (h.owner !== null || h.assignedTo !== null)) ||
        (held && h.owner === null && h.assignedTo === null) ||
        (h.assignedTo !== null && !held) ||
        (h.status === 'aging') !== (h.freedHoursAgo !== null) ||
        (h.freedHoursAgo !== null && h.freedHoursAgo >= 30 * 24) ||
        (h.status === 'assigned' && h.assignedHoursAgo === null) ||
        description.length > 500
      );
    });
    expect(broken.map((d) => d.number)).toEqual([]);
  });

  it('gives an assigned customer number its nearest reseller as owner, and none for direct customers', () => {
    const owners = new Map<string, Set<string | null>>();
    for (const d of dids) {
      if (d.holding.assignedTo === null) continue;
      owners.set(d.holding.assignedTo, (owners.get(d.holding.assignedTo) ?? new Set()).add(d.holding.owner));
    }
    expect(Object.fromEntries([...owners].map(([customer, set]) => [customer, [...set]]))).toEqual({
      acme: [null],
      umbrella: [null],
      'bobs-bakery': ['voipco'],
      'eastside-dental': ['voipco-east'],
      initech: ['globaltel'],
    });
  });

  it('routes some assigned numbers to a valid SIP URI or PSTN number', () => {
    const routed = dids.filter((d) => d.holding.destination !== null);
    expect(routed.length).toBeGreaterThan(0);
    for (const { holding } of routed) {
      const destination = holding.destination;
      if (destination?.type === 'sip') expect(destination.value).toMatch(/^sip:\+\d+@pbx\.[a-z-]+\.example$/);
      else expect(parsePhoneNumberFromString(destination?.value ?? '')?.isValid()).toBe(true);
    }
    expect(routed.every((d) => d.holding.assignedTo !== null)).toBe(true);
  });

  it('keeps rating fields within the schema ranges', () => {
    const bad = dids.filter(({ rating: r }) => {
      return (
        r.connectionCostMicros < 0 ||
        r.connectionCostMicros > 10000 ||
        r.perMinuteRateMicros < 4000 ||
        r.perMinuteRateMicros > 12000 ||
        r.graceSeconds < 0 ||
        r.graceSeconds > 6 ||
        ![1, 6, 30, 60].includes(r.initialIncrement) ||
        ![1, 6, 60].includes(r.increment) ||
        r.maxConcurrentCalls < 2 ||
        r.maxConcurrentCalls > 10
      );
    });
    expect(bad).toEqual([]);
    expect(dids.filter((d) => d.billingPeriod === 'days').every((d) => d.billingDays === 30)).toBe(true);
    expect(dids.some((d) => d.billingPeriod === 'yearly')).toBe(true);
  });
});
