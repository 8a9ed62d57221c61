// Where a call goes (ASTPP call types): a SIP URI, a PSTN number, or an extension on the operator's switch.
// The form of the text tells the type: "sip:100@pbx.example.com", "+442079460000", "ext:1001" or "1001".
import type { DestinationType } from '../db/schema.ts';
import { invalid } from '../shared/errors.ts';
import { tryParseNumber } from './phone-number.ts';

export interface Destination {
  readonly type: DestinationType;
  readonly value: string;
}

// The user part and parameters allow only characters a switch passes on literally: RFC 3261 also allows
// $ , { } and friends, but FreeSWITCH expands ${...} in dial strings, so a stored destination could run
// code on the switch or add call legs.
const SIP_URI =
  /^sips?:([A-Za-z0-9+*#._~-]+)@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?((?:;[A-Za-z0-9._-]+(?:=[A-Za-z0-9._-]+)?)*)$/i;
const EXTENSION = /^(?:ext:)?(\d{2,8})$/i;
const HELP =
  'Use a SIP URI (sip:user@host[:port]), a phone number with country code (+1 212 555 0123), or an extension (ext:1001).';

const MAX_DESTINATION_LENGTH = 255;

export function parseDestination(input: string): Destination {
  const text = input.trim();
  if (text === '') throw invalid('No destination given.', { help: HELP, field: 'destination' });
  if (/^sips?:/i.test(text)) {
    // Every destination column holds 255 characters at most: say so rather than fail on the database.
    if (text.length > MAX_DESTINATION_LENGTH) {
      throw invalid(`That SIP URI has ${text.length} characters; at most ${MAX_DESTINATION_LENGTH} fit.`, {
        help: HELP,
        field: 'destination',
      });
    }
    const match = SIP_URI.exec(text);
    const port = match?.[3] === undefined ? 0 : Number(match[3]);
    if (!match || port > 65535) {
      throw invalid(
        `"${text}" is not a valid SIP URI: it needs a user and a host, like sip:100@pbx.example.com.`,
        {
          help: HELP,
          field: 'destination',
        },
      );
    }
    return { type: 'sip', value: text.replace(/^sips?:/i, (scheme) => scheme.toLowerCase()) };
  }
  const extension = EXTENSION.exec(text);
  if (extension && !text.startsWith('+')) return { type: 'extension', value: `ext:${extension[1]}` };
  if (/[A-Za-z]/.test(text)) {
    throw invalid(`"${text}" is not a phone number: it contains letters.`, {
      help: HELP,
      field: 'destination',
    });
  }
  const number = tryParseNumber(text);
  if (!number) throw invalid(`"${text}" is not a valid phone number.`, { help: HELP, field: 'destination' });
  return { type: 'pstn', value: number.e164 };
}
