// Customer self-service on Telegram: `/start <token>` links the chat to the customer's user (a one-time
// link from the storefront), /numbers lists the account's numbers, /transfer opens a screen per number to
// switch call transfer on and off and set each condition's destination (asked with a forced reply,
// validated by core, asked again when wrong), /unlink disconnects the chat; /start and /help explain.
//
// Registered after the staff commands: the staff handlers pass on `/start <payload>`, /start and /help
// from anyone who is not staff, and every button whose data is a customer button. Customers act as their
// own user (actorForTelegramUser), so core scopes everything to their account; buttons carry DID ids, and
// an id that is not theirs is simply not found.
import { answerOnce } from './messenger.ts';
import type { Context, Telegraf } from 'telegraf';
import { callbackQuery, message } from 'telegraf/filters';
import type { User } from 'telegraf/types';
import { can } from '../../core/accounts/permissions.ts';
import {
  actorForTelegramUser,
  linkTelegramChat,
  telegramUserKind,
  unlinkTelegram,
  type LinkedTelegramUser,
} from '../../core/accounts/telegram-link.ts';
import type { Ctx, Executor, Settings } from '../../core/context.ts';
import {
  getAccountNumber,
  listAccountNumbers,
  type AccountNumber,
} from '../../core/inventory/account-numbers.ts';
import type { Logger } from '../../core/runtime/logger.ts';
import type { Clock } from '../../core/shared/clock.ts';
import { isDomainError, type DomainError } from '../../core/shared/errors.ts';
import {
  CONDITION_LABEL,
  formatDestination,
  setTransferDestination,
  setTransferEnabled,
  type TransferCondition,
} from '../../core/transfer/call-transfer.ts';
import { formatNumber } from '../../core/numbers/phone-number.ts';
import { decodeCustomerButton, isCustomerButton, type CustomerButton } from './customer-buttons.ts';
import {
  CUSTOMER_COMMANDS,
  DESTINATION_PLACEHOLDER,
  DESTINATION_QUESTION,
  FOR_CUSTOMERS,
  NOT_LINKED,
  NOT_YOURS,
  PRIVATE_ONLY,
  QUESTION_EXPIRED,
  destinationFirstMessage,
  destinationQuestion,
  errorMessage,
  howToLink,
  linkedMessage,
  numbersMessage,
  pickNumberMessage,
  transferScreen,
  welcomeMessage,
} from './customer-views.ts';
import { escapeHtml, type TelegramMessage } from './html.ts';
import type { Messenger } from './messenger.ts';
import type { PendingQuestions } from './pending-questions.ts';

/** What a destination question waits for: which number (as it was when asked) and which condition. */
export interface DestinationQuestion {
  readonly didId: number;
  readonly number: string;
  readonly version: number;
  readonly condition: TransferCondition;
  /** The customer tapped Turn on without a destination: turn transfer on once this one is set. */
  readonly thenEnable: boolean;
}

export interface CustomerCommandDeps {
  readonly db: Executor;
  readonly clock: Clock;
  readonly settings: Settings;
  /** TELEGRAM_ADMIN_USERS: staff from the start, so never linked as a customer. */
  readonly bootstrapAdmins: readonly string[];
  readonly messenger: Messenger;
  readonly questions: PendingQuestions<DestinationQuestion>;
  readonly log: Logger;
}

const SOMETHING_WRONG = 'Something went wrong on our side; it has been logged.';
const BUTTON_GONE = 'This button no longer works; run the command again.';
const CHANGED = 'It changed since; showing it as it is now.';
/**
 * The question a chat was asked last is also kept under this message id (never a real one), so an answer
 * typed without replying to the question (the reply box closed) still counts.
 */
const LATEST = 0;

/** Who is writing: a customer (with the context to act as them), staff, nobody linked, or refused. */
type Who =
  | { readonly kind: 'customer'; readonly ctx: Ctx; readonly linked: LinkedTelegramUser }
  | { readonly kind: 'staff' }
  | { readonly kind: 'unlinked' }
  | { readonly kind: 'refused'; readonly error: DomainError };

export function registerCustomerCommands(bot: Telegraf, deps: CustomerCommandDeps): void {
  const { messenger, questions, log } = deps;

  async function whoIs(from: User): Promise<Who> {
    const id = String(from.id);
    const kind = await telegramUserKind(deps.db, id);
    if (kind === 'staff' || (kind === null && deps.bootstrapAdmins.includes(id))) return { kind: 'staff' };
    if (kind === null) return { kind: 'unlinked' };
    try {
      const linked = await actorForTelegramUser(deps.db, id);
      if (!linked) return { kind: 'unlinked' };
      return {
        kind: 'customer',
        linked,
        ctx: { db: deps.db, actor: linked.actor, clock: deps.clock, settings: deps.settings },
      };
    } catch (error) {
      if (isDomainError(error) && error.code === 'forbidden') return { kind: 'refused', error };
      throw error;
    }
  }

  const send = (chatId: number, m: TelegramMessage, options?: Parameters<Messenger['send']>[2]) =>
    messenger.send(chatId, m, options);

  /** Runs a message handler; an unexpected error is logged and the user told so. */
  const guarded = async (chatId: number, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      log.error({ err: error, chatId }, 'Telegram customer command failed');
      await send(chatId, { text: SOMETHING_WRONG }).catch((sendError: unknown) => {
        log.error({ err: sendError, chatId }, 'Could not tell the Telegram user about a failure');
      });
    }
  };

  /** The customer writing in a private chat, or undefined after telling anyone else what to do instead. */
  async function customerIn(ctx: Context, from: User, chatId: number) {
    if (ctx.chat?.type !== 'private') {
      await send(chatId, { text: PRIVATE_ONLY(ctx.botInfo.username) });
      return undefined;
    }
    const who = await whoIs(from);
    switch (who.kind) {
      case 'customer':
        return who;
      case 'staff':
        await send(chatId, { text: FOR_CUSTOMERS });
        return undefined;
      case 'unlinked':
        await send(chatId, { text: NOT_LINKED });
        return undefined;
      case 'refused':
        await send(chatId, errorMessage(who.error));
        return undefined;
    }
  }

  // ---- /start, /help ----

  bot.start(async (ctx) => {
    const chatId = ctx.chat.id;
    await guarded(chatId, async () => {
      if (ctx.chat.type !== 'private') {
        await send(chatId, { text: PRIVATE_ONLY(ctx.botInfo.username) });
        return;
      }
      const token = ctx.payload.trim();
      if (token) await link(chatId, ctx.from, token);
      else await welcome(chatId, ctx.from);
    });
  });

  async function link(chatId: number, from: User, token: string): Promise<void> {
    const id = String(from.id);
    if (deps.bootstrapAdmins.includes(id) && (await telegramUserKind(deps.db, id)) !== 'customer') {
      await send(chatId, {
        text: 'You are staff here (TELEGRAM_ADMIN_USERS), and a Telegram account is either staff or a customer: open the link from another Telegram account. Staff commands: /did help.',
      });
      return;
    }
    const displayName = [from.first_name, from.last_name].filter(Boolean).join(' ') || from.username;
    try {
      await linkTelegramChat(
        deps.db,
        { token, telegramUserId: id, ...(displayName ? { displayName } : {}) },
        deps.clock,
      );
    } catch (error) {
      if (!isDomainError(error)) throw error;
      await send(chatId, errorMessage(error));
      return;
    }
    const who = await whoIs(from);
    if (who.kind === 'customer') {
      const { total } = await listAccountNumbers(who.ctx, { limit: 1 });
      await send(chatId, linkedMessage(who.linked.account, total));
    } else {
      await send(chatId, { text: '✓ This chat is now linked to your user. Staff commands: /did help.' });
    }
  }

  async function welcome(chatId: number, from: User): Promise<void> {
    const who = await whoIs(from);
    if (who.kind === 'customer') await send(chatId, welcomeMessage(who.linked.account));
    else if (who.kind === 'refused') await send(chatId, errorMessage(who.error));
    else if (who.kind === 'unlinked') await send(chatId, { text: howToLink(from.id) });
    else await send(chatId, { text: 'Staff commands: /did help.' });
  }

  // The staff handler answers /help for staff and strangers; customers get theirs here.
  bot.help(async (ctx) => {
    const chatId = ctx.chat.id;
    await guarded(chatId, async () => {
      const who = await customerIn(ctx, ctx.from, chatId);
      if (who) await send(chatId, { text: CUSTOMER_COMMANDS });
    });
  });

  // ---- /numbers, /transfer, /unlink ----

  bot.command('numbers', async (ctx) => {
    const chatId = ctx.chat.id;
    await guarded(chatId, async () => {
      const who = await customerIn(ctx, ctx.from, chatId);
      if (who) await send(chatId, numbersMessage(await listAccountNumbers(who.ctx)));
    });
  });

  bot.command('transfer', async (ctx) => {
    const chatId = ctx.chat.id;
    await guarded(chatId, async () => {
      const who = await customerIn(ctx, ctx.from, chatId);
      if (!who) return;
      const typed = ctx.payload.trim();
      if (!typed) {
        await send(chatId, pickNumberMessage(await listAccountNumbers(who.ctx)));
        return;
      }
      try {
        await send(chatId, transferScreen(await getAccountNumber(who.ctx, { number: typed })));
      } catch (error) {
        if (!isDomainError(error)) throw error;
        await send(chatId, errorMessage(error));
      }
    });
  });

  bot.command('unlink', async (ctx) => {
    const chatId = ctx.chat.id;
    await guarded(chatId, async () => {
      if (ctx.chat.type !== 'private') {
        await send(chatId, { text: PRIVATE_ONLY(ctx.botInfo.username) });
        return;
      }
      // A suspended customer may still unlink: it only takes their own chat away.
      const who = await whoIs(ctx.from);
      if (who.kind === 'staff') {
        await send(chatId, {
          text: 'Staff links are managed by your admins (<code>/did staff unlink</code>); /unlink is for customers.',
        });
        return;
      }
      const user = await unlinkTelegram(deps.db, String(ctx.from.id));
      questions.forget(chatId, LATEST);
      await send(chatId, {
        text: user
          ? '✓ This chat is no longer linked to your account. To link it again, open a new link from the website.'
          : 'This chat is not linked to an account; there is nothing to unlink.',
      });
    });
  });

  // ---- answers to the destination question ----

  bot.on(message('text'), async (ctx, next) => {
    const text = ctx.message.text;
    if (ctx.chat.type !== 'private' || text.startsWith('/')) return next();
    const chatId = ctx.chat.id;
    const question = ctx.message.reply_to_message;
    const askedIn = question?.message_id ?? LATEST;
    const pending = questions.find(chatId, askedIn);
    if (!pending) {
      const ours =
        question?.from?.id === ctx.botInfo.id &&
        'text' in question &&
        DESTINATION_QUESTION.test(question.text);
      if (!ours) return next();
      await guarded(chatId, () => send(chatId, { text: escapeHtml(QUESTION_EXPIRED) }).then(() => undefined));
      return;
    }
    await guarded(chatId, async () => {
      const done = () => {
        questions.forget(chatId, askedIn);
        // The chat's latest question may be a newer one than the question answered here.
        if (questions.find(chatId, LATEST) === pending) questions.forget(chatId, LATEST);
      };
      const who = await customerIn(ctx, ctx.from, chatId);
      if (!who) return done();
      await answerDestination(who, chatId, ctx.message.message_id, pending, text, done);
    });
  });

  async function answerDestination(
    who: Extract<Who, { kind: 'customer' }>,
    chatId: number,
    answerId: number,
    q: DestinationQuestion,
    text: string,
    done: () => void,
  ): Promise<void> {
    let result;
    try {
      result = await setTransferDestination(who.ctx, {
        number: q.number,
        condition: q.condition,
        destination: text,
        expectedVersion: q.version,
      });
    } catch (error) {
      if (!isDomainError(error)) throw error;
      if (error.code === 'invalid') {
        // Nothing changed: say what is wrong and ask again.
        done();
        await send(chatId, errorMessage(error), { replyTo: answerId });
        await ask(chatId, q);
        return;
      }
      done();
      if (error.code === 'not_found') {
        await send(chatId, { text: escapeHtml(NOT_YOURS) }, { replyTo: answerId });
        return;
      }
      await send(chatId, { text: `✗ ${escapeHtml(error.message)}` }, { replyTo: answerId });
      await showFresh(who.ctx, chatId, q.didId);
      return;
    }
    done();
    const { view, changed } = result;
    const label = CONDITION_LABEL[q.condition];
    const now = view.destinations[q.condition];
    const said = [
      !changed
        ? `${label} ${now ? `already goes to ${formatDestination(now)}` : 'had no destination'}; nothing changed.`
        : now
          ? `✓ ${label}: calls to ${formatNumber(view.number)} now go to ${formatDestination(now)}.`
          : `✓ ${label}: destination cleared for ${formatNumber(view.number)}.`,
    ];
    if (changed && !now && !view.enabled && !Object.values(view.destinations).some(Boolean)) {
      said.push('Call transfer is off: no destination is left.');
    }
    if (q.thenEnable && now && !view.enabled) {
      try {
        await setTransferEnabled(who.ctx, {
          number: view.number,
          enabled: true,
          expectedVersion: view.version,
        });
        said.push('✓ Call transfer is now on.');
      } catch (error) {
        if (!isDomainError(error)) throw error;
        said.push(`Call transfer stays off: ${error.message}`);
      }
    }
    await showFresh(who.ctx, chatId, q.didId, said);
  }

  /** Asks for a condition's destination with a forced reply, and remembers what the answer is for. */
  async function ask(chatId: number, q: DestinationQuestion): Promise<void> {
    const asked = await send(chatId, destinationQuestion(q.number, q.condition), {
      forceReply: { placeholder: DESTINATION_PLACEHOLDER },
    });
    questions.remember(chatId, asked.message_id, q);
    questions.remember(chatId, LATEST, q);
  }

  /** Sends the number's transfer screen as it is now (or says it is no longer theirs). */
  async function showFresh(ctx: Ctx, chatId: number, didId: number, said: string[] = []): Promise<void> {
    const fresh = await current(ctx, didId);
    if (fresh) await send(chatId, transferScreen(fresh, said));
    else await send(chatId, { text: escapeHtml([...said, NOT_YOURS].join('\n')) });
  }

  /** The customer's number with this DID id, or undefined when it is not theirs (any more). */
  async function current(ctx: Ctx, didId: number): Promise<AccountNumber | undefined> {
    try {
      return await getAccountNumber(ctx, { didId });
    } catch (error) {
      if (isDomainError(error) && error.code === 'not_found') return undefined;
      throw error;
    }
  }

  // ---- buttons ----

  bot.on(callbackQuery('data'), async (ctx, next) => {
    const query = ctx.callbackQuery;
    if (!isCustomerButton(query.data)) return next();
    const answer = answerOnce(messenger, query.id);
    const chatId = query.message?.chat.id;
    const messageId = query.message?.message_id;
    try {
      const button = decodeCustomerButton(query.data);
      if (chatId === undefined || messageId === undefined || !button) {
        await answer(BUTTON_GONE);
        return;
      }
      if (query.message?.chat.type !== 'private') {
        await answer(`Open a private chat with me, @${ctx.botInfo.username}, to manage your numbers.`);
        return;
      }
      const who = await whoIs(query.from);
      if (who.kind === 'staff') return await answer('These buttons are for customers; staff use /did.');
      if (who.kind === 'unlinked') return await answer('This chat is not linked to an account any more.');
      if (who.kind === 'refused') return await answer(who.error.message);
      await onButton({ who, chatId, messageId, answer }, button);
    } catch (error) {
      log.error({ err: error, chatId, data: query.data }, 'Telegram customer button failed');
      await answer('Something went wrong on our side.').catch(() => undefined);
      if (chatId !== undefined) await send(chatId, { text: SOMETHING_WRONG }).catch(() => undefined);
    } finally {
      // Telegram keeps the button spinning until it is answered.
      await answer().catch((error: unknown) =>
        log.warn({ err: error }, 'Could not answer a Telegram button'),
      );
    }
  });

  interface Tap {
    readonly who: Extract<Who, { kind: 'customer' }>;
    readonly chatId: number;
    /** The message the tapped button sits under. */
    readonly messageId: number;
    answer(text?: string): Promise<void>;
  }

  async function onButton(tap: Tap, button: CustomerButton): Promise<void> {
    const { ctx } = tap.who;
    if (button.kind === 'list') {
      await messenger.edit(tap.chatId, tap.messageId, pickNumberMessage(await listAccountNumbers(ctx)));
      return tap.answer();
    }
    // Another customer's DID id (a forged button) and a number given up since are both simply not found.
    const now = await current(ctx, button.didId);
    if (!now) return tap.answer(NOT_YOURS);
    if (button.kind === 'show') {
      await messenger.edit(tap.chatId, tap.messageId, transferScreen(now));
      return tap.answer();
    }
    if (now.version !== button.version) {
      await messenger.edit(tap.chatId, tap.messageId, transferScreen(now));
      return tap.answer(CHANGED);
    }
    // Core refuses anyway; asking a viewer for a destination only to refuse the answer would waste their time.
    if (!can(ctx.actor, 'transfer.write')) {
      return tap.answer(
        `Your role (${ctx.actor.role}) cannot change call transfer; ask your account's owner.`,
      );
    }
    if (button.kind === 'destination') {
      await ask(tap.chatId, {
        didId: now.didId,
        number: now.number,
        version: now.version,
        condition: button.condition,
        thenEnable: button.thenEnable,
      });
      return tap.answer();
    }
    // The switch. Turning on without anywhere to send calls: ask where first.
    const hasDestination = Object.values(now.transfer.destinations).some(Boolean);
    if (button.enabled && !hasDestination) {
      await send(tap.chatId, destinationFirstMessage(now));
      return tap.answer('Set a destination first.');
    }
    try {
      await setTransferEnabled(ctx, {
        number: now.number,
        enabled: button.enabled,
        expectedVersion: button.version,
      });
    } catch (error) {
      if (!isDomainError(error)) throw error;
      await tap.answer('Not done: see my message.');
      await send(tap.chatId, errorMessage(error));
      const fresh = await current(ctx, button.didId);
      if (fresh) await messenger.edit(tap.chatId, tap.messageId, transferScreen(fresh));
      return;
    }
    const fresh = await current(ctx, button.didId);
    if (fresh) await messenger.edit(tap.chatId, tap.messageId, transferScreen(fresh));
    await tap.answer(button.enabled ? 'Call transfer is on.' : 'Call transfer is off.');
  }
}
