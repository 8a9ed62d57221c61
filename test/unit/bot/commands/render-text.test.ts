// The console's plain-text rendering of replies, and the help replies every channel shows.
import { describe, expect, it } from 'vitest';
import { help } from '../../../../bot/commands/execute.ts';
import { COMMANDS } from '../../../../bot/commands/grammar.ts';
import { reply, type Block, type Reply } from '../../../../bot/commands/reply.ts';
import { renderText } from '../../../../bot/commands/render-text.ts';

const render = (...blocks: Block[]) => renderText(reply(...blocks));

/** Where each column starts in a rendered table: the header line names them, each once. */
function columnStarts(header: string, columns: readonly string[]): number[] {
  let from = 0;
  return columns.map((column) => {
    const at = header.indexOf(column, from);
    from = at + column.length;
    return at;
  });
}

function tableBlock(r: Reply): Extract<Block, { type: 'table' }> {
  const table = r.blocks.find((b) => b.type === 'table');
  if (!table || table.type !== 'table') return expect.fail('the reply has no table');
  return table;
}

describe('renderText', () => {
  it('renders headings and text as they are, one block per line', () => {
    expect(render({ type: 'heading', text: 'Numbers' }, { type: 'text', text: 'No numbers match.' })).toBe(
      'Numbers\nNo numbers match.',
    );
  });

  it('shows a hint as an indented arrow and list items as bullets', () => {
    expect(render({ type: 'hint', text: 'Next page: add after=abc' })).toBe('  → Next page: add after=abc');
    expect(render({ type: 'list', items: ['+1 866 555 0100', 'line 3: bad'] })).toBe(
      '  • +1 866 555 0100\n  • line 3: bad',
    );
  });

  it('aligns a table: every row starts every column where its header does', () => {
    const columns = ['Number', 'Status', 'Location', 'Holder'];
    const rows = [
      ['+1 866 555 0100', 'available', 'US', ''],
      ['+44 20 7946 0000', 'aging until 2026-04-01', 'London, GB (20)', 'acme (via voipco)'],
      ['+1 212 555 0142', 'in use', '', 'voipco'],
      ['+1 8', 'x'], // short row: missing cells render empty
    ];
    const lines = render({ type: 'table', columns, rows }).split('\n');
    expect(lines).toHaveLength(2 + rows.length);
    const starts = columnStarts(lines[0]!, columns);
    expect(starts[0]).toBe(2);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));

    // The rule under the header: one run of ─ per column, starting where the column does.
    const rule = lines[1]!;
    expect(rule).toMatch(/^ {2}[─ ]+$/);
    starts.forEach((start, i) => {
      expect(rule[start]).toBe('─');
      if (i > 0) expect(rule.slice(start - 2, start)).toBe('  ');
    });

    rows.forEach((row, r) => {
      const line = lines[2 + r]!;
      expect(line.startsWith('  ')).toBe(true);
      expect(line).toBe(line.trimEnd());
      starts.forEach((start, i) => {
        const cell = row[i] ?? '';
        expect(line.slice(start, start + cell.length), `row ${r} column ${i}`).toBe(cell);
        // Nothing of the previous cell runs into this one: at least two spaces before it.
        if (i > 0 && cell) expect(line.slice(start - 2, start)).toBe('  ');
      });
    });
    // Each column is as wide as its widest cell.
    expect(starts[1]! - starts[0]!).toBe('+44 20 7946 0000'.length + 2);
    expect(starts[2]! - starts[1]!).toBe('aging until 2026-04-01'.length + 2);
  });

  it('renders a table with no rows as its header and rule', () => {
    expect(render({ type: 'table', columns: ['A', 'Bb'], rows: [] })).toBe('  A  Bb\n  ─  ──');
  });

  it('aligns fields: every value starts in the same column', () => {
    const pairs: [string, string][] = [
      ['Status', 'in use'],
      ['Holder', 'acme (via voipco)'],
      ['Call rating', '0.0045/min'],
      ['Password (shown once)', 'abc'],
    ];
    const lines = render({ type: 'fields', pairs }).split('\n');
    expect(lines).toHaveLength(pairs.length);
    const valueStart = '  Password (shown once): '.length;
    lines.forEach((line, i) => {
      const [label, value] = pairs[i]!;
      expect(line.startsWith(`  ${label}:`)).toBe(true);
      expect(line.slice(valueStart)).toBe(value);
      expect(line.slice(2 + label.length + 1, valueStart).trim()).toBe('');
    });
  });

  it('keeps block order', () => {
    const text = render(
      { type: 'heading', text: 'H' },
      { type: 'fields', pairs: [['A', '1']] },
      { type: 'hint', text: 'next' },
    );
    expect(text).toBe('H\n  A: 1\n  → next');
  });
});

describe('help', () => {
  const chatCommands = COMMANDS.filter((c) => !c.cliOnly);
  const consoleOnly = COMMANDS.filter((c) => c.cliOnly);

  it('lists only the chat commands in chat', () => {
    const r = help(undefined, 'chat');
    expect(r.ok).toBe(true);
    const table = tableBlock(r);
    expect(table.rows).toHaveLength(chatCommands.length);
    table.rows.forEach((row, i) => {
      expect(row[0]!.startsWith(chatCommands[i]!.name)).toBe(true);
      expect(row[1]).toBe(chatCommands[i]!.summary);
    });
    const text = renderText(r);
    for (const spec of consoleOnly) expect(text).not.toContain(spec.summary);
    expect(text).toContain('→ /did help <command>');
    expect(text).not.toContain('npm run did');
  });

  it('lists every command in the console', () => {
    const r = help(undefined, 'cli');
    const table = tableBlock(r);
    expect(table.rows.map((row) => row[1])).toEqual(COMMANDS.map((c) => c.summary));
    table.rows.forEach((row, i) => expect(row[0]!.startsWith(COMMANDS[i]!.name)).toBe(true));
    expect(renderText(r)).toContain('→ npm run did -- help <command>');
  });

  it('shows no options in the command column', () => {
    for (const row of tableBlock(help(undefined, 'cli')).rows) {
      expect(row[0]).not.toContain('[');
      expect(row[0]).not.toContain('=');
    }
  });

  it.each([
    ['chat', '/did '],
    ['cli', 'npm run did -- '],
  ] as const)('help assign in %s shows the usage, the summary and the examples', (channel, prefix) => {
    const assign = COMMANDS.find((c) => c.name === 'assign')!;
    const lines = renderText(help('assign', channel)).split('\n');
    expect(lines[0]).toBe(`${prefix}assign <number> <account>`);
    expect(lines).toContain(assign.summary + '.');
    expect(lines).toContain('Examples:');
    for (const example of assign.examples) expect(lines).toContain(`  → ${prefix}${example}`);
    expect(lines.indexOf('Examples:')).toBeLessThan(lines.indexOf(`  → ${prefix}${assign.examples[0]!}`));
  });

  it('explains a two-word command, with its details, in any case', () => {
    const text = renderText(help('Assign First', 'chat'));
    expect(text.split('\n')[0]).toBe('/did assign first <N> <pattern> <account>');
    expect(text).toContain('Accepts the search filters too.');
    expect(text).toContain('  → /did assign first 10 1212 acme');
  });

  it('says "Example:" for a command with one example', () => {
    const text = renderText(help('release', 'chat'));
    expect(text).toContain('Example:\n  → /did release 18665550100');
    expect(text).not.toContain('Examples:');
  });

  it('says so when there is no such command', () => {
    const r = help('nosuch', 'chat');
    expect(r.ok).toBe(true);
    expect(renderText(r)).toBe('No command "nosuch". Type `help` for the list.');
  });

  it('does not explain a console-only command in chat, but does in the console', () => {
    expect(renderText(help('import', 'chat'))).toBe('No command "import". Type `help` for the list.');
    expect(renderText(help('import', 'cli')).split('\n')[0]).toBe('npm run did -- import <file.csv>');
  });
});
