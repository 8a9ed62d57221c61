// Numbers pasted by people: one per line (or separated by commas or semicolons), each a number as typed
// or a range written the way carriers hand them out, `+1 866 555 0100-0199`: the digits after the last
// dash replace the end of the first number. Each line that cannot be read is reported with why.
import { cleanNumberInput, tryParseNumber } from './phone-number.ts';

/** The most numbers one range may hold: a typo like 0100-9999 should not become ten thousand rows. */
export const MAX_RANGE = 10_000;
/** The most numbers one paste may hold. */
export const MAX_PASTED = 100_000;

export interface PastedNumbers {
  /** E.164 numbers in the order given, each once. */
  readonly numbers: readonly string[];
  readonly problems: readonly { readonly line: number; readonly text: string; readonly reason: string }[];
}

export function parsePastedNumbers(text: string): PastedNumbers {
  const numbers: string[] = [];
  const seen = new Set<string>();
  const problems: { line: number; text: string; reason: string }[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    for (const item of raw.split(/[,;\t]/)) {
      const entry = item.trim();
      if (entry === '') continue;
      const read = readEntry(entry);
      if ('reason' in read) {
        problems.push({ line: index + 1, text: entry, reason: read.reason });
        continue;
      }
      for (const number of read.numbers) {
        if (seen.has(number)) continue;
        if (numbers.length >= MAX_PASTED) {
          problems.push({
            line: index + 1,
            text: entry,
            reason: `more than ${MAX_PASTED} numbers in one paste`,
          });
          return;
        }
        seen.add(number);
        numbers.push(number);
      }
    }
  });
  return { numbers, problems };
}

function readEntry(entry: string): { numbers: string[] } | { reason: string } {
  const single = tryParseNumber(entry);
  const range = /^(.*\d)\s*[-–—]\s*(\d+)$/.exec(entry);
  // "+1 866 555-0100" is one number with a dash in it: a range only when the part before the last dash is
  // a whole number by itself.
  const first = range ? tryParseNumber(range[1]!) : null;
  if (range && first) {
    const start = first.e164;
    const endDigits = range[2]!;
    const startDigits = cleanNumberInput(start)!.slice(1);
    if (endDigits.length > startDigits.length) {
      return { reason: `the range end ${endDigits} is longer than the number it ends` };
    }
    const head = startDigits.slice(0, startDigits.length - endDigits.length);
    const from = BigInt(startDigits);
    const to = BigInt(head + endDigits);
    if (to < from) return { reason: `the range ends (${endDigits}) before it starts` };
    if (to - from + 1n > BigInt(MAX_RANGE)) {
      return { reason: `the range holds ${to - from + 1n} numbers; split it (at most ${MAX_RANGE} in one)` };
    }
    const numbers: string[] = [];
    for (let n = from; n <= to; n++) {
      const parsed = tryParseNumber('+' + n.toString());
      if (!parsed) return { reason: `+${n} in the range is not a valid number` };
      numbers.push(parsed.e164);
    }
    return { numbers };
  }
  if (single) return { numbers: [single.e164] };
  return { reason: 'is not a phone number or a range like +1 866 555 0100-0199' };
}
