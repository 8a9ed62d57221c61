// One entry for every chat: who is typing (Slack or Telegram user), what they typed or clicked, and the
// reply to send back. Unknown users are refused politely before anything runs; every change they make is
// audited with their chat identity.
import { actorForChatUser, type ChatIdentity } from '../../core/accounts/staff-identity.ts';
import type { Executor, Settings } from '../../core/context.ts';
import type { Clock } from '../../core/shared/clock.ts';
import { isDomainError } from '../../core/shared/errors.ts';
import { replyForError, replyForUsage } from './error-reply.ts';
import { executeCommand, help } from './execute.ts';
import type { Command } from './grammar.ts';
import { parseCommand } from './parse.ts';
import { failure, type Reply } from './reply.ts';

export interface ChatDeps {
  readonly db: Executor;
  readonly clock: Clock;
  readonly settings: Settings;
  /** SLACK_ADMIN_USERS / TELEGRAM_ADMIN_USERS: linked as admins on first contact. */
  readonly bootstrapAdmins: readonly string[];
}

/** The reply to a typed command line, or to a command built from a button click. */
export async function runChatCommand(
  deps: ChatDeps,
  who: ChatIdentity,
  input: string | Command,
): Promise<Reply> {
  let command: Command;
  if (typeof input === 'string') {
    const parsed = parseCommand(input, 'chat');
    if (!parsed.ok) return replyForUsage(parsed.message, parsed.usage);
    command = parsed.command;
  } else {
    command = input;
  }
  // Help is for everyone, linked or not: it is how a newcomer learns what to ask an admin for.
  if (command.name === 'help') return help(command.topic, 'chat');
  try {
    const actor = await actorForChatUser(deps.db, who, deps.bootstrapAdmins);
    if (!actor) return notStaff(who);
    // Customers who linked their chat (Telegram's /start <token>) have their own commands; the staff
    // grammar would show them the pool and the operator's costs.
    if (actor.accountKind === 'customer') return forCustomers(who);
    return await executeCommand({ db: deps.db, actor, clock: deps.clock, settings: deps.settings }, command, {
      channel: 'chat',
    });
  } catch (error) {
    if (isDomainError(error)) return replyForError(error);
    throw error;
  }
}

function notStaff(who: ChatIdentity): Reply {
  return failure(
    5,
    { type: 'text', text: "Sorry, you're not set up as staff here, so I can't run commands for you." },
    {
      type: 'hint',
      text: `Ask an admin to run: /did staff link ${who.channel} ${who.channel === 'slack' ? `<@${who.externalId}>` : who.externalId} viewer`,
    },
  );
}

function forCustomers(who: ChatIdentity): Reply {
  const where =
    who.channel === 'telegram'
      ? 'Manage your numbers with /numbers and /transfer.'
      : 'Manage your numbers on the website.';
  return failure(5, { type: 'text', text: `These commands are for staff. ${where}` });
}
