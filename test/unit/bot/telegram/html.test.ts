// Telegram HTML rendering of replies: escaping, layout, the 4,096-character limit and the inline keyboard.
import { describe, expect, it } from 'vitest';
import { reply, type Action, type Block } from '../../../../bot/commands/reply.ts';
import { CALLBACK_DATA_MAX_BYTES } from '../../../../bot/telegram/callback-data.ts';
import {
  MAX_BUTTONS,
  MESSAGE_LIMIT,
  confirmKeyboard,
  escapeHtml,
  renderReply,
} from '../../../../bot/telegram/html.ts';

const render = (...blocks: Block[]) => renderReply(reply(...blocks));

const assign = (number: string, version: number): Action => ({
  kind: 'assign',
  label: 'Assign',
  number,
  version,
  style: 'primary',
});

const callbackData = (markup: ReturnType<typeof render>['replyMarkup']) =>
  (markup?.inline_keyboard ?? []).flat().map((b) => ('callback_data' in b ? b.callback_data : ''));

describe('escapeHtml', () => {
  it('escapes the three characters Telegram HTML needs escaped, and nothing else', () => {
    expect(escapeHtml(`a < b && c > "d" 'e'`)).toBe(`a &lt; b &amp;&amp; c &gt; "d" 'e'`);
  });
});

describe('renderReply', () => {
  it('escapes every kind of block, so user data cannot inject markup', () => {
    const { text } = render(
      { type: 'heading', text: '<script>' },
      { type: 'text', text: 'Tom & Jerry <b>' },
      { type: 'fields', pairs: [['<b>A', 'x > y']] },
      { type: 'list', items: ['<i>item</i>'] },
      { type: 'hint', text: 'assign <number> <account>' },
    );
    expect(text).toBe(
      [
        '<b>&lt;script&gt;</b>',
        'Tom &amp; Jerry &lt;b&gt;',
        '<b>&lt;b&gt;A:</b> x &gt; y',
        '• &lt;i&gt;item&lt;/i&gt;',
        '→ <code>assign &lt;number&gt; &lt;account&gt;</code>',
      ].join('\n'),
    );
  });

  it('ends field labels with a colon unless they end in a symbol of their own', () => {
    expect(
      render({
        type: 'fields',
        pairs: [
          ['Status', 'on'],
          ['Busy →', '+1 212 555 0142'],
        ],
      }).text,
    ).toBe('<b>Status:</b> on\n<b>Busy →</b> +1 212 555 0142');
  });

  it('shows `backticked` commands in text and hints as code', () => {
    expect(render({ type: 'text', text: 'Type `help search` for <patterns>.' }).text).toBe(
      'Type <code>help search</code> for &lt;patterns&gt;.',
    );
    expect(render({ type: 'hint', text: 'Widen it. `help search` explains.' }).text).toBe(
      '→ Widen it. <code>help search</code> explains.',
    );
  });

  it('draws narrow tables as aligned columns in <pre>, wide ones as one line per row', () => {
    const narrow = render({
      type: 'table',
      columns: ['Who', 'Role'],
      rows: [
        ['alice', 'admin'],
        ['bob<x>', 'viewer'],
      ],
    });
    expect(narrow.text).toBe('<pre>Who     Role\n──────  ──────\nalice   admin\nbob&lt;x&gt;  viewer</pre>');

    const wide = render({
      type: 'table',
      columns: ['Number', 'Status', 'Location', 'Setup', 'Monthly', 'Holder'],
      rows: [['+1 866 555 0100', 'available', 'New York, NY, US (212)', '$1.00', '$1.50 per month', '']],
    });
    expect(wide.text).toBe(
      '<b>+1 866 555 0100</b> — available · Location: New York, NY, US (212) · Setup: $1.00 · Monthly: $1.50 per month',
    );
  });

  it('keeps a long search result under 4,096 characters, saying how many rows it left out, and keeps the hint after it', () => {
    const numbers = Array.from({ length: 200 }, (_, i) => `+1866555${String(1000 + i)}`);
    const message = render(
      { type: 'heading', text: '200 numbers (more available)' },
      {
        type: 'table',
        columns: ['Number', 'Status', 'Location', 'Setup', 'Monthly', 'Holder'],
        rows: numbers.map((n) => [n, 'available', 'Toll-free, US', '$1.00', '$1.50 per month', '']),
        rowActions: numbers.map((n) => [assign(n, 1)]),
      },
      { type: 'hint', text: 'Next page: add after=+18665551199' },
    );
    expect(message.text.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
    const shown = (message.text.match(/^<b>\+1866/gm) ?? []).length;
    expect(shown).toBeGreaterThan(10);
    expect(shown).toBeLessThan(200);
    expect(message.text).toContain(`…and ${200 - shown} more`);
    expect(message.text.endsWith('→ <code>Next page: add after=+18665551199</code>')).toBe(true);
    // Buttons only for the rows shown, and never more than Telegram takes.
    const rows = message.replyMarkup?.inline_keyboard ?? [];
    expect(rows).toHaveLength(Math.min(shown, MAX_BUTTONS));
    expect(rows[0]).toEqual([{ text: 'Assign +1 866 555 1000', callback_data: 'a|+18665551000|1' }]);
  });

  it('closes a <pre> table it cuts', () => {
    const rows = Array.from({ length: 800 }, (_, i) => [String(i), 'x']);
    const { text } = render({ type: 'table', columns: ['N', 'V'], rows });
    expect(text.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
    expect(text).toMatch(/<\/pre>\n…and \d+ more$/);
    expect(text.match(/<pre>/g)).toHaveLength(1);
  });

  it('cuts a runaway text block so that the message still fits', () => {
    const { text } = render(
      { type: 'text', text: '<'.repeat(10_000) },
      { type: 'text', text: 'x'.repeat(10_000) },
    );
    expect(text.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
    expect(text).not.toMatch(/&[a-z]*$/); // no entity cut in half
  });

  it('turns action blocks into a keyboard row of compact callback data, with nothing in the text', () => {
    const message = render(
      { type: 'heading', text: '+1 866 555 0100' },
      {
        type: 'actions',
        actions: [
          {
            kind: 'release',
            label: 'Release',
            number: '+18665550100',
            version: 7,
            style: 'danger',
            confirm: { title: 'Release?', text: 'Sure?', yes: 'Release' },
          },
          { kind: 'transfer', label: 'Transfer', number: '+18665550100', version: 7 },
        ],
      },
    );
    expect(message.text).toBe('<b>+1 866 555 0100</b>');
    expect(message.replyMarkup).toEqual({
      inline_keyboard: [
        [
          { text: 'Release', callback_data: 'r|+18665550100|7' },
          { text: 'Transfer', callback_data: 't|+18665550100|7' },
        ],
      ],
    });
  });

  it('keeps every button within 64 bytes of callback data, even for the longest numbers and versions', () => {
    const message = render({
      type: 'actions',
      actions: [assign('+999999999999999', Number.MAX_SAFE_INTEGER)],
    });
    for (const data of callbackData(message.replyMarkup)) {
      expect(Buffer.byteLength(data)).toBeLessThanOrEqual(CALLBACK_DATA_MAX_BYTES);
    }
  });

  it('draws no keyboard when the reply has no buttons', () => {
    expect(render({ type: 'text', text: 'hi' }).replyMarkup).toBeUndefined();
  });
});

describe('confirmKeyboard', () => {
  it('offers yes (with the confirmed verb) and cancel', () => {
    expect(
      confirmKeyboard({
        text: 'Release',
        data: { kind: 'release-confirmed', number: '+18665550100', version: 7 },
      }),
    ).toEqual({
      inline_keyboard: [
        [
          { text: 'Release', callback_data: 'R|+18665550100|7' },
          { text: 'Cancel', callback_data: 'x' },
        ],
      ],
    });
  });
});
