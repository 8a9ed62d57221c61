import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { numberCondition } from '../../../core/inventory/search-dids.ts';
import { matchesPattern, parsePattern } from '../../../core/numbers/vanity.ts';

/** What the SQL of a NumberCondition accepts, evaluated in JS with SQL LIKE semantics. */
function accepts(condition: ReturnType<typeof numberCondition>, number: string): boolean {
  const like = (value: string, pattern: string) =>
    new RegExp(`^${pattern.replace(/[+]/g, '\\+').replace(/%/g, '.*').replace(/_/g, '.')}$`).test(value);
  if (condition.prefix !== undefined && !(number >= condition.prefix && number < condition.prefix + '\uffff'))
    return false;
  if (condition.like !== undefined && !like(number, condition.like)) return false;
  if (condition.contains !== undefined && !like(number, condition.contains)) return false;
  if (condition.rest !== undefined && !like(number.slice(condition.rest.from - 1), condition.rest.like))
    return false;
  return true;
}

describe('numberCondition', () => {
  it('a pure prefix is a range only, so the planner estimates it right', () => {
    expect(numberCondition(parsePattern('1866'))).toEqual({ prefix: '+1866' });
  });

  it('an anchored vanity pattern sends only its later literal digits to the trigram index', () => {
    expect(numberCondition(parsePattern('1800%VOIP'))).toEqual({
      prefix: '+1800',
      contains: '%8647%',
      rest: { from: 6, like: '%8647%' },
    });
  });

  it('short literal runs are not worth an index probe; unanchored patterns stay one LIKE', () => {
    expect(numberCondition(parsePattern('18_0%12'))).toEqual({
      prefix: '+18',
      rest: { from: 4, like: '_0%12%' },
    });
    expect(numberCondition(parsePattern('VOIP'))).toEqual({ like: '+%8647%' });
  });

  it('accepts exactly the numbers the pattern matches', () => {
    const pattern = fc.stringMatching(/^[0-9A-Z%_]{1,8}$/).filter((p) => /[0-9A-Z]/.test(p));
    const number = fc.stringMatching(/^\+[1-9][0-9]{7,12}$/);
    fc.assert(
      fc.property(pattern, number, (text, e164) => {
        const parsed = parsePattern(text);
        expect(accepts(numberCondition(parsed), e164)).toBe(matchesPattern(e164, parsed));
      }),
      { numRuns: 3000 },
    );
  });
});
