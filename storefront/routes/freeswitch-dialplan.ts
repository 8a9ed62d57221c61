// A routing decision as the document FreeSWITCH's mod_xml_curl expects for the dialplan section: one
// context (the one the call is in) with an extension that bridges the call, and one extension per failover
// condition. After a failed bridge (continue_on_fail) the call is transferred to
// `didops-failover-<originate_disposition>-<number>`; FreeSWITCH hunts that name in the same context (it
// asks us again, and gets this same document), and the extensions' patterns pick the condition:
// USER_BUSY → busy, NO_ANSWER / ALLOTTED_TIMEOUT → no answer, any other failure → unreachable.
//
// Values from the database end up in FreeSWITCH dial strings, where `${...}` runs API commands and `,` or
// `|` start new call legs. Only destinations made of plain URI characters are dialled: anything else is
// treated as absent, so a destination typed in chat can never make the switch run or call something else.
import type { KnownNumberDecision, RejectReason, RouteDecision } from '../../core/routing/route-call.ts';
import type { TransferDestination } from '../../core/transfer/transfer-destination.ts';

export interface DialplanOptions {
  /** The dialplan context the call is in (mod_xml_curl's Hunt-Context); the answer must use the same. */
  readonly context: string;
  /** Sofia gateway for PSTN destinations: sofia/gateway/<gateway>/+E.164. */
  readonly gateway: string;
  /** Sofia profile for SIP destinations: sofia/<profile>/user@host. */
  readonly profile: string;
  /** The destination number exactly as the switch hunts it, when it is not the failover form. */
  readonly calledAs?: string;
}

export const DEFAULT_CONTEXT = 'public';
export const DEFAULT_GATEWAY = 'pstn';
export const DEFAULT_PROFILE = 'external';
/** Context, gateway and profile names we put in the document: plain names only. */
export const SWITCH_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** The destination FreeSWITCH hunts after a failed bridge: didops-failover-USER_BUSY-+18665550100. */
export const FAILOVER_PATTERN = /^didops-failover-([A-Z_]*)-(\+\d{7,15})$/;

/** A destination number as the switch hunts it that we repeat in a pattern (nothing FreeSWITCH expands). */
const CALLED_AS = /^[A-Za-z0-9+*#._:@-]{1,128}$/;

/** Characters a dialled destination may contain: nothing FreeSWITCH expands or splits on. */
const DIALABLE = /^[A-Za-z0-9._~%+\-=;@:[\]]+$/;

/** Why a call is refused, as the hangup cause FreeSWITCH sends back (404 or 403 in SIP). */
const REJECT_CAUSE: Readonly<Record<Exclude<RejectReason, 'unknown_number'>, string>> = {
  not_in_service: 'UNALLOCATED_NUMBER',
  account_closed: 'UNALLOCATED_NUMBER',
  suspended: 'INCOMING_CALL_BARRED',
  account_suspended: 'INCOMING_CALL_BARRED',
};

const FAILOVERS = [
  { condition: 'busy', dispositions: 'USER_BUSY' },
  { condition: 'no_answer', dispositions: '(?:NO_ANSWER|ALLOTTED_TIMEOUT)' },
  // Last: every other disposition (and none at all) is "unreachable".
  { condition: 'unreachable', dispositions: '[A-Z_]*' },
] as const;

type Action = readonly [application: string, data: string];

/** mod_xml_curl's "nothing here": FreeSWITCH falls back to its next binding or its static dialplan. */
export function notFoundDocument(): string {
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' +
    '<document type="freeswitch/xml">\n' +
    '  <section name="result">\n' +
    '    <result status="not found"/>\n' +
    '  </section>\n' +
    '</document>\n'
  );
}

/** The dialplan document for a decision; an unknown number gets the "not found" document. */
export function dialplanDocument(decision: RouteDecision, options: DialplanOptions): string {
  if (decision.reason === 'unknown_number' || !('rating' in decision)) return notFoundDocument();
  const number = decision.number;
  const digits = number.slice(1);
  const failoverTarget = (disposition: string) => `didops-failover-${disposition}-${number}`;
  const extensions: string[] = [];

  // Matches the number as dialled (with or without +, or as the switch sent it) and, for a rejected number,
  // its failover names too: a number suspended between the first bridge and the failover is refused.
  const dialled = [`\\+?${digits}`];
  const calledAs = options.calledAs;
  if (calledAs && calledAs !== number && calledAs !== digits && CALLED_AS.test(calledAs)) {
    dialled.push(regexEscape(calledAs));
  }

  if (decision.action === 'reject') {
    const reason = decision.reason ?? 'not_in_service';
    extensions.push(
      extension(
        `didops ${number} reject`,
        `^(?:${dialled.join('|')}|didops-failover-[A-Z_]*-\\+${digits})$`,
        [
          ['set', `didops_reject_reason=${reason}`],
          ['hangup', REJECT_CAUSE[reason]],
        ],
      ),
    );
    return document(number, options.context, extensions);
  }

  const transfer = decision.transfer;
  const always = transfer.enabled ? dialString(transfer.always, options) : null;
  const primary = always ?? dialString(decision.destination, options);
  const failovers = FAILOVERS.map((f) => ({
    ...f,
    target: transfer.enabled && !always ? dialString(transfer[f.condition], options) : null,
  }));
  const hasFailover = failovers.some((f) => f.target !== null);
  // With a no-answer destination, ring only for the transfer's ring timeout before moving on.
  const timeout = failovers.some((f) => f.condition === 'no_answer' && f.target !== null)
    ? transfer.ring_timeout_seconds
    : decision.call_timeout_seconds;

  const main: Action[] = [...variables(decision), ['set', `call_timeout=${timeout}`]];
  main.push(['set', 'continue_on_fail=true'], ['set', 'hangup_after_bridge=true']);
  if (decision.max_concurrent_calls !== null) {
    main.push(['limit', `hash didops ${number} ${decision.max_concurrent_calls} !USER_BUSY`]);
  }
  if (primary) {
    main.push(['bridge', primary]);
    main.push(
      hasFailover
        ? ['transfer', `${failoverTarget('${originate_disposition}')} XML ${options.context}`]
        : ['hangup', '${originate_disposition}'],
    );
  } else {
    // Nowhere to send it: the number is unreachable.
    main.push(
      hasFailover
        ? ['transfer', `${failoverTarget('NO_ROUTE_DESTINATION')} XML ${options.context}`]
        : ['hangup', 'NO_ROUTE_DESTINATION'],
    );
  }
  extensions.push(extension(`didops ${number}`, `^(?:${dialled.join('|')})$`, main));

  for (const f of failovers) {
    extensions.push(
      extension(
        `didops ${number} ${f.condition}`,
        `^didops-failover-${f.dispositions}-\\+${digits}$`,
        f.target
          ? [
              ['set', `didops_transfer=${f.condition}`],
              ['bridge', f.target],
              ['hangup', '${originate_disposition}'],
            ]
          : // No destination for this condition: the caller hears what the primary leg answered.
            [['hangup', '${originate_disposition}']],
      ),
    );
  }
  return document(number, options.context, extensions);
}

/** Channel variables for the CDR: who the call belongs to and how it is rated. */
function variables(decision: KnownNumberDecision): Action[] {
  const r = decision.rating;
  const vars: [string, string | number | undefined][] = [
    ['didops_number', decision.number],
    ['didops_account', decision.account?.slug],
    ['didops_reseller', decision.reseller?.slug],
    ['didops_currency', r.currency],
    ['didops_connection_cost', r.connection_cost],
    ['didops_per_minute_rate', r.per_minute_rate],
    ['didops_grace_seconds', r.grace_seconds],
    ['didops_initial_increment', r.initial_increment],
    ['didops_increment', r.increment],
  ];
  return vars
    .filter((v): v is [string, string | number] => v[1] !== undefined)
    .map(([name, value]) => ['set', `${name}=${value}`]);
}

/** The bridge dial string for a destination, or null when there is none or it is not safe to dial. */
export function dialString(
  destination: { type: string; value: string } | TransferDestination | null,
  options: Pick<DialplanOptions, 'gateway' | 'profile'>,
): string | null {
  if (!destination) return null;
  const { type, value } = destination;
  if (!DIALABLE.test(value)) return null;
  switch (type) {
    case 'sip':
      return `sofia/${options.profile}/${value.replace(/^sip:/i, '')}`;
    case 'pstn':
      return /^\+\d{7,15}$/.test(value) ? `sofia/gateway/${options.gateway}/${value}` : null;
    case 'extension': {
      const ext = /^ext:(\d{2,8})$/.exec(value);
      return ext ? `user/${ext[1]}@\${domain_name}` : null;
    }
    default:
      return null;
  }
}

function document(number: string, context: string, extensions: readonly string[]): string {
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' +
    '<document type="freeswitch/xml">\n' +
    `  <section name="dialplan" description="${attr(`didops routing for ${number}`)}">\n` +
    `    <context name="${attr(context)}">\n` +
    extensions.join('') +
    '    </context>\n' +
    '  </section>\n' +
    '</document>\n'
  );
}

function extension(name: string, expression: string, actions: readonly Action[]): string {
  return (
    `      <extension name="${attr(name)}">\n` +
    `        <condition field="destination_number" expression="${attr(expression)}">\n` +
    actions
      .map(([app, data]) => `          <action application="${attr(app)}" data="${attr(data)}"/>\n`)
      .join('') +
    '        </condition>\n' +
    '      </extension>\n'
  );
}

/** Text for an XML attribute value. */
export function attr(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function regexEscape(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}
