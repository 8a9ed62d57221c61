// A fake Bot API for the Telegram tests: nock answers every method at TELEGRAM_API_ROOT and records what
// the bot sent, and builders make the updates Telegram would deliver. Unmatched hosts fail the test.
import nock from 'nock';
import type { Update, UserFromGetMe } from 'telegraf/types';
import { createTelegramBot, type TelegramBot } from '../../../../bot/telegram/telegram-bot.ts';
import { loadConfig, type Config } from '../../../../core/config.ts';
import type { Executor } from '../../../../core/context.ts';
import { silentLogger, type Logger } from '../../../../core/runtime/logger.ts';
import { ManualClock, type Clock } from '../../../../core/shared/clock.ts';

export const API_ROOT = 'https://telegram.test';
export const TOKEN = '123456:TEST-token-abcdefghijklmnop';
export const WEBHOOK_SECRET = 'hook-secret_42';
export const ADMIN_ID = 1001;

export const BOT_INFO: UserFromGetMe = {
  id: 999,
  is_bot: true,
  first_name: 'DID Ops',
  username: 'didops_bot',
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
};

export function telegramConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: API_ROOT,
    TELEGRAM_ADMIN_USERS: String(ADMIN_ID),
    ...env,
  });
}

export interface ApiCall {
  readonly method: string;
  readonly body: Record<string, unknown>;
}

export interface FakeTelegram {
  readonly calls: ApiCall[];
  /** The calls of one method, in order. */
  of(method: string): ApiCall[];
  /** The text of every sendMessage and editMessageText, in order. */
  texts(): string[];
  /** Answers `method` with this error once (e.g. a 429). */
  failOnce(method: string, status: number, body: Record<string, unknown>): void;
  /** Hands these updates to the next getUpdates (long polling); an empty poll waits a little. */
  deliver(...updates: Update[]): void;
}

/** Fakes the Bot API until nock.cleanAll(); message ids count up from 500. */
export function fakeTelegram(): FakeTelegram {
  const calls: ApiCall[] = [];
  const failures = new Map<string, { status: number; body: Record<string, unknown> }>();
  let messageId = 500;
  const queued: Update[] = [];
  nock(API_ROOT)
    .persist()
    .post(/^\/bot[^/]+\/\w+$/)
    // nock 15 hands the reply function the request itself (a fetch Request).
    .reply(async (request: Request) => {
      const method = new URL(request.url).pathname.split('/').at(-1)!;
      const text = await request.text();
      const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
      calls.push({ method, body });
      const failure = failures.get(method);
      if (failure) {
        failures.delete(method);
        return [failure.status, failure.body];
      }
      const chat = { id: body.chat_id, type: 'private' };
      switch (method) {
        case 'getUpdates': {
          if (queued.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
          return [200, { ok: true, result: queued.splice(0) }];
        }
        case 'getMe':
          return [200, { ok: true, result: BOT_INFO }];
        case 'sendMessage':
          return [
            200,
            {
              ok: true,
              result: { message_id: messageId++, date: 1, chat, from: BOT_INFO, text: body.text },
            },
          ];
        case 'editMessageText':
          return [200, { ok: true, result: { message_id: body.message_id, date: 1, chat, text: body.text } }];
        default:
          return [200, { ok: true, result: true }];
      }
    });
  return {
    calls,
    of: (method) => calls.filter((c) => c.method === method),
    texts: () =>
      calls
        .filter((c) => c.method === 'sendMessage' || c.method === 'editMessageText')
        .map((c) => String(c.body.text)),
    failOnce: (method, status, body) => failures.set(method, { status, body }),
    deliver: (...updates) => queued.push(...updates),
  };
}

let updateId = 1;
let incomingMessageId = 10_000;

const person = (id: number) => ({ id, is_bot: false, first_name: 'Ann', last_name: 'Staff' });
const privateChat = (id: number) => ({ id, type: 'private' as const, first_name: 'Ann' });
const groupChat = { id: -4242, type: 'group' as const, title: 'Ops' };

/** A text message from `from`; commands get their bot_command entity as Telegram sends it. */
export function textUpdate(
  from: number,
  text: string,
  options: { group?: boolean; replyTo?: { messageId: number; text: string } } = {},
): Update {
  const command = /^\/\S+/.exec(text)?.[0];
  const chat = options.group ? groupChat : privateChat(from);
  return {
    update_id: updateId++,
    message: {
      message_id: incomingMessageId++,
      date: Math.floor(Date.now() / 1000),
      chat,
      from: person(from),
      text,
      ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command.length }] } : {}),
      ...(options.replyTo
        ? {
            reply_to_message: {
              message_id: options.replyTo.messageId,
              date: 1,
              chat,
              from: BOT_INFO,
              text: options.replyTo.text,
            },
          }
        : {}),
    },
  } as Update;
}

/** A tap on an inline button with `data`, under the bot's message `messageId`. */
export function buttonUpdate(
  from: number,
  data: string,
  messageId: number,
  options: { group?: boolean } = {},
): Update {
  return {
    update_id: updateId++,
    callback_query: {
      id: `cq-${updateId}`,
      from: person(from),
      chat_instance: 'ci',
      data,
      message: {
        message_id: messageId,
        date: 1,
        chat: options.group ? groupChat : privateChat(from),
        from: BOT_INFO,
        text: '(the message with the button)',
      },
    },
  };
}

/** Every callback_data in a sent message's inline keyboard. */
export function callbackData(call: ApiCall | undefined): string[] {
  const markup = call?.body.reply_markup as
    { inline_keyboard?: { text: string; callback_data?: string }[][] } | undefined;
  return (markup?.inline_keyboard ?? []).flat().map((b) => b.callback_data ?? '');
}

/**
 * The real bot over `db`, configured for the fake API. Its identity is known up front (no getMe call)
 * unless `askIdentity` is set, for tests of start-up.
 */
export function testTelegramBot(
  db: Executor,
  options: { clock?: Clock; env?: Record<string, string>; log?: Logger; askIdentity?: boolean } = {},
): TelegramBot {
  const tb = createTelegramBot({
    db,
    clock: options.clock ?? new ManualClock('2026-03-01T10:00:00Z'),
    settings: { didAgingDays: 30 },
    config: telegramConfig(options.env),
    log: options.log ?? silentLogger,
  });
  if (!options.askIdentity) tb.bot.botInfo = BOT_INFO;
  return tb;
}
