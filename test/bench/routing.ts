// The routing API benchmark: lookups per second and latency under 50 concurrent connections (targets: p99
// under 10 ms and at least 5,000 lookups/s), next to a bare express endpoint answering a constant (the
// ceiling: what express and this machine manage without any routing work).
//
// The web app runs as production builds it (createWebApp, startWebServer, a pool of 10 connections) in a
// child process of its own, like the web role; autocannon drives it from this process, so the load
// generator does not share the server's event loop. The database is fresh: ~10,000 numbers across the
// statuses, half of them assigned to 30 customers (direct and a reseller's), a fifth of those with call
// transfer rules. Each request asks for the next of the assigned numbers in a shuffled order, all of them
// in turn, so the answer is never the same one twice in a row.
//
// Run alone: `node test/bench/routing.ts` (BENCH_ROUTING_SECONDS=60 BENCH_ROUTING_CONNECTIONS=50
// BENCH_ROUTING_DIDS=10000); run.ts calls runRoutingBench() (BENCH_ONLY=routing).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { sql } from 'kysely';
import { createApiToken } from '../../core/api-tokens/api-tokens.ts';
import { createAccount } from '../../core/accounts/accounts.ts';
import { loadConfig } from '../../core/config.ts';
import type { Ctx } from '../../core/context.ts';
import type { Account, DidStatus, NewDid } from '../../core/db/schema.ts';
import { createLogger } from '../../core/runtime/logger.ts';
import { createWebApp } from '../../storefront/app.ts';
import { startWebServer } from '../../storefront/server.ts';
import {
  fmtInt,
  fmtMs,
  recordingDb,
  table,
  type StatementTotals,
  positiveIntEnv,
  openBenchOperator,
} from './lib.ts';
import { benchDatabase } from './slack.ts';
import { ask, load, stop, summarize, type LoadResult } from './load.ts';

export const ROUTING_TARGETS = { p99Ms: 10, requestsPerSecond: 5_000 } as const;

export interface RoutingBenchOptions {
  /** Seconds each endpoint is loaded (after a 2-second warm-up). */
  readonly seconds?: number;
  readonly connections?: number;
  /** Inventory size. */
  readonly dids?: number;
  readonly databaseUrl?: string;
  readonly log?: (line: string) => void;
}

export type { LoadResult } from './load.ts';

export interface RoutingBenchResult {
  readonly seconds: number;
  readonly connections: number;
  readonly inventory: { readonly dids: number; readonly assigned: number; readonly withTransfer: number };
  readonly ceiling: LoadResult;
  readonly routing: LoadResult;
  /** The warm-up: the routing endpoint from an empty cache (every number's first lookup reads). */
  readonly cold: LoadResult;
  /** The SQL statements the server ran during the routing run, by kind: what the cache left to do. */
  readonly queries: StatementTotals;
  /** How late the server's event loop ran during the routing run, ms: its stalls add to every answer. */
  readonly eventLoopDelay: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Load average of this machine (1 min) before the run: the benchmark shares it with everything else. */
  readonly loadAverage: number;
  readonly target: { readonly p99Ms: number; readonly requestsPerSecond: number; readonly pass: boolean };
}

/** What the server child reports about the routing run. */
interface ServerStats {
  readonly statements: StatementTotals;
  readonly eventLoopDelay: RoutingBenchResult['eventLoopDelay'];
}

/** What the server child reports once it listens. */
interface Listening {
  readonly kind: 'listening';
  readonly routingPort: number;
  readonly ceilingPort: number;
}

const CUSTOMERS = 30;

export async function runRoutingBench(options: RoutingBenchOptions = {}): Promise<RoutingBenchResult> {
  const seconds = options.seconds ?? 10;
  const connections = options.connections ?? 50;
  const count = options.dids ?? 10_000;
  const log = options.log ?? (() => {});
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const url = await benchDatabase(options.databaseUrl, log, cleanups, 'routing');
    const { ctx } = await openBenchOperator(url, cleanups, {
      max: 4,
      applicationName: 'didops-bench-routing-setup',
    });
    const inventory = await seedInventory(ctx, count);
    const { plaintext: token } = await createApiToken(ctx, { name: 'bench-switch' });
    log(
      `routing: ${fmtInt(count)} numbers, ${fmtInt(inventory.assigned.length)} assigned, ${fmtInt(inventory.withTransfer)} with call transfer`,
    );

    const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
      env: { ...process.env, BENCH_ROUTING_DATABASE_URL: url },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    cleanups.push(() => stop(child));
    const [listening] = (await once(child, 'message')) as [Listening];
    const routingBase = `http://127.0.0.1:${listening.routingPort}`;
    const ceilingUrl = `http://127.0.0.1:${listening.ceilingPort}/ceiling`;

    // Every answer checked once before timing: the numbers route, with the token.
    for (const number of inventory.assigned.slice(0, 20)) {
      const response = await fetch(`${routingBase}/api/v1/routing/${encodeURIComponent(number)}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = (await response.json()) as { action?: string };
      if (response.status !== 200 || body.action !== 'route') {
        throw new Error(`routing bench: ${number} answered ${response.status} ${JSON.stringify(body)}`);
      }
    }

    const paths = inventory.assigned.map((n) => `/api/v1/routing/${encodeURIComponent(n)}`);
    let next = 0;
    const routingLoad = (duration: number) =>
      load(`${routingBase}/api/v1/routing/`, connections, duration, {
        headers: { authorization: `Bearer ${token}` },
        requests: [
          {
            setupRequest: (request) => {
              request.path = paths[next++ % paths.length]!;
              return request;
            },
          },
        ],
      });

    const loadAverage = loadavg()[0]!;
    log(`routing: load average ${loadAverage.toFixed(2)} on ${cpus().length} CPUs`);
    log(`routing: ceiling, 2 s warm-up then ${connections} connections for ${seconds} s ...`);
    await load(ceilingUrl, connections, 2);
    const ceiling = summarize(
      'bare express endpoint (constant JSON)',
      await load(ceilingUrl, connections, seconds),
    );
    // The warm-up fills the cache (every number's first lookup is a miss); the timed run is the steady
    // state, where numbers in use are re-read in the background.
    log(
      `routing: GET /api/v1/routing/<number>, 2 s warm-up then ${connections} connections for ${seconds} s ...`,
    );
    const cold = summarize('  the same, first 2 s (cache empty)', await routingLoad(2));
    await ask(child, 'reset-stats');
    const routing = summarize('GET /api/v1/routing/<number>', await routingLoad(seconds));
    const { statements: queries, eventLoopDelay } = (await ask(child, 'stats')) as ServerStats;
    const pass =
      routing.latency.p99 < ROUTING_TARGETS.p99Ms &&
      routing.requestsPerSecond >= ROUTING_TARGETS.requestsPerSecond &&
      routing.errors === 0 &&
      routing.non2xx === 0;
    return {
      seconds,
      connections,
      inventory: { dids: count, assigned: inventory.assigned.length, withTransfer: inventory.withTransfer },
      ceiling,
      routing,
      cold,
      queries,
      eventLoopDelay,
      loadAverage,
      target: { ...ROUTING_TARGETS, pass },
    };
  } finally {
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (error) {
        log(`routing bench cleanup: ${(error as Error).message}`);
      }
    }
  }
}

export function renderRoutingBench(result: RoutingBenchResult): string {
  const row = (r: LoadResult) => [
    r.label,
    fmtInt(r.requests),
    fmtInt(r.requestsPerSecond),
    fmtMs(r.latency.p50),
    fmtMs(r.latency.p90),
    fmtMs(r.latency.p99),
    fmtMs(r.latency.max),
    String(r.errors),
    String(r.timeouts),
    String(r.non2xx),
  ];
  const lines = [
    table(
      [
        'endpoint',
        'requests',
        'req/s',
        'p50 ms',
        'p90 ms',
        'p99 ms',
        'max ms',
        'errors',
        'timeouts',
        'non-2xx',
      ],
      [row(result.ceiling), row(result.routing), row(result.cold)],
    ),
    `${result.connections} connections, ${result.seconds} s each; ${fmtInt(result.inventory.dids)} numbers, ` +
      `requests cycle through all ${fmtInt(result.inventory.assigned)} assigned ones (${fmtInt(result.inventory.withTransfer)} with transfer rules); ` +
      `routing reached ${((result.routing.requestsPerSecond / result.ceiling.requestsPerSecond) * 100).toFixed(0)}% of the ceiling.`,
  ];
  const statements = Object.entries(result.queries).sort((a, b) => b[1].count - a[1].count);
  lines.push(
    `server SQL during the routing run: ${statements.map(([label, t]) => `${label} ×${fmtInt(t.count)} (${fmtMs(t.ms / Math.max(1, t.count))} ms avg)`).join(', ') || 'none'}` +
      ` — ${(statements.reduce((n, [, t]) => n + t.count, 0) / Math.max(1, result.routing.requests)).toFixed(3)} statements per lookup.`,
    `server event loop delay during the routing run: p50 ${fmtMs(result.eventLoopDelay.p50)} ms, p99 ${fmtMs(result.eventLoopDelay.p99)} ms, max ${fmtMs(result.eventLoopDelay.max)} ms; load average before the run: ${result.loadAverage.toFixed(2)}.`,
  );
  lines.push(
    `target: p99 < ${result.target.p99Ms} ms and ≥ ${fmtInt(result.target.requestsPerSecond)} lookups/s, no errors: ` +
      `p99 ${fmtMs(result.routing.latency.p99)} ms, ${fmtInt(result.routing.requestsPerSecond)}/s: ${result.target.pass ? 'PASS' : 'FAIL'}`,
  );
  return lines.join('\n');
}

/** ~count numbers in every status; half assigned round-robin to direct and reseller customers. */
async function seedInventory(ctx: Ctx, count: number): Promise<{ assigned: string[]; withTransfer: number }> {
  const reseller = await createAccount(ctx, {
    kind: 'reseller',
    slug: 'bench-reseller',
    name: 'Bench Reseller',
  });
  const customers: { account: Account; ownerId: number | null }[] = [];
  for (let i = 0; i < CUSTOMERS; i++) {
    const viaReseller = i % 3 === 0;
    const account = await createAccount(ctx, {
      kind: 'customer',
      slug: `bench-customer-${i}`,
      name: `Bench Customer ${i}`,
      parent: viaReseller ? reseller.slug : undefined,
    });
    customers.push({ account, ownerId: viaReseller ? reseller.id : null });
  }
  const statusOf = (i: number): DidStatus =>
    (
      [
        'assigned',
        'assigned',
        'assigned',
        'assigned',
        'assigned',
        'suspended',
        'aging',
        'disabled',
        'available',
        'available',
      ] as const
    )[i % 10]!;
  const rows: NewDid[] = [];
  for (let i = 0; i < count; i++) {
    const status = statusOf(i);
    const holder = status === 'assigned' || status === 'suspended' ? customers[i % CUSTOMERS]! : null;
    rows.push({
      number: `+1212${2_000_000 + i}`,
      country: 'US',
      area_code: '212',
      city: 'New York',
      province: 'NY',
      provider_id: null,
      vendor_batch_id: null,
      group_id: null,
      pricing_batch_id: null,
      setup_fee: 100,
      recurring_fee: 150,
      activation_cost: 50,
      recurring_cost: 40,
      connection_cost_micros: 10_000,
      per_minute_rate_micros: 4_500,
      grace_seconds: 5,
      initial_increment: 30,
      increment: 6,
      status,
      owner_account_id: holder?.ownerId ?? null,
      assigned_account_id: holder?.account.id ?? null,
      aging_until: status === 'aging' ? new Date(Date.now() + 30 * 86_400_000) : null,
      destination_type: holder ? 'sip' : null,
      destination: holder ? `sip:${i}@pbx-${i % CUSTOMERS}.example.com` : null,
    });
  }
  const ids: { id: number; number: string; status: DidStatus }[] = [];
  for (let i = 0; i < rows.length; i += 1_000) {
    ids.push(
      ...(await ctx.db
        .insertInto('dids')
        .values(rows.slice(i, i + 1_000))
        .returning(['id', 'number', 'status'])
        .execute()),
    );
  }
  const assigned = ids.filter((d) => d.status === 'assigned');
  const transfers = assigned
    .filter((_, i) => i % 5 === 0)
    .map((d, i) => ({
      did_id: d.id,
      enabled: true,
      busy_destination: i % 4 === 3 ? null : '+442079460000',
      no_answer_destination: 'sip:voicemail@vm.example.com',
      unreachable_destination: '+12125550199',
      always_destination: i % 4 === 3 ? 'sip:night@pbx.example.com' : null,
      ring_timeout_seconds: 20,
    }));
  for (let i = 0; i < transfers.length; i += 1_000) {
    await ctx.db
      .insertInto('call_transfers')
      .values(transfers.slice(i, i + 1_000))
      .execute();
  }
  await sql`ANALYZE`.execute(ctx.db);
  return { assigned: shuffle(assigned.map((d) => d.number)), withTransfer: transfers.length };
}

/** A fixed shuffle (same order every run), so no two neighbouring requests ask for neighbouring rows. */
function shuffle<T>(items: T[]): T[] {
  let seed = 20261122;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** The child: the web role's app on a free port, and the bare constant endpoint beside it. */
async function serve(): Promise<void> {
  const url = process.env.BENCH_ROUTING_DATABASE_URL;
  if (!url) throw new Error('BENCH_ROUTING_DATABASE_URL is not set');
  const log = createLogger({ level: 'error' });
  // Configured like connect() (pool of 10, same parsers), counting statements for the report.
  const { db, recorder } = recordingDb(url, { max: 10 });
  recorder.keepText = false;
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const web = await startWebServer(createWebApp({ db, config: loadConfig({}), log }), {
    port: 0,
    host: '127.0.0.1',
    log,
  });
  // A routing answer's worth of JSON, always the same: what express alone costs per request.
  const constant = {
    number: '+12122000000',
    action: 'route',
    account: { id: 2, slug: 'bench-customer-0', name: 'Bench Customer 0' },
    reseller: { slug: 'bench-reseller' },
    destination: { type: 'sip', value: 'sip:0@pbx-0.example.com' },
    transfer: {
      enabled: false,
      busy: null,
      no_answer: null,
      unreachable: null,
      always: null,
      ring_timeout_seconds: 20,
    },
    call_timeout_seconds: 30,
    max_concurrent_calls: null,
    rating: {
      currency: 'USD',
      connection_cost: '0.01',
      per_minute_rate: '0.0045',
      grace_seconds: 5,
      initial_increment: 30,
      increment: 6,
    },
  };
  const body = JSON.stringify(constant);
  const bare = express();
  bare.disable('x-powered-by');
  // Sent the way the routing API sends its answers (no ETag), so the two differ only by the routing work.
  bare.get('/ceiling', (_req, res) => {
    res.set('Cache-Control', 'no-store').type('application/json').end(body);
  });
  const ceiling = await startWebServer(bare, { port: 0, host: '127.0.0.1', log });
  process.on('message', (message: { kind: string }) => {
    if (message.kind === 'stop') {
      void Promise.all([web.close(1_000), ceiling.close(1_000)])
        .then(() => db.destroy())
        .finally(() => process.exit(0));
      return;
    }
    if (message.kind === 'reset-stats') {
      recorder.reset();
      loopDelay.reset();
    }
    process.send!({
      kind: message.kind,
      value: {
        statements: recorder.totals(),
        eventLoopDelay: {
          p50: loopDelay.percentile(50) / 1e6,
          p99: loopDelay.percentile(99) / 1e6,
          max: loopDelay.max / 1e6,
        },
      },
    });
  });
  process.send!({ kind: 'listening', routingPort: web.port, ceilingPort: ceiling.port } satisfies Listening);
}

if (import.meta.main) {
  if (process.argv[2] === '--serve') {
    await serve();
  } else {
    const result = await runRoutingBench({
      seconds: positiveIntEnv('BENCH_ROUTING_SECONDS', 60),
      connections: positiveIntEnv('BENCH_ROUTING_CONNECTIONS', 50),
      dids: positiveIntEnv('BENCH_ROUTING_DIDS', 10_000),
      databaseUrl: process.env.BENCH_DATABASE_URL,
      log: (line) => console.log(line),
    });
    console.log(renderRoutingBench(result));
    process.exitCode = result.target.pass ? 0 : 1;
  }
}
