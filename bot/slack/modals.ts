// The two forms buttons open: Assign (which account) and Transfer (call-transfer settings). Each carries in
// its private_metadata the number, the version it had when the button was drawn, and where to answer
// (channel, response_url), because a submission arrives without any of that. Reading a submission only
// checks the form is filled in coherently; whether the values are acceptable is core's decision.
import type { types } from '@slack/bolt';
import { formatNumber } from '../../core/numbers/phone-number.ts';
import { escapeMrkdwn, plain, truncate } from './blocks.ts';
import type { Command, TransferChange } from '../commands/grammar.ts';

type ModalView = types.ModalView;
type Option = types.PlainTextOption;

export type TransferCommand = Extract<Command, { name: 'transfer' }>;
type TransferCondition = Extract<TransferChange, { kind: 'destination' }>['condition'];

export const ASSIGN_MODAL = 'did_assign_modal';
export const TRANSFER_MODAL = 'did_transfer_modal';

export const ACCOUNT_BLOCK = 'account_block';
export const SWITCH_BLOCK = 'switch_block';
export const CONDITION_BLOCK = 'condition_block';
export const DESTINATION_BLOCK = 'destination_block';
export const RING_BLOCK = 'ring_block';

export interface ModalMeta {
  readonly n: string;
  readonly v: number;
  readonly channel_id?: string;
  readonly response_url?: string;
}

/** What Slack hands back from the form: block id → action id → value. */
export type ViewValues = Record<
  string,
  Record<string, { value?: string | null; selected_option?: { value: string } | null }>
>;

export function encodeMeta(meta: ModalMeta): string {
  return JSON.stringify(meta);
}

export function decodeMeta(text: string | undefined): ModalMeta | null {
  if (!text) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return null;
    const { n, v, channel_id, response_url } = parsed as Record<string, unknown>;
    if (typeof n !== 'string' || typeof v !== 'number') return null;
    return {
      n,
      v,
      channel_id: typeof channel_id === 'string' ? channel_id : undefined,
      response_url: typeof response_url === 'string' ? response_url : undefined,
    };
  } catch {
    return null;
  }
}

export function assignModal(meta: ModalMeta): ModalView {
  return {
    type: 'modal',
    callback_id: ASSIGN_MODAL,
    title: plain('Assign a number', 24),
    submit: plain('Assign', 24),
    close: plain('Cancel', 24),
    private_metadata: encodeMeta(meta),
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `Assign *${escapeMrkdwn(formatNumber(meta.n))}* to:` },
      },
      {
        type: 'input',
        block_id: ACCOUNT_BLOCK,
        label: plain('Account', 2000),
        element: {
          type: 'plain_text_input',
          action_id: 'account',
          placeholder: plain('slug, e.g. acme', 150),
          max_length: 100,
          focus_on_load: true,
        },
        hint: plain('The reseller or customer, by its slug or id.', 2000),
      },
    ],
  };
}

export function readAssignSubmission(values: ViewValues): string {
  return values[ACCOUNT_BLOCK]?.account?.value?.trim() ?? '';
}

const option = (value: string, text: string): Option => ({ text: plain(text, 75), value });

const KEEP = option('keep', 'Leave as it is');
const SWITCH_OPTIONS = [KEEP, option('on', 'Turn call transfer on'), option('off', 'Turn call transfer off')];

export const CONDITIONS: readonly (readonly [TransferCondition, string])[] = [
  ['busy', 'Busy'],
  ['no_answer', 'No answer'],
  ['unreachable', 'Unreachable'],
  ['always', 'Always'],
];

export function transferModal(meta: ModalMeta): ModalView {
  return {
    type: 'modal',
    callback_id: TRANSFER_MODAL,
    title: plain('Call transfer', 24),
    submit: plain('Save', 24),
    close: plain('Cancel', 24),
    private_metadata: encodeMeta(meta),
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `Call transfer for *${escapeMrkdwn(formatNumber(meta.n))}*. Fill in only what you want to change.`,
        },
      },
      {
        type: 'input',
        block_id: SWITCH_BLOCK,
        optional: true,
        label: plain('Call transfer', 2000),
        element: {
          type: 'radio_buttons',
          action_id: 'switch',
          initial_option: KEEP,
          options: SWITCH_OPTIONS,
        },
      },
      {
        type: 'input',
        block_id: CONDITION_BLOCK,
        optional: true,
        label: plain('When', 2000),
        element: {
          type: 'static_select',
          action_id: 'condition',
          placeholder: plain('When calls are transferred', 150),
          options: CONDITIONS.map(([value, text]) => option(value, text)),
        },
      },
      {
        type: 'input',
        block_id: DESTINATION_BLOCK,
        optional: true,
        label: plain('Transfer to', 2000),
        element: {
          type: 'plain_text_input',
          action_id: 'destination',
          placeholder: plain('+12125550142 or sip:support@pbx.example.com', 150),
          max_length: 255,
        },
        hint: plain('A phone number in international format or a SIP address; none clears it.', 2000),
      },
      {
        type: 'input',
        block_id: RING_BLOCK,
        optional: true,
        label: plain('Ring timeout (seconds)', 2000),
        element: { type: 'number_input', action_id: 'seconds', is_decimal_allowed: false },
        hint: plain('How long to ring before a no-answer transfer.', 2000),
      },
    ],
  };
}

export type TransferSubmission =
  { readonly changes: readonly TransferChange[] } | { readonly errors: Readonly<Record<string, string>> };

/**
 * The changes the form asks for, in the order they are applied: where calls go first, then how long to
 * ring, then the switch (so "on" finds its destination already set).
 */
export function readTransferSubmission(values: ViewValues): TransferSubmission {
  const errors: Record<string, string> = {};
  const changes: TransferChange[] = [];
  const switchTo = values[SWITCH_BLOCK]?.switch?.selected_option?.value ?? 'keep';
  const condition = values[CONDITION_BLOCK]?.condition?.selected_option?.value;
  const destination = values[DESTINATION_BLOCK]?.destination?.value?.trim() ?? '';
  const seconds = values[RING_BLOCK]?.seconds?.value?.trim() ?? '';

  if (condition || destination) {
    const known = CONDITIONS.find(([value]) => value === condition)?.[0];
    if (!known) errors[CONDITION_BLOCK] = 'Choose when calls go to this destination.';
    if (!destination) errors[DESTINATION_BLOCK] = 'Give where calls go: +12125550142 or sip:user@host.';
    if (known && destination) changes.push({ kind: 'destination', condition: known, destination });
  }
  if (seconds) {
    const n = Number(seconds);
    if (!/^\d+$/.test(seconds) || !Number.isSafeInteger(n))
      errors[RING_BLOCK] = 'Give a whole number of seconds.';
    else changes.push({ kind: 'ring-timeout', seconds: n });
  }
  if (switchTo === 'on' || switchTo === 'off') changes.push({ kind: 'switch', enabled: switchTo === 'on' });

  if (Object.keys(errors).length) return { errors };
  if (changes.length === 0) return { errors: { [SWITCH_BLOCK]: 'Choose something to change.' } };
  return { changes };
}

/** The form field a change came from, to show core's verdict on it. */
export function blockOf(change: TransferChange): string {
  switch (change.kind) {
    case 'destination':
      return DESTINATION_BLOCK;
    case 'ring-timeout':
      return RING_BLOCK;
    default:
      return SWITCH_BLOCK;
  }
}

/** A field error's text: Slack shows it under the field, in plain text. */
export function fieldError(text: string): string {
  return truncate(text.replace(/^✗\s*/, ''), 500);
}
