// Which chat front doors a process runs. HTTP-delivered ones (Slack's Events API endpoint, Telegram's
// webhook) belong to the web role, where the listener is; connection-holding ones (Slack Socket Mode,
// Telegram long polling) belong to the bot role, so exactly one process holds them.
import type { RequestHandler, Router } from 'express';
import type { Config } from '../core/config.ts';
import type { Executor, Settings } from '../core/context.ts';
import type { Logger } from '../core/runtime/logger.ts';
import type { Clock } from '../core/shared/clock.ts';
import { createSlackBot } from './slack/slack-bot.ts';
import { createTelegramBot } from './telegram/telegram-bot.ts';

export interface ChatBotDeps {
  readonly db: Executor;
  readonly clock: Clock;
  readonly settings: Settings;
  readonly config: Config;
  readonly log: Logger;
}

export interface ChatBots {
  /** Mount on the web app (before body parsers): POST /slack/events. */
  readonly slackRouter?: Router;
  /** Mount on the web app at POST /telegram/webhook. */
  readonly telegramWebhook?: RequestHandler;
  /** Names of the front doors this process runs, for the start-up log. */
  readonly running: readonly string[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createChatBots(
  deps: ChatBotDeps,
  roles: { readonly web: boolean; readonly bot: boolean },
): ChatBots {
  const parts: { name: string; start(): Promise<void>; stop(): Promise<void> }[] = [];
  let slackRouter: Router | undefined;
  let telegramWebhook: RequestHandler | undefined;

  if (deps.config.slack.botToken) {
    const socketMode = deps.config.slack.appToken !== undefined;
    if (socketMode ? roles.bot : roles.web) {
      const slack = createSlackBot(deps);
      slackRouter = slack.router;
      parts.push({ name: socketMode ? 'slack (socket mode)' : 'slack (events API)', ...bind(slack) });
    }
  }
  if (deps.config.telegram.botToken) {
    const webhookMode = deps.config.telegram.webhookSecret !== undefined;
    if (webhookMode ? roles.web : roles.bot) {
      const telegram = createTelegramBot(deps);
      telegramWebhook = telegram.webhook;
      parts.push({ name: webhookMode ? 'telegram (webhook)' : 'telegram (long polling)', ...bind(telegram) });
    }
  }

  return {
    slackRouter,
    telegramWebhook,
    running: parts.map((p) => p.name),
    async start() {
      for (const part of parts) await part.start();
    },
    async stop() {
      await Promise.all(parts.map((part) => part.stop()));
    },
  };
}

function bind(bot: { start(): Promise<void>; stop(): Promise<void> }) {
  return { start: () => bot.start(), stop: () => bot.stop() };
}
