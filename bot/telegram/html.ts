// Renders a channel-neutral reply as one Telegram message: HTML text (parse_mode 'HTML') and an inline
// keyboard for the reply's buttons. Telegram caps a message at 4,096 characters, so long tables and lists
// are cut with "…and N more" (and their buttons with them) rather than the send failing.
import type { InlineKeyboardButton, InlineKeyboardMarkup } from 'telegraf/types';
import type { Action, Block, Reply } from '../commands/reply.ts';
import { formatNumber } from '../../core/numbers/phone-number.ts';
import { encodeButton, type ButtonData } from './callback-data.ts';

export const MESSAGE_LIMIT = 4096;
/** Telegram shows at most about 100 inline buttons under a message. */
export const MAX_BUTTONS = 100;
/** Wider tables do not fit a phone as aligned columns; they become one compact line per row. */
export const PRE_TABLE_MAX_WIDTH = 40;
/** A single text block longer than this is cut, so one runaway text cannot crowd out everything else. */
const MAX_TEXT_CHARS = 3000;

export interface TelegramMessage {
  readonly text: string;
  readonly replyMarkup?: InlineKeyboardMarkup;
}

/** The three characters Telegram's HTML parse mode needs escaped in text (quotes only inside attributes). */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escaped text in which `backticked` spans (how replies mark a command) become <code>. */
function inline(text: string): string {
  return escapeHtml(cap(text)).replace(/`([^`\n]+)`/g, '<code>$1</code>');
}

function cap(text: string): string {
  return text.length > MAX_TEXT_CHARS ? text.slice(0, MAX_TEXT_CHARS - 1) + '…' : text;
}

/** A rendered block: fixed text, or rows that may be cut from the end to fit the limit. */
type Part =
  | { readonly kind: 'fixed'; readonly html: string; readonly actions?: readonly Action[] }
  | {
      readonly kind: 'rows';
      readonly head: string;
      readonly rows: readonly string[];
      readonly tail: string;
      keep: number;
      readonly rowActions?: readonly (readonly Action[])[];
    };

export function renderReply(reply: Reply, limit = MESSAGE_LIMIT): TelegramMessage {
  const parts = reply.blocks.map(renderBlock);
  let text = join(parts);
  // Shrink the longest list or table first: it is usually the search result, and the hints after it
  // (the next-page cursor) matter more than its last rows.
  while (text.length > limit) {
    const longest = parts
      .filter((p): p is Extract<Part, { kind: 'rows' }> => p.kind === 'rows' && p.keep > 0)
      .reduce<Extract<Part, { kind: 'rows' }> | undefined>(
        (a, p) => (!a || p.keep > a.keep ? p : a),
        undefined,
      );
    if (!longest) break;
    longest.keep -= 1;
    text = join(parts);
  }
  if (text.length > limit) text = hardCut(text, limit);
  const keyboard = keyboardFor(parts);
  return keyboard ? { text, replyMarkup: keyboard } : { text };
}

function join(parts: readonly Part[]): string {
  return parts
    .map((p) => {
      if (p.kind === 'fixed') return p.html;
      const dropped = p.rows.length - p.keep;
      const lines = [p.head, ...p.rows.slice(0, p.keep)].filter((l) => l !== '');
      const body = lines.length ? lines.join('\n') + p.tail : '';
      return [body, dropped > 0 ? `…and ${dropped} more` : ''].filter(Boolean).join('\n');
    })
    .filter((html) => html !== '')
    .join('\n');
}

/** Last resort for fixed text over the limit: cut at a line end, closing a <pre> left open. */
function hardCut(text: string, limit: number): string {
  const room = limit - '\n</pre>\n…'.length;
  let cut = text.slice(0, room);
  const newline = cut.lastIndexOf('\n');
  if (newline > 0) cut = cut.slice(0, newline);
  const open = (cut.match(/<pre>/g) ?? []).length - (cut.match(/<\/pre>/g) ?? []).length;
  return `${cut}${open > 0 ? '</pre>' : ''}\n…`;
}

function renderBlock(block: Block): Part {
  switch (block.type) {
    case 'heading':
      return { kind: 'fixed', html: `<b>${inline(block.text)}</b>` };
    case 'text':
      return { kind: 'fixed', html: inline(block.text) };
    case 'hint':
      // A hint is usually a command to type: as <code> it is copied with one tap.
      return {
        kind: 'fixed',
        html: block.text.includes('`')
          ? `→ ${inline(block.text)}`
          : `→ <code>${escapeHtml(cap(block.text))}</code>`,
      };
    case 'fields':
      return {
        kind: 'rows',
        head: '',
        rows: block.pairs.map(([label, value]) => `<b>${escapeHtml(labelled(label))}</b> ${inline(value)}`),
        tail: '',
        keep: block.pairs.length,
      };
    case 'list':
      return {
        kind: 'rows',
        head: '',
        rows: block.items.map((item) => `• ${inline(item)}`),
        tail: '',
        keep: block.items.length,
      };
    case 'table':
      return renderTable(block);
    case 'actions':
      return { kind: 'fixed', html: '', actions: block.actions };
  }
}

/** "Status" reads "Status:"; a label that ends in a symbol of its own ("Busy →") keeps it. */
function labelled(label: string): string {
  return /[\p{L}\p{N})]$/u.test(label) ? `${label}:` : label;
}

function renderTable(block: Extract<Block, { type: 'table' }>): Part {
  const { columns, rows } = block;
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const width = widths.reduce((sum, w) => sum + w, 0) + 2 * (widths.length - 1);
  if (width <= PRE_TABLE_MAX_WIDTH) {
    const line = (cells: readonly string[]) =>
      escapeHtml(
        cells
          .map((cell, i) => cell.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd(),
      );
    return {
      kind: 'rows',
      head: `<pre>${line(columns)}\n${widths.map((w) => '─'.repeat(w)).join('  ')}`,
      rows: rows.map(line),
      tail: '</pre>',
      keep: rows.length,
      rowActions: block.rowActions,
    };
  }
  // One line per row: the first cell in bold, the second as is, the rest labelled by their column.
  const compact = (cells: readonly string[]) => {
    const [first = '', second, ...rest] = cells;
    const labelled = rest
      .map((cell, i) => (cell ? `${escapeHtml(columns[i + 2] ?? '')}: ${escapeHtml(cell)}` : ''))
      .filter(Boolean);
    const tail = [second ? escapeHtml(second) : '', ...labelled].filter(Boolean).join(' · ');
    return `<b>${escapeHtml(first)}</b>${tail ? ` — ${tail}` : ''}`;
  };
  return {
    kind: 'rows',
    head: '',
    rows: rows.map(compact),
    tail: '',
    keep: rows.length,
    rowActions: block.rowActions,
  };
}

/** Buttons of the kept rows (labelled with their number) and of action blocks, one keyboard row each. */
function keyboardFor(parts: readonly Part[]): InlineKeyboardMarkup | undefined {
  const keyboard: InlineKeyboardButton[][] = [];
  let count = 0;
  const add = (actions: readonly Action[], withNumber: boolean) => {
    if (actions.length === 0 || count + actions.length > MAX_BUTTONS) return;
    count += actions.length;
    keyboard.push(
      actions.map((action) => ({
        text: withNumber ? `${action.label} ${formatNumber(action.number)}` : action.label,
        callback_data: encodeButton(buttonFor(action)),
      })),
    );
  };
  for (const part of parts) {
    if (part.kind === 'fixed' && part.actions) add(part.actions, false);
    if (part.kind === 'rows' && part.rowActions) {
      for (const actions of part.rowActions.slice(0, part.keep)) add(actions, true);
    }
  }
  return keyboard.length ? { inline_keyboard: keyboard } : undefined;
}

function buttonFor(action: Action): ButtonData {
  return { kind: action.kind, number: action.number, version: action.version };
}

/** A Yes/No keyboard for a confirmation. */
export function confirmKeyboard(
  yes: { text: string; data: ButtonData },
  no = 'Cancel',
): InlineKeyboardMarkup {
  return {
    inline_keyboard: [
      [
        { text: yes.text, callback_data: encodeButton(yes.data) },
        { text: no, callback_data: encodeButton({ kind: 'cancel' }) },
      ],
    ],
  };
}
