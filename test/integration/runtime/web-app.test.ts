import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.ts';
import { connect, type Db } from '../../../core/db/connect.ts';
import { createLogger, silentLogger, type Logger } from '../../../core/runtime/logger.ts';
import { createWebApp } from '../../../storefront/app.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { CLOSED_DATABASE_URL } from './processes.ts';

const t = useTestDatabase();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function serve(db: Db, log: Logger = silentLogger): Promise<string> {
  // With a SESSION_SECRET, so the only warning a test sees is its own (no "SESSION_SECRET is not set").
  const app = createWebApp({
    db,
    config: loadConfig({ SESSION_SECRET: 'web-app-test-secret-0123456789abcdef' }),
    log,
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('web app', () => {
  it('answers liveness without the database, and no x-powered-by', async () => {
    const base = await serve(t.db);
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect(response.headers.get('x-powered-by')).toBeNull();
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('is ready when the database answers', async () => {
    const base = await serve(t.db);
    const response = await fetch(`${base}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok' });
  });

  it('is not ready when the database is unreachable, and logs why', async () => {
    const down = connect(CLOSED_DATABASE_URL, { max: 1 });
    cleanups.push(() => down.destroy());
    const lines: string[] = [];
    const base = await serve(down, createLogger({ write: (line) => lines.push(line) }));
    const started = Date.now();
    const response = await fetch(`${base}/readyz`);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'unavailable', database: 'down' });
    expect(lines.map((l) => JSON.parse(l) as { level: string })).toEqual([
      expect.objectContaining({ level: 'warn' }),
    ]);
    // While the healthz of the same process stays green.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('answers unknown paths with a JSON 404', async () => {
    const base = await serve(t.db);
    const response = await fetch(`${base}/no/such/page?x=1`, { method: 'POST' });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect(await response.json()).toEqual({
      error: 'not_found',
      message: 'Nothing here: POST /no/such/page',
    });
  });
});
