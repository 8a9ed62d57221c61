// The newcomer's path (DESIGN §2): no DATABASE_URL, so the entry points run an embedded PostgreSQL under
// DATA_DIR. Runs as real processes; creating the cluster takes a few seconds.
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runScript, waitForHttp } from './processes.ts';

describe('without DATABASE_URL (embedded PostgreSQL)', () => {
  let root: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'didops-embedded-'));
    // As root, PostgreSQL runs as the postgres user, which must be able to walk into DATA_DIR.
    chmodSync(root, 0o755);
    // An empty DATABASE_URL counts as unset, also when the suite itself runs against DATABASE_URL.
    env = {
      DATABASE_URL: '',
      DATA_DIR: path.join(root, 'data'),
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
    };
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const pidFile = () => path.join(env.DATA_DIR!, 'postgres', 'postmaster.pid');

  it('creates and migrates the cluster, then finds it up to date', { timeout: 120_000 }, async () => {
    const first = runScript('bin/migrate.ts', [], env);
    expect(await first.exited(60_000), first.stderr()).toEqual({ code: 0, signal: null });
    expect(first.stdout()).toMatch(/^Applied \d+ migrations?:/);
    expect(existsSync(pidFile())).toBe(false); // it stopped the server it started

    const again = runScript('bin/migrate.ts', [], env);
    expect(await again.exited(60_000), again.stderr()).toEqual({ code: 0, signal: null });
    expect(again.stdout()).toBe('Database is up to date.\n');
  });

  it(
    'loads demo data on the first start only, shares the server with other commands, and stops it',
    { timeout: 180_000 },
    async () => {
      const port = await freePort();
      const start = runScript('bin/start.ts', [], { ...env, PORT: String(port) });
      try {
        await waitForHttp(`http://127.0.0.1:${port}/readyz`, start, 60_000);
        expect(start.stdout()).toContain('didops demo data loaded');
        expect(start.stdout()).toContain('npm run did -- assign 18665550100 acme');

        // While it runs, seed joins its server (no second cluster start) and refuses the non-empty database.
        const seed = runScript('bin/seed.ts', [], env);
        expect((await seed.exited(60_000)).code).toBe(1);
        expect(seed.stderr()).toMatch(/This database already holds data \(\d+ accounts\)/);
        expect(seed.stderr()).toContain('another didops process started');

        start.child.kill('SIGTERM');
        expect(await start.exited(15_000)).toEqual({ code: 0, signal: null });
      } finally {
        start.child.kill('SIGKILL');
      }
      expect(existsSync(pidFile())).toBe(false);

      const restart = runScript('bin/start.ts', ['web'], { ...env, PORT: String(port) });
      try {
        await waitForHttp(`http://127.0.0.1:${port}/readyz`, restart, 60_000);
        restart.child.kill('SIGTERM');
        expect(await restart.exited(15_000)).toEqual({ code: 0, signal: null });
      } finally {
        restart.child.kill('SIGKILL');
      }
      expect(restart.stdout()).not.toContain('demo data loaded');
      expect(existsSync(pidFile())).toBe(false);
    },
  );
});
