// What a Telegram inline button carries back when tapped. Telegram allows at most 64 bytes of
// callback_data, so a button holds a one-letter verb, the number (E.164) and the version the number had
// when the button was drawn (`a|+18665550100|7`), never an object. The version lets core refuse a tap on
// a stale button instead of acting on old facts.

export const CALLBACK_DATA_MAX_BYTES = 64;

export type ButtonData =
  /** Assign: ask which account gets the number. */
  | { readonly kind: 'assign'; readonly number: string; readonly version: number }
  /** Release: ask to confirm first. */
  | { readonly kind: 'release'; readonly number: string; readonly version: number }
  /** Release, confirmed. */
  | { readonly kind: 'release-confirmed'; readonly number: string; readonly version: number }
  /** Transfer: show the number's call-transfer settings. */
  | { readonly kind: 'transfer'; readonly number: string; readonly version: number }
  /** Call transfer on or off. */
  | {
      readonly kind: 'transfer-switch';
      readonly number: string;
      readonly version: number;
      readonly enabled: boolean;
    }
  /** "No" on a confirmation. */
  | { readonly kind: 'cancel' };

const VERB = {
  assign: 'a',
  release: 'r',
  'release-confirmed': 'R',
  transfer: 't',
} as const;

const KIND_OF_VERB: Readonly<Record<string, Exclude<ButtonData['kind'], 'transfer-switch' | 'cancel'>>> = {
  a: 'assign',
  r: 'release',
  R: 'release-confirmed',
  t: 'transfer',
};

const E164 = /^\+[1-9]\d{1,14}$/;
const VERSION = /^\d{1,15}$/;

/**
 * The callback_data for a button. Throws when it would exceed Telegram's 64 bytes: Telegram would reject
 * the whole message (BUTTON_DATA_INVALID), so a bug here must surface at once rather than as a silent
 * missing reply. E.164 numbers and integer versions keep every real button far below the limit.
 */
export function encodeButton(data: ButtonData): string {
  let text: string;
  switch (data.kind) {
    case 'cancel':
      text = 'x';
      break;
    case 'transfer-switch':
      text = `T${data.enabled ? 1 : 0}|${data.number}|${data.version}`;
      break;
    default:
      text = `${VERB[data.kind]}|${data.number}|${data.version}`;
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > CALLBACK_DATA_MAX_BYTES) {
    throw new Error(
      `Telegram callback_data is ${bytes} bytes, over the ${CALLBACK_DATA_MAX_BYTES}-byte limit: ${text}`,
    );
  }
  return text;
}

/** The button a callback_data names, or null for data this bot never drew (old versions, forgeries). */
export function decodeButton(text: string): ButtonData | null {
  if (text === 'x') return { kind: 'cancel' };
  const [verb, number, version, ...rest] = text.split('|');
  if (rest.length || verb === undefined || number === undefined || version === undefined) return null;
  if (!E164.test(number) || !VERSION.test(version)) return null;
  const v = Number(version);
  if (verb === 'T1' || verb === 'T0')
    return { kind: 'transfer-switch', number, version: v, enabled: verb === 'T1' };
  const kind = KIND_OF_VERB[verb];
  return kind ? { kind, number, version: v } : null;
}
