import { describe, expect, it } from 'vitest';
import { MAX_RANGE, parsePastedNumbers } from '../../../core/numbers/number-ranges.ts';

describe('pasted numbers and ranges', () => {
  it('reads numbers as people type them, one per line or separated by commas', () => {
    expect(
      parsePastedNumbers('+1 (212) 555-0142\n18665550100, +44 20 7946 0000;\n\n+1 212 555 0142'),
    ).toEqual({
      numbers: ['+12125550142', '+18665550100', '+442079460000'],
      problems: [],
    });
  });

  it('expands a range: the digits after the last dash replace the end of the first number', () => {
    const { numbers } = parsePastedNumbers('+1 866 555 0100-0199');
    expect(numbers).toHaveLength(100);
    expect(numbers[0]).toBe('+18665550100');
    expect(numbers.at(-1)).toBe('+18665550199');
    expect(parsePastedNumbers('+1 866 555-0100-05').numbers).toEqual([
      '+18665550100',
      '+18665550101',
      '+18665550102',
      '+18665550103',
      '+18665550104',
      '+18665550105',
    ]);
    expect(parsePastedNumbers('18665550198–18665550201').numbers).toEqual([
      '+18665550198',
      '+18665550199',
      '+18665550200',
      '+18665550201',
    ]);
  });

  it('reads a dash inside a number as part of it, not as a range', () => {
    expect(parsePastedNumbers('+1 866 555-0100').numbers).toEqual(['+18665550100']);
  });

  it('reports each line it cannot read, with why', () => {
    const { numbers, problems } = parsePastedNumbers(
      `hello\n+1 866 555 0199-0100\n+1 866 555 0100-123456789012\n+1 866 555 0000-${'9'.repeat(5)}`,
    );
    expect(numbers).toEqual([]);
    expect(problems).toEqual([
      { line: 1, text: 'hello', reason: 'is not a phone number or a range like +1 866 555 0100-0199' },
      { line: 2, text: '+1 866 555 0199-0100', reason: 'the range ends (0100) before it starts' },
      {
        line: 3,
        text: '+1 866 555 0100-123456789012',
        reason: 'the range end 123456789012 is longer than the number it ends',
      },
      {
        line: 4,
        text: '+1 866 555 0000-99999',
        reason: `the range holds 50000 numbers; split it (at most ${MAX_RANGE} in one)`,
      },
    ]);
  });
});
