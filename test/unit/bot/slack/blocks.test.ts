// Replies rendered as Block Kit: what each reply block becomes, escaping of user text, Slack's limits, and
// the buttons (number + version in the value, confirm dialog on Release).
import { describe, expect, it } from 'vitest';
import {
  LIMITS,
  buttonValue,
  escapeMrkdwn,
  parseButtonValue,
  renderBlocks,
  type KnownBlock,
} from '../../../../bot/slack/blocks.ts';
import { failure, reply, type Action } from '../../../../bot/commands/reply.ts';

const assign: Action = {
  kind: 'assign',
  label: 'Assign',
  number: '+18665550100',
  version: 7,
  style: 'primary',
};
const release: Action = {
  kind: 'release',
  label: 'Release',
  number: '+18665550100',
  version: 7,
  style: 'danger',
  confirm: { title: 'Release this number?', text: '+1 866 555 0100 goes back to the pool.', yes: 'Release' },
};
const transfer: Action = { kind: 'transfer', label: 'Transfer', number: '+18665550100', version: 7 };

/** Every text a block shows (section text, fields, context, header), for length checks. */
function texts(block: KnownBlock): string[] {
  const b = block as { text?: { text: string }; fields?: { text: string }[]; elements?: { text?: string }[] };
  return [
    ...(b.text ? [b.text.text] : []),
    ...(b.fields ?? []).map((f) => f.text),
    ...(b.elements ?? []).flatMap((e) => (typeof e.text === 'string' ? [e.text] : [])),
  ];
}

describe('renderBlocks', () => {
  it('renders a heading, text, a hint and a list', () => {
    const { blocks, text } = renderBlocks(
      reply(
        { type: 'heading', text: '+1 866 555 0100' },
        { type: 'text', text: '✓ Done.' },
        { type: 'hint', text: '/did help assign' },
        { type: 'hint', text: 'Widen the pattern. `help search` explains patterns.' },
        { type: 'list', items: ['one', 'two'] },
      ),
    );
    expect(blocks).toEqual([
      { type: 'header', text: { type: 'plain_text', text: '+1 866 555 0100', emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: '✓ Done.' } },
      { type: 'section', text: { type: 'mrkdwn', text: '`/did help assign`' } },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: '→ Widen the pattern. `help search` explains patterns.' },
      },
      { type: 'section', text: { type: 'mrkdwn', text: '• one\n• two' } },
    ]);
    expect(text).toContain('✓ Done.');
  });

  it('escapes &, < and > in user text, so nobody can smuggle a mention or a link', () => {
    const { blocks, text } = renderBlocks(
      reply(
        { type: 'text', text: 'No account "<!channel> & <@U123|boss>".' },
        { type: 'fields', pairs: [['Description', '<https://evil.example|click>']] },
        { type: 'list', items: ['a > b'] },
      ),
    );
    const all = blocks.flatMap(texts).join('\n');
    expect(all).toContain('No account "&lt;!channel&gt; &amp; &lt;@U123|boss&gt;".');
    expect(all).toContain('&lt;https://evil.example|click&gt;');
    expect(all).toContain('• a &gt; b');
    expect(all).not.toMatch(/<[!@h]/);
    expect(text).not.toMatch(/<[!@h]/);
    expect(escapeMrkdwn('&<>')).toBe('&amp;&lt;&gt;');
  });

  it('puts fields in sections of at most ten, label in bold', () => {
    const pairs = Array.from({ length: 13 }, (_, i) => [`Label ${i}`, `value ${i}`] as const);
    const { blocks } = renderBlocks(reply({ type: 'fields', pairs }));
    expect(blocks).toHaveLength(2);
    const fields = blocks.map((b) => (b as { fields: { text: string }[] }).fields);
    expect(fields.map((f) => f.length)).toEqual([10, 3]);
    expect(fields[0]![0]).toEqual({ type: 'mrkdwn', text: '*Label 0*\nvalue 0' });
  });

  it('renders table rows as compact lines, one section per row with its button', () => {
    const { blocks } = renderBlocks(
      reply({
        type: 'table',
        columns: ['Number', 'Status', 'Holder'],
        rows: [
          ['+1 866 555 0100', 'available', ''],
          ['+1 866 555 0101', 'in use', 'acme'],
        ],
        rowActions: [[assign], [release, transfer]],
      }),
    );
    expect(blocks[0]).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'Number · Status · Holder' }],
    });
    expect(blocks[1]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: '*+1 866 555 0100* · available' },
      accessory: {
        type: 'button',
        action_id: 'did_assign:+18665550100',
        text: { type: 'plain_text', text: 'Assign', emoji: true },
        value: '{"n":"+18665550100","v":7}',
        style: 'primary',
      },
    });
    expect(blocks[2]).toMatchObject({
      text: { text: '*+1 866 555 0101* · in use · acme' },
      accessory: { action_id: 'did_release:+18665550100' },
    });
  });

  it('packs rows without buttons into as few sections as fit', () => {
    const rows = Array.from({ length: 100 }, (_, i) => [`cmd ${i}`, 'what it does']);
    const { blocks } = renderBlocks(reply({ type: 'table', columns: ['Command', 'What'], rows }));
    expect(blocks).toHaveLength(2);
    expect((blocks[1] as { text: { text: string } }).text.text.split('\n')).toHaveLength(100);
  });

  it('draws actions as buttons: Release is dangerous and asks first', () => {
    const { blocks } = renderBlocks(reply({ type: 'actions', actions: [release, transfer] }));
    expect(blocks).toEqual([
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: 'did_release:+18665550100',
            text: { type: 'plain_text', text: 'Release', emoji: true },
            value: '{"n":"+18665550100","v":7}',
            style: 'danger',
            confirm: {
              title: { type: 'plain_text', text: 'Release this number?', emoji: true },
              text: { type: 'plain_text', text: '+1 866 555 0100 goes back to the pool.', emoji: true },
              confirm: { type: 'plain_text', text: 'Release', emoji: true },
              deny: { type: 'plain_text', text: 'Cancel', emoji: true },
              style: 'danger',
            },
          },
          {
            type: 'button',
            action_id: 'did_transfer:+18665550100',
            text: { type: 'plain_text', text: 'Transfer', emoji: true },
            value: '{"n":"+18665550100","v":7}',
          },
        ],
      },
    ]);
  });

  it('keeps within 50 blocks, ending with how many rows were left out', () => {
    const rows = Array.from({ length: 200 }, (_, i) => [
      `+1 866 555 ${String(i).padStart(4, '0')}`,
      'available',
    ]);
    const { blocks } = renderBlocks(
      reply(
        { type: 'heading', text: '200 numbers' },
        { type: 'table', columns: ['Number', 'Status'], rows, rowActions: rows.map(() => [assign]) },
      ),
    );
    expect(blocks).toHaveLength(LIMITS.blocks);
    // header + legend + 47 rows shown: 153 rows left out.
    expect(blocks.at(-1)).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '_…and 153 more_' } });
  });

  it('cuts every text to what Slack accepts', () => {
    const long = 'x'.repeat(5000);
    const { blocks, text } = renderBlocks(
      reply(
        { type: 'heading', text: long },
        { type: 'text', text: long },
        { type: 'fields', pairs: [['Label', long]] },
        { type: 'list', items: [long, long] },
        {
          type: 'actions',
          actions: [{ ...release, label: long, confirm: { title: long, text: long, yes: long } }],
        },
      ),
    );
    const header = blocks[0] as { text: { text: string } };
    expect(header.text.text.length).toBe(LIMITS.header);
    for (const t of blocks.flatMap(texts)) expect(t.length).toBeLessThanOrEqual(LIMITS.text);
    const field = (blocks[2] as { fields: { text: string }[] }).fields[0]!;
    expect(field.text.length).toBeLessThanOrEqual(LIMITS.fieldText);
    const actions = blocks.at(-1);
    if (actions?.type !== 'actions') throw new Error('expected the actions block last');
    const button = actions.elements[0];
    if (button?.type !== 'button' || !button.confirm) throw new Error('expected a button with a confirm');
    expect(button.text.text.length).toBe(LIMITS.buttonText);
    expect(button.confirm.title?.text.length).toBe(LIMITS.confirmTitle);
    expect(button.confirm.text?.text.length).toBe(LIMITS.confirmText);
    expect(button.confirm.confirm?.text.length).toBe(LIMITS.confirmButton);
    expect(text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
    expect(text.endsWith('…')).toBe(true);
  });

  it('never cuts an escaped character in half', () => {
    const { blocks } = renderBlocks(reply({ type: 'text', text: 'x'.repeat(2998) + '&&&' }));
    const shown = (blocks[0] as { text: { text: string } }).text.text;
    expect(shown).toBe('x'.repeat(2998) + '…');
  });

  it('gives a failure a fallback text too', () => {
    expect(renderBlocks(failure(3, { type: 'text', text: '✗ No account "x".' })).text).toBe(
      '✗ No account "x".',
    );
  });
});

describe('button values', () => {
  it('round-trip number and version as compact JSON', () => {
    expect(buttonValue(assign)).toBe('{"n":"+18665550100","v":7}');
    expect(parseButtonValue(buttonValue(assign))).toEqual({ n: '+18665550100', v: 7 });
  });

  it.each([
    undefined,
    '',
    'garbage',
    '[]',
    '{"n":"+1","v":"7"}',
    '{"v":7}',
    '{"n":"","v":7}',
    '{"n":"+1","v":1.5}',
  ])('rejects %j', (value) => {
    expect(parseButtonValue(value)).toBeNull();
  });
});
