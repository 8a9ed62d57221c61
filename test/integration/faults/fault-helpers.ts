// What the fault tests share: a Redis server of their own (a child process they can stop and start again,
// with its append-only file in a temporary directory, as docker-compose.yml runs it), a quick stalled-job
// check for BullMQ, a table that records each job's effect once, and polling.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'bullmq';
import { sql } from 'kysely';
import { describe, it } from 'vitest';
import type { Db } from '../../../core/db/connect.ts';
import { loadRedisClient } from '../../../core/jobs/bullmq-queue.ts';
import { freePort } from '../../helpers/ports.ts';

/** Why the Redis fault tests cannot run here, or null when they can. */
export function redisServerProblem(): string | null {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? null : 'no redis-server binary on PATH (apt-get install redis-server)';
}

/**
 * describe() when redis-server is installed. Without it: skipped with a warning on a developer's machine,
 * a failing test in CI (CI=true), where .ci/run installs Redis.
 */
export function describeWithRedisServer(title: string, body: () => void): void {
  const problem = redisServerProblem();
  if (problem === null) {
    describe(title, body);
  } else if (process.env.CI) {
    describe(title, () => {
      it('has redis-server', () => {
        throw new Error(`${title}: cannot run: ${problem}`);
      });
    });
  } else {
    console.warn(`${title}: skipped: ${problem}`);
    describe.skip(`${title} (skipped: ${problem})`, body);
  }
}

export interface RedisServer {
  readonly url: string;
  /** Starts the server (again): same port, same data directory. */
  start(): Promise<void>;
  /** SIGTERM (Redis writes its append-only file and exits, as `docker compose restart` does). */
  stop(): Promise<void>;
  /** Stops it for good and removes its data. */
  dispose(): Promise<void>;
}

export async function redisServer(): Promise<RedisServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'didops-fault-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';

  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    await exited;
  };

  const start = async () => {
    if (child) throw new Error('redis-server is running already');
    output = '';
    const started = spawn(
      'redis-server',
      [
        ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
        ...['--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'],
        ...['--maxmemory-policy', 'noeviction'],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = started;
    started.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(
      () => ping(port),
      10_000,
      () => `redis-server did not come up on ${port}:\n${output}`,
    );
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Looks for stalled jobs of one BullMQ queue every `intervalMs`, from a Worker that takes no jobs (BullMQ's
 * manual-fetching pattern), until closed. A job whose worker died goes back to waiting at the first check
 * that finds it marked and its lock gone; the workers' own checks (every 30 s, and one check only marks)
 * would add up to a minute to that. With this, a crash test waits for the dead worker's lock to run out
 * (30 s for a real worker) and no more.
 */
export async function watchStalledJobs(
  redisUrl: string,
  queueName: string,
  options: { prefix?: string; intervalMs?: number } = {},
): Promise<{ close(): Promise<void> }> {
  const Redis = await loadRedisClient();
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker(queueName, null, {
    connection,
    prefix: options.prefix ?? 'didops',
    autorun: false,
    stalledInterval: options.intervalMs ?? 1_000,
  });
  // Connection errors (a test restarting Redis) are retried by BullMQ itself.
  worker.on('error', () => {});
  await worker.waitUntilReady();
  await worker.startStalledCheckTimer();
  return {
    async close() {
      await worker.close();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}

/** True when Redis answers PONG (not -LOADING while it replays its append-only file). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/** Polls `condition` every 100 ms until it holds; fails after `timeoutMs` with `explain()`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  explain: () => string = () => 'condition not met',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`after ${timeoutMs} ms: ${explain()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The effect of a job, recorded once per job id whatever happens (`ON CONFLICT DO NOTHING`, as real jobs
 * are idempotent), and every run that got as far as starting, to see what ran twice.
 */
export async function createEffectTables(db: Db): Promise<void> {
  await sql`CREATE TABLE IF NOT EXISTS fault_effects (job_id int PRIMARY KEY, done_at timestamptz NOT NULL DEFAULT now())`.execute(
    db,
  );
  await sql`CREATE TABLE IF NOT EXISTS fault_runs (run_id serial PRIMARY KEY, job_id int NOT NULL, pid int NOT NULL)`.execute(
    db,
  );
}

export async function recordRun(db: Db, jobId: number): Promise<void> {
  await sql`INSERT INTO fault_runs (job_id, pid) VALUES (${jobId}, ${process.pid})`.execute(db);
}

export async function recordEffect(db: Db, jobId: number): Promise<void> {
  await sql`INSERT INTO fault_effects (job_id) VALUES (${jobId}) ON CONFLICT DO NOTHING`.execute(db);
}

export async function effects(db: Db): Promise<number[]> {
  const rows = await sql<{ job_id: number }>`SELECT job_id FROM fault_effects ORDER BY job_id`.execute(db);
  return rows.rows.map((row) => row.job_id);
}

export async function runs(db: Db): Promise<{ job_id: number; pid: number }[]> {
  return (
    await sql<{ job_id: number; pid: number }>`SELECT job_id, pid FROM fault_runs ORDER BY run_id`.execute(db)
  ).rows;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
