// Opens the system of record for a process (DESIGN §2): the server DATABASE_URL names or, when it is
// unset, the embedded PostgreSQL under DATA_DIR. The embedded server is started here, or shared when
// another didops process (`npm start` while someone runs `npm run did -- …`) already runs it. Either way
// the schema is migrated to the latest before the handle is returned.
import { existsSync, mkdirSync, readFileSync, statSync, chmodSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import path from 'node:path';
import { sql } from 'kysely';
import type { Config } from '../config.ts';
import { connect, type Db } from '../db/connect.ts';
import {
  EMBEDDED_PASSWORD,
  EMBEDDED_USER,
  isRunning,
  startEmbeddedPostgres,
  type EmbeddedDatabase,
} from '../db/embedded.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { maskUrls, type Logger } from './logger.ts';

export const EMBEDDED_DATABASE = 'didops';
const STOP_TIMEOUT_MS = 20_000;

export interface OpenedDatabase {
  readonly db: Db;
  /** Connection URL. Holds a password: log it only through the logger, which masks it. */
  readonly url: string;
  /** True when this is the embedded PostgreSQL (started here or shared with another didops process). */
  readonly embedded: boolean;
  /** True when this call created the database itself (the embedded server's first start). */
  readonly createdNow: boolean;
  /** Migrations this call applied, oldest first. */
  readonly migrations: readonly string[];
  /** Closes the pool and, when this process started the embedded server, stops it. Safe to call twice. */
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Shown in pg_stat_activity, e.g. didops-web. */
  readonly applicationName?: string;
  readonly maxConnections?: number;
}

export async function openDatabase(
  config: Config,
  log: Logger,
  options: OpenOptions = {},
): Promise<OpenedDatabase> {
  const connectOptions = {
    applicationName: options.applicationName ?? 'didops',
    max: options.maxConnections ?? 10,
  };
  if (config.databaseUrl) {
    const db = connect(config.databaseUrl, connectOptions);
    return finishOpening(
      { db, url: config.databaseUrl, embedded: false, createdNow: false, stopServer: null },
      log,
    );
  }

  const dataDir = path.resolve(config.dataDir);
  prepareDataDir(dataDir, log);
  const clusterDir = path.join(dataDir, 'postgres');

  const running = runningEmbeddedServer(clusterDir);
  if (running) {
    const url = embeddedUrl(running.port);
    log.info(
      { pid: running.pid, port: running.port },
      'Using the embedded PostgreSQL another didops process started',
    );
    const db = connect(url, connectOptions);
    await waitUntilReachable(db, 15_000);
    return finishOpening({ db, url, embedded: true, createdNow: false, stopServer: null }, log);
  }

  const port = config.embeddedPostgresPort;
  if (await portInUse(port)) {
    throw new Error(
      `Port ${port} is already in use by another program, so the embedded PostgreSQL cannot start there. ` +
        'Set EMBEDDED_POSTGRES_PORT to a free port, or DATABASE_URL to use your own PostgreSQL.',
    );
  }
  const started = Date.now();
  let server: EmbeddedDatabase;
  try {
    server = await startEmbeddedPostgres({
      dataDir: clusterDir,
      port,
      log: (line) => log.info({ component: 'embedded-postgres' }, line.trim()),
    });
  } catch (error) {
    throw new Error(
      `The embedded PostgreSQL did not start (data in ${clusterDir}, port ${port}). ` +
        'If it keeps failing, set DATABASE_URL to use your own PostgreSQL.',
      { cause: error },
    );
  }
  const stopServer = () => stopEmbedded(server, clusterDir, log);
  try {
    const createdNow = await server.ensureDatabase(EMBEDDED_DATABASE);
    const url = server.urlFor(EMBEDDED_DATABASE);
    log.info({ port, dataDir: clusterDir, ms: Date.now() - started }, 'Embedded PostgreSQL started');
    const db = connect(url, connectOptions);
    return await finishOpening({ db, url, embedded: true, createdNow, stopServer }, log);
  } catch (error) {
    await stopServer();
    throw error;
  }
}

interface Opening {
  readonly db: Db;
  readonly url: string;
  readonly embedded: boolean;
  readonly createdNow: boolean;
  readonly stopServer: (() => Promise<void>) | null;
}

/** Checks the connection, migrates and builds the handle; on failure releases everything it was given. */
async function finishOpening(opening: Opening, log: Logger): Promise<OpenedDatabase> {
  const { db, url, stopServer } = opening;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await db.destroy();
    if (stopServer) await stopServer();
  };
  try {
    try {
      await sql`SELECT 1`.execute(db);
    } catch (error) {
      throw new Error(`Cannot reach the database at ${maskUrls(url)}: ${describe(error)}`, { cause: error });
    }
    const { applied } = await migrateToLatest(db);
    for (const name of applied) log.info({ migration: name }, `Applied migration ${name}`);
    return {
      db,
      url,
      embedded: opening.embedded,
      createdNow: opening.createdNow,
      migrations: applied,
      close,
    };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}

function embeddedUrl(port: number): string {
  return `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/${EMBEDDED_DATABASE}`;
}

/**
 * As root, embedded-postgres runs the server as the `postgres` user, which must be able to walk down to
 * the cluster directory: DATA_DIR is created world-traversable, and a parent that is not (e.g. /root) is
 * reported up front instead of as an obscure initdb failure.
 */
function prepareDataDir(dataDir: string, log: Logger): void {
  const created = mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  if (created) chmodSync(dataDir, 0o755); // the umask may have narrowed it
  if (process.getuid?.() !== 0) return;
  const mode = statSync(dataDir).mode;
  if ((mode & 0o001) === 0) {
    chmodSync(dataDir, (mode & 0o777) | 0o011);
    log.warn({ dataDir }, 'Made DATA_DIR traversable so the postgres user can reach its cluster directory');
  }
  for (let dir = path.dirname(dataDir); ; dir = path.dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `The embedded PostgreSQL runs as the "postgres" user when didops runs as root, and it cannot enter ${dir} ` +
          `(on the way to ${dataDir}). Set DATA_DIR to a directory under a traversable path (e.g. /var/lib/didops), ` +
          'run didops as a regular user, or set DATABASE_URL.',
      );
    }
    if (dir === path.dirname(dir)) break;
  }
}

/** The server running on this cluster directory, from the postmaster.pid it keeps while it runs. */
function runningEmbeddedServer(clusterDir: string): { pid: number; port: number } | null {
  let lines: string[];
  try {
    lines = readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return null;
  if (!isRunning(pid) || !isPostgres(pid)) return null;
  return { pid, port };
}

/** A stale pid file may name a pid since reused by another program (common in containers). */
function isPostgres(pid: number): boolean {
  const comm = `/proc/${pid}/comm`;
  if (!existsSync(comm)) return true; // no procfs (macOS): trust the pid check
  try {
    return readFileSync(comm, 'utf8').trim().startsWith('postgres');
  } catch {
    return true;
  }
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitUntilReachable(db: Db, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await sql`SELECT 1`.execute(db);
      return;
    } catch (error) {
      // The other process may still be starting the server up or creating the database.
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * embedded-postgres's stop() waits for the server's exit event, which never comes when the server has
 * already gone (Ctrl-C in a terminal signals postgres too). The cluster's pid file disappearing also
 * counts as stopped; after STOP_TIMEOUT_MS we give up waiting and say so.
 */
async function stopEmbedded(server: EmbeddedDatabase, clusterDir: string, log: Logger): Promise<void> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  let poll: NodeJS.Timeout | undefined;
  let timer: NodeJS.Timeout | undefined;
  const gone = new Promise<void>((resolve) => {
    poll = setInterval(() => {
      if (!existsSync(pidFile)) resolve();
    }, 100);
  });
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS);
  });
  try {
    const outcome = await Promise.race([server.stop(), gone, timedOut]);
    if (outcome === 'timeout')
      log.warn({ dataDir: clusterDir }, 'The embedded PostgreSQL did not stop in time');
    else log.info('Embedded PostgreSQL stopped');
  } finally {
    clearInterval(poll);
    clearTimeout(timer);
  }
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  if (error instanceof Error) return error.message || (error as NodeJS.ErrnoException).code || error.name;
  return String(error);
}
