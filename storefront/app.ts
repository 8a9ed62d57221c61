// The web role's express app: a request id and timing for every request, liveness and readiness probes
// and metrics, the Slack and Telegram endpoints, the routing API, the storefront's pages, a 404 (a page for
// browsers, JSON for everyone else and under /api) and the last-resort error handler.
import express, { type ErrorRequestHandler, type Express, type RequestHandler, type Router } from 'express';
import type { Config } from '../core/config.ts';
import type { Db } from '../core/db/connect.ts';
import { isUnavailableError } from '../core/db/unavailable.ts';
import type { Logger } from '../core/runtime/logger.ts';
import type { Clock } from '../core/shared/clock.ts';
import type { JobsRuntime } from '../core/runtime/jobs.ts';
import { httpMetrics } from './http-metrics.ts';
import { requestContext, requestLogger } from './request-context.ts';
import { opsRoutes } from './routes/ops.ts';
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

export function createWebApp(deps: WebDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // req.ip (the log-in and reset limits) is the visitor's behind the proxies TRUST_PROXY names, else the
  // connection's. Secure cookies and HSTS follow PUBLIC_URL, never X-Forwarded-Proto (web/storefront.ts).
  app.set('trust proxy', deps.config.trustProxy ?? false);

  app.use(requestContext(), httpMetrics());
  // /healthz, /readyz (database and queue), /metrics: before anything that reads a session or a body.
  app.use(
    opsRoutes({
      db: deps.db,
      queue: deps.jobs?.queue,
      log: deps.log,
      metricsToken: deps.config.metrics.token,
    }),
  );

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
    jobs: deps.jobs,
    queue: deps.jobs?.queue,
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

/**
 * Last resort for errors no route handled. Client errors raised by express or its body parsers (they carry
 * a 4xx `status`) are answered as such; an outage (the database or Redis unreachable, core/db/unavailable.ts)
 * gets a 503 "try again shortly" at once, logged as a warning; everything else is logged with its stack
 * and answered with a plain 500 that reveals nothing about the internals.
 */
function errorHandler(fallbackLog: Logger): ErrorRequestHandler {
  // During an outage a switch may send thousands of lookups a second: one warning per interval, with
  // how many requests failed the same way since the last one.
  let quietUntil = 0;
  let suppressed = 0;
  return (error: unknown, req, res, next) => {
    const log = requestLogger(res, fallbackLog);
    const status = clientErrorStatus(error);
    const unavailable = status === null && isUnavailableError(error);
    if (unavailable) {
      if (Date.now() >= quietUntil) {
        const reason = error instanceof Error ? error.message || error.name : String(error);
        log.warn(
          { reason, path: req.path, alsoFailedSinceLastWarning: suppressed },
          'A web request failed: a backing service is unavailable',
        );
        quietUntil = Date.now() + OUTAGE_WARNING_INTERVAL_MS;
        suppressed = 0;
      } else {
        suppressed += 1;
      }
    } else if (status === null) {
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
    if (unavailable) {
      res.status(503).set('Retry-After', '5');
      if (!/^\/api(\/|$)/.test(req.path) && req.accepts(['json', 'html']) === 'html') {
        res.type('html').send(UNAVAILABLE_PAGE);
      } else {
        res.json({ error: 'unavailable', message: UNAVAILABLE_MESSAGE });
      }
      return;
    }
    res
      .status(500)
      .json({ error: 'internal', message: 'Something went wrong on our side. Please try again.' });
  };
}

const OUTAGE_WARNING_INTERVAL_MS = 10_000;

const UNAVAILABLE_MESSAGE = 'The service is temporarily unavailable. Please try again in a moment.';

// Plain and self-contained: during an outage nothing that might itself fail (templates, sessions) is used.
const UNAVAILABLE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Temporarily unavailable</title></head>
<body><h1>Temporarily unavailable</h1><p>${UNAVAILABLE_MESSAGE}</p></body></html>
`;

function clientErrorStatus(error: unknown): number | null {
  if (typeof error !== 'object' || error === null) return null;
  const status =
    (error as { status?: unknown; statusCode?: unknown }).status ??
    (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : null;
}
