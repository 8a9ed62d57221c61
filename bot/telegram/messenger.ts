// Sends, edits and answers through the Bot API with what every call needs: parse_mode HTML, no link
// previews (SIP URIs and numbers are not links worth a preview), and one bounded retry when Telegram says
// "too many requests" (HTTP 429 with retry_after; about 1 message per second per chat, 30 per second
// overall).
import { TelegramError, type Telegram } from 'telegraf';
import type { ForceReply, InlineKeyboardMarkup, Message } from 'telegraf/types';
import type { Logger } from '../../core/runtime/logger.ts';
import type { TelegramMessage } from './html.ts';

export interface RetryOptions {
  readonly log: Logger;
  /** A 429 asking to wait longer than this is not retried (the user would long have given up). */
  readonly maxRetryAfterSeconds?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_MAX_RETRY_AFTER_SECONDS = 30;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs a Bot API call; after a 429 waits retry_after seconds (bounded) and tries once more. */
export async function withRetryAfter<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const wait = retryAfter(error);
    const max = options.maxRetryAfterSeconds ?? DEFAULT_MAX_RETRY_AFTER_SECONDS;
    if (wait === undefined || wait > max) throw error;
    options.log.warn({ retryAfterSeconds: wait }, 'Telegram rate limit hit; retrying once');
    await (options.sleep ?? sleep)(wait * 1000);
    return call();
  }
}

function retryAfter(error: unknown): number | undefined {
  if (!(error instanceof TelegramError) || error.code !== 429) return undefined;
  const seconds = error.parameters?.retry_after;
  return typeof seconds === 'number' && seconds >= 0 ? seconds : undefined;
}

/**
 * Editing a message to exactly what it already shows is refused with a 400 that only its description
 * identifies; it means there was nothing to do.
 */
function notModified(error: unknown): boolean {
  return (
    error instanceof TelegramError && error.code === 400 && /message is not modified/i.test(error.description)
  );
}

export interface SendOptions {
  /** Show the message as an answer to this one. */
  readonly replyTo?: number;
  /** Open the reply box under this message (the user answers a question), with a placeholder. */
  readonly forceReply?: { readonly placeholder: string };
}

export interface Messenger {
  send(chatId: number, message: TelegramMessage, options?: SendOptions): Promise<Message.TextMessage>;
  /** Replaces a message's text and buttons (no buttons when the message has none). */
  edit(chatId: number, messageId: number, message: TelegramMessage): Promise<void>;
  /** Stops the button's spinner; a text shows as a small toast. */
  answer(callbackQueryId: string, text?: string): Promise<void>;
}

export function createMessenger(telegram: Telegram, options: RetryOptions): Messenger {
  const retry = <T>(call: () => Promise<T>) => withRetryAfter(call, options);
  return {
    send: (chatId, message, send = {}) => {
      const markup: InlineKeyboardMarkup | ForceReply | undefined = send.forceReply
        ? { force_reply: true, input_field_placeholder: send.forceReply.placeholder }
        : message.replyMarkup;
      return retry(() =>
        telegram.sendMessage(chatId, message.text, {
          parse_mode: 'HTML',
          link_preview_options: { is_disabled: true },
          ...(markup ? { reply_markup: markup } : {}),
          ...(send.replyTo ? { reply_parameters: { message_id: send.replyTo } } : {}),
        }),
      );
    },
    edit: async (chatId, messageId, message) => {
      try {
        await retry(() =>
          telegram.editMessageText(chatId, messageId, undefined, message.text, {
            parse_mode: 'HTML',
            link_preview_options: { is_disabled: true },
            reply_markup: message.replyMarkup ?? { inline_keyboard: [] },
          }),
        );
      } catch (error) {
        if (!notModified(error)) throw error;
      }
    },
    answer: async (callbackQueryId, text) => {
      await retry(() => telegram.answerCbQuery(callbackQueryId, text));
    },
  };
}

/**
 * Answers one callback query at most once: Telegram wants exactly one answer per tap, and a handler may
 * reach several places that would answer (a refusal, then its finally).
 */
export function answerOnce(messenger: Messenger, callbackQueryId: string): (text?: string) => Promise<void> {
  let answered = false;
  return async (text?: string) => {
    if (answered) return;
    answered = true;
    await messenger.answer(callbackQueryId, text);
  };
}
