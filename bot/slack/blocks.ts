// Renders a channel-neutral reply (bot/commands/reply.ts) as a Slack Block Kit message: headings as header
// blocks, text as mrkdwn sections, fields in sections of at most ten, table rows as compact lines (one
// section per row with its button when the row has one), buttons in actions blocks. Slack rejects a whole
// message that breaks one of its limits, so every limit is respected here: text is escaped and cut, and a
// reply longer than a message can hold ends with a "…and N more" line.
import type { types } from '@slack/bolt';
import type { Action, Block, Reply } from '../commands/reply.ts';
import { renderText } from '../commands/render-text.ts';

export type KnownBlock = types.KnownBlock;
type Button = types.Button;
type PlainText = types.PlainTextElement;
type Mrkdwn = types.MrkdwnElement;

/** Slack's documented limits (Block Kit reference). */
export const LIMITS = {
  blocks: 50,
  text: 3000,
  header: 150,
  fieldsPerSection: 10,
  fieldText: 2000,
  buttonText: 75,
  buttonsPerActions: 25,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  fallbackText: 3000,
} as const;

/** action_id prefixes; the number is appended (`did_assign:+18665550100`) to keep ids unique per message. */
export const ACTION_IDS = {
  assign: 'did_assign',
  release: 'did_release',
  transfer: 'did_transfer',
} as const satisfies Record<Action['kind'], string>;

export interface SlackMessage {
  readonly blocks: KnownBlock[];
  /** Plain fallback for notifications and clients that cannot show blocks. */
  readonly text: string;
}

/** What a button carries: the number and its version when the button was drawn. */
export interface ButtonValue {
  readonly n: string;
  readonly v: number;
}

export function buttonValue(action: Pick<Action, 'number' | 'version'>): string {
  return JSON.stringify({ n: action.number, v: action.version } satisfies ButtonValue);
}

/** The number and version of a clicked button, or null when the value is not one of ours. */
export function parseButtonValue(value: string | undefined): ButtonValue | null {
  if (!value) return null;
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed !== 'object' || parsed === null) return null;
    const { n, v } = parsed as Record<string, unknown>;
    if (typeof n !== 'string' || n === '' || typeof v !== 'number' || !Number.isInteger(v)) return null;
    return { n, v };
  } catch {
    return null;
  }
}

/** Slack's mrkdwn treats &, < and > as control characters (links, mentions): user text must escape them. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts text to `max` characters, marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}

/** Like truncate, for escaped mrkdwn: never leaves half an entity (`&am…`) at the cut. */
function cutEscaped(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1).replace(/&[a-z]{0,3}$/, '') + '…';
}

export const plain = (text: string, max: number = LIMITS.text): PlainText => ({
  type: 'plain_text',
  text: truncate(text, max),
  emoji: true,
});

const mrkdwn = (text: string): Mrkdwn => ({ type: 'mrkdwn', text: cutEscaped(text, LIMITS.text) });

const section = (text: string): KnownBlock => ({ type: 'section', text: mrkdwn(text) });

/** A rendered block and how many of the reply's items (rows, lines, pairs) it shows, for "…and N more". */
interface Piece {
  readonly block: KnownBlock;
  readonly items: number;
}

/** The reply as a Block Kit message. */
export function renderBlocks(reply: Reply): SlackMessage {
  const pieces = reply.blocks.flatMap(piecesFor);
  let blocks = pieces.map((p) => p.block);
  if (pieces.length > LIMITS.blocks) {
    const kept = pieces.slice(0, LIMITS.blocks - 1);
    const more = pieces.slice(LIMITS.blocks - 1).reduce((sum, p) => sum + p.items, 0);
    blocks = [...kept.map((p) => p.block), section(`_…and ${more} more_`)];
  }
  return { blocks, text: fallbackText(reply) };
}

/** The plain-text rendering, escaped (Slack reads `text` as mrkdwn too) and cut to a sane length. */
export function fallbackText(reply: Reply): string {
  const text = renderText(reply).trim() || (reply.ok ? 'Done.' : 'That did not work.');
  return cutEscaped(escapeMrkdwn(text), LIMITS.fallbackText);
}

function piecesFor(block: Block): Piece[] {
  switch (block.type) {
    case 'heading':
      return block.text.trim()
        ? [{ block: { type: 'header', text: plain(block.text, LIMITS.header) }, items: 1 }]
        : [];
    case 'text':
      return block.text.trim() ? [{ block: section(escapeMrkdwn(block.text)), items: 1 }] : [];
    case 'hint':
      return [{ block: section(hint(block.text)), items: 1 }];
    case 'list':
      return linesInSections(block.items.map((item) => `• ${escapeMrkdwn(item)}`));
    case 'fields':
      return chunk(block.pairs, LIMITS.fieldsPerSection).map((pairs) => ({
        block: {
          type: 'section',
          fields: pairs.map(([label, value]) =>
            mrkdwn(cutEscaped(`*${escapeMrkdwn(label)}*\n${escapeMrkdwn(value || '—')}`, LIMITS.fieldText)),
          ),
        },
        items: pairs.length,
      }));
    case 'table':
      return table(block.columns, block.rows, block.rowActions);
    case 'actions':
      return chunk(block.actions, LIMITS.buttonsPerActions).map((actions) => ({
        block: { type: 'actions', elements: actions.map(button) },
        items: actions.length,
      }));
  }
}

/** A command to run next shows as code; a hint that already marks its code is kept as written. */
function hint(text: string): string {
  const escaped = escapeMrkdwn(text);
  return text.includes('`') ? `→ ${escaped}` : `\`${escaped}\``;
}

/**
 * Rows as compact lines: the first cell in bold, the others after it. Rows with buttons get a section each
 * (a section holds one accessory); rows without share sections, as many lines as fit.
 */
function table(
  columns: readonly string[],
  rows: readonly (readonly string[])[],
  rowActions: readonly (readonly Action[])[] | undefined,
): Piece[] {
  if (rows.length === 0) return [];
  const pieces: Piece[] = [];
  if (columns.length > 1) {
    pieces.push({
      block: { type: 'context', elements: [mrkdwn(columns.map(escapeMrkdwn).join(' · '))] },
      items: 0,
    });
  }
  const line = (row: readonly string[]) => {
    const [first = '', ...rest] = row;
    const others = rest.filter((cell) => cell.trim() !== '').map(escapeMrkdwn);
    return [`*${escapeMrkdwn(first)}*`, ...others].join(' · ');
  };
  if (!rowActions?.some((actions) => actions.length > 0)) {
    return [...pieces, ...linesInSections(rows.map(line))];
  }
  rows.forEach((row, i) => {
    const action = rowActions[i]?.[0];
    const block: KnownBlock = action
      ? { type: 'section', text: mrkdwn(line(row)), accessory: button(action) }
      : section(line(row));
    pieces.push({ block, items: 1 });
  });
  return pieces;
}

/** Lines packed into as few sections as the 3,000-character limit allows. */
function linesInSections(lines: readonly string[]): Piece[] {
  const pieces: Piece[] = [];
  let current: string[] = [];
  let length = 0;
  const flush = () => {
    if (current.length) pieces.push({ block: section(current.join('\n')), items: current.length });
    current = [];
    length = 0;
  };
  for (const raw of lines) {
    const text = cutEscaped(raw, LIMITS.text);
    if (current.length && length + 1 + text.length > LIMITS.text) flush();
    current.push(text);
    length += (current.length > 1 ? 1 : 0) + text.length;
  }
  flush();
  return pieces;
}

export function button(action: Action): Button {
  const element: Button = {
    type: 'button',
    action_id: `${ACTION_IDS[action.kind]}:${action.number}`,
    text: plain(action.label, LIMITS.buttonText),
    value: buttonValue(action),
  };
  if (action.style) element.style = action.style;
  if (action.confirm) {
    element.confirm = {
      title: plain(action.confirm.title, LIMITS.confirmTitle),
      text: plain(action.confirm.text, LIMITS.confirmText),
      confirm: plain(action.confirm.yes, LIMITS.confirmButton),
      deny: plain('Cancel', LIMITS.confirmButton),
      ...(action.style === 'danger' ? { style: 'danger' as const } : {}),
    };
  }
  return element;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
