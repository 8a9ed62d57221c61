// The web role's express app: liveness and readiness probes, the Slack and Telegram endpoints, the routing
// API, the storefront's pages, a 404 (a page for browsers, JSON for everyone else and under /api) and the
// last-resort error handler.
import express, { type ErrorRequestHandler, type Express, type RequestHandler, type Router } from 'express';
import { sql } from 'kysely';
import type { Config } from '../core/config.ts';
import type { Db } from '../core/db/connect.ts';
import type { Logger } from '../core/runtime/logger.ts';
import type { Clock } from '../core/shared/clock.ts';
import type { JobsRuntime } from '../core/runtime/jobs.ts';
import { routingApi } from './routes/routing-api.ts';
import { stripeWebhook } from './routes/stripe-webhook.ts';
import { createStorefront } from './web/storefront.ts';
import type { TelegramBotLookup } from './web/telegram-bot-name.ts';

export interface WebDeps {
  readonly db: Db;
  readonly config: Config;
  readonly log: Logger;
  /** Chat front doors delivered over HTTP (see bot/chat-bots.ts). */
  readonly slackRouter?: Router;
  readonly telegramWebhook?: RequestHandler;
  /** The job queue and payments gateway (core/runtime/jobs.ts): checkouts and the Stripe webhook need them. */
  readonly jobs?: Pick<JobsRuntime, 'queue' | 'enqueue' | 'payments' | 'policy'>;
  /** The system clock unless given (tests). */
  readonly clock?: Clock;
  /** The Telegram bot's username for deep links: asked from Telegram (getMe) unless given (tests). */
  readonly telegramBot?: () => Promise<TelegramBotLookup>;
}

const READINESS_TIMEOUT_MS = 2_000;

export function createWebApp(deps: WebDeps): Express {
  const app = express();
  app.disable('x-powered-by');

  const noStore: RequestHandler = (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  };

  // Liveness: the process answers. Never touches the database, so a database outage does not get every
  // web process restarted by its orchestrator.
  app.get('/healthz', noStore, (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Readiness: this process can serve real requests, i.e. the database answers in time.
  app.get('/readyz', noStore, async (_req, res) => {
    const problem = await databaseProblem(deps.db, READINESS_TIMEOUT_MS);
    if (problem === null) {
      res.json({ status: 'ok', database: 'up' });
      return;
    }
    deps.log.warn({ reason: problem }, 'Readiness check failed: the database does not answer');
    res.status(503).json({ status: 'unavailable', database: 'down' });
  });

  // Bolt verifies Slack's signature over the raw body: nothing may parse the body before it.
  if (deps.slackRouter) app.use(deps.slackRouter);
  if (deps.telegramWebhook) app.post('/telegram/webhook', deps.telegramWebhook);
  app.use(routingApi({ db: deps.db, log: deps.log }));
  if (deps.jobs?.payments) {
    app.use(
      stripeWebhook({ db: deps.db, payments: deps.jobs.payments, enqueue: deps.jobs.enqueue, log: deps.log }),
    );
  }

  const storefront = createStorefront({
    db: deps.db,
    config: deps.config,
    log: deps.log,
    clock: deps.clock,
    telegramBot: deps.telegramBot,
  });
  app.use(storefront.router);

  app.use((req, res, next) => {
    if (!/^\/api(\/|$)/.test(req.path) && req.accepts(['json', 'html']) === 'html') {
      storefront.notFound(req, res, next);
      return;
    }
    res.status(404).json({ error: 'not_found', message: `Nothing here: ${req.method} ${req.path}` });
  });

  app.use(errorHandler(deps.log));
  return app;
}

/** null when `SELECT 1` succeeds within the time limit, else why not. */
async function databaseProblem(db: Db, timeoutMs: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  const query = sql`SELECT 1`.execute(db).then(
    () => null,
    (error: unknown) => (error instanceof Error ? error.message || error.name : String(error)),
  );
  try {
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Last resort for errors no route handled. Client errors raised by express or its body parsers (they carry
 * a 4xx `status`) are answered as such; everything else is logged with its stack and answered with a plain
 * 500 that reveals nothing about the internals.
 */
function errorHandler(log: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    const status = clientErrorStatus(error);
    if (status === null) {
      log.error({ err: error, method: req.method, path: req.path }, 'Unhandled error in a web request');
    }
    if (res.headersSent) {
      // Too late for a clean answer: let express cut the connection.
      next(error);
      return;
    }
    if (status !== null) {
      res.status(status).json({ error: 'bad_request', message: 'The request could not be understood.' });
      return;
    }
    res
      .status(500)
      .json({ error: 'internal', message: 'Something went wrong on our side. Please try again.' });
  };
}

function clientErrorStatus(error: unknown): number | null {
  if (typeof error !== 'object' || error === null) return null;
  const status =
    (error as { status?: unknown; statusCode?: unknown }).status ??
    (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : null;
}
