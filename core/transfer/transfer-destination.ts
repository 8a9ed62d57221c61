// Where a transferred call may go (seed 002): out of the switch, to a PSTN number (E.164) or a SIP address.
// An extension on the operator's own switch is a primary destination, never a transfer one. The stored
// text tells the type by its form: "+442079460000" or "sip:desk@pbx.example.com".
import { parseDestination } from '../numbers/destination.ts';
import { formatNumber } from '../numbers/phone-number.ts';
import { invalid, isDomainError } from '../shared/errors.ts';

/** When a call is transferred: the line is busy, nobody answers, the primary destination is not registered or fails, or always. */
export const TRANSFER_CONDITIONS = ['busy', 'no_answer', 'unreachable', 'always'] as const;
export type TransferCondition = (typeof TRANSFER_CONDITIONS)[number];

export interface TransferDestination {
  readonly type: 'pstn' | 'sip';
  readonly value: string;
}

/** The call_transfers column holding each condition's destination. */
export const DESTINATION_COLUMN = {
  busy: 'busy_destination',
  no_answer: 'no_answer_destination',
  unreachable: 'unreachable_destination',
  always: 'always_destination',
} as const satisfies Readonly<Record<TransferCondition, string>>;

export type DestinationColumn = (typeof DESTINATION_COLUMN)[TransferCondition];

/** How people name the conditions: "Busy", "No answer". */
export const CONDITION_LABEL: Readonly<Record<TransferCondition, string>> = {
  busy: 'Busy',
  no_answer: 'No answer',
  unreachable: 'Unreachable',
  always: 'Always',
};

export const TRANSFER_DESTINATION_HELP =
  'Use a phone number with its country code (+44 20 7946 0000) or a SIP address (sip:desk@pbx.example.com[:port]); "none" clears it.';

export function isTransferCondition(value: string): value is TransferCondition {
  return (TRANSFER_CONDITIONS as readonly string[]).includes(value);
}

/** Validates typed text as a transfer destination: a possible E.164 number or a SIP URI with user and host. */
export function parseTransferDestination(input: string): TransferDestination {
  let parsed;
  try {
    parsed = parseDestination(input);
  } catch (error) {
    // Same validation as primary destinations, but the advice must not offer an extension.
    if (!isDomainError(error)) throw error;
    throw invalid(error.message, { help: TRANSFER_DESTINATION_HELP, field: 'destination' });
  }
  if (parsed.type === 'extension') {
    throw invalid(
      `"${input.trim()}" is an extension on the switch, not a transfer destination: calls are transferred out, to a phone number or a SIP address.`,
      { help: TRANSFER_DESTINATION_HELP, field: 'destination' },
    );
  }
  if (parsed.value.length > 255) {
    throw invalid('That SIP address is longer than 255 characters.', {
      help: TRANSFER_DESTINATION_HELP,
      field: 'destination',
    });
  }
  return { type: parsed.type, value: parsed.value };
}

/** A stored destination with its type, or null when the condition has none. */
export function storedDestination(text: string | null): TransferDestination | null {
  if (text === null) return null;
  return { type: text.startsWith('+') ? 'pstn' : 'sip', value: text };
}

/** +44 20 7946 0000 or sip:desk@pbx.example.com, for people. */
export function formatDestination(destination: TransferDestination): string {
  return destination.type === 'pstn' ? formatNumber(destination.value) : destination.value;
}
