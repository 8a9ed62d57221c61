// The back office's test world: the whole web app (as `npm start` builds it) on a free port, optionally
// with a job queue (a recording fake by default, so a test can run the queued job itself), the operator's
// staff in every role, a reseller and customers with their own users, and a browser-like client signed in
// as any of them. Builds on the storefront harness (cookies, CSRF, textOf).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect } from 'vitest';
import { hashPassword } from '../../../core/accounts/users.ts';
import { loadConfig } from '../../../core/config.ts';
import type { Db } from '../../../core/db/connect.ts';
import type { Account, UserRole } from '../../../core/db/schema.ts';
import type { JobDeps } from '../../../core/jobs/job-context.ts';
import type {
  EnqueueOptions,
  FailedJob,
  JobPayload,
  JobQueue,
  QueueCounts,
} from '../../../core/jobs/queue.ts';
import { bulkOperationJob } from '../../../core/jobs/tasks/bulk-operation.ts';
import { createLogger, silentLogger } from '../../../core/runtime/logger.ts';
import { DEFAULT_BILLING_POLICY } from '../../../core/billing/billing-context.ts';
import { ManualClock, type Clock } from '../../../core/shared/clock.ts';
import { createWebApp } from '../../../storefront/app.ts';
import { buildAccount, buildOperator, buildUser } from '../../helpers/factories.ts';
import { Browser, PASSWORD, type Page } from '../storefront/harness.ts';

export { Browser, PASSWORD, textOf } from '../storefront/harness.ts';

const servers: Server[] = [];

afterEach(async () => {
  while (servers.length) {
    const server = servers.pop()!;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** A job queue that records what is enqueued; `runQueued` runs the bulk jobs as a worker would. */
export class RecordingQueue implements JobQueue {
  readonly engine: 'bullmq' | 'pg-boss' = 'pg-boss';
  readonly enqueued: { name: string; payload: JobPayload; options?: EnqueueOptions }[] = [];
  countsResult: QueueCounts[] = [];
  failedJobs = new Map<string, FailedJob[]>();
  retried: { name: string; id: string }[] = [];
  start = () => Promise.resolve();
  enqueue = (name: string, payload: JobPayload, options?: EnqueueOptions) => {
    this.enqueued.push({ name, payload, ...(options ? { options } : {}) });
    return Promise.resolve(true);
  };
  enqueueMany = () => Promise.resolve(0);
  work = () => Promise.resolve();
  schedule = () => Promise.resolve();
  counts = (names: readonly string[]) =>
    Promise.resolve(
      names.map(
        (name) =>
          this.countsResult.find((c) => c.name === name) ?? {
            name,
            waiting: 0,
            delayed: 0,
            active: 0,
            completed: 0,
            failed: 0,
          },
      ),
    );
  failed = (name: string) => Promise.resolve(this.failedJobs.get(name) ?? []);
  retry = (name: string, id: string) => {
    this.retried.push({ name, id });
    const jobs = this.failedJobs.get(name) ?? [];
    const found = jobs.some((j) => j.id === id);
    this.failedJobs.set(
      name,
      jobs.filter((j) => j.id !== id),
    );
    return Promise.resolve(found);
  };
  ping = () => Promise.resolve();
  stop = () => Promise.resolve();
}

export interface Served {
  readonly base: string;
  /** Warnings and errors the app logged (an unexpected 500 shows up here with its stack). */
  readonly logs: Record<string, unknown>[];
  readonly queue: RecordingQueue | undefined;
  /** Runs every enqueued bulk-operation job to its end, as the worker would. */
  runQueued(): Promise<void>;
}

export async function serveAdmin(
  db: Db,
  options: { queue?: JobQueue | 'recording' | 'none'; clock?: Clock } = {},
): Promise<Served> {
  const queue =
    options.queue === undefined || options.queue === 'recording'
      ? new RecordingQueue()
      : options.queue === 'none'
        ? undefined
        : options.queue;
  const logs: Record<string, unknown>[] = [];
  const app = createWebApp({
    db,
    config: loadConfig({ NODE_ENV: 'development' }),
    log: createLogger({
      level: 'warn',
      write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
    }),
    clock: options.clock,
    telegramBot: () => Promise.resolve({ status: 'off' }),
    ...(queue
      ? {
          jobs: {
            queue,
            enqueue: (name: string, payload: JobPayload, o?: EnqueueOptions) =>
              queue.enqueue(name, payload, o),
            payments: null,
            policy: DEFAULT_BILLING_POLICY,
          },
        }
      : {}),
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  servers.push(server);
  const recording = queue instanceof RecordingQueue ? queue : undefined;
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    logs,
    queue: recording,
    async runQueued() {
      if (!recording) return;
      const deps = jobDeps(db);
      for (const job of recording.enqueued.splice(0)) {
        if (job.name !== 'bulk-operation') continue;
        await bulkOperationJob.run(deps, job.payload, {
          id: 'test',
          name: job.name,
          attempt: 1,
          signal: new AbortController().signal,
        });
      }
    },
  };
}

export function jobDeps(db: Db): JobDeps {
  return {
    db,
    clock: new ManualClock('2026-03-01T10:00:00Z'),
    settings: { didAgingDays: 30 },
    policy: DEFAULT_BILLING_POLICY,
    payments: null,
    publicUrl: 'http://localhost',
    enqueue: () => Promise.resolve(true),
    enqueueMany: () => Promise.resolve(0),
    channels: [],
    log: silentLogger,
  };
}

export const STAFF_ROLES: readonly UserRole[] = ['viewer', 'operator', 'admin', 'owner'];

/** The operator with a signed-in-able user per role, a reseller with a customer, and a direct customer. */
export async function adminWorld(db: Db) {
  const passwordHash = await hashPassword(PASSWORD);
  const operator = await buildOperator(db, { name: 'Operator' });
  const staff = {} as Record<UserRole, { email: string; id: number }>;
  for (const role of STAFF_ROLES) {
    const email = `${role}@operator.example`;
    const user = await buildUser(db, operator, {
      role,
      email,
      name: `${role} user`,
      password_hash: passwordHash,
    });
    staff[role] = { email, id: user.id };
  }
  const reseller = await buildAccount(db, operator, { kind: 'reseller', slug: 'voipco', name: 'VoIP Co' });
  const bakery = await buildAccount(db, reseller, { slug: 'bakery', name: 'Bakery' });
  const acme = await buildAccount(db, operator, { slug: 'acme', name: 'Acme Corp' });
  await buildUser(db, reseller, {
    role: 'owner',
    email: 'owner@voipco.example',
    password_hash: passwordHash,
  });
  await buildUser(db, acme, { role: 'owner', email: 'owner@acme.example', password_hash: passwordHash });
  return { operator, staff, reseller, bakery, acme };
}

/** Signs in through the log-in form and returns the browser with its session. */
export async function signIn(base: string, email: string): Promise<Browser> {
  const browser = new Browser(base);
  const done = await browser.submit('/login', '/login', { email, password: PASSWORD });
  expect(done.status, `log-in as ${email}`).toBe(303);
  return browser;
}

export const staffEmail = (role: UserRole) => `${role}@operator.example`;

/** Posts a multipart form (the import page's upload) with the browser's cookies and CSRF token. */
export async function postMultipart(
  browser: Browser,
  path: string,
  fields: Record<string, string>,
  file?: { field: string; name: string; content: string },
): Promise<Page> {
  const form = new FormData();
  if (!('_csrf' in fields)) form.append('_csrf', browser.csrf);
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (file) form.append(file.field, new Blob([file.content], { type: 'text/csv' }), file.name);
  const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const response = await fetch(browser.base + path, {
    method: 'POST',
    redirect: 'manual',
    headers: { accept: 'text/html', cookie },
    body: form,
  });
  const html = await response.text();
  const token = /name="_csrf" value="([^"]*)"/.exec(html)?.[1];
  if (token !== undefined) browser.csrf = token;
  return {
    status: response.status,
    headers: response.headers,
    html,
    location: response.headers.get('location'),
  };
}

export type { Account };
