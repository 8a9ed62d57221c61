// The Telegram bot: one telegraf instance with its handler modules registered (staff commands, then
// customer self-service), fed either by Telegram's webhook (POST /telegram/webhook, verified by
// X-Telegram-Bot-Api-Secret-Token; chosen when TELEGRAM_WEBHOOK_SECRET is set) or by long polling.
//
// Updates are acknowledged on receipt and handled in the background, in both modes: Telegram re-sends a
// webhook update it got no 2xx for within about a minute, and a long `assign first` must not be run twice;
// telegraf's polling loop waits for each batch of updates, and one user's long command must not hold up
// everybody else's. stop() waits for the updates in flight.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { Telegraf, type Types } from 'telegraf';
import type { Update } from 'telegraf/types';
import type { Config } from '../../core/config.ts';
import type { Executor, Settings } from '../../core/context.ts';
import type { Logger } from '../../core/runtime/logger.ts';
import type { Clock } from '../../core/shared/clock.ts';
import { createMessenger, withRetryAfter } from './messenger.ts';
import { createPendingQuestions } from './pending-questions.ts';
import { registerCustomerCommands, type DestinationQuestion } from './customer-commands.ts';
import { registerStaffCommands, type AssignQuestion } from './staff-commands.ts';

export const WEBHOOK_PATH = '/telegram/webhook';
const SECRET_HEADER = 'x-telegram-bot-api-secret-token';
/** The update kinds the handlers use; Telegram sends nothing else. */
export const ALLOWED_UPDATES: readonly Types.UpdateType[] = ['message', 'callback_query'];
/** Updates are a few KB; anything far larger is not from Telegram. */
const MAX_UPDATE_BYTES = 1024 * 1024;
const STOP_POLLING_WAIT_MS = 5_000;

export interface TelegramBotDeps {
  readonly db: Executor;
  readonly clock: Clock;
  readonly settings: Settings;
  readonly config: Config;
  readonly log: Logger;
}

export interface TelegramBot {
  /** Webhook mode only: the handler to mount at POST /telegram/webhook. */
  readonly webhook?: RequestHandler;
  /**
   * Webhook mode: registers `${PUBLIC_URL}/telegram/webhook` with Telegram, with the secret token.
   * Polling mode: starts polling and returns (polling runs until stop()). Fails when the token is refused.
   */
  start(): Promise<void>;
  /** Stops polling and waits for the updates being handled. */
  stop(): Promise<void>;
  /** The telegraf instance, for tests (bot.botInfo, bot.handleUpdate). */
  readonly bot: Telegraf;
}

export function createTelegramBot(deps: TelegramBotDeps): TelegramBot {
  const { config } = deps;
  const token = config.telegram.botToken;
  if (!token) throw new Error('createTelegramBot needs TELEGRAM_BOT_TOKEN');
  const secret = config.telegram.webhookSecret;
  const log = deps.log.child({ component: 'telegram' });

  // webhookReply off: replies are sent as API calls whose results (message ids) the handlers need, and
  // the webhook request is answered before the update is handled anyway.
  const bot = new Telegraf(token, { telegram: { apiRoot: config.telegram.apiRoot, webhookReply: false } });
  // telegraf's default handler prints to the console and sets a failing exit code; log instead.
  bot.catch((error, ctx) => {
    log.error({ err: error, updateId: ctx.update.update_id }, 'Unhandled error in a Telegram update');
  });

  const inFlight = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    const tracked = work
      .catch((error: unknown) => log.error({ err: error }, 'Telegram update failed'))
      .finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  let detach = false;
  bot.use((_ctx, next) => {
    if (!detach) return next();
    track(next());
  });

  const messenger = createMessenger(bot.telegram, { log });
  registerStaffCommands(bot, {
    chat: {
      db: deps.db,
      clock: deps.clock,
      settings: deps.settings,
      bootstrapAdmins: config.telegram.adminUsers,
    },
    messenger,
    questions: createPendingQuestions<AssignQuestion>(deps.clock),
    log,
  });
  // After the staff commands: they pass on what is not theirs (deep links, customers' /start and /help,
  // customer buttons, text that answers no staff question).
  registerCustomerCommands(bot, {
    db: deps.db,
    clock: deps.clock,
    settings: deps.settings,
    bootstrapAdmins: config.telegram.adminUsers,
    messenger,
    questions: createPendingQuestions<DestinationQuestion>(deps.clock),
    log,
  });

  let polling: Promise<void> | undefined;

  const webhook: RequestHandler | undefined = secret
    ? (req, res, next) => {
        if (req.method !== 'POST') {
          res.status(405).set('Allow', 'POST').end();
          return;
        }
        if (!sameSecret(req.get(SECRET_HEADER), secret)) {
          log.warn({ ip: req.ip }, 'Refused a Telegram webhook request without the right secret token');
          res.status(403).end();
          return;
        }
        readUpdate(req).then(
          (update) => {
            if (!update) {
              res.status(400).end();
              return;
            }
            res.status(200).end();
            track(bot.handleUpdate(update));
          },
          (error: unknown) => next(error),
        );
      }
    : undefined;

  return {
    ...(webhook ? { webhook } : {}),
    bot,
    async start() {
      bot.botInfo ??= await withRetryAfter(() => bot.telegram.getMe(), { log });
      if (secret) {
        const url = `${config.publicUrl}${WEBHOOK_PATH}`;
        await withRetryAfter(
          () => bot.telegram.setWebhook(url, { secret_token: secret, allowed_updates: [...ALLOWED_UPDATES] }),
          { log },
        );
        log.info({ url, bot: bot.botInfo.username }, 'Telegram webhook registered');
        return;
      }
      detach = true;
      // launch() resolves only when polling stops: not awaited.
      polling = bot.launch({ allowedUpdates: [...ALLOWED_UPDATES] }).catch((error: unknown) => {
        log.error({ err: error }, 'Telegram long polling stopped with an error');
      });
      log.info({ bot: bot.botInfo.username }, 'Telegram long polling started');
    },
    async stop() {
      if (polling) {
        await stopPolling(bot);
        await polling;
      }
      await Promise.allSettled([...inFlight]);
    },
  };
}

/**
 * launch() removes the webhook before it starts polling, and bot.stop() throws until polling has
 * started: a stop right after start waits for it, briefly.
 */
async function stopPolling(bot: Telegraf): Promise<void> {
  const deadline = Date.now() + STOP_POLLING_WAIT_MS;
  for (;;) {
    try {
      bot.stop('shutdown');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Compares in constant time (by digest, so the lengths match too). */
function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The update in the request body (parsed already by a body parser, or read here); undefined if not one. */
async function readUpdate(req: IncomingMessage & { body?: unknown }): Promise<Update | undefined> {
  let body = req.body;
  if (body === undefined) {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_UPDATE_BYTES) return undefined;
      chunks.push(chunk);
    }
    body = Buffer.concat(chunks);
  }
  if (Buffer.isBuffer(body)) body = body.toString('utf8');
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      return undefined;
    }
  }
  const isUpdate =
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { update_id?: unknown }).update_id === 'number';
  return isUpdate ? (body as Update) : undefined;
}
