// Cells a spreadsheet would run as formulas leave the CSV export as text, and come back unchanged.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { guardFormula, unguardFormula } from '../../../core/inventory/spreadsheet-cells.ts';

describe('guardFormula', () => {
  it('puts an apostrophe before every cell a spreadsheet would evaluate', () => {
    expect(guardFormula('=HYPERLINK("http://evil.example","x")')).toBe(
      `'=HYPERLINK("http://evil.example","x")`,
    );
    expect(guardFormula("=cmd|' /C calc'!A0")).toBe("'=cmd|' /C calc'!A0");
    expect(guardFormula('+1 call me')).toBe("'+1 call me");
    expect(guardFormula('-2+3')).toBe("'-2+3");
    expect(guardFormula('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(guardFormula('\t=1')).toBe("'\t=1");
  });

  it('leaves plain numbers (E.164, amounts) and text that starts otherwise as it is', () => {
    for (const value of ['+12125550100', '-1.50', '12125550100', '1.50', '', 'New York', "O'Hare", 'a=b'])
      expect(guardFormula(value)).toBe(value);
    // A plus or minus with anything but digits after it is a formula again.
    expect(guardFormula('+1+cmd')).toBe("'+1+cmd");
    expect(guardFormula('-1.5e3')).toBe("'-1.5e3");
  });

  it('is undone by unguardFormula for any text, including text that already starts with apostrophes', () => {
    fc.assert(
      fc.property(
        fc.tuple(
          fc.constantFrom('', "'", "''", '=', '+', '-', '@', '\t', "'=", "'+1", '+1', '-2.5'),
          fc.string(),
        ),
        ([start, rest]) => {
          const value = start + rest;
          expect(unguardFormula(guardFormula(value))).toBe(value);
          const cell = guardFormula(value);
          expect(/^[=+\-@\t\r]/.test(cell) && !/^[+-]?\d+(\.\d+)?$/.test(cell)).toBe(false);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
