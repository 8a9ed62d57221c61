// `node bin/healthcheck.ts web|worker`: the container health checks of docker-compose.yml. Exits 0 when
// healthy, else 1 with one line on stderr saying what is wrong, within CHECK_TIMEOUT_MS.
//   web     GET /readyz on PORT: the process answers, and its database and job queue do.
//   worker  with METRICS_PORT, GET /readyz there (the same, for the worker process itself); without it,
//           whether the database and Redis the worker needs answer.
import pg from 'pg';
import type { Config } from '../core/config.ts';
import { configOrExit } from '../core/runtime/cli.ts';
import { maskUrls } from '../core/runtime/logger.ts';

const CHECK_TIMEOUT_MS = 4_000;
const ROLES = ['web', 'worker'] as const;

const role = process.argv[2];
if (!(ROLES as readonly (string | undefined)[]).includes(role) || process.argv.length > 3) {
  process.stderr.write('Usage: node bin/healthcheck.ts web|worker\n');
  process.exit(2);
}
const config = configOrExit();

try {
  const problems =
    role === 'web' || config.metrics.port !== undefined
      ? await readiness(role === 'web' ? config.port : config.metrics.port!)
      : await dependencies(config);
  if (problems.length > 0) {
    process.stderr.write(`unhealthy: ${problems.join('; ')}\n`);
    process.exit(1);
  }
  process.exit(0);
} catch (error) {
  process.stderr.write(`unhealthy: ${maskUrls(error instanceof Error ? error.message : String(error))}\n`);
  process.exit(1);
}

async function readiness(port: number): Promise<string[]> {
  const url = `http://127.0.0.1:${port}/readyz`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
    if (response.ok) return [];
    return [`${url} answered ${response.status} ${await response.text()}`];
  } catch (error) {
    return [`${url} did not answer: ${error instanceof Error ? error.message : String(error)}`];
  }
}

async function dependencies(config: Config): Promise<string[]> {
  const checks: Promise<string | null>[] = [];
  if (config.databaseUrl) checks.push(checkDatabase(config.databaseUrl));
  if (config.redisUrl) checks.push(checkRedis(config.redisUrl));
  return (await Promise.all(checks)).filter((problem): problem is string => problem !== null);
}

async function checkDatabase(url: string): Promise<string | null> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: CHECK_TIMEOUT_MS,
    query_timeout: CHECK_TIMEOUT_MS,
    application_name: 'didops-healthcheck',
  });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return `database: ${maskUrls(describe(error))}`;
  } finally {
    await client.end().catch(() => {});
  }
}

async function checkRedis(url: string): Promise<string | null> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CHECK_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // The connection's own error says why (ECONNREFUSED…); connect() only rejects with "Connection is closed".
  let cause: unknown;
  client.on('error', (error) => (cause ??= error));
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (error) {
    return `redis: ${maskUrls(describe(cause ?? error))}`;
  } finally {
    client.disconnect();
  }
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  if (error instanceof Error) return error.message || (error as NodeJS.ErrnoException).code || error.name;
  return String(error);
}
