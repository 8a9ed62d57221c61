// The storefront catalog benchmark: GET /numbers (the search page buyers land on) under 50 concurrent
// connections on a 1,000,000-number inventory, next to a ceiling: the same express + handlebars setup
// (security headers, the same `pages.render` with its CSRF token and layout) rendering the same search
// page from fixed data, without touching the database. Targets from the issue: at least 50% of the
// ceiling's requests/s and p99 under 100 ms, no errors.
//
// The inventory is made by one INSERT ... SELECT over generate_series (the quickest way that works on any
// server: the inventory bench's COPY needs the server to read this machine's files, and its generator
// validates every number with libphonenumber, minutes for a million): the generator's ranges (40 US cities
// by area code, toll-free 8xx, London, Berlin) by weight, unique numbers per range, 85% available and the
// rest assigned or disabled. Requests rotate through the query shapes an anonymous visitor sends: no filter,
// contains VOIP, an area code, a city, toll-free, a country and city, and a deep page (`after=`).
//
// The app runs as production builds it (createWebApp, startWebServer, a pool of 10) in a child process;
// autocannon drives it from this one.
//
// Run alone: `node test/bench/storefront.ts` (BENCH_STOREFRONT_SECONDS=60 BENCH_STOREFRONT_DIDS=1000000
// BENCH_STOREFRONT_CONNECTIONS=50); run.ts calls runStorefrontBench() (BENCH_ONLY=storefront).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { sql } from 'kysely';
import { createAccount } from '../../core/accounts/accounts.ts';
import { loadConfig } from '../../core/config.ts';
import type { Ctx } from '../../core/context.ts';
import { createLogger } from '../../core/runtime/logger.ts';
import { createWebApp } from '../../storefront/app.ts';
import { startWebServer } from '../../storefront/server.ts';
import { numberPath } from '../../storefront/web/routes/catalog.ts';
import { securityHeaders } from '../../storefront/web/security-headers.ts';
import { createStorefront } from '../../storefront/web/storefront.ts';
import { RANGES } from './generate.ts';
import {
  fmtInt,
  fmtMs,
  fmtSeconds,
  now,
  openBenchOperator,
  positiveIntEnv,
  recordingDb,
  table,
  type StatementTotals,
} from './lib.ts';
import { benchDatabase } from './slack.ts';
import { ask, load, stop, summarize, type LoadResult } from './load.ts';

export const STOREFRONT_TARGETS = { ceilingShare: 0.5, p99Ms: 100 } as const;

export interface StorefrontBenchOptions {
  /** Seconds each endpoint is loaded (after a 2-second warm-up). */
  readonly seconds?: number;
  readonly connections?: number;
  /** Inventory size. */
  readonly dids?: number;
  readonly databaseUrl?: string;
  readonly log?: (line: string) => void;
}

export type { LoadResult } from './load.ts';

export interface QueryShape {
  readonly label: string;
  readonly paths: readonly string[];
  /** One request of each path before the run, ms (cold-ish), and how many numbers the first page shows. */
  readonly firstMs: number;
  readonly rows: number;
}

export interface StorefrontBenchResult {
  readonly seconds: number;
  readonly connections: number;
  readonly inventory: { readonly dids: number; readonly available: number; readonly loadMs: number };
  readonly shapes: readonly QueryShape[];
  readonly ceiling: LoadResult;
  readonly catalog: LoadResult;
  readonly queries: StatementTotals;
  readonly eventLoopDelay: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly loadAverage: number;
  readonly ratio: number;
  readonly target: {
    readonly ceilingShare: number;
    readonly p99Ms: number;
    readonly pass: boolean;
  };
}

interface Listening {
  readonly kind: 'listening';
  readonly appPort: number;
  readonly ceilingPort: number;
}

interface ServerStats {
  readonly statements: StatementTotals;
  readonly eventLoopDelay: StorefrontBenchResult['eventLoopDelay'];
}

export async function runStorefrontBench(
  options: StorefrontBenchOptions = {},
): Promise<StorefrontBenchResult> {
  const seconds = options.seconds ?? 10;
  const connections = options.connections ?? 50;
  const count = options.dids ?? 1_000_000;
  const log = options.log ?? (() => {});
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const url = await benchDatabase(options.databaseUrl, log, cleanups, 'storefront');
    const { ctx } = await openBenchOperator(url, cleanups, {
      max: 4,
      applicationName: 'didops-bench-storefront-setup',
    });
    log(`storefront: generating ${fmtInt(count)} numbers with generate_series ...`);
    const started = now();
    const available = await seedInventory(ctx, count);
    const loadMs = now() - started;
    log(`storefront: ${fmtInt(count)} numbers (${fmtInt(available)} available) in ${fmtSeconds(loadMs)}`);
    const deepCursors = await deepPageCursors(ctx, available);

    const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
      env: { ...process.env, BENCH_STOREFRONT_DATABASE_URL: url },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    cleanups.push(() => stop(child));
    const [listening] = (await once(child, 'message')) as [Listening];
    const base = `http://127.0.0.1:${listening.appPort}`;
    const ceilingUrl = `http://127.0.0.1:${listening.ceilingPort}/ceiling`;

    const shapeDefs: { label: string; paths: string[] }[] = [
      { label: 'no filter', paths: ['/numbers'] },
      { label: 'contains VOIP', paths: ['/numbers?contains=VOIP'] },
      { label: 'area code', paths: ['212', '415', '305', '312', '713'].map((a) => `/numbers?area=${a}`) },
      {
        label: 'city',
        paths: ['Chicago', 'Los Angeles', 'Boston', 'Denver', 'Miami'].map(
          (c) => `/numbers?city=${encodeURIComponent(c)}`,
        ),
      },
      {
        label: 'country + city',
        paths: ['/numbers?country=GB&city=London', '/numbers?country=DE&city=Berlin'],
      },
      { label: 'toll-free', paths: ['/numbers?type=toll_free'] },
      { label: 'deep page (after=)', paths: deepCursors.map((c) => `/numbers?after=${c}`) },
    ];
    // Every shape answered once before timing: 200 and a page of numbers.
    const shapes: QueryShape[] = [];
    for (const shape of shapeDefs) {
      let firstMs = 0;
      let rows = 0;
      for (const path of shape.paths) {
        const t = now();
        const response = await fetch(base + path, { headers: { accept: 'text/html' } });
        const html = await response.text();
        firstMs += now() - t;
        if (response.status !== 200) {
          throw new Error(`storefront bench: GET ${path} answered ${response.status}: ${html.slice(0, 300)}`);
        }
        rows += (html.match(/name="did" value=/g) ?? []).length;
      }
      shapes.push({
        label: shape.label,
        paths: shape.paths,
        firstMs: firstMs / shape.paths.length,
        rows: rows / shape.paths.length,
      });
    }
    // Interleaved: every shape in turn, then its next variant.
    const rotation: string[] = [];
    const longest = Math.max(...shapeDefs.map((s) => s.paths.length));
    for (let i = 0; i < longest; i++) for (const s of shapeDefs) rotation.push(s.paths[i % s.paths.length]!);
    let next = 0;
    const catalogLoad = (duration: number) =>
      load(`${base}/numbers`, connections, duration, {
        headers: { accept: 'text/html' },
        requests: [
          {
            setupRequest: (request) => {
              request.path = rotation[next++ % rotation.length]!;
              return request;
            },
          },
        ],
      });

    const loadAverage = loadavg()[0]!;
    log(`storefront: load average ${loadAverage.toFixed(2)} on ${cpus().length} CPUs`);
    log(`storefront: ceiling, 2 s warm-up then ${connections} connections for ${seconds} s ...`);
    await load(ceilingUrl, connections, 2, { headers: { accept: 'text/html' } });
    const ceiling = summarize(
      'ceiling: same express + handlebars page, fixed data',
      await load(ceilingUrl, connections, seconds, { headers: { accept: 'text/html' } }),
    );
    log(`storefront: GET /numbers?..., 2 s warm-up then ${connections} connections for ${seconds} s ...`);
    await catalogLoad(2);
    await ask(child, 'reset-stats');
    const catalog = summarize('GET /numbers?... (rotating searches)', await catalogLoad(seconds));
    const { statements: queries, eventLoopDelay } = (await ask(child, 'stats')) as ServerStats;
    const ratio = catalog.requestsPerSecond / ceiling.requestsPerSecond;
    const pass =
      ratio >= STOREFRONT_TARGETS.ceilingShare &&
      catalog.latency.p99 < STOREFRONT_TARGETS.p99Ms &&
      catalog.errors === 0 &&
      catalog.timeouts === 0 &&
      catalog.non2xx === 0 &&
      ceiling.non2xx === 0;
    return {
      seconds,
      connections,
      inventory: { dids: count, available, loadMs },
      shapes,
      ceiling,
      catalog,
      queries,
      eventLoopDelay,
      loadAverage,
      ratio,
      target: { ...STOREFRONT_TARGETS, pass },
    };
  } finally {
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (error) {
        log(`storefront bench cleanup: ${(error as Error).message}`);
      }
    }
  }
}

export function renderStorefrontBench(result: StorefrontBenchResult): string {
  const row = (r: LoadResult) => [
    r.label,
    fmtInt(r.requests),
    fmtInt(r.requestsPerSecond),
    fmtMs(r.latency.p50),
    fmtMs(r.latency.p90),
    fmtMs(r.latency.p99),
    fmtMs(r.latency.max),
    fmtInt(r.bytesPerResponse),
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
        'bytes/resp',
        'errors',
        'timeouts',
        'non-2xx',
      ],
      [row(result.ceiling), row(result.catalog)],
    ),
    `${result.connections} connections, ${result.seconds} s each; ${fmtInt(result.inventory.dids)} numbers ` +
      `(${fmtInt(result.inventory.available)} available, loaded in ${fmtSeconds(result.inventory.loadMs)}); ` +
      `the catalog reached ${(result.ratio * 100).toFixed(0)}% of the ceiling.`,
    'query shapes rotated per request (single request before the run, ms; numbers on the first page):',
    table(
      ['shape', 'variants', 'first ms', 'rows'],
      result.shapes.map((s) => [
        s.label,
        String(s.paths.length),
        fmtMs(s.firstMs),
        String(Math.round(s.rows)),
      ]),
    ),
  ];
  const statements = Object.entries(result.queries).sort((a, b) => b[1].count - a[1].count);
  lines.push(
    `server SQL during the timed run: ${statements.map(([label, t]) => `${label} ×${fmtInt(t.count)} (${fmtMs(t.ms / Math.max(1, t.count))} ms avg)`).join(', ') || 'none'}` +
      ` — ${(statements.reduce((n, [, t]) => n + t.count, 0) / Math.max(1, result.catalog.requests)).toFixed(2)} statements per page.`,
    `server event loop delay during the timed run: p50 ${fmtMs(result.eventLoopDelay.p50)} ms, p99 ${fmtMs(result.eventLoopDelay.p99)} ms, max ${fmtMs(result.eventLoopDelay.max)} ms; load average before the run: ${result.loadAverage.toFixed(2)}.`,
    `target: ≥ ${result.target.ceilingShare * 100}% of the ceiling and p99 < ${result.target.p99Ms} ms, no errors or non-2xx: ` +
      `${(result.ratio * 100).toFixed(0)}%, p99 ${fmtMs(result.catalog.latency.p99)} ms: ${result.target.pass ? 'PASS' : 'FAIL'}`,
  );
  return lines.join('\n');
}

/** Country, area code and type of a generator range, from its template ('1212Nxxxxxx', '4420' + '3xxxxxxx'). */
function rangeRow(r: (typeof RANGES)[number]) {
  const prefix = /^\d+/.exec(r.template)![0];
  const rest = r.template.slice(prefix.length);
  const nanp = prefix.startsWith('1');
  const country = nanp ? 'US' : prefix.startsWith('44') ? 'GB' : 'DE';
  return {
    prefix,
    // The first free digit: 'N' is 2-9, 'x' 0-9.
    nLead: rest.startsWith('N'),
    restLength: rest.length,
    country,
    areaCode: nanp ? prefix.slice(1, 4) : prefix.slice(2, 4),
    numberType: r.group === 'US Toll-Free' ? 'toll_free' : 'local',
    city: r.city,
    province: r.province,
    currency: country === 'US' ? 'USD' : country === 'GB' ? 'GBP' : 'EUR',
    setupFee: r.group === 'US Toll-Free' ? 200 : 100,
    recurringFee: r.group === 'US Toll-Free' ? 300 : country === 'US' ? 150 : 200,
    capabilities: r.group === 'US Local' ? 'voice,sms' : 'voice',
  };
}

/**
 * `count` numbers over the generator's ranges by weight, in one INSERT ... SELECT: number k of a range is
 * its prefix plus (k × 7,919,993 mod the range's size), a permutation, so numbers are unique and scattered.
 * 85% available, 10% assigned to a customer, 5% disabled. Returns how many are available.
 */
async function seedInventory(ctx: Ctx, count: number): Promise<number> {
  const customer = await createAccount(ctx, {
    kind: 'customer',
    slug: 'bench-storefront-holder',
    name: 'Bench Holder',
  });
  const total = RANGES.reduce((s, r) => s + r.weight, 0);
  const rows = RANGES.map(rangeRow);
  const counts = RANGES.map((r) => Math.floor((count * r.weight) / total));
  counts[0]! += count - counts.reduce((s, n) => s + n, 0);
  const values = rows.map((r, i) => {
    const space = (r.nLead ? 8 : 10) * 10 ** (r.restLength - 1);
    if (counts[i]! > space) throw new Error(`range ${r.prefix} cannot hold ${counts[i]} numbers`);
    return sql`(${r.prefix}::text, ${r.nLead}::boolean, ${r.restLength}::int, ${space}::bigint, ${counts[i]}::int, ${r.country}::text, ${r.areaCode}::text, ${r.numberType}::text, ${r.city}::text, ${r.province}::text, ${r.currency}::text, ${r.setupFee}::bigint, ${r.recurringFee}::bigint, ${`{${r.capabilities}}`}::text[])`;
  });
  await sql`
    WITH ranges (prefix, n_lead, rest_length, space, n, country, area_code, number_type, city, province,
                 currency, setup_fee, recurring_fee, capabilities) AS (VALUES ${sql.join(values)}),
    drawn AS (
      SELECT r.*, k, (k::bigint * 7919993) % r.space AS v
      FROM ranges r CROSS JOIN LATERAL generate_series(0, r.n - 1) AS k
    )
    INSERT INTO dids (number, country, area_code, number_type, city, province, setup_fee, recurring_fee,
                      currency, capabilities, activation_cost, recurring_cost, connection_cost_micros,
                      per_minute_rate_micros, grace_seconds, initial_increment, increment, description,
                      status, assigned_account_id, owner_account_id, destination_type, destination)
    SELECT '+' || prefix || CASE WHEN n_lead
             THEN (2 + v / (10 ^ (rest_length - 1))::bigint)::text
                  || lpad((v % (10 ^ (rest_length - 1))::bigint)::text, rest_length - 1, '0')
             ELSE lpad(v::text, rest_length, '0') END,
           country, area_code, number_type, city, province,
           CASE WHEN k % 7 = 3 THEN 0 ELSE setup_fee END, recurring_fee, currency,
           CASE WHEN number_type = 'local' AND k % 3 = 0 THEN '{voice}'::text[] ELSE capabilities END,
           50, 40, 10000, 4500, 5, 30, 6,
           CASE WHEN k % 20 = 7 THEN 'Easy to remember' ELSE '' END,
           CASE WHEN k % 20 IN (1, 2) THEN 'assigned' WHEN k % 20 = 3 THEN 'disabled' ELSE 'available' END,
           CASE WHEN k % 20 IN (1, 2) THEN ${customer.id}::bigint END,
           NULL,
           CASE WHEN k % 20 IN (1, 2) THEN 'sip' END,
           CASE WHEN k % 20 IN (1, 2) THEN 'sip:' || k || '@pbx.example.com' END
    FROM drawn`.execute(ctx.db);
  await sql`VACUUM (ANALYZE) dids`.execute(ctx.db);
  const { rows: counted } = await sql<{
    n: number;
  }>`SELECT count(*)::int AS n FROM dids WHERE status = 'available'`.execute(ctx.db);
  return counted[0]!.n;
}

/** Page cursors (the catalog's keyset format) deep into the available numbers: a third, half, 90% in. */
async function deepPageCursors(ctx: Ctx, available: number): Promise<string[]> {
  const cursors: string[] = [];
  for (const share of [0.33, 0.5, 0.9]) {
    const { rows } = await sql<{ number: string }>`
      SELECT number FROM dids WHERE status = 'available' ORDER BY number
      OFFSET ${Math.floor(available * share)} LIMIT 1`.execute(ctx.db);
    if (rows[0]) {
      cursors.push(Buffer.from(JSON.stringify(['number', null, rows[0].number])).toString('base64url'));
    }
  }
  return cursors;
}

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

/** The child: the web role's app, and beside it the ceiling rendering the search page from fixed data. */
async function serve(): Promise<void> {
  const url = process.env.BENCH_STOREFRONT_DATABASE_URL;
  if (!url) throw new Error('BENCH_STOREFRONT_DATABASE_URL is not set');
  const log = createLogger({ level: 'error' });
  const { db, recorder } = recordingDb(url, { max: 10 });
  recorder.keepText = false;
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const config = loadConfig({
    NODE_ENV: 'production',
    SESSION_SECRET: 'bench-storefront-session-secret-0123456789abcdef',
    PUBLIC_URL: 'http://127.0.0.1',
  });
  const telegramBot = () => Promise.resolve({ status: 'off' } as const);
  const web = await startWebServer(createWebApp({ db, config, log, telegramBot }), {
    port: 0,
    host: '127.0.0.1',
    log,
  });

  // The ceiling: a storefront built the same way (its pages, CSRF, security headers), rendering the search
  // page's first 25 numbers, read once now, for every request.
  const { web: shop } = createStorefront({ db, config, log, telegramBot });
  const places = await shop.catalog.places();
  const page = await shop.catalog.search(null, {});
  const country = (code: string) => regionNames.of(code) ?? code;
  const values = { contains: '', country: '', area: '', city: '', type: '' };
  const data = {
    title: 'Find a phone number',
    countries: places.countries
      .map((code) => ({ code, name: country(code), selected: false }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    cities: [...new Set([...places.citiesByCountry.values()].flat())].sort(),
    types: [
      { value: 'local', label: 'Local', selected: false },
      { value: 'toll_free', label: 'Toll-free', selected: false },
      { value: 'mobile', label: 'Mobile', selected: false },
      { value: 'national', label: 'National', selected: false },
    ],
    values,
    numbers: page.items.map((n) => ({ ...n, path: numberPath(n.number), countryName: country(n.country) })),
    nextUrl: page.nextCursor ? `/numbers?after=${page.nextCursor}` : null,
    firstUrl: null,
    showResults: true,
    empty: page.items.length === 0,
    notice: undefined,
  };
  const bare = express();
  bare.disable('x-powered-by');
  bare.use(securityHeaders({ https: false }));
  bare.get('/ceiling', (req, res) => shop.pages.render(req, res, 'numbers/search', data));
  const ceiling = await startWebServer(bare, { port: 0, host: '127.0.0.1', log });

  process.on('message', (message: { kind: string }) => {
    if (message.kind === 'stop') {
      // Requests autocannon gave up on at the end of the run may still be waiting for the pool.
      void Promise.all([web.close(1_000), ceiling.close(1_000)])
        .then(() => new Promise((resolve) => setTimeout(resolve, 1_000)))
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
  process.send!({ kind: 'listening', appPort: web.port, ceilingPort: ceiling.port } satisfies Listening);
}

if (import.meta.main) {
  if (process.argv[2] === '--serve') {
    await serve();
  } else {
    const result = await runStorefrontBench({
      seconds: positiveIntEnv('BENCH_STOREFRONT_SECONDS', 60),
      connections: positiveIntEnv('BENCH_STOREFRONT_CONNECTIONS', 50),
      dids: positiveIntEnv('BENCH_STOREFRONT_DIDS', 1_000_000),
      databaseUrl: process.env.BENCH_DATABASE_URL,
      log: (line) => console.log(line),
    });
    console.log(renderStorefrontBench(result));
    process.exitCode = result.target.pass ? 0 : 1;
  }
}
