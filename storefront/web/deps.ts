// What the storefront's routes share: the database and clock, configuration, the renderer, CSRF, the
// catalog, the Telegram bot's name and the job side (queue and payments) for checkouts. Built once per app
// by createStorefront.
import type { Config } from '../../core/config.ts';
import type { JobsRuntime } from '../../core/runtime/jobs.ts';
import type { SaleCatalog } from '../../core/inventory/numbers-for-sale.ts';
import type { Logger } from '../../core/runtime/logger.ts';
import type { AnonymousCtx } from '../../core/web-auth/signup.ts';
import type { Csrf } from './csrf.ts';
import type { Pages } from './render.ts';
import type { SessionDeps } from './session.ts';
import type { TelegramBotLookup } from './telegram-bot-name.ts';

export interface Web extends SessionDeps, AnonymousCtx {
  readonly config: Config;
  readonly log: Logger;
  readonly pages: Pages;
  readonly csrf: Csrf;
  readonly catalog: SaleCatalog;
  readonly telegramBot: () => Promise<TelegramBotLookup>;
  /** Not production: pages may say where development shortcuts are (the reset link in the log). */
  readonly development: boolean;
  /** Enqueueing and the payments gateway (null: card payments off); absent when the app runs without a queue. */
  readonly jobs?: StorefrontJobs;
}

export type StorefrontJobs = Pick<JobsRuntime, 'enqueue' | 'payments' | 'policy'>;
