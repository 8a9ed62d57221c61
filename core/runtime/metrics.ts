// Prometheus metrics of one process, served as text on GET /metrics (storefront/routes/ops.ts). Counters and
// histograms are recorded where things happen (HTTP requests, jobs, renewals, Stripe webhooks); the state
// gauges (numbers by status, queue depth) are read when scraped, at most every STATE_TTL_MS, so a scrape
// every few seconds costs one GROUP BY and one queue count now and then.
//
// Labels are bounded on purpose: HTTP routes are express route patterns (`/api/v1/routing/:number`), never
// raw paths; outcomes and statuses are short fixed lists.
import { sql } from 'kysely';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../db/connect.ts';
import { DID_STATUSES } from '../db/schema.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { Logger } from './logger.ts';

export const metricsRegistry = new Registry();

const httpRequestDuration = new Histogram({
  name: 'didops_http_request_duration_seconds',
  help: 'HTTP requests by method, express route pattern ("unmatched" when no route answered) and status.',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

const jobDuration = new Histogram({
  name: 'didops_job_duration_seconds',
  help: 'Jobs run by this process, by queue and outcome (completed, failed); _count counts them.',
  labelNames: ['queue', 'outcome'] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300],
  registers: [metricsRegistry],
});

/** What a renew-subscription run can end in that is worth counting (not_due / canceled are no-ops). */
export const RENEWAL_OUTCOMES = ['renewed', 'failed', 'action_required', 'suspended'] as const;
export type CountedRenewalOutcome = (typeof RENEWAL_OUTCOMES)[number];

const renewals = new Counter({
  name: 'didops_renewals_total',
  help: 'Subscription renewals: renewed (charged or invoiced), failed (declined, over credit), action_required (3-D Secure), suspended (dunning over).',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

export const STRIPE_WEBHOOK_OUTCOMES = ['received', 'duplicate', 'invalid_signature'] as const;
export type StripeWebhookOutcome = (typeof STRIPE_WEBHOOK_OUTCOMES)[number];

const stripeWebhookEvents = new Counter({
  name: 'didops_stripe_webhook_events_total',
  help: 'Stripe webhook deliveries by event type ("ignored": one billing does not act on; "unknown": bad signature) and outcome (received: handed to the queue; duplicate: processed already; invalid_signature).',
  labelNames: ['type', 'outcome'] as const,
  registers: [metricsRegistry],
});

const didsByStatus = new Gauge({
  name: 'didops_dids',
  help: 'Numbers in the inventory by status (read at most every 15 s).',
  labelNames: ['status'] as const,
  registers: [metricsRegistry],
});

const QUEUE_STATES = ['waiting', 'delayed', 'active', 'completed', 'failed'] as const;

const queueJobs = new Gauge({
  name: 'didops_queue_jobs',
  help: 'Jobs in the queue by queue name and state (completed and failed: those still kept; read at most every 15 s).',
  labelNames: ['queue', 'state'] as const,
  registers: [metricsRegistry],
});

let processMetricsOn = false;

/** CPU, memory, event-loop lag, GC and handles of this process: for processes that serve /metrics. */
export function collectProcessMetrics(): void {
  if (processMetricsOn) return;
  processMetricsOn = true;
  collectDefaultMetrics({ register: metricsRegistry });
}

// One labelled child per (method, route, status), kept: prom-client hashes the labels on every observe(),
// which a routing API answering thousands of lookups a second would pay each time.
const httpSeries = new Map<string, { observe(seconds: number): void }>();

export function observeHttpRequest(method: string, route: string, status: number, seconds: number): void {
  const key = `${method} ${status} ${route}`;
  let series = httpSeries.get(key);
  if (series === undefined) {
    series = httpRequestDuration.labels({ method, route, status: String(status) });
    httpSeries.set(key, series);
  }
  series.observe(seconds);
}

export function observeJob(queue: string, outcome: 'completed' | 'failed', seconds: number): void {
  jobDuration.observe({ queue, outcome }, seconds);
}

/** Counts a renew-subscription outcome; other values (not_due, canceled) are not counted. */
export function countRenewal(outcome: unknown): void {
  if ((RENEWAL_OUTCOMES as readonly unknown[]).includes(outcome)) {
    renewals.inc({ outcome: outcome as CountedRenewalOutcome });
  }
}

export function countStripeWebhookEvent(type: string, outcome: StripeWebhookOutcome): void {
  stripeWebhookEvents.inc({ type, outcome });
}

export const METRICS_CONTENT_TYPE = metricsRegistry.contentType;

/** The exposition text of every metric of this process. */
export function renderMetrics(): Promise<string> {
  return metricsRegistry.metrics();
}

export interface StateSources {
  readonly db: Db;
  /** The queue and its job names; without it the queue gauges stay empty. */
  readonly queue?: { readonly queue: Pick<JobQueue, 'counts'>; readonly names: readonly string[] };
  readonly log: Logger;
  /** Default STATE_TTL_MS. */
  readonly ttlMs?: number;
  /** How long one read may take before it is given up (default 2 s): a scrape must not hang. */
  readonly timeoutMs?: number;
}

export interface StateCollector {
  /** Brings the state gauges up to date unless they were read less than ttlMs ago. */
  refresh(): Promise<void>;
}

export const STATE_TTL_MS = 15_000;

/**
 * Reads the numbers by status and the queue depths into the gauges when they are older than ttlMs. A read
 * that fails (database or Redis down) empties its gauge, so no stale value poses as current, and is not
 * tried again before ttlMs either: an outage costs one warning per ttlMs, not one per scrape.
 */
export function createStateCollector(sources: StateSources): StateCollector {
  const ttlMs = sources.ttlMs ?? STATE_TTL_MS;
  const timeoutMs = sources.timeoutMs ?? 2_000;
  let readAt = -Infinity;
  let reading: Promise<void> | undefined;

  const readDids = async () => {
    try {
      const rows = await within(
        sql<{
          status: string;
          n: number;
        }>`SELECT status, count(*)::int AS n FROM dids GROUP BY status`.execute(sources.db),
        timeoutMs,
      );
      didsByStatus.reset();
      for (const status of DID_STATUSES) didsByStatus.set({ status }, 0);
      for (const row of rows.rows) didsByStatus.set({ status: row.status }, Number(row.n));
    } catch (error) {
      didsByStatus.reset();
      sources.log.warn({ err: error }, 'Metrics: could not count the numbers by status');
    }
  };

  const readQueue = async () => {
    if (!sources.queue) return;
    try {
      const counts = await within(sources.queue.queue.counts(sources.queue.names), timeoutMs);
      queueJobs.reset();
      for (const count of counts) {
        for (const state of QUEUE_STATES) queueJobs.set({ queue: count.name, state }, count[state]);
      }
    } catch (error) {
      queueJobs.reset();
      sources.log.warn({ err: error }, 'Metrics: could not count the jobs in the queue');
    }
  };

  return {
    refresh() {
      if (Date.now() - readAt < ttlMs) return Promise.resolve();
      reading ??= Promise.all([readDids(), readQueue()]).then(() => {
        readAt = Date.now();
        reading = undefined;
      });
      return reading;
    },
  };
}

/** `work`, or a rejection after `ms` (the work itself is not cancelled: it is left to finish or fail). */
export async function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
