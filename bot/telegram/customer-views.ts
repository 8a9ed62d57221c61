// What the customers' Telegram commands show: their numbers, a number's call-transfer screen with its
// buttons, the question asking for a destination, and the fixed texts. Telegram HTML; every value from
// the database or the user is escaped here.
import type { InlineKeyboardButton } from 'telegraf/types';
import type { Account } from '../../core/db/schema.ts';
import type { AccountNumber, AccountNumberList } from '../../core/inventory/account-numbers.ts';
import { formatNumber } from '../../core/numbers/phone-number.ts';
import {
  CONDITION_LABEL,
  TRANSFER_CONDITIONS,
  formatDestination,
  type TransferCondition,
} from '../../core/transfer/call-transfer.ts';
import type { DomainError } from '../../core/shared/errors.ts';
import { encodeCustomerButton } from './customer-buttons.ts';
import { escapeHtml, MAX_BUTTONS, MESSAGE_LIMIT, type TelegramMessage } from './html.ts';

/** Buttons under the /transfer list: one per number, and room for the way back. */
const MAX_NUMBER_BUTTONS = MAX_BUTTONS - 10;
/** Lines of the /numbers list; the rest is summed up ("…and 12 more"), keeping the message in bounds. */
const MAX_LISTED = 40;

export const CUSTOMER_COMMANDS = [
  '/numbers — your numbers and their call transfer',
  '/transfer — send calls on when you are busy, do not answer, or always',
  '/unlink — disconnect this chat from your account',
].join('\n');

export const howToLink = (telegramUserId: number) =>
  [
    'Hello! I look after phone numbers for our customers.',
    '',
    'To manage yours here, link this chat to your account: on the website, open your account and tap <b>Open in Telegram</b> (or ask your provider for a link). The link brings you back here and links the chat with one tap; it works once, and only for a short while.',
    '',
    `Staff: ask an admin to run <code>/did staff link telegram ${telegramUserId} viewer</code>; /help lists the staff commands.`,
  ].join('\n');

export const NOT_LINKED =
  'This chat is not linked to an account. On the website, open your account and tap <b>Open in Telegram</b> to link it.';

export const FOR_CUSTOMERS =
  'These commands are for customers. Staff use /did: for example <code>/did info &lt;number&gt;</code> or <code>/did transfer &lt;number&gt;</code>.';

export const NOT_YOURS = 'That number is not yours.';
export const PRIVATE_ONLY = (botUsername: string) =>
  `Open a private chat with me, @${escapeHtml(botUsername)}, to manage your numbers.`;

/** A refusal from core: its message, and what to do about it on its own line. */
export function errorMessage(error: DomainError): TelegramMessage {
  return { text: `✗ ${escapeHtml(error.message)}${error.help ? `\n${escapeHtml(error.help)}` : ''}` };
}

export function linkedMessage(account: Account, total: number): TelegramMessage {
  const count =
    total === 0 ? 'You have no numbers yet.' : `You have ${total} number${total === 1 ? '' : 's'}.`;
  return {
    text: `✓ This chat is now linked to <b>${escapeHtml(account.name)}</b> (${escapeHtml(account.slug)}). ${count}\n\n${CUSTOMER_COMMANDS}`,
  };
}

export function welcomeMessage(account: Account): TelegramMessage {
  return {
    text: `This chat manages the numbers of <b>${escapeHtml(account.name)}</b> (${escapeHtml(account.slug)}).\n\n${CUSTOMER_COMMANDS}`,
  };
}

const STATUS: Readonly<Record<string, string>> = { assigned: 'in service', suspended: 'suspended' };

/** "off", "on: Busy → +44 20 7946 0000", "on, but …". */
function transferSummary(n: AccountNumber): string {
  const t = n.transfer;
  if (!t.enabled) return 'transfer off';
  const where = TRANSFER_CONDITIONS.flatMap((c) => {
    const d = t.destinations[c];
    return d ? [`${CONDITION_LABEL[c]} → ${formatDestination(d)}`] : [];
  }).join(', ');
  if (!t.accountEnabled) return `transfer on (${where}), but switched off for your account`;
  if (n.status !== 'assigned') return `transfer on (${where}), but the number is suspended`;
  return `transfer on: ${where}`;
}

export function numbersMessage(list: AccountNumberList): TelegramMessage {
  if (list.total === 0) return { text: 'You have no numbers yet. Numbers you buy on the website show here.' };
  const lines: string[] = [];
  // Whole lines only, within Telegram's limit (a cut line could break its HTML); room left for the end.
  let room = MESSAGE_LIMIT - 200;
  for (const n of list.numbers.slice(0, MAX_LISTED)) {
    const place = [n.city, n.country].filter(Boolean).join(', ');
    const description = n.description.length > 80 ? n.description.slice(0, 79) + '…' : n.description;
    const parts = [STATUS[n.status] ?? n.status, place, description, transferSummary(n)].filter(Boolean);
    const line = `• <b>${escapeHtml(formatNumber(n.number))}</b> — ${escapeHtml(parts.join(' · '))}`;
    room -= line.length + 1;
    if (room < 0) break;
    lines.push(line);
  }
  const more = list.total - lines.length;
  return {
    text: [
      `<b>Your numbers (${list.total})</b>`,
      ...lines,
      ...(more > 0 ? [`…and ${more} more`] : []),
      '',
      '/transfer changes where calls go.',
    ].join('\n'),
  };
}

/** /transfer: one button per number, opening its call-transfer screen. */
export function pickNumberMessage(list: AccountNumberList): TelegramMessage {
  if (list.total === 0) return { text: 'You have no numbers yet. Numbers you buy on the website show here.' };
  const shown = list.numbers.slice(0, MAX_NUMBER_BUTTONS);
  const more = list.total - shown.length;
  const keyboard: InlineKeyboardButton[][] = shown.map((n) => [
    {
      text: `${formatNumber(n.number)} · ${n.transfer.enabled ? 'on' : 'off'}`,
      callback_data: encodeCustomerButton({ kind: 'show', didId: n.didId, version: n.version }),
    },
  ]);
  const text =
    'Which number? Tap it to see and change where its calls go.' +
    (more > 0
      ? `\n(${more} more are not shown: type <code>/transfer &lt;number&gt;</code> for one of them.)`
      : '');
  return { text, replyMarkup: { inline_keyboard: keyboard } };
}

function transferState(n: AccountNumber): string {
  const t = n.transfer;
  if (!t.enabled) return 'off';
  if (!t.accountEnabled) return 'on, but your provider switched call transfer off for your account';
  if (n.status !== 'assigned') return 'on, but the number is suspended: no calls are transferred';
  return 'on';
}

const conditionButtons = (n: AccountNumber, thenEnable: boolean): InlineKeyboardButton[][] => {
  const button = (condition: TransferCondition): InlineKeyboardButton => ({
    text: CONDITION_LABEL[condition],
    callback_data: encodeCustomerButton({
      kind: 'destination',
      didId: n.didId,
      version: n.version,
      condition,
      thenEnable,
    }),
  });
  return [
    [button('busy'), button('no_answer')],
    [button('unreachable'), button('always')],
  ];
};

/** A number's call transfer: the switch, where each condition sends calls, and the buttons to change it. */
export function transferScreen(n: AccountNumber, said: readonly string[] = []): TelegramMessage {
  const t = n.transfer;
  const d = t.destinations;
  const shown = (c: TransferCondition) => {
    const destination = d[c];
    if (c === 'no_answer') {
      return destination
        ? `${formatDestination(destination)} (after ${t.ringTimeoutSeconds} s)`
        : `not set (rings ${t.ringTimeoutSeconds} s)`;
    }
    return destination ? formatDestination(destination) : 'not set';
  };
  const lines = [
    ...said.map(escapeHtml),
    ...(said.length ? [''] : []),
    `<b>Call transfer for ${escapeHtml(formatNumber(n.number))}</b>`,
    `<b>Transfer:</b> ${escapeHtml(transferState(n))}`,
    ...TRANSFER_CONDITIONS.map((c) => `<b>${escapeHtml(CONDITION_LABEL[c])} →</b> ${escapeHtml(shown(c))}`),
    '',
    'Tap a condition to set where its calls go.',
  ];
  const switchButton: InlineKeyboardButton = {
    text: t.enabled ? 'Turn off' : 'Turn on',
    callback_data: encodeCustomerButton({
      kind: 'switch',
      didId: n.didId,
      version: n.version,
      enabled: !t.enabled,
    }),
  };
  return {
    text: lines.join('\n'),
    replyMarkup: {
      inline_keyboard: [
        [switchButton],
        ...conditionButtons(n, false),
        [{ text: '« Your numbers', callback_data: encodeCustomerButton({ kind: 'list' }) }],
      ],
    },
  };
}

/** Turn on without a destination: which calls should go somewhere first? */
export function destinationFirstMessage(n: AccountNumber): TelegramMessage {
  return {
    text: `Call transfer needs somewhere to send calls first. Which calls to ${escapeHtml(formatNumber(n.number))} should go on? I turn transfer on once you have set it.`,
    replyMarkup: { inline_keyboard: conditionButtons(n, true) },
  };
}

const QUESTION_NAME: Readonly<Record<TransferCondition, string>> = {
  busy: 'BUSY',
  no_answer: 'NO ANSWER',
  unreachable: 'UNREACHABLE',
  always: 'ALWAYS',
};

export function destinationQuestion(number: string, condition: TransferCondition): TelegramMessage {
  return {
    text: escapeHtml(
      `Send the destination for ${QUESTION_NAME[condition]} on ${formatNumber(number)}: a phone number with country code or sip:user@host ("none" clears it).`,
    ),
  };
}
/** Recognises our question (as plain text) when its answer arrives after we forgot it. */
export const DESTINATION_QUESTION =
  /^Send the destination for [A-Z ]+ on .+: a phone number with country code/;
export const DESTINATION_PLACEHOLDER = '+44 20 7946 0000 or sip:desk@pbx.example.com';

export const QUESTION_EXPIRED =
  'That question expired (I keep them for 10 minutes, and forget them when I restart). Send /transfer and tap the condition again.';
