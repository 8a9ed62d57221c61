// Vanity search patterns: letters on the phone keypad (ITU E.161), % for any digits, _ or ? for one digit.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { keypadDigit, lettersToDigits, matchesPattern, parsePattern } from '../../../core/numbers/vanity.ts';
import { DomainError } from '../../../core/shared/errors.ts';
import { syncErrorOf } from '../../helpers/errors.ts';

// ITU E.161: 2 ABC, 3 DEF, 4 GHI, 5 JKL, 6 MNO, 7 PQRS, 8 TUV, 9 WXYZ.
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const KEYS = '22233344455566677778889999';
const E161: ReadonlyArray<readonly [string, string]> = [...LETTERS].map((letter, i) => [
  letter,
  KEYS[i] ?? '?',
]);

describe('keypad', () => {
  it('spells the whole alphabet', () => {
    expect(KEYS).toHaveLength(26);
    expect(lettersToDigits(LETTERS)).toBe(KEYS);
    expect(lettersToDigits(LETTERS.toLowerCase())).toBe(KEYS);
  });

  it.each(E161)('puts %s on %s, in both cases', (letter, digit) => {
    expect(keypadDigit(letter)).toBe(digit);
    expect(keypadDigit(letter.toLowerCase())).toBe(digit);
    expect(lettersToDigits(letter)).toBe(digit);
    expect(lettersToDigits(letter.toLowerCase())).toBe(digit);
  });

  it('has no digit for digits, wildcards or letters off the keypad', () => {
    for (const other of ['0', '1', '%', '_', '*', '#', '+', ' ', '', 'É', 'ß', 'AB']) {
      expect(keypadDigit(other)).toBeUndefined();
    }
  });

  it('spells words and keeps everything else', () => {
    expect(lettersToDigits('1-800-FLOWERS')).toBe('1-800-3569377');
    expect(lettersToDigits('1800%voip')).toBe('1800%8647');
    expect(lettersToDigits('Zürich')).toBe('9ü7424');
  });
});

describe('parsePattern', () => {
  it('reads 1800%VOIP as numbers starting 1800 that contain 8647 further on', () => {
    expect(parsePattern('1800%VOIP')).toEqual({
      digits: '1800%8647',
      anchored: true,
      like: '+1800%8647%',
      prefix: '1800',
    });
  });

  it('reads VOIP as 8647 anywhere, in either case', () => {
    const anywhere = { digits: '8647', anchored: false, like: '+%8647%', prefix: '' };
    expect(parsePattern('VOIP')).toEqual(anywhere);
    expect(parsePattern('voip')).toEqual(anywhere);
    expect(parsePattern('  VoIp ')).toEqual(anywhere);
  });

  it.each([
    ['1866', '+1866%', '1866'],
    ['+1866', '+1866%', '1866'],
    ['1-800-FLOWERS', '+18003569377%', '18003569377'],
    ['1 (800) VOIP', '+18008647%', '18008647'],
    ['1800*', '+1800%', '1800'],
    ['1800%%%VOIP%', '+1800%8647%', '1800'],
    ['1_66', '+1_66%', '1'],
    ['1?66', '+1_66%', '1'],
    ['44__7946', '+44__7946%', '44'],
  ])('reads %j as LIKE %s with prefix %j', (typed, like, prefix) => {
    expect(parsePattern(typed)).toMatchObject({ anchored: true, like, prefix });
  });

  it('takes _ and ? as exactly one digit', () => {
    const pattern = parsePattern('1?66');
    expect(matchesPattern('+18665550100', pattern)).toBe(true);
    expect(matchesPattern('+12665550100', pattern)).toBe(true);
    expect(matchesPattern('+1866', pattern)).toBe(true);
    expect(matchesPattern('+166', pattern)).toBe(false);
    expect(matchesPattern('+16865550100', pattern)).toBe(false);
  });

  it('matches numbers the way the database will', () => {
    const tollFreeVoip = parsePattern('1800%VOIP');
    expect(matchesPattern('+18008647000', tollFreeVoip)).toBe(true);
    expect(matchesPattern('+18005558647', tollFreeVoip)).toBe(true);
    expect(matchesPattern('+18665558647', tollFreeVoip)).toBe(false);
    expect(matchesPattern('+11800558647', tollFreeVoip)).toBe(false);
    expect(matchesPattern('+18005550100', tollFreeVoip)).toBe(false);

    const voip = parsePattern('VOIP');
    expect(matchesPattern('+442086470000', voip)).toBe(true);
    expect(matchesPattern('+86470000000', voip)).toBe(true);
    expect(matchesPattern('+442079460000', voip)).toBe(false);
  });

  describe('refuses bad patterns with an invalid error and an example', () => {
    it.each([
      ['', 'The search pattern is empty.'],
      ['   ', 'The search pattern is empty.'],
      ['+', 'The search pattern is empty.'],
      ['1800 VOIP!', '"1800 VOIP!" is not a number pattern.'],
      ['1+800', '"1+800" is not a number pattern.'],
      ['１８００', '"１８００" is not a number pattern.'],
      ['ÉTÉ', '"ÉTÉ" is not a number pattern.'],
      ['%', '"%" has no digits or letters to search for.'],
      ['___', '"___" has no digits or letters to search for.'],
      ['+%?*', '"+%?*" has no digits or letters to search for.'],
      ['1'.repeat(41), 'The search pattern is too long (40 characters at most).'],
    ])('%j', (typed, message) => {
      const error = syncErrorOf(() => parsePattern(typed));
      expect(error.code).toBe('invalid');
      expect(error.message).toBe(message);
      expect(error.help).toContain('e.g. 1800%VOIP');
      expect(error.help).toContain('2=ABC');
    });

    it('allows 40 characters', () => {
      expect(parsePattern('1'.repeat(40)).prefix).toBe('1'.repeat(40));
    });
  });

  describe('properties', () => {
    const digitString = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));

    it('a pattern of digits matches every number that starts with them, and no other of its length', () => {
      fc.assert(
        fc.property(digitString(1, 40), digitString(0, 15), (d, rest) => {
          const pattern = parsePattern(d);
          expect(pattern).toEqual({ digits: d, anchored: true, like: `+${d}%`, prefix: d });
          expect(matchesPattern(`+${d}${rest}`, pattern)).toBe(true);
        }),
      );
      fc.assert(
        fc.property(digitString(1, 15), digitString(1, 15), digitString(0, 10), (d, other, rest) => {
          fc.pre(other.length === d.length && other !== d);
          expect(matchesPattern(`+${other}${rest}`, parsePattern(d))).toBe(false);
        }),
      );
    });

    it('lettersToDigits turns each ASCII letter into its keypad digit and leaves the rest', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 60 }), (text) => {
          const out = lettersToDigits(text);
          expect(out).toHaveLength(text.length);
          expect(out).not.toMatch(/[A-Za-z]/);
          [...text].forEach((char, i) => {
            const expected = E161.find(([letter]) => letter === char.toUpperCase())?.[1];
            expect(out[i]).toBe(/[A-Za-z]/.test(char) ? expected : char);
          });
        }),
      );
    });

    it('a word spelled on the keypad finds every number that contains it', () => {
      fc.assert(
        fc.property(
          fc.stringMatching(/^[A-Za-z]{1,20}$/),
          digitString(1, 6),
          digitString(0, 6),
          (word, before, after) => {
            const number = `+${before}${lettersToDigits(word)}${after}`;
            expect(matchesPattern(number, parsePattern(word))).toBe(true);
            // Anchored after its first digits, it must be found right there too.
            expect(matchesPattern(number, parsePattern(`${before}${word}`))).toBe(true);
            expect(matchesPattern(number, parsePattern(`${before}%${word}`))).toBe(true);
          },
        ),
      );
    });

    it('never throws anything but an invalid DomainError, and LIKE holds only + digits % _', () => {
      const patternish = fc.string({
        unit: fc.constantFrom(...'0123456789abcVOIPxyz%_?*+ -().!é'),
        maxLength: 45,
      });
      for (const text of [fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), patternish]) {
        fc.assert(
          fc.property(text, (input) => {
            let pattern;
            try {
              pattern = parsePattern(input);
            } catch (error) {
              expect(error).toBeInstanceOf(DomainError);
              expect((error as DomainError).code).toBe('invalid');
              return;
            }
            expect(pattern.like).toMatch(/^[+][0-9%_]*%$/);
            if (!pattern.anchored) expect(pattern.like.startsWith('+%')).toBe(true);
            expect(pattern.digits).toMatch(/^[0-9%_]+$/);
            expect(pattern.digits).toMatch(/[0-9]/);
            expect(pattern.like.startsWith(`+${pattern.prefix}`) || !pattern.anchored).toBe(true);
          }),
          { numRuns: 500 },
        );
      }
    });
  });
});
