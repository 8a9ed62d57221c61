// Fault: PostgreSQL stops under a running web app and comes back (a restart, a failover). A PostgreSQL of
// this file's own (embedded, on a free port) so it can be stopped. While it is down /readyz says 503 at
// once, naming the database and the queue (pg-boss lives in the same PostgreSQL), and a request that needs
// the database gets a 503 "temporarily unavailable" at once, not a hang or a 500. Once it is back the same
// app, never restarted, answers again by itself.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../../core/api-tokens/api-tokens.ts';
import { DEFAULT_BILLING_POLICY } from '../../../core/billing/billing-context.ts';
import { loadConfig } from '../../../core/config.ts';
import { connect, type Db } from '../../../core/db/connect.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../../core/db/embedded.ts';
import { migrateToLatest } from '../../../core/db/migrate.ts';
import { createPgBossQueue } from '../../../core/jobs/pgboss-queue.ts';
import type { JobQueueAdapter } from '../../../core/jobs/queue.ts';
import { enqueuerFor, JOB_NAMES } from '../../../core/jobs/registry.ts';
import { silentLogger } from '../../../core/runtime/logger.ts';
import { createWebApp } from '../../../storefront/app.ts';
import { actorOf, buildDid, buildHierarchy, ctxFor } from '../../helpers/factories.ts';
import { freePort } from '../../helpers/ports.ts';
import { waitFor } from './fault-helpers.ts';

const DATABASE = 'didops_fault';

describe('PostgreSQL restarted under a running web app', () => {
  let dataDir: string;
  let port: number;
  let server: EmbeddedDatabase | undefined;
  let db: Db;
  let queue: JobQueueAdapter;
  let http: Server;
  let base: string;

  beforeAll(async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'didops-fault-pg-'));
    // As root, PostgreSQL runs as the `postgres` user, which must reach its data directory.
    chmodSync(root, 0o755);
    dataDir = path.join(root, 'pg');
    port = await freePort();
    server = await startEmbeddedPostgres({ dataDir, port });
    await server.ensureDatabase(DATABASE);
    const url = server.urlFor(DATABASE);
    db = connect(url, { max: 5 });
    await migrateToLatest(db);
    queue = createPgBossQueue({ connectionString: url, log: silentLogger, pollingIntervalMs: 500 });
    await queue.start(JOB_NAMES);
    const app = createWebApp({
      db,
      config: loadConfig({ SESSION_SECRET: 'fault-test-secret-0123456789abcdef0123' }),
      log: silentLogger,
      jobs: { queue, enqueue: enqueuerFor(queue), payments: null, policy: DEFAULT_BILLING_POLICY },
    });
    http = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(s)));
    });
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  }, 120_000);

  afterAll(async () => {
    http?.closeAllConnections();
    await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
    await queue?.stop(1_000).catch(() => {});
    await db?.destroy();
    await server?.stop();
    if (dataDir) rmSync(path.dirname(dataDir), { recursive: true, force: true });
  });

  it('answers 503 at once while it is down and recovers by itself once it is back', async () => {
    const world = await buildHierarchy(db);
    const { plaintext: token } = await createApiToken(ctxFor(db, actorOf(world.operator, 'admin')), {
      name: 'switch',
    });
    const numbers = await Promise.all(
      [1, 2, 3].map(() =>
        buildDid(db, {
          status: 'assigned',
          owner_account_id: world.reseller.id,
          assigned_account_id: world.bakery.id,
          destination_type: 'sip',
          destination: 'sip:desk@pbx.example',
        }),
      ),
    );
    const route = (number: string) =>
      fetch(`${base}/api/v1/routing/${encodeURIComponent(number)}`, {
        headers: { Authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(10_000),
      });
    const ready = () => fetch(`${base}/readyz`, { signal: AbortSignal.timeout(10_000) });

    expect((await ready()).status).toBe(200);
    expect((await route(numbers[0]!.number)).status).toBe(200);

    await server!.stop();
    server = undefined;

    let started = Date.now();
    const down = await ready();
    const readyMs = Date.now() - started;
    expect(readyMs).toBeLessThan(3_000);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'unavailable', database: 'down', queue: 'down' });

    // A number nobody asked about yet: its answer is not in memory, so it needs the database.
    started = Date.now();
    const refused = await route(numbers[1]!.number);
    const routeMs = Date.now() - started;
    expect(routeMs).toBeLessThan(3_000);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: 'unavailable' });
    // Liveness stays green: an orchestrator must not restart web processes for a database outage.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    const restartedAt = Date.now();
    server = await startEmbeddedPostgres({ dataDir, port });
    const startMs = Date.now() - restartedAt;
    await waitFor(
      async () => (await ready()).status === 200,
      15_000,
      () => '/readyz stayed 503',
    );
    const recoveredMs = Date.now() - restartedAt;
    expect(await (await ready()).json()).toEqual({ status: 'ok', database: 'up', queue: 'up' });
    const answered = await route(numbers[2]!.number);
    expect(answered.status).toBe(200);
    expect(await answered.json()).toMatchObject({ action: 'route' });
    // The queue on the same PostgreSQL takes jobs again too.
    expect(
      await queue.enqueue(
        'deliver-notification',
        { notificationId: 1 },
        { key: `n-${randomBytes(3).toString('hex')}` },
      ),
    ).toBe(true);
    console.info(
      `PostgreSQL restart: /readyz 503 in ${readyMs} ms, routing 503 in ${routeMs} ms; ` +
        `server back in ${startMs} ms, app ready ${recoveredMs} ms after the restart began`,
    );
  });
});
