// bin/start.ts as operators run it: a real process against a real (test) database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, dropDatabase } from '../../helpers/database.ts';
import { CLOSED_DATABASE_URL, freePort, runScript, waitForHttp } from './processes.ts';

describe('bin/start.ts', () => {
  let database: { name: string; url: string };
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    if (database) await dropDatabase(database.name);
  });

  it('serves /healthz and /readyz, and exits 0 on SIGTERM', { timeout: 90_000 }, async () => {
    const port = await freePort();
    const proc = runScript('bin/start.ts', [], { DATABASE_URL: database.url, PORT: String(port) });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/healthz`, proc, 60_000);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);

      proc.child.kill('SIGTERM');
      const exit = await proc.exited(15_000);
      expect(exit, proc.stderr()).toEqual({ code: 0, signal: null });
    } finally {
      proc.child.kill('SIGKILL');
    }
    const lines = proc
      .stdout()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        `Listening on http://localhost:${port}`,
        'SIGTERM received: shutting down',
        'Stopped',
      ]),
    );
    // An empty DATABASE_URL database gets no demo data, and the worker skips quietly without an operator.
    expect(lines.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
    expect(proc.stdout()).not.toContain('demo data loaded');
  });

  it('refuses a bad PORT with exit 1, naming it', { timeout: 60_000 }, async () => {
    const proc = runScript('bin/start.ts', [], { DATABASE_URL: CLOSED_DATABASE_URL, PORT: 'notaport' });
    expect(await proc.exited(60_000)).toEqual({ code: 1, signal: null });
    expect(proc.stderr()).toContain('Invalid configuration');
    expect(proc.stderr()).toMatch(/PORT: expected a port number \(got "notaport"\)/);
  });

  it('refuses an unknown role with exit 1', { timeout: 60_000 }, async () => {
    const proc = runScript('bin/start.ts', ['bot-and-more'], { DATABASE_URL: CLOSED_DATABASE_URL });
    expect(await proc.exited(60_000)).toEqual({ code: 1, signal: null });
    expect(proc.stderr()).toContain('Usage: node bin/start.ts [web|worker|bot|all]');
  });

  it('exits 1 with a readable message when the database is unreachable', { timeout: 60_000 }, async () => {
    const proc = runScript('bin/start.ts', ['web'], {
      DATABASE_URL: CLOSED_DATABASE_URL,
      PORT: String(await freePort()),
    });
    expect(await proc.exited(60_000)).toEqual({ code: 1, signal: null });
    expect(proc.stderr()).toContain('Cannot reach the database at postgres://x:****@127.0.0.1:1/none');
  });

  it(
    'runs a worker with probes and metrics on METRICS_PORT, healthy to bin/healthcheck.ts',
    { timeout: 90_000 },
    async () => {
      const port = await freePort();
      const env = {
        DATABASE_URL: database.url,
        // pg-boss on the test database: no keys left in a shared Redis.
        REDIS_URL: '',
        METRICS_PORT: String(port),
        METRICS_TOKEN: 'worker-metrics-token-0123',
      };
      const proc = runScript('bin/start.ts', ['worker'], env);
      try {
        await waitForHttp(`http://127.0.0.1:${port}/healthz`, proc, 60_000);
        const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
        expect(await ready.json()).toEqual({ status: 'ok', database: 'up', queue: 'up' });
        expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);
        const metrics = await fetch(`http://127.0.0.1:${port}/metrics`, {
          headers: { Authorization: 'Bearer worker-metrics-token-0123' },
        });
        expect(await metrics.text()).toContain('didops_queue_jobs{queue="billing-sweep",state="waiting"}');

        const healthy = runScript('bin/healthcheck.ts', ['worker'], env);
        expect(await healthy.exited(15_000), healthy.stderr()).toEqual({ code: 0, signal: null });

        proc.child.kill('SIGTERM');
        expect(await proc.exited(15_000), proc.stderr()).toEqual({ code: 0, signal: null });
      } finally {
        proc.child.kill('SIGKILL');
      }
      const unhealthy = runScript('bin/healthcheck.ts', ['worker'], env);
      expect(await unhealthy.exited(15_000)).toEqual({ code: 1, signal: null });
      expect(unhealthy.stderr()).toMatch(/^unhealthy: http:\/\/127\.0\.0\.1:\d+\/readyz did not answer/);
    },
  );
});
