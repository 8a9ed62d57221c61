// The storefront: server-rendered pages for buyers (catalog, sign-up and log-in, account, checkout and
// orders, their numbers and invoices) and for resellers (their portal). Builds the
// renderer, CSRF and session handling once, and returns a router to mount after the machine endpoints
// (webhooks, routing API) plus the HTML 404 page for the app's fallback.
import { randomBytes } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import type { Config } from '../../core/config.ts';
import type { Executor, Settings } from '../../core/context.ts';
import { saleCatalog } from '../../core/inventory/numbers-for-sale.ts';
import type { Logger } from '../../core/runtime/logger.ts';
import { systemClock, type Clock } from '../../core/shared/clock.ts';
import { createCsrf } from './csrf.ts';
import type { StorefrontJobs, Web } from './deps.ts';
import { renderNotFound, webErrorHandler } from './errors.ts';
import { createPages } from './render.ts';
import { accountRoutes } from './routes/account.ts';
import { authRoutes } from './routes/auth.ts';
import { catalogRoutes } from './routes/catalog.ts';
import { homeRoutes } from './routes/home.ts';
import { securityHeaders } from './security-headers.ts';
import { loadSession } from './session.ts';
import { telegramBotLookup, type TelegramBotLookup } from './telegram-bot-name.ts';
import { checkoutRoutes } from './routes/checkout.ts';
import { ordersRoutes } from './routes/orders.ts';
import { myNumbersRoutes } from './routes/my-numbers.ts';
import { invoicesRoutes } from './routes/invoices.ts';
import { resellerRoutes } from './routes/reseller.ts';
import { adminRoutes } from './routes/admin/index.ts';
import type { JobQueue } from '../../core/jobs/queue.ts';

export interface StorefrontOptions {
  readonly db: Executor;
  readonly config: Config;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Where deep links point: asks Telegram's getMe unless given (tests). */
  readonly telegramBot?: () => Promise<TelegramBotLookup>;
  /** The queue and payments gateway: checkouts by card and renewal payments need them. */
  readonly jobs?: StorefrontJobs;
  /** The job queue itself, for the back office's queue page (/admin/queues). */
  readonly queue?: JobQueue;
}

export interface Storefront {
  readonly router: Router;
  /** The HTML 404 page, for browsers asking for a path nothing serves. */
  readonly notFound: RequestHandler;
  /** Shared with pages built elsewhere (checkout, my numbers, reseller portal, admin console). */
  readonly web: Web;
}

export function createStorefront(options: StorefrontOptions): Storefront {
  const { config, log } = options;
  const https = config.publicUrl.startsWith('https:');
  const secureCookies = https || config.env === 'production';
  const csrf = createCsrf({ secret: sessionSecret(config, log), secureCookies });
  const development = config.env !== 'production';
  const pages = createPages({ csrf, development });
  const settings: Settings = { didAgingDays: config.didAgingDays };
  const web: Web = {
    db: options.db,
    clock: options.clock ?? systemClock,
    settings,
    config,
    log,
    pages,
    csrf,
    secureCookies,
    development,
    catalog: saleCatalog(options.db),
    telegramBot: options.telegramBot ?? telegramBotLookup(config, log),
    ...(options.jobs ? { jobs: options.jobs } : {}),
  };

  const router = Router();
  router.use(securityHeaders({ https }));
  // Assets need no session: served before the lookup.
  router.use('/assets', pages.assets);
  router.use(loadSession(web));
  router.use(homeRoutes(web), authRoutes(web), catalogRoutes(web), accountRoutes(web));
  router.use(checkoutRoutes(web), ordersRoutes(web), myNumbersRoutes(web), invoicesRoutes(web));
  router.use(resellerRoutes(web));
  router.use(adminRoutes(web, { queue: options.queue }));
  router.use(webErrorHandler(web));

  return {
    router,
    notFound: (req, res) => renderNotFound(pages, req, res),
    web,
  };
}

/**
 * SESSION_SECRET signs the anonymous forms' CSRF tokens. Production requires it (config refuses to start
 * without); elsewhere a random one per process will do, with a warning.
 */
function sessionSecret(config: Config, log: Logger): string {
  if (config.sessionSecret) return config.sessionSecret;
  log.warn(
    'SESSION_SECRET is not set: using a random one for this process. Log-in and sign-up forms opened ' +
      'before a restart, or served by another web process, will be refused. Set it to share one.',
  );
  return randomBytes(32).toString('hex');
}
