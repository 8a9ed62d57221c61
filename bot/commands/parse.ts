// Turns typed words into a command from the grammar, or into a clear answer about what is wrong with
// them: an unknown command gets a "did you mean", a malformed one its usage line.
import { closest } from '../../core/shared/suggest.ts';
import { COMMANDS, UsageError, type Command, type CommandSpec } from './grammar.ts';
import { tokenize } from './tokenize.ts';

export type Channel = 'cli' | 'chat';

export type ParseResult =
  | { readonly ok: true; readonly command: Command; readonly spec: CommandSpec }
  | { readonly ok: false; readonly message: string; readonly usage?: string; readonly suggestion?: string };

const OPTION = /^([A-Za-z_]+)=(.*)$/s;

export function findSpec(words: readonly string[]): { spec: CommandSpec; consumed: number } | undefined {
  const lower = words.map((w) => w.toLowerCase());
  let best: { spec: CommandSpec; consumed: number } | undefined;
  for (const spec of COMMANDS) {
    const parts = spec.name.split(' ');
    if (parts.every((part, i) => lower[i] === part) && (!best || parts.length > best.consumed)) {
      best = { spec, consumed: parts.length };
    }
  }
  return best;
}

export function parseCommand(input: string | readonly string[], channel: Channel): ParseResult {
  let words = typeof input === 'string' ? tokenize(input) : [...input];
  // Telegram delivers "/did assign ..." (or "/did@botname ..."); Slack strips the command itself. A bare
  // "did" that begins a command of its own (`did create`) is that command, not the prefix.
  if (words[0] && /^\/?did(@\w+)?$/i.test(words[0]) && !findSpec(words)) words = words.slice(1);
  if (words.length === 0) words = ['help'];

  const found = findSpec(words);
  if (!found) return unknownCommand(words, channel);
  const { spec, consumed } = found;
  if (spec.cliOnly && channel !== 'cli') {
    return {
      ok: false,
      message: `\`${spec.name}\` works only in the server's console.`,
      usage: `npm run did -- ${spec.usage}`,
    };
  }

  const positional: string[] = [];
  const options: Record<string, string> = {};
  for (const word of words.slice(consumed)) {
    const option = spec.options ? OPTION.exec(word) : null;
    if (!option) {
      positional.push(word);
      continue;
    }
    const key = option[1]!.toLowerCase();
    if (!spec.options!.includes(key)) {
      const near = closest(key, spec.options!);
      return {
        ok: false,
        message: `\`${spec.name}\` has no option "${key}".${near.length ? ` Did you mean ${near.map((n) => `${n}=`).join(' or ')}?` : ''} Options: ${spec.options!.join(', ')}.`,
        usage: spec.usage,
      };
    }
    options[key] = option[2]!;
  }
  try {
    return { ok: true, command: spec.build(positional, options), spec };
  } catch (error) {
    if (error instanceof UsageError) return { ok: false, message: error.message, usage: spec.usage };
    throw error;
  }
}

function unknownCommand(words: readonly string[], channel: Channel): ParseResult {
  const available = COMMANDS.filter((c) => channel === 'cli' || !c.cliOnly).map((c) => c.name);
  const typed = words.slice(0, 2).join(' ').toLowerCase();
  const first = words[0]!.toLowerCase();
  const near =
    closest(typed, available, 1)[0] ??
    closest(first, available, 1)[0] ??
    // Two letters swapped ("hlep", "ifno") cost 2 edits: too far for closest() on a short word.
    available.find((name) => swapsNeighbours(first, name.split(' ')[0]!));
  return {
    ok: false,
    message: `Unknown command "${words[0]}".${near ? ` Did you mean \`${near}\`?` : ''} Type \`help\` for the list.`,
    suggestion: near,
  };
}

/** True when b is a with two adjacent letters swapped. */
function swapsNeighbours(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const i = a.split('').findIndex((ch, k) => ch !== b[k]);
  return i >= 0 && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
}
