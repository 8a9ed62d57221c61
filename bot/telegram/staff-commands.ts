// Staff chat-ops on Telegram: `/did <command>` (the same grammar as Slack and the console), /start and
// /help, the inline buttons under replies (Assign, Release with a confirmation, Transfer) and the answers
// to the bot's questions. Only private chats run staff commands. Everything goes through runChatCommand,
// which knows who is staff, runs the command and words domain errors; this module only speaks Telegram.
import { answerOnce } from './messenger.ts';
import type { Context, Telegraf } from 'telegraf';
import { callbackQuery, message } from 'telegraf/filters';
import type { InlineKeyboardButton, User } from 'telegraf/types';
import type { ChatIdentity } from '../../core/accounts/staff-identity.ts';
import { telegramUserKind } from '../../core/accounts/telegram-link.ts';
import { formatNumber } from '../../core/numbers/phone-number.ts';
import type { Logger } from '../../core/runtime/logger.ts';
import { runChatCommand, type ChatDeps } from '../commands/chat.ts';
import type { Command } from '../commands/grammar.ts';
import { parseCommand } from '../commands/parse.ts';
import type { Action, Reply } from '../commands/reply.ts';
import { decodeButton, encodeButton, type ButtonData } from './callback-data.ts';
import { isCustomerButton } from './customer-buttons.ts';
import { confirmKeyboard, escapeHtml, renderReply, type TelegramMessage } from './html.ts';
import type { Messenger } from './messenger.ts';
import type { PendingQuestions } from './pending-questions.ts';

/** What the Assign button waits for: the account to give this number (as it was when the button was drawn). */
export interface AssignQuestion {
  readonly number: string;
  readonly version: number;
}

export interface StaffCommandDeps {
  readonly chat: ChatDeps;
  readonly messenger: Messenger;
  readonly questions: PendingQuestions<AssignQuestion>;
  readonly log: Logger;
  /** How often the "Working on it…" message of a long command is updated; 10 s by default. */
  readonly progressEveryMs?: number;
}

export const SOMETHING_WRONG = 'Something went wrong on our side; it has been logged.';
const NOT_DONE = 'Not done: see my message.';
const EXPIRED =
  'That question expired (I keep them for 10 minutes, and forget them when I restart). Tap Assign again.';
const PROGRESS_EVERY_MS = 10_000;
/** Commands that may take long enough to deserve a "Working on it…" message that is edited as they go. */
const LONG_COMMANDS: ReadonlySet<Command['name']> = new Set(['assign first']);

const assignQuestion = (number: string) => `Which account gets ${formatNumber(number)}? Reply with its slug.`;
/** Recognises our own question (as plain text) when its answer arrives after we forgot it. */
const ASSIGN_QUESTION = /^Which account gets .+\? Reply with its slug\.$/;

const privateOnly = (botUsername: string) =>
  `Staff commands work only in a private chat with me: open @${botUsername} and type /did help.`;

export function identityOf(from: User): ChatIdentity {
  const name = [from.first_name, from.last_name].filter(Boolean).join(' ') || from.username;
  return { channel: 'telegram', externalId: String(from.id), ...(name ? { displayName: name } : {}) };
}

export function registerStaffCommands(bot: Telegraf, deps: StaffCommandDeps): void {
  const { messenger, log } = deps;
  const run = (who: ChatIdentity, input: string | Command) => runChatCommand(deps.chat, who, input);

  /** Runs a message handler; an unexpected error is logged and the user told so. */
  const guarded = async (chatId: number, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      log.error({ err: error, chatId }, 'Telegram staff command failed');
      await messenger.send(chatId, { text: SOMETHING_WRONG }).catch((sendError: unknown) => {
        log.error({ err: sendError, chatId }, 'Could not tell the Telegram user about a failure');
      });
    }
  };

  /** Whether the chat is private; elsewhere the user is pointed to one. */
  const inPrivate = async (ctx: Context, chatId: number, messageId: number) => {
    if (ctx.chat?.type === 'private') return true;
    await messenger.send(
      chatId,
      { text: escapeHtml(privateOnly(ctx.botInfo.username)) },
      { replyTo: messageId },
    );
    return false;
  };

  // ---- typed commands ----

  bot.command('did', async (ctx) => {
    const chatId = ctx.chat.id;
    await guarded(chatId, async () => {
      if (!(await inPrivate(ctx, chatId, ctx.message.message_id))) return;
      const who = identityOf(ctx.from);
      const parsed = parseCommand(ctx.message.text, 'chat');
      const input = parsed.ok ? parsed.command : ctx.message.text;
      if (parsed.ok && LONG_COMMANDS.has(parsed.command.name)) await runLong(chatId, who, parsed.command);
      else await messenger.send(chatId, renderReply(await run(who, input)));
    });
  });

  const helpHandler = async (ctx: Context & { chat: { id: number }; from: User }, topic: string) => {
    const chatId = ctx.chat.id;
    await guarded(chatId, async () => {
      if (!(await inPrivate(ctx, chatId, ctx.message?.message_id ?? 0))) return;
      await messenger.send(chatId, renderReply(await run(identityOf(ctx.from), `help ${topic}`.trim())));
    });
  };
  /** Staff: a bootstrap admin, or linked to a user of the operator or a reseller. */
  const kindOf = async (from: User) => {
    const kind = await telegramUserKind(deps.chat.db, String(from.id));
    return kind ?? (deps.chat.bootstrapAdmins.includes(String(from.id)) ? 'staff' : null);
  };
  bot.start(async (ctx, next) => {
    // `/start <payload>` is a deep link (a customer linking the chat), and customers and strangers get
    // the customer welcome: the customer handlers answer those.
    if (ctx.payload || (await kindOf(ctx.from)) !== 'staff') return next();
    await helpHandler(ctx, '');
  });
  bot.help(async (ctx, next) => {
    if ((await kindOf(ctx.from)) === 'customer') return next();
    await helpHandler(ctx, ctx.payload);
  });

  /** "Working on it…" first, updated with the time spent, then replaced by the result. */
  async function runLong(chatId: number, who: ChatIdentity, command: Command): Promise<void> {
    const progress = await messenger.send(chatId, { text: 'Working on it…' });
    const started = Date.now();
    // Edits go one after another, so a slow progress edit can never land after the result.
    let edits = Promise.resolve();
    const showProgress = (message: TelegramMessage) => {
      edits = edits
        .then(() => messenger.edit(chatId, progress.message_id, message))
        .catch((error: unknown) => log.warn({ err: error, chatId }, 'Could not update a progress message'));
    };
    const timer = setInterval(() => {
      showProgress({ text: `Working on it… (${Math.round((Date.now() - started) / 1000)} s so far)` });
    }, deps.progressEveryMs ?? PROGRESS_EVERY_MS);
    let result: TelegramMessage;
    try {
      result = renderReply(await run(who, command));
    } catch (error) {
      log.error({ err: error, chatId, command: command.name }, 'Telegram staff command failed');
      result = { text: SOMETHING_WRONG };
    } finally {
      clearInterval(timer);
    }
    await edits;
    // The result must reach the user even when the progress message cannot be edited (deleted meanwhile).
    await messenger.edit(chatId, progress.message_id, result).catch(async (error: unknown) => {
      log.warn({ err: error, chatId }, 'Could not edit the progress message; sending the result instead');
      await messenger.send(chatId, result);
    });
  }

  // ---- answers to the Assign question ----

  bot.on(message('text'), async (ctx, next) => {
    const question = ctx.message.reply_to_message;
    if (ctx.chat.type !== 'private' || !question || ctx.message.text.startsWith('/')) return next();
    const chatId = ctx.chat.id;
    const pending = deps.questions.find(chatId, question.message_id);
    if (!pending) {
      const ours =
        question.from?.id === ctx.botInfo.id && 'text' in question && ASSIGN_QUESTION.test(question.text);
      if (!ours) return next();
      await guarded(chatId, () => messenger.send(chatId, { text: EXPIRED }).then(() => undefined));
      return;
    }
    await guarded(chatId, async () => {
      const who = identityOf(ctx.from);
      const result = await run(who, {
        name: 'assign',
        number: pending.number,
        account: ctx.message.text.trim(),
        version: pending.version,
      });
      await messenger.send(chatId, renderReply(result), { replyTo: ctx.message.message_id });
      if (result.ok) {
        deps.questions.forget(chatId, question.message_id);
        return;
      }
      // A mistyped slug may be answered again; a number that changed meanwhile needs a fresh look.
      const now = await current(who, pending.number, 'assign', pending.version);
      if (now.info.ok && !now.fresh) {
        deps.questions.forget(chatId, question.message_id);
        await messenger.send(chatId, renderReply(now.info));
      }
    });
  });

  // ---- buttons ----

  bot.on(callbackQuery('data'), async (ctx, next) => {
    const query = ctx.callbackQuery;
    if (isCustomerButton(query.data)) return next();
    const answer = answerOnce(messenger, query.id);
    const chatId = query.message?.chat.id;
    const messageId = query.message?.message_id;
    try {
      const button = decodeButton(query.data);
      if (chatId === undefined || messageId === undefined || !button) {
        await answer('This button no longer works; run the command again.');
        return;
      }
      if (query.message?.chat.type !== 'private') {
        await answer(privateOnly(ctx.botInfo.username));
        return;
      }
      await onButton({ who: identityOf(query.from), chatId, messageId, answer }, button);
    } catch (error) {
      log.error({ err: error, chatId, data: query.data }, 'Telegram button failed');
      await answer('Something went wrong on our side.').catch(() => undefined);
      if (chatId !== undefined)
        await messenger.send(chatId, { text: SOMETHING_WRONG }).catch(() => undefined);
    } finally {
      // Telegram keeps the button spinning until it is answered.
      await answer().catch((error: unknown) =>
        log.warn({ err: error }, 'Could not answer a Telegram button'),
      );
    }
  });

  interface Tap {
    readonly who: ChatIdentity;
    readonly chatId: number;
    /** The message the tapped button sits under. */
    readonly messageId: number;
    answer(text?: string): Promise<void>;
  }

  async function onButton(tap: Tap, button: ButtonData): Promise<void> {
    const { chatId, messageId } = tap;
    switch (button.kind) {
      case 'assign': {
        if (!(await stillAsShown(tap, button.number, 'assign', button.version))) return;
        const asked = await messenger.send(
          chatId,
          { text: escapeHtml(assignQuestion(button.number)) },
          { forceReply: { placeholder: 'account slug, e.g. acme' } },
        );
        deps.questions.remember(chatId, asked.message_id, { number: button.number, version: button.version });
        await tap.answer();
        return;
      }
      case 'release': {
        const action = await stillAsShown(tap, button.number, 'release', button.version);
        if (!action) return;
        const confirm = action.confirm ?? {
          title: 'Release this number?',
          text: `${formatNumber(button.number)} goes back to the pool.`,
          yes: 'Release',
        };
        await messenger.send(chatId, {
          text: `<b>${escapeHtml(confirm.title)}</b>\n${escapeHtml(confirm.text)}`,
          replyMarkup: confirmKeyboard({ text: confirm.yes, data: { ...button, kind: 'release-confirmed' } }),
        });
        await tap.answer();
        return;
      }
      case 'release-confirmed': {
        const result = await run(tap.who, {
          name: 'release',
          number: button.number,
          version: button.version,
        });
        if (!result.ok) return failed(tap, button.number, result);
        await messenger.edit(chatId, messageId, renderReply(result));
        await tap.answer('Released.');
        return;
      }
      case 'cancel':
        await messenger.edit(chatId, messageId, { text: 'Cancelled; nothing changed.' });
        await tap.answer('Cancelled.');
        return;
      case 'transfer': {
        if (!(await stillAsShown(tap, button.number, 'transfer', button.version))) return;
        const shown = await run(tap.who, {
          name: 'transfer',
          number: button.number,
          change: { kind: 'show' },
        });
        if (!shown.ok) return failed(tap, button.number, shown);
        await messenger.send(chatId, transferMessage(shown, button.number, button.version));
        await tap.answer();
        return;
      }
      case 'transfer-switch': {
        const result = await run(tap.who, {
          name: 'transfer',
          number: button.number,
          change: { kind: 'switch', enabled: button.enabled },
          version: button.version,
        });
        if (!result.ok) return failed(tap, button.number, result);
        // The reply shows the new settings. The switch may have changed the number's version: the redrawn
        // buttons carry the current one.
        const now = await current(tap.who, button.number, 'transfer');
        await messenger.edit(
          chatId,
          messageId,
          now.action ? transferMessage(result, button.number, now.action.version) : renderReply(result),
        );
        await tap.answer(button.enabled ? 'Call transfer is on.' : 'Call transfer is off.');
        return;
      }
    }
  }

  /**
   * The number as it is now, and its button of this kind. `fresh` when that button still carries the
   * version the tapped one had, i.e. nothing changed since it was drawn.
   */
  async function current(
    who: ChatIdentity,
    number: string,
    kind: Action['kind'],
    version?: number,
  ): Promise<{ info: Reply; action?: Action; fresh: boolean }> {
    const info = await run(who, { name: 'info', number });
    const action = info.blocks
      .flatMap((b) => (b.type === 'actions' ? b.actions : []))
      .find((a) => a.kind === kind);
    return { info, action, fresh: action !== undefined && action.version === version };
  }

  /**
   * Before asking a question about a number, checks the tapped button is not stale. When it is, says so
   * and redraws the tapped message as the number is now, so its buttons are fresh. The current button
   * when it is not.
   */
  async function stillAsShown(
    tap: Tap,
    number: string,
    kind: Action['kind'],
    version: number,
  ): Promise<Action | undefined> {
    const now = await current(tap.who, number, kind, version);
    if (!now.info.ok) {
      await tap.answer(NOT_DONE);
      await messenger.send(tap.chatId, renderReply(now.info));
      return undefined;
    }
    if (now.fresh) return now.action;
    await tap.answer('It changed since; showing it as it is now.');
    await messenger.edit(tap.chatId, tap.messageId, renderReply(now.info));
    await messenger.send(
      tap.chatId,
      {
        text: escapeHtml(
          `✗ ${formatNumber(number)} changed since that button was shown; nothing was done. The message above shows it as it is now.`,
        ),
      },
      { replyTo: tap.messageId },
    );
    return undefined;
  }

  /** A button's command was refused: say why, and redraw the tapped message as the number is now. */
  async function failed(tap: Tap, number: string, result: Reply): Promise<void> {
    await tap.answer(NOT_DONE);
    await messenger.send(tap.chatId, renderReply(result));
    const info = await run(tap.who, { name: 'info', number });
    if (info.ok) await messenger.edit(tap.chatId, tap.messageId, renderReply(info));
  }

  /** A reply showing call-transfer settings, with how to change them by typing and On/Off buttons. */
  function transferMessage(shown: Reply, number: string, version: number): TelegramMessage {
    const rendered = renderReply({
      ...shown,
      blocks: [
        ...shown.blocks,
        { type: 'text', text: 'To change where calls go, type:' },
        { type: 'hint', text: `/did transfer ${number} busy|noanswer|unreachable|always <destination>` },
      ],
    });
    const toggle = (enabled: boolean): InlineKeyboardButton => ({
      text: enabled ? 'Turn on' : 'Turn off',
      callback_data: encodeButton({ kind: 'transfer-switch', number, version, enabled }),
    });
    return {
      text: rendered.text,
      replyMarkup: {
        inline_keyboard: [...(rendered.replyMarkup?.inline_keyboard ?? []), [toggle(true), toggle(false)]],
      },
    };
  }
}
