// The staff command grammar of DESIGN §4, as data: each command's usage, help and how its words become a
// typed command. Slack, Telegram and the CLI all parse through this one table.
import { DID_FIELDS, type DidFieldValues } from '../../core/inventory/did-fields.ts';
import type { DidFilter, Sort } from '../../core/inventory/search-dids.ts';
import type { TransferCondition } from '../../core/transfer/call-transfer.ts';
import { closest } from '../../core/shared/suggest.ts';

export type Command =
  | { readonly name: 'help'; readonly topic?: string }
  | {
      readonly name: 'search';
      readonly filter: DidFilter;
      readonly limit: number;
      readonly after?: string;
      readonly sort?: Sort;
    }
  | { readonly name: 'info'; readonly number: string }
  /** `version` is set by chat buttons: the number's version when the button was drawn. */
  | { readonly name: 'assign'; readonly number: string; readonly account: string; readonly version?: number }
  | {
      readonly name: 'assign first';
      readonly count: number;
      readonly filter: DidFilter;
      readonly account: string;
    }
  | { readonly name: 'release'; readonly number: string; readonly version?: number }
  | {
      readonly name: 'transfer';
      readonly number: string;
      readonly change: TransferChange;
      readonly version?: number;
    }
  | { readonly name: 'import'; readonly file: string }
  | { readonly name: 'export'; readonly filter: DidFilter; readonly file?: string }
  | { readonly name: 'did create'; readonly fields: DidFieldValues }
  | { readonly name: 'describe'; readonly number: string; readonly text: string }
  | { readonly name: 'enable' | 'disable'; readonly number: string }
  | { readonly name: 'set-batch'; readonly number: string; readonly batch: string }
  | { readonly name: 'route'; readonly number: string; readonly destination: string }
  | { readonly name: 'aging end'; readonly number: string }
  | {
      readonly name: 'account create';
      readonly kind: 'reseller' | 'customer';
      readonly slug: string;
      readonly options: Options;
    }
  | { readonly name: 'account list' }
  | { readonly name: 'balance'; readonly account: string }
  | { readonly name: 'pay'; readonly account: string; readonly amount: string; readonly reference: string }
  | { readonly name: 'account transfer'; readonly account: string; readonly enabled: boolean }
  | { readonly name: 'account suspend' | 'account activate' | 'account close'; readonly account: string }
  | {
      readonly name: 'user create';
      readonly account: string;
      readonly role: string;
      readonly options: Options;
    }
  | { readonly name: 'provider create'; readonly providerName: string; readonly options: Options }
  | {
      readonly name: 'vendor-batch create';
      readonly provider: string;
      readonly batchName: string;
      readonly options: Options;
    }
  | { readonly name: 'group create'; readonly groupName: string; readonly options: Options }
  | { readonly name: 'batch create'; readonly batchName: string; readonly options: Options }
  | { readonly name: 'catalog' }
  | {
      readonly name: 'staff link';
      readonly channel: 'slack' | 'telegram';
      readonly user: string;
      readonly role: string;
    }
  | { readonly name: 'staff unlink'; readonly channel: 'slack' | 'telegram'; readonly user: string }
  | { readonly name: 'staff list' }
  | {
      readonly name: 'telegram link';
      readonly account: string;
      readonly email?: string;
      readonly bot?: string;
      readonly ttlMinutes?: number;
    }
  | { readonly name: 'token create' | 'token revoke'; readonly tokenName: string }
  | { readonly name: 'token list' }
  | { readonly name: 'init'; readonly slug: string; readonly operatorName: string };

export type CommandName = Command['name'];

/** What `transfer <number> …` asks for: show the settings, or change one of them. */
export type TransferChange =
  | { readonly kind: 'show' }
  | { readonly kind: 'switch'; readonly enabled: boolean }
  | { readonly kind: 'destination'; readonly condition: TransferCondition; readonly destination: string }
  | { readonly kind: 'ring-timeout'; readonly seconds: number };

export type Options = Readonly<Record<string, string>>;

/** A mistake in how a command was typed; the parser adds the usage line. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface CommandSpec {
  readonly name: CommandName;
  readonly usage: string;
  readonly summary: string;
  readonly examples: readonly string[];
  readonly details?: string;
  /** Commands that read or write files, or bootstrap the system, exist only in the CLI. */
  readonly cliOnly?: boolean;
  /** key=value options it accepts. */
  readonly options?: readonly string[];
  build(words: readonly string[], options: Options): Command;
}

const SEARCH_OPTIONS = [
  'country',
  'area',
  'city',
  'state',
  'type',
  'group',
  'provider',
  'vendor',
  'batch',
  'status',
  'account',
  'min',
  'max',
  'currency',
] as const;

/** key=value options to an inventory filter. Values are validated by core, which knows the rules. */
export function filterFrom(pattern: string | undefined, o: Options): DidFilter {
  return {
    pattern,
    country: o.country,
    areaCode: o.area,
    city: o.city,
    province: o.state,
    numberType: o.type,
    group: o.group,
    provider: o.provider,
    vendorBatch: o.vendor,
    pricingBatch: o.batch,
    status: o.status,
    account: o.account,
    minRecurringFee: o.min,
    maxRecurringFee: o.max,
    currency: o.currency,
  };
}

const joined = (words: readonly string[]) => words.join(' ');

function need(words: readonly string[], count: number, what: string): void {
  if (words.length < count) throw new UsageError(`Missing ${what}.`);
}

/** The variable-length part (a number typed with spaces) sits between fixed words: split around it. */
function numberThenLast(words: readonly string[], lastWhat: string): [string, string] {
  need(words, 2, words.length === 0 ? 'the number and the ' + lastWhat : 'the ' + lastWhat);
  return [joined(words.slice(0, -1)), words.at(-1)!];
}

function chatChannel(word: string): 'slack' | 'telegram' {
  const channel = word.toLowerCase();
  if (channel !== 'slack' && channel !== 'telegram')
    throw new UsageError(`"${word}" is not slack or telegram.`);
  return channel;
}

/** How people type the transfer conditions (`no answer` as two words is read too). */
const TRANSFER_CONDITION_WORDS: Readonly<Record<string, TransferCondition>> = {
  busy: 'busy',
  noanswer: 'no_answer',
  'no-answer': 'no_answer',
  no_answer: 'no_answer',
  unreachable: 'unreachable',
  always: 'always',
};
const TRANSFER_KEYWORDS = [...Object.keys(TRANSFER_CONDITION_WORDS), 'on', 'off', 'timeout'];

/**
 * `transfer <number> [<condition> <destination> | on | off | timeout <seconds>]`. The number may be typed
 * with spaces, so the first keyword ends it; what follows the condition is the destination as typed.
 */
function transferCommand(words: readonly string[]): Command {
  const lower = words.map((w) => w.toLowerCase());
  const twoWordNoAnswer = (i: number) => lower[i] === 'no' && lower[i + 1] === 'answer';
  const at = lower.findIndex((w, i) => TRANSFER_KEYWORDS.includes(w) || twoWordNoAnswer(i));
  const numberWords = at === -1 ? words : words.slice(0, at);
  need(numberWords, 1, 'the number');
  checkTransferNumberWords(numberWords);
  const number = joined(numberWords);
  if (at === -1) return { name: 'transfer', number, change: { kind: 'show' } };

  const keyword = twoWordNoAnswer(at) ? 'no answer' : lower[at]!;
  const rest = words.slice(at + keyword.split(' ').length);
  const condition = keyword === 'no answer' ? 'no_answer' : TRANSFER_CONDITION_WORDS[keyword];
  if (condition !== undefined) {
    need(rest, 1, `the destination after ${keyword} (a phone number, sip:user@host, or none to clear it)`);
    return {
      name: 'transfer',
      number,
      change: { kind: 'destination', condition, destination: joined(rest) },
    };
  }
  if (keyword === 'timeout') {
    need(rest, 1, 'the seconds after timeout, e.g. timeout 20');
    const seconds = /^(\d{1,6})s?$/i.exec(rest[0]!);
    if (rest.length > 1 || !seconds) {
      throw new UsageError(
        `"${joined(rest)}" is not a number of seconds: give a whole number, e.g. timeout 20.`,
      );
    }
    return { name: 'transfer', number, change: { kind: 'ring-timeout', seconds: Number(seconds[1]) } };
  }
  if (rest.length > 0) throw new UsageError(`"${keyword}" takes nothing after it (got "${joined(rest)}").`);
  return { name: 'transfer', number, change: { kind: 'switch', enabled: keyword === 'on' } };
}

/** Words before the keyword are the number: a word that cannot be part of one means the keyword is missing. */
function checkTransferNumberWords(words: readonly string[]): void {
  const conditions = 'busy, noanswer, unreachable or always';
  words.forEach((word, i) => {
    if (/[:@]/.test(word) || (i > 0 && word.startsWith('+'))) {
      throw new UsageError(`Missing the condition before "${word}": ${conditions}.`);
    }
    if (/^[a-z][a-z_-]*$/i.test(word)) {
      const near = closest(word, [...TRANSFER_KEYWORDS.filter((k) => !/[_-]/.test(k)), 'none']);
      throw new UsageError(
        `"${word}" is not ${conditions}, on, off or timeout.${near.length ? ` Did you mean ${near.join(' or ')}?` : ''}`,
      );
    }
  });
}

function count(word: string | undefined): number {
  const n = Number(word);
  if (!word || !/^\d+$/.test(word) || n < 1)
    throw new UsageError(`"${word ?? ''}" is not a count: give a whole number, e.g. 10.`);
  return n;
}

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'help',
    usage: 'help [command]',
    summary: 'List the commands, or explain one',
    examples: ['help', 'help assign'],
    build: (words) => ({ name: 'help', topic: words.length ? joined(words) : undefined }),
  },
  {
    name: 'search',
    usage: 'search [pattern] [country=CC] [city=..] [status=..] [group=..] [limit=N]',
    summary: 'Find numbers; letters spell on the keypad, % matches any digits',
    examples: ['search 1800%VOIP', 'search 1212 status=available limit=5', 'search country=GB city=London'],
    details:
      'A pattern starting with a digit matches the start of the number (country code first: 1866, 4420); one starting with a letter or % matches anywhere (VOIP finds 8647). Also: area=, state=, type=local|toll_free, provider=, vendor=, batch= (or batch=none), account=, min= and max= (monthly fee), sort=number|recurring_fee|setup_fee, after= (next page).',
    options: [...SEARCH_OPTIONS, 'limit', 'after', 'sort'],
    build: (words, o) => {
      const limit = o.limit === undefined ? 20 : Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 200)
        throw new UsageError('limit must be a whole number from 1 to 200.');
      return {
        name: 'search',
        filter: filterFrom(words.length ? joined(words) : undefined, o),
        limit,
        after: o.after,
        sort: o.sort as Sort | undefined,
      };
    },
  },
  {
    name: 'info',
    usage: 'info <number>',
    summary: 'Show a number: status, holder, prices, routing, recent changes',
    examples: ['info +1 866 555 0100'],
    build: (words) => {
      need(words, 1, 'the number');
      return { name: 'info', number: joined(words) };
    },
  },
  {
    name: 'assign first',
    usage: 'assign first <N> <pattern> <account>',
    summary: 'Assign the first N free numbers matching a pattern',
    examples: ['assign first 10 1212 acme', 'assign first 5 1800%VOIP voipco country=US'],
    details:
      'Takes free numbers in number order; reports how many it assigned and why it fell short. Accepts the search filters too.',
    options: SEARCH_OPTIONS,
    build: (words, o) => {
      need(
        words,
        3,
        words.length === 0
          ? 'N, the pattern and the account'
          : words.length === 1
            ? 'the pattern and the account'
            : 'the account',
      );
      const [n, ...rest] = words;
      const [pattern, account] = numberThenLast(rest, 'account');
      return { name: 'assign first', count: count(n), filter: filterFrom(pattern, o), account };
    },
  },
  {
    name: 'assign',
    usage: 'assign <number> <account>',
    summary: 'Assign a number to a reseller or customer',
    examples: ['assign 18665550100 acme', 'assign +1 212 555 0142 voipco'],
    details:
      'The account is its slug or id. Assigning a number to the account that already has it changes nothing.',
    build: (words) => {
      const [number, account] = numberThenLast(words, 'account');
      return { name: 'assign', number, account };
    },
  },
  {
    name: 'release',
    usage: 'release <number>',
    summary: 'Release a number back to the pool (it ages first)',
    examples: ['release 18665550100'],
    details:
      'A released number rests for DID_AGING_DAYS before it is offered again, so calls for its last owner die out. Its routing and call-transfer settings are cleared.',
    build: (words) => {
      need(words, 1, 'the number');
      return { name: 'release', number: joined(words) };
    },
  },
  {
    name: 'transfer',
    usage:
      'transfer <number> [busy|noanswer|unreachable|always <destination|none> | on | off | timeout <seconds>]',
    summary: "Show or change a number's call transfer",
    examples: [
      'transfer +1 866 555 0100',
      'transfer +1 866 555 0100 busy +44 20 7946 0000',
      'transfer 18665550100 noanswer sip:desk@pbx.acme.example',
      'transfer 18665550100 timeout 25',
      'transfer 18665550100 on',
      'transfer 18665550100 always none',
    ],
    details:
      'busy, noanswer and unreachable (the primary destination is not registered or fails) send calls on when that happens; always sends every call on. A destination is a phone number with its country code or a SIP address (sip:user@host[:port]); none clears it. timeout sets how many seconds (5 to 300) a call rings before noanswer applies. Set a destination, then turn transfer on; an account whose provider switched call transfer off transfers nothing.',
    build: transferCommand,
  },
  {
    name: 'aging end',
    usage: 'aging end <number>',
    summary: 'Put a released (aging) number back on sale now',
    examples: ['aging end 18665550100'],
    cliOnly: true,
    build: (words) => {
      need(words, 1, 'the number');
      return { name: 'aging end', number: joined(words) };
    },
  },
  {
    name: 'import',
    usage: 'import <file.csv>',
    summary: 'Add numbers from a CSV file (columns named by the header row)',
    examples: ['import carrier-batch-7.csv'],
    details:
      'Known columns: number (or DID), city, province, provider, vendor_batch, group, pricing_batch, setup_fee, recurring_fee (or monthly), currency, billing_type, billing_period, billing_days, connection_cost, per_minute_rate, grace_seconds, initial_increment, increment, call_timeout, max_concurrent_calls, capabilities, description, status, destination. Good rows are imported, bad rows listed with their line; numbers already present are left alone, so re-running a file is safe.',
    cliOnly: true,
    build: (words) => {
      need(words, 1, 'the file');
      return { name: 'import', file: joined(words) };
    },
  },
  {
    name: 'export',
    usage: 'export [pattern] [same filters as search] [file=out.csv]',
    summary: 'Write matching numbers as CSV (to stdout, or file=)',
    examples: ['export country=US > us.csv', 'export 1800% file=tollfree.csv'],
    cliOnly: true,
    options: [...SEARCH_OPTIONS, 'file'],
    build: (words, o) => ({
      name: 'export',
      filter: filterFrom(words.length ? joined(words) : undefined, o),
      file: o.file,
    }),
  },
  {
    name: 'did create',
    usage: 'did create <number> [field=value ...]',
    summary: 'Add one number with any product field',
    examples: ['did create +12125550142 city="New York" provider=NorthStar batch="US Local Standard"'],
    details:
      'Fields as in the CSV import: city, province, provider, vendor_batch, group, batch (pricing batch), setup_fee, recurring_fee, currency, billing_type, billing_period, billing_days, connection_cost, per_minute_rate, grace_seconds, initial_increment, increment, call_timeout, max_concurrent_calls, capabilities, description, status, destination.',
    cliOnly: true,
    options: [...DID_FIELDS.filter((f) => f !== 'number'), 'batch'],
    build: (words, o) => {
      need(words, 1, 'the number');
      const { batch, ...rest } = o;
      return {
        name: 'did create',
        fields: { ...rest, pricing_batch: o.pricing_batch ?? batch, number: joined(words) },
      };
    },
  },
  {
    name: 'describe',
    usage: 'describe <number> "<text>"',
    summary: "Set a number's description",
    examples: ['describe 18665550100 "Main support line"'],
    cliOnly: true,
    build: (words) => {
      const [number, text] = numberThenLast(words, 'description (in quotes)');
      return { name: 'describe', number, text };
    },
  },
  ...(['enable', 'disable'] as const).map((name): CommandSpec => ({
    name,
    usage: `${name} <number>`,
    summary: name === 'enable' ? 'Put a disabled number back in the pool' : 'Take a free number out of sale',
    examples: [`${name} 18665550100`],
    cliOnly: true,
    build: (words) => {
      need(words, 1, 'the number');
      return { name, number: joined(words) };
    },
  })),
  {
    name: 'set-batch',
    usage: 'set-batch <number> <pricing batch|none>',
    summary: 'Move a number to a pricing batch (its fees follow)',
    examples: ['set-batch 18665550100 "US Toll-Free"'],
    cliOnly: true,
    build: (words) => {
      const [number, batch] = numberThenLast(words, 'pricing batch');
      return { name: 'set-batch', number, batch };
    },
  },
  {
    name: 'route',
    usage: 'route <number> <sip:user@host | +E164 | ext:NNN | none>',
    summary: 'Set where calls to a number go',
    examples: ['route 18665550100 sip:support@pbx.acme.example', 'route 18665550100 ext:1001'],
    cliOnly: true,
    build: (words) => {
      const [number, destination] = numberThenLast(words, 'destination');
      return { name: 'route', number, destination };
    },
  },
  {
    name: 'account create',
    usage:
      'account create <reseller|customer> <slug> name="<name>" [parent=<account>] [billing=prepaid|postpaid] [credit=500.00] [currency=USD] [email=..]',
    summary: 'Create a reseller or customer account',
    examples: [
      'account create customer acme name="Acme Corp"',
      'account create reseller voipco name="VoipCo" billing=postpaid credit=1000',
    ],
    cliOnly: true,
    options: ['name', 'parent', 'billing', 'credit', 'currency', 'email'],
    build: (words, o) => {
      need(words, 2, words.length === 0 ? 'the kind and the slug' : 'the slug');
      const [kind, slug] = words;
      if (kind !== 'reseller' && kind !== 'customer')
        throw new UsageError(`"${kind}" is not an account kind: use reseller or customer.`);
      return { name: 'account create', kind, slug: slug!, options: o };
    },
  },
  {
    name: 'account transfer',
    usage: 'account transfer <account> on|off',
    summary: "Allow or stop call transfer on all of an account's numbers (admins)",
    examples: ['account transfer acme off'],
    details:
      "Off overrides each number's own setting, for the account and every account below it; on gives the numbers their own settings back.",
    build: (words) => {
      need(words, 2, words.length === 0 ? 'the account and on or off' : 'on or off');
      const state = words[1]!.toLowerCase();
      if (state !== 'on' && state !== 'off') throw new UsageError(`"${words[1]}" is not on or off.`);
      return { name: 'account transfer', account: words[0]!, enabled: state === 'on' };
    },
  },
  {
    name: 'balance',
    usage: 'balance <account>',
    summary: "What an account owes, and its numbers' renewal state",
    examples: ['balance acme'],
    cliOnly: true,
    build: (words) => {
      need(words, 1, 'the account');
      return { name: 'balance', account: words[0]! };
    },
  },
  {
    name: 'pay',
    usage: 'pay <account> <amount> <reference>',
    summary: 'Record a payment received outside Stripe (a bank transfer against a postpaid invoice)',
    details:
      'The reference (the bank transfer id) makes the payment count once: recording it twice is refused. Renewals the account could not pay are tried again at the next sweep; nothing already charged is charged again.',
    examples: ['pay acme 120.00 BANK-2026-11-0042'],
    cliOnly: true,
    build: (words) => {
      need(
        words,
        3,
        ['the account, the amount and the reference', 'the amount and the reference', 'the reference'][
          words.length
        ] ?? 'the reference',
      );
      return { name: 'pay', account: words[0]!, amount: words[1]!, reference: joined(words.slice(2)) };
    },
  },
  {
    name: 'account list',
    usage: 'account list',
    summary: 'Show the account tree',
    examples: ['account list'],
    cliOnly: true,
    build: () => ({ name: 'account list' }),
  },
  ...(['suspend', 'activate', 'close'] as const).map((verb): CommandSpec => ({
    name: `account ${verb}`,
    usage: `account ${verb} <account>`,
    summary: `${verb[0]!.toUpperCase()}${verb.slice(1)} an account`,
    examples: [`account ${verb} acme`],
    cliOnly: true,
    build: (words) => {
      need(words, 1, 'the account');
      return { name: `account ${verb}`, account: words[0]! };
    },
  })),
  {
    name: 'user create',
    usage:
      'user create <account> <owner|admin|operator|viewer> [email=..] [name=..] [slack=U..] [telegram=123..]',
    summary: 'Create a user (a password is generated and shown once)',
    examples: [
      'user create operator admin email=ops@example.com',
      'user create operator operator slack=U024BE7LH',
    ],
    cliOnly: true,
    options: ['email', 'name', 'slack', 'telegram'],
    build: (words, o) => {
      need(words, 2, words.length === 0 ? 'the account and the role' : 'the role');
      return { name: 'user create', account: words[0]!, role: words[1]!, options: o };
    },
  },
  {
    name: 'provider create',
    usage: 'provider create "<name>" [description=..]',
    summary: 'Add a carrier you buy numbers from',
    examples: ['provider create "NorthStar Telecom"'],
    cliOnly: true,
    options: ['description'],
    build: (words, o) => {
      need(words, 1, 'the name');
      return { name: 'provider create', providerName: joined(words), options: o };
    },
  },
  {
    name: 'vendor-batch create',
    usage: 'vendor-batch create <provider> "<name>" [activation=0.50] [recurring=0.40] [currency=USD]',
    summary: "Add a purchase batch with the carrier's costs",
    examples: ['vendor-batch create NorthStar "NY 2026-11" activation=0.50 recurring=0.40'],
    cliOnly: true,
    options: ['activation', 'recurring', 'currency'],
    build: (words, o) => {
      need(words, 2, words.length === 0 ? 'the provider and the name' : 'the name');
      return {
        name: 'vendor-batch create',
        provider: words[0]!,
        batchName: joined(words.slice(1)),
        options: o,
      };
    },
  },
  {
    name: 'group create',
    usage: 'group create "<name>" [description=..]',
    summary: 'Add a DID group',
    examples: ['group create "US Local"'],
    cliOnly: true,
    options: ['description'],
    build: (words, o) => {
      need(words, 1, 'the name');
      return { name: 'group create', groupName: joined(words), options: o };
    },
  },
  {
    name: 'batch create',
    usage:
      'batch create "<name>" [setup=1.00] [monthly=2.00] [currency=USD] [type=recurring|one_time] [period=monthly|yearly|days] [days=30] [owner=<reseller>]',
    summary: 'Add a pricing batch (a price list)',
    examples: [
      'batch create "US Local Standard" setup=1.00 monthly=1.50',
      'batch create "30-day" monthly=1.50 period=days days=30',
    ],
    cliOnly: true,
    options: ['setup', 'monthly', 'currency', 'type', 'period', 'days', 'owner'],
    build: (words, o) => {
      need(words, 1, 'the name');
      return { name: 'batch create', batchName: joined(words), options: o };
    },
  },
  {
    name: 'staff link',
    usage: 'staff link <slack|telegram> <user> <admin|operator|viewer>',
    summary: 'Make a Slack or Telegram user staff of your account (admins)',
    examples: ['staff link slack @alice operator', 'staff link telegram 123456789 viewer'],
    details:
      'Viewers search and look; operators also assign, release and set call transfers; admins also link staff. Linking someone already linked changes their role.',
    build: (words) => {
      need(
        words,
        3,
        words.length === 0
          ? 'slack or telegram, the user and the role'
          : words.length === 1
            ? 'the user and the role'
            : 'the role',
      );
      return { name: 'staff link', channel: chatChannel(words[0]!), user: words[1]!, role: words[2]! };
    },
  },
  {
    name: 'staff unlink',
    usage: 'staff unlink <slack|telegram> <user>',
    summary: 'Stop a Slack or Telegram user being staff (admins)',
    examples: ['staff unlink slack @alice'],
    build: (words) => {
      need(words, 2, words.length === 0 ? 'slack or telegram and the user' : 'the user');
      return { name: 'staff unlink', channel: chatChannel(words[0]!), user: words[1]! };
    },
  },
  {
    name: 'staff list',
    usage: 'staff list',
    summary: "List your account's staff and their roles",
    examples: ['staff list'],
    build: () => ({ name: 'staff list' }),
  },
  ...(['create', 'revoke'] as const).map((verb): CommandSpec => ({
    name: `token ${verb}`,
    usage: `token ${verb} <name>`,
    summary:
      verb === 'create'
        ? 'Create an API token for the switch (the routing API); shown once'
        : 'Revoke an API token: the switch holding it is refused',
    examples: [`token ${verb} freeswitch`],
    details:
      verb === 'create'
        ? 'The token is printed once and stored only as a hash: put it in the switch configuration right away. Names are never reused; to rotate, create freeswitch-2, switch over, revoke freeswitch.'
        : 'Running web processes refuse it within 2 seconds (their cache). Revoking a revoked token changes nothing.',
    cliOnly: true,
    build: (words) => {
      need(words, 1, 'the token name');
      if (words.length > 1) throw new UsageError('A token name is one word, e.g. freeswitch-1.');
      return { name: `token ${verb}`, tokenName: words[0]! };
    },
  })),
  {
    name: 'token list',
    usage: 'token list',
    summary: 'List the API tokens: name, first characters, created, last used, revoked',
    examples: ['token list'],
    cliOnly: true,
    build: () => ({ name: 'token list' }),
  },
  {
    name: 'telegram link',
    usage: 'telegram link <account> [email=<user email>] [bot=<bot username>] [minutes=15]',
    summary: "Create a one-time link that connects a customer's Telegram chat to their user",
    examples: ['telegram link acme', 'telegram link acme email=ann@acme.example bot=didops_bot minutes=60'],
    details:
      'Prints a token (shown once) and, with bot=, the t.me link to send the customer; without bot=, the /start message they send the bot. The link works once and expires after 15 minutes unless minutes= says otherwise (at most a week). email= picks the user when the account has several. In the chat the customer then uses /numbers and /transfer.',
    cliOnly: true,
    options: ['email', 'bot', 'minutes'],
    build: (words, o) => {
      need(words, 1, 'the account');
      if (words.length > 1) throw new UsageError(`Give one account (got "${joined(words)}").`);
      let ttlMinutes: number | undefined;
      if (o.minutes !== undefined) {
        if (!/^\d{1,6}$/.test(o.minutes))
          throw new UsageError(`minutes=${o.minutes} is not a whole number of minutes, e.g. minutes=60.`);
        ttlMinutes = Number(o.minutes);
      }
      return {
        name: 'telegram link',
        account: words[0]!,
        ...(o.email !== undefined ? { email: o.email } : {}),
        ...(o.bot !== undefined ? { bot: o.bot } : {}),
        ...(ttlMinutes !== undefined ? { ttlMinutes } : {}),
      };
    },
  },
  {
    name: 'catalog',
    usage: 'catalog',
    summary: 'List providers, vendor batches, groups and pricing batches',
    examples: ['catalog'],
    cliOnly: true,
    build: () => ({ name: 'catalog' }),
  },
  {
    name: 'init',
    usage: 'init <slug> "<operator name>"',
    summary: 'Start an empty database: create the operator account',
    examples: ['init demotel "Demo Telecom"'],
    cliOnly: true,
    build: (words) => {
      need(words, 2, words.length === 0 ? 'the slug and the name' : 'the name');
      return { name: 'init', slug: words[0]!, operatorName: joined(words.slice(1)) };
    },
  },
];
