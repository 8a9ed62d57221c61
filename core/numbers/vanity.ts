// Vanity search patterns (PortaBilling semantics, seed 001): letters stand for their phone keypad digits
// (ITU E.161: ABC=2 ... WXYZ=9), % matches any run of digits, _ or ? matches exactly one digit.
//   1800%VOIP  -> numbers starting 1800 that contain 8647 further on
//   VOIP       -> numbers containing 8647 anywhere
//   1866       -> numbers starting 1866
// A pattern that begins with a digit (or +) is anchored at the start of the number; one that begins with
// a letter or % matches anywhere. The number is compared without its +, country code first.
import { invalid } from '../shared/errors.ts';

const KEYPAD: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(
    Object.entries({
      2: 'ABC',
      3: 'DEF',
      4: 'GHI',
      5: 'JKL',
      6: 'MNO',
      7: 'PQRS',
      8: 'TUV',
      9: 'WXYZ',
    }).flatMap(([digit, letters]) => [...letters].map((letter) => [letter, digit])),
  ),
);

/** The keypad digit for a letter (case-insensitive), or undefined. */
export function keypadDigit(letter: string): string | undefined {
  return KEYPAD[letter.toUpperCase()];
}

/** Replaces letters with keypad digits: 1-800-FLOWERS -> 1-800-3569377. */
export function lettersToDigits(text: string): string {
  return text.replace(/[A-Za-z]/g, (letter) => KEYPAD[letter.toUpperCase()] ?? letter);
}

export interface NumberPattern {
  /** The pattern as digits and wildcards, e.g. 1800%8647 */
  readonly digits: string;
  readonly anchored: boolean;
  /** A LIKE pattern for the E.164 column (with its +). Contains only +, digits, % and _. */
  readonly like: string;
  /** The literal digits the pattern starts with when anchored: lets the database use a range scan. */
  readonly prefix: string;
}

const PATTERN_HELP =
  'Use digits, letters (they stand for keypad digits: 2=ABC, 3=DEF ... 9=WXYZ), % for any digits and _ for one digit, e.g. 1800%VOIP.';

export function parsePattern(input: string): NumberPattern {
  const text = input.trim().replace(/[\s().\-/]/g, '');
  if (text === '' || text === '+') throw invalid('The search pattern is empty.', { help: PATTERN_HELP });
  if (!/^\+?[0-9A-Za-z%_?*]+$/.test(text)) {
    throw invalid(`"${input.trim()}" is not a number pattern.`, { help: PATTERN_HELP });
  }
  if (text.length > 40)
    throw invalid('The search pattern is too long (40 characters at most).', { help: PATTERN_HELP });
  const first = text[0] ?? '';
  const anchored = first === '+' || /[0-9]/.test(first);
  const digits = lettersToDigits(text.replace(/^\+/, ''))
    .replace(/\*/g, '%')
    .replace(/\?/g, '_')
    .replace(/%+/g, '%');
  if (!/[0-9]/.test(digits)) {
    throw invalid(`"${input.trim()}" has no digits or letters to search for.`, { help: PATTERN_HELP });
  }
  const body = digits.replace(/%$/, '');
  // Unanchored patterns still start with the number's '+': in SQL, a leading _ would otherwise match it.
  const like = (anchored ? '+' : '+%') + body + '%';
  const prefix = anchored ? (/^[0-9]*/.exec(body)?.[0] ?? '') : '';
  return { digits, anchored, like, prefix };
}

/** Whether an E.164 number matches a pattern; the same rule the database applies, for tests and callers. */
export function matchesPattern(e164: string, pattern: NumberPattern): boolean {
  const regex = pattern.like.replace(/[+]/g, '\\+').replace(/%/g, '[0-9+]*').replace(/_/g, '[0-9]');
  return new RegExp(`^${regex}$`).test(e164);
}
