// Renders a reply as plain text for a terminal (and as the fallback text of chat messages).
import type { Block, Reply } from './reply.ts';

export function renderText(reply: Reply): string {
  return reply.blocks
    .map(renderBlock)
    .filter((text) => text !== '')
    .join('\n');
}

function renderBlock(block: Block): string {
  switch (block.type) {
    case 'heading':
      return block.text;
    case 'text':
      return block.text;
    case 'hint':
      return `  → ${block.text}`;
    case 'list':
      return block.items.map((item) => `  • ${item}`).join('\n');
    case 'fields': {
      const width = Math.max(...block.pairs.map(([label]) => label.length));
      // "Busy →" already points at its value; only word labels get a colon.
      const labelled = (label: string) => (/[\w)]$/.test(label) ? label + ':' : label);
      return block.pairs.map(([label, value]) => `  ${labelled(label).padEnd(width + 2)}${value}`).join('\n');
    }
    case 'table':
      return renderTable(block.columns, block.rows);
    case 'actions':
      // Buttons exist only in chat; the console types the command instead.
      return '';
  }
}

function renderTable(columns: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)]
    .map((l) => '  ' + l)
    .join('\n');
}
