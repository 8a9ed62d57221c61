// Endpoints for the machines that run didops: `GET /healthz` (liveness: the process answers; never touches
// the database, so an outage does not get every process restarted), `GET /readyz` (readiness: the database
// and the job queue answer in time, else 503 naming what is down) and `GET /metrics` (Prometheus text; open
// unless METRICS_TOKEN is set, then `Authorization: Bearer <token>` is required).
//
// The web role mounts them on its listener (storefront/app.ts); a worker or bot process serves them on
// METRICS_PORT through createOpsApp (bin/start.ts), so its job metrics can be scraped too.
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Express, type RequestHandler, type Router } from 'express';
import { sql } from 'kysely';
import type { Db } from '../../core/db/connect.ts';
import { JOB_NAMES } from '../../core/jobs/registry.ts';
import type { JobQueue } from '../../core/jobs/queue.ts';
import type { Logger } from '../../core/runtime/logger.ts';
import {
  METRICS_CONTENT_TYPE,
  collectProcessMetrics,
  createStateCollector,
  renderMetrics,
  within,
} from '../../core/runtime/metrics.ts';
import { httpMetrics } from '../http-metrics.ts';
import { requestContext, requestLogger } from '../request-context.ts';

export interface OpsDeps {
  readonly db: Db;
  /** The job queue, when this process has one: readiness pings it, metrics count its jobs. */
  readonly queue?: Pick<JobQueue, 'ping' | 'counts'> | undefined;
  readonly log: Logger;
  /** METRICS_TOKEN: when set, /metrics wants it as a bearer token. */
  readonly metricsToken?: string | undefined;
}

/** How long readiness waits for each dependency: a probe must answer well within its own timeout. */
export const READINESS_TIMEOUT_MS = 2_000;

export function opsRoutes(deps: OpsDeps): Router {
  const router = express.Router();
  const noStore: RequestHandler = (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  };

  router.get('/healthz', noStore, (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', noStore, async (_req, res) => {
    const [database, queue] = await Promise.all([
      problem(sql`SELECT 1`.execute(deps.db)),
      deps.queue ? problem(deps.queue.ping()) : Promise.resolve(undefined),
    ]);
    const body = {
      database: database === null ? 'up' : 'down',
      ...(queue === undefined ? {} : { queue: queue === null ? 'up' : 'down' }),
    };
    if (database === null && (queue ?? null) === null) {
      res.json({ status: 'ok', ...body });
      return;
    }
    const down = Object.entries(body)
      .filter(([, state]) => state === 'down')
      .map(([name]) => name);
    requestLogger(res, deps.log).warn(
      { database: database ?? 'up', ...(queue === undefined ? {} : { queue: queue ?? 'up' }) },
      `Readiness check failed: the ${down.join(' and ')} ${down.length > 1 ? 'do' : 'does'} not answer`,
    );
    res.status(503).json({ status: 'unavailable', ...body });
  });

  collectProcessMetrics();
  const state = createStateCollector({
    db: deps.db,
    ...(deps.queue ? { queue: { queue: deps.queue, names: JOB_NAMES } } : {}),
    log: deps.log,
  });
  const token = deps.metricsToken;
  router.get('/metrics', noStore, async (req, res) => {
    if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
      res.set('WWW-Authenticate', 'Bearer realm="didops metrics"');
      res.status(401).json({
        error: 'unauthorized',
        message: 'Send the METRICS_TOKEN as "Authorization: Bearer <token>".',
      });
      return;
    }
    await state.refresh();
    res.type(METRICS_CONTENT_TYPE).send(await renderMetrics());
  });

  return router;
}

/**
 * A listener of its own for a process without the web role (worker, bot): the same probes and metrics,
 * nothing else.
 */
export function createOpsApp(deps: OpsDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestContext(), httpMetrics(), opsRoutes(deps));
  app.use((req, res) => {
    res.status(404).json({ error: 'not_found', message: `Nothing here: ${req.method} ${req.path}` });
  });
  return app;
}

/** null when `check` settles in time, else why not. */
async function problem(check: Promise<unknown>): Promise<string | null> {
  try {
    await within(check, READINESS_TIMEOUT_MS);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message || error.name : String(error);
  }
}

/** Compares digests, so neither the token's length nor its content leaks through timing. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = header && /^Bearer +(\S+) *$/i.exec(header)?.[1];
  if (!presented) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(presented), digest(token));
}
