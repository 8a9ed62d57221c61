// Turns what people type (`+1 (866) 555-0100`, `1-866-555-0100`, `0044 20 7946 0000`) into E.164, and
// describes a number: country, area code, type. Digits without a leading + are read as international
// (country code first), as staff type them in commands: `assign 18665550100 acme`.
import { parsePhoneNumberFromString, type CountryCode, type PhoneNumber } from 'libphonenumber-js/max';
import type { NumberType } from '../db/schema.ts';
import { invalid } from '../shared/errors.ts';

export interface NumberInfo {
  /** +18665550100 */
  readonly e164: string;
  /** ISO 3166-1 alpha-2, e.g. US */
  readonly country: string;
  /** 866 for +1 866 555 0100, 20 for +44 20 7946 0000 */
  readonly areaCode: string;
  readonly numberType: NumberType;
  /** +1 866 555 0100 */
  readonly international: string;
}

const TYPED_PUNCTUATION = /[\s().\-/]/g;
const HELP = 'Type the number with its country code, for example +1 866 555 0100 or 18665550100.';

/** Strips the punctuation people type; keeps a leading + and the digits. Returns null for anything else. */
export function cleanNumberInput(input: string): string | null {
  let text = input.trim().replace(TYPED_PUNCTUATION, '');
  if (text.startsWith('00')) text = '+' + text.slice(2);
  if (!/^\+?\d+$/.test(text)) return null;
  return text.startsWith('+') ? text : '+' + text;
}

/**
 * Parses and validates a phone number. The number must be possible in its country's numbering plan
 * (right length, known country code); carriers open new ranges before the metadata knows them, so full
 * pattern validity is not required.
 */
export function parseNumber(input: string, defaultCountry?: CountryCode): NumberInfo {
  const raw = input.trim();
  if (raw === '') throw invalid('No phone number given.', { help: HELP, field: 'number' });
  const cleaned = cleanNumberInput(raw);
  if (cleaned === null) {
    throw invalid(
      `"${truncate(raw)}" is not a phone number: use digits, spaces, dashes and an optional leading +.`,
      {
        help: HELP,
        field: 'number',
      },
    );
  }
  let parsed = parsePhoneNumberFromString(cleaned);
  // A national number typed with a default country (the storefront's country picker), e.g. 866 555 0100:
  // read in that country unless it is a valid international number (not China's +86 6555 0100).
  if (defaultCountry && !raw.startsWith('+') && !raw.startsWith('00') && !parsed?.isValid()) {
    const national = parsePhoneNumberFromString(cleaned.slice(1), defaultCountry);
    if (national?.isValid() || !parsed?.isPossible()) parsed = national ?? parsed;
  }
  if (!parsed) {
    // E.164 allows 15 digits with the country code; the parser gives up on longer or very short input.
    const digits = cleaned.length - 1;
    const problem =
      digits > 15
        ? 'has too many digits (15 at most, with the country code)'
        : digits < 7
          ? 'has too few digits for a number with its country code'
          : 'does not start with a known country code';
    throw invalid(`${truncate(raw)} ${problem}.`, { help: HELP, field: 'number' });
  }
  if (!parsed.isPossible()) {
    const plan = parsed.country ?? `+${parsed.countryCallingCode}`;
    throw invalid(`${truncate(raw)} has the wrong number of digits for ${plan}.`, {
      help: HELP,
      field: 'number',
    });
  }
  // The numbering plans call some numbers possible that E.164 (15 digits at most) does not: +43 8888, or
  // +49 with 15 more digits. Such a number could be stored nowhere.
  if (!/^\+[1-9]\d{6,14}$/.test(parsed.number)) {
    throw invalid(
      `${truncate(raw)} has ${parsed.number.length - 1} digits; a number has 7 to 15 with its country code.`,
      { help: HELP, field: 'number' },
    );
  }
  // Countries sharing a calling code (+1, +7, +44) are told apart by their known ranges; a number in a range
  // the metadata does not know yet belongs to the code's main country (US for +1), listed first.
  const country = parsed.country ?? parsed.getPossibleCountries()[0];
  if (!country) {
    const code = parsed.countryCallingCode;
    throw invalid(`${truncate(raw)} is a non-geographic (+${code}) number, not one of a country.`, {
      help: HELP,
      field: 'number',
    });
  }
  return describe(parsed, country);
}

/** Like parseNumber, but returns null instead of throwing. */
export function tryParseNumber(input: string, defaultCountry?: CountryCode): NumberInfo | null {
  try {
    return parseNumber(input, defaultCountry);
  } catch {
    return null;
  }
}

/** Country, area code and type of an already parsed number (the demo generator parses with validity checks). */
export function describeParsed(parsed: PhoneNumber, country = parsed.country ?? ''): NumberInfo {
  return describe(parsed, country);
}

function describe(parsed: PhoneNumber, country: string): NumberInfo {
  const international = parsed.formatInternational();
  return {
    e164: parsed.number,
    country,
    areaCode: areaCodeOf(parsed, international),
    numberType: typeOf(parsed),
    international,
  };
}

function areaCodeOf(parsed: PhoneNumber, international: string): string {
  // NANP area codes are always the first three national digits.
  if (parsed.countryCallingCode === '1') return parsed.nationalNumber.slice(0, 3);
  // Elsewhere the national format's first group is the area (trunk) code: +44 20 7946 0000 -> 20.
  return international.split(' ')[1] ?? '';
}

export function typeOf(parsed: PhoneNumber): NumberType {
  switch (parsed.getType()) {
    case 'TOLL_FREE':
      return 'toll_free';
    case 'FIXED_LINE':
    case 'FIXED_LINE_OR_MOBILE':
      return 'local';
    case 'MOBILE':
      return 'mobile';
    case 'PERSONAL_NUMBER':
    case 'UAN':
    case 'SHARED_COST':
    case 'PREMIUM_RATE':
      return 'national';
    default:
      return 'other';
  }
}

/** +1 866 555 0100 — for people. Falls back to the E.164 text when the number does not parse. */
/**
 * Formatting parses the number again (about 16 µs): a catalog page shows 25 numbers, mostly the same ones
 * as the pages before it, so the last few thousand are remembered (oldest forgotten first).
 */
const FORMATTED_KEPT = 5_000;
const formatted = new Map<string, string>();

export function formatNumber(e164: string): string {
  let text = formatted.get(e164);
  if (text === undefined) {
    text = parsePhoneNumberFromString(e164)?.formatInternational() ?? e164;
    if (formatted.size >= FORMATTED_KEPT) formatted.delete(formatted.keys().next().value!);
    formatted.set(e164, text);
  }
  return text;
}

function truncate(text: string): string {
  return text.length > 40 ? text.slice(0, 37) + '...' : text;
}
