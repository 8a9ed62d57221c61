// What operators and their machines get from the web app: request ids that follow a request into the jobs
// it enqueues, readiness of the database and the queue, Prometheus metrics (and their token), and a 503
// instead of a 500 when the database is away.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.ts';
import { connect, type Db } from '../../../core/db/connect.ts';
import { enqueuerFor } from '../../../core/jobs/registry.ts';
import type { JobPayload, JobQueue, QueueCounts } from '../../../core/jobs/queue.ts';
import { createLogger, type Logger } from '../../../core/runtime/logger.ts';
import { createStripeGateway } from '../../../core/payments/stripe-gateway.ts';
import type { JobsRuntime } from '../../../core/runtime/jobs.ts';
import { DEFAULT_BILLING_POLICY } from '../../../core/billing/billing-context.ts';
import { createWebApp } from '../../../storefront/app.ts';
import { createOpsApp } from '../../../storefront/routes/ops.ts';
import { buildDid } from '../../helpers/factories.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { signedEvent, TEST_SECRET_KEY, TEST_WEBHOOK_SECRET } from '../../helpers/fake-stripe.ts';
import { CLOSED_DATABASE_URL } from './processes.ts';

const t = useTestDatabase();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Enqueued {
  readonly name: string;
  readonly payload: JobPayload;
}

/** A queue that records what is enqueued; ping and counts as the test says. */
function fakeQueue(options: { ping?: () => Promise<void>; counts?: QueueCounts[] } = {}) {
  const enqueued: Enqueued[] = [];
  let countCalls = 0;
  const queue = {
    engine: 'pg-boss',
    enqueue: (name: string, payload: JobPayload) => {
      enqueued.push({ name, payload });
      return Promise.resolve(true);
    },
    ping: options.ping ?? (() => Promise.resolve()),
    counts: (names: readonly string[]) => {
      countCalls += 1;
      return Promise.resolve(
        options.counts ??
          names.map((name) => ({ name, waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 })),
      );
    },
  } as unknown as JobQueue;
  return { queue, enqueued, countCalls: () => countCalls };
}

function capture(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    log: createLogger({ write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }),
  };
}

async function listen(app: ReturnType<typeof createWebApp>): Promise<string> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  cleanups.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function serve(
  options: {
    db?: Db;
    queue?: JobQueue;
    env?: Record<string, string>;
    log?: Logger;
  } = {},
): Promise<string> {
  const jobs: Pick<JobsRuntime, 'queue' | 'enqueue' | 'payments' | 'policy'> | undefined = options.queue && {
    queue: options.queue,
    enqueue: enqueuerFor(options.queue),
    payments: createStripeGateway({ secretKey: TEST_SECRET_KEY, webhookSecret: TEST_WEBHOOK_SECRET }),
    policy: DEFAULT_BILLING_POLICY,
  };
  const app = createWebApp({
    db: options.db ?? t.db,
    config: loadConfig({ SESSION_SECRET: 'ops-test-secret-0123456789abcdef0123', ...options.env }),
    log: options.log ?? capture().log,
    ...(jobs ? { jobs } : {}),
  });
  return listen(app);
}

function stripeEvent(id: string): Stripe.Event {
  return {
    id,
    object: 'event',
    type: 'customer.created',
    api_version: '2024-06-20',
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: 'cus_1', object: 'customer' } },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
  } as unknown as Stripe.Event;
}

async function metricsText(base: string, headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(`${base}/metrics`, { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** The value of one sample, e.g. sample(text, 'didops_dids{status="available"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('request ids', () => {
  it('keeps a sane X-Request-Id, replaces a bad one, makes one when there is none', async () => {
    const base = await serve();
    const given = await fetch(`${base}/healthz`, { headers: { 'X-Request-Id': 'lb-1234.abc:9_x' } });
    expect(given.headers.get('x-request-id')).toBe('lb-1234.abc:9_x');

    for (const bad of ['has space', 'x'.repeat(129), '<script>', 'a,b']) {
      const replaced = await fetch(`${base}/healthz`, { headers: { 'X-Request-Id': bad } });
      expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    const made = await fetch(`${base}/no/such/thing`);
    expect(made.status).toBe(404);
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('goes into the payload of the jobs a request enqueues (through the raw-body Stripe webhook)', async () => {
    const { queue, enqueued } = fakeQueue();
    const base = await serve({ queue });
    const { payload, signature } = signedEvent(stripeEvent(`evt_${randomBytes(6).toString('hex')}`));
    const response = await fetch(`${base}/stripe/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': signature,
        'X-Request-Id': 'req-42',
      },
      body: payload,
    });
    expect(response.status).toBe(200);
    expect(enqueued).toHaveLength(1);
    expect(enqueued[0]!.name).toBe('process-stripe-event');
    expect(Object.keys(enqueued[0]!.payload)).toEqual(['webhookEventId', 'requestId']);
    expect(enqueued[0]!.payload.requestId).toBe('req-42');
  });

  it('is not added outside a request', async () => {
    const { queue, enqueued } = fakeQueue();
    await enqueuerFor(queue)('deliver-notification', { notificationId: 7 });
    expect(enqueued).toEqual([{ name: 'deliver-notification', payload: { notificationId: 7 } }]);
  });

  it('is on the log lines of a failed request', async () => {
    const { log, lines } = capture();
    const down = connect(CLOSED_DATABASE_URL, { max: 1 });
    cleanups.push(() => down.destroy());
    const base = await serve({ db: down, log });
    const token = `didops_rt_${randomBytes(32).toString('base64url')}`;
    const response = await fetch(`${base}/api/v1/routing/18665550100`, {
      headers: { Authorization: `Bearer ${token}`, 'X-Request-Id': 'req-down-1' },
    });
    expect(response.status).toBe(503);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        requestId: 'req-down-1',
        path: '/api/v1/routing/18665550100',
      }),
    );
    expect(JSON.stringify(lines)).not.toContain(token);
  });
});

describe('readiness', () => {
  it('is ready when the database and the queue answer', async () => {
    const base = await serve({ queue: fakeQueue().queue });
    const response = await fetch(`${base}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', database: 'up', queue: 'up' });
  });

  it('names the queue when it is down, and does not wait for one that hangs', async () => {
    const failing = await serve({
      queue: fakeQueue({ ping: () => Promise.reject(new Error('Redis did not answer PING')) }).queue,
    });
    const down = await fetch(`${failing}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'unavailable', database: 'up', queue: 'down' });

    const { log, lines } = capture();
    const hanging = await serve({ queue: fakeQueue({ ping: () => new Promise(() => {}) }).queue, log });
    const started = Date.now();
    const slow = await fetch(`${hanging}/readyz`);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(slow.status).toBe(503);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        queue: 'no answer within 2000 ms',
        msg: 'Readiness check failed: the queue does not answer',
      }),
    ]);
  });

  it('names both when both are down', async () => {
    const db = connect(CLOSED_DATABASE_URL, { max: 1 });
    cleanups.push(() => db.destroy());
    const base = await serve({ db, queue: fakeQueue({ ping: () => Promise.reject(new Error('x')) }).queue });
    const response = await fetch(`${base}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'unavailable', database: 'down', queue: 'down' });
  });
});

describe('a database outage', () => {
  it('answers 503 "temporarily unavailable" at once: JSON for machines, a page for browsers', async () => {
    const down = connect(CLOSED_DATABASE_URL, { max: 1 });
    cleanups.push(() => down.destroy());
    const base = await serve({ db: down });
    const token = `didops_rt_${randomBytes(32).toString('base64url')}`;
    const started = Date.now();
    const api = await fetch(`${base}/api/v1/routing/18665550100`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(api.status).toBe(503);
    expect(api.headers.get('retry-after')).toBe('5');
    expect(await api.json()).toEqual({
      error: 'unavailable',
      message: 'The service is temporarily unavailable. Please try again in a moment.',
    });
  });
});

describe('metrics', () => {
  it('times requests by route pattern, never by raw path', async () => {
    const base = await serve();
    await fetch(`${base}/healthz`);
    await fetch(`${base}/api/v1/routing/18665550100`);
    await fetch(`${base}/api/v1/routing/18665550101`);
    await fetch(`${base}/no/such/${randomBytes(4).toString('hex')}`);
    const text = await metricsText(base);
    expect(text).toContain('# TYPE didops_http_request_duration_seconds histogram');
    expect(
      sample(text, 'didops_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(
        text,
        'didops_http_request_duration_seconds_count{method="GET",route="/api/v1/routing/:number",status="401"}',
      ),
    ).toBeGreaterThanOrEqual(2);
    expect(
      sample(text, 'didops_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('18665550100');
    expect(text).not.toContain('/no/such');
    // Process metrics come along.
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('counts numbers by status and jobs by queue and state, read at most every 15 s', async () => {
    await buildDid(t.db, { status: 'available' });
    await buildDid(t.db, { status: 'available' });
    await buildDid(t.db, { status: 'disabled' });
    const counts: QueueCounts[] = [
      { name: 'renew-subscription', waiting: 3, delayed: 1, active: 2, completed: 10, failed: 1 },
    ];
    const fake = fakeQueue({ counts });
    const base = await serve({ queue: fake.queue });
    const first = await metricsText(base);
    expect(sample(first, 'didops_dids{status="available"}')).toBe(2);
    expect(sample(first, 'didops_dids{status="disabled"}')).toBe(1);
    expect(sample(first, 'didops_dids{status="assigned"}')).toBe(0);
    expect(sample(first, 'didops_queue_jobs{queue="renew-subscription",state="waiting"}')).toBe(3);
    expect(sample(first, 'didops_queue_jobs{queue="renew-subscription",state="failed"}')).toBe(1);

    await buildDid(t.db, { status: 'available' });
    const second = await metricsText(base);
    expect(sample(second, 'didops_dids{status="available"}')).toBe(2); // cached
    expect(fake.countCalls()).toBe(1);
  });

  it('counts Stripe webhook deliveries by type and outcome', async () => {
    const base = await serve({ queue: fakeQueue().queue });
    const { payload, signature } = signedEvent(stripeEvent(`evt_${randomBytes(6).toString('hex')}`));
    const post = (sig: string) =>
      fetch(`${base}/stripe/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': sig },
        body: payload,
      });
    // The counters belong to the process: earlier tests may have counted deliveries already.
    const series = {
      received: 'didops_stripe_webhook_events_total{type="ignored",outcome="received"}',
      duplicate: 'didops_stripe_webhook_events_total{type="ignored",outcome="duplicate"}',
      invalid: 'didops_stripe_webhook_events_total{type="unknown",outcome="invalid_signature"}',
    };
    const before = await metricsText(base);
    expect((await post(signature)).status).toBe(200);
    // Once processed, another delivery of the event is a duplicate (before that it is handed on again).
    await t.db.updateTable('webhook_events').set({ processed_at: new Date() }).execute();
    expect((await post(signature)).status).toBe(200);
    expect((await post('t=1,v1=forged')).status).toBe(400);
    const after = await metricsText(base);
    for (const name of ['received', 'duplicate', 'invalid'] as const) {
      expect(sample(after, series[name])! - (sample(before, series[name]) ?? 0), name).toBe(1);
    }
  });

  it('wants METRICS_TOKEN as a bearer token when it is set', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const base = await serve({ env: { METRICS_TOKEN: token } });
    const none = await fetch(`${base}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    const wrong = await fetch(`${base}/metrics`, {
      headers: { Authorization: 'Bearer not-the-token-at-all' },
    });
    expect(wrong.status).toBe(401);
    expect(await metricsText(base, { Authorization: `Bearer ${token}` })).toContain('didops_dids');
    // The probes stay open.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('are served by a worker process on their own listener (METRICS_PORT)', async () => {
    const { queue } = fakeQueue();
    const base = await listen(createOpsApp({ db: t.db, queue, log: capture().log }));
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({
      status: 'ok',
      database: 'up',
      queue: 'up',
    });
    expect(await metricsText(base)).toContain('didops_job_duration_seconds');
    expect((await fetch(`${base}/storefront`)).status).toBe(404);
  });
});
