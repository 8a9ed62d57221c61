// What the customers' inline buttons carry back when tapped (Telegram allows 64 bytes of callback_data).
// A button names a number by its DID id, never by the number itself, plus the version the number had
// when the button was drawn, so a tap on a stale screen is noticed: `cs|4711|3`. Customer data always
// starts with "c"; the staff buttons (callback-data.ts) never do, so the staff handler passes these on.
import { TRANSFER_CONDITIONS, type TransferCondition } from '../../core/transfer/call-transfer.ts';
import { CALLBACK_DATA_MAX_BYTES } from './callback-data.ts';

export type CustomerButton =
  /** Back to the list of the customer's numbers. */
  | { readonly kind: 'list' }
  /** A number's call-transfer screen. */
  | { readonly kind: 'show'; readonly didId: number; readonly version: number }
  /** Call transfer on or off. */
  | { readonly kind: 'switch'; readonly didId: number; readonly version: number; readonly enabled: boolean }
  /** Ask for a condition's destination; `thenEnable` turns transfer on once it is set. */
  | {
      readonly kind: 'destination';
      readonly didId: number;
      readonly version: number;
      readonly condition: TransferCondition;
      readonly thenEnable: boolean;
    };

const CONDITION_LETTER: Readonly<Record<TransferCondition, string>> = {
  busy: 'b',
  no_answer: 'n',
  unreachable: 'u',
  always: 'a',
};
const CONDITION_OF_LETTER = Object.fromEntries(TRANSFER_CONDITIONS.map((c) => [CONDITION_LETTER[c], c]));
const ID = /^[1-9]\d{0,14}$/;
const VERSION = /^\d{1,15}$/;

/** Whether callback_data is one of these buttons (or a broken one of them), not a staff button. */
export function isCustomerButton(data: string): boolean {
  return data.startsWith('c');
}

export function encodeCustomerButton(button: CustomerButton): string {
  let text: string;
  switch (button.kind) {
    case 'list':
      text = 'cl';
      break;
    case 'show':
      text = `cs|${button.didId}|${button.version}`;
      break;
    case 'switch':
      text = `c${button.enabled ? 1 : 0}|${button.didId}|${button.version}`;
      break;
    case 'destination':
      text = `c${button.thenEnable ? 'D' : 'd'}|${button.didId}|${button.version}|${CONDITION_LETTER[button.condition]}`;
      break;
  }
  // Ids and versions are bigints at most 15 digits long: far below the limit. A bug must not go unnoticed
  // as a whole message Telegram refuses.
  if (Buffer.byteLength(text) > CALLBACK_DATA_MAX_BYTES) throw new Error(`callback_data too long: ${text}`);
  return text;
}

/** The button a callback_data names, or null for data this bot never drew (old versions, forgeries). */
export function decodeCustomerButton(data: string): CustomerButton | null {
  if (data === 'cl') return { kind: 'list' };
  const [verb, id, version, arg, ...rest] = data.split('|');
  if (rest.length || !id || !version || !ID.test(id) || !VERSION.test(version)) return null;
  const base = { didId: Number(id), version: Number(version) };
  if (arg === undefined) {
    if (verb === 'cs') return { kind: 'show', ...base };
    if (verb === 'c1' || verb === 'c0') return { kind: 'switch', ...base, enabled: verb === 'c1' };
    return null;
  }
  const condition = CONDITION_OF_LETTER[arg];
  if ((verb !== 'cd' && verb !== 'cD') || condition === undefined) return null;
  return { kind: 'destination', ...base, condition, thenEnable: verb === 'cD' };
}
