// "Did you mean ...?" for mistyped commands, account slugs and group names.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { closest, didYouMean, editDistance } from '../../../core/shared/suggest.ts';

/** Plain Levenshtein distance, uncapped: the reference the capped version must agree with. */
function levenshtein(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = rows[i]!;
      const above = rows[i - 1]!;
      row[j] = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return rows[a.length]![b.length]!;
}

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['release', 'release', 0],
    ['relase', 'release', 1],
    ['assing', 'assign', 2],
    ['serach', 'search', 2],
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
    ['abc', '', 3],
  ])('%j to %j is %d', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });

  it('stops counting past the cap and returns cap + 1', () => {
    expect(editDistance('abcdef', 'uvwxyz')).toBe(4);
    expect(editDistance('a', 'abcdefgh')).toBe(4);
    expect(editDistance('abc', 'xyz', 1)).toBe(2);
    expect(editDistance('kitten', 'sitting', 2)).toBe(3);
    expect(editDistance('kitten', 'sitting', 5)).toBe(3);
  });

  it('agrees with plain Levenshtein up to the cap', () => {
    const word = fc.string({ unit: fc.constantFrom(...'abcde'), maxLength: 10 });
    fc.assert(
      fc.property(word, word, fc.integer({ min: 0, max: 6 }), (a, b, max) => {
        expect(editDistance(a, b, max)).toBe(Math.min(levenshtein(a, b), max + 1));
      }),
      { numRuns: 500 },
    );
  });
});

describe('closest', () => {
  const COMMANDS = ['release', 'assign', 'search'];

  it('finds the command a typo was meant to be', () => {
    expect(closest('relase', COMMANDS)).toEqual(['release']);
    expect(closest('serach', COMMANDS)).toEqual(['search']);
    expect(closest('asign', COMMANDS)).toEqual(['assign']);
  });

  it('counts a prefix of two or more letters as close, best and then alphabetical first', () => {
    expect(closest('rel', ['reload', 'release', 'assign'])).toEqual(['release', 'reload']);
    expect(closest('se', COMMANDS)).toEqual(['search']);
    expect(closest('acme', ['acme-corp', 'acme'])).toEqual(['acme', 'acme-corp']);
  });

  it('ignores case but returns candidates as written', () => {
    expect(closest('ACME', ['Acme'])).toEqual(['Acme']);
    expect(closest('RELASE', COMMANDS)).toEqual(['release']);
  });

  it('allows one typo in short words and two in longer ones', () => {
    expect(closest('acm', ['acme'])).toEqual(['acme']);
    expect(closest('axmy', ['acme'])).toEqual([]);
    expect(closest('acme-crop', ['acme-corp'])).toEqual(['acme-corp']);
    expect(closest('acne-crop', ['acme-corp'])).toEqual([]);
  });

  it('suggests nothing for a single unrelated letter and at most `limit` names', () => {
    expect(closest('r', COMMANDS)).toEqual([]);
    expect(closest('a', ['ab', 'ac', 'ad', 'ae'])).toEqual(['ab', 'ac', 'ad']);
    expect(closest('a', ['ab', 'ac', 'ad', 'ae'], 1)).toEqual(['ab']);
    expect(closest('xyzzy', COMMANDS)).toEqual([]);
    expect(closest('release', [])).toEqual([]);
  });

  it('always offers the exact name first when it is there', () => {
    const name = fc.stringMatching(/^[a-z][a-z-]{0,15}$/);
    fc.assert(
      fc.property(name, fc.array(name, { maxLength: 10 }), (typed, others) => {
        expect(closest(typed, [...others, typed])[0]).toBe(typed);
      }),
    );
  });
});

describe('didYouMean', () => {
  it('phrases the suggestions to append to an error', () => {
    expect(didYouMean('relase', ['release', 'assign', 'search'])).toBe(' Did you mean release?');
    expect(didYouMean('rel', ['release', 'reload'])).toBe(' Did you mean release or reload?');
  });

  it('says nothing when nothing is close', () => {
    expect(didYouMean('xyzzy', ['release', 'assign', 'search'])).toBe('');
    expect(didYouMean('acme', [])).toBe('');
  });
});
