// The compact callback_data Telegram buttons carry, and its 64-byte limit.
import { describe, expect, it } from 'vitest';
import { decodeButton, encodeButton, type ButtonData } from '../../../../bot/telegram/callback-data.ts';

describe('callback data', () => {
  const buttons: [ButtonData, string][] = [
    [{ kind: 'assign', number: '+18665550100', version: 7 }, 'a|+18665550100|7'],
    [{ kind: 'release', number: '+18665550100', version: 7 }, 'r|+18665550100|7'],
    [{ kind: 'release-confirmed', number: '+18665550100', version: 7 }, 'R|+18665550100|7'],
    [{ kind: 'transfer', number: '+18665550100', version: 7 }, 't|+18665550100|7'],
    [{ kind: 'transfer-switch', number: '+18665550100', version: 7, enabled: true }, 'T1|+18665550100|7'],
    [{ kind: 'transfer-switch', number: '+18665550100', version: 7, enabled: false }, 'T0|+18665550100|7'],
    [{ kind: 'cancel' }, 'x'],
  ];

  it.each(buttons)('encodes %o as %s and back', (button, data) => {
    expect(encodeButton(button)).toBe(data);
    expect(decodeButton(data)).toEqual(button);
  });

  it('refuses to draw a button over 64 bytes', () => {
    expect(() => encodeButton({ kind: 'assign', number: '+1'.padEnd(70, '9'), version: 1 })).toThrow(
      /64-byte limit/,
    );
  });

  it.each([
    '',
    'a',
    'a|18665550100|7',
    'a|+18665550100|x',
    'q|+18665550100|7',
    'a|+18665550100|7|9',
    'T2|+1866|1',
  ])('ignores data it never drew: %j', (data) => {
    expect(decodeButton(data)).toBeNull();
  });
});
