// The checkout race: 200 buyers, 20 numbers, all placing their orders at the same moment through the real
// HTTP checkout (log-in, session cookie and CSRF token, POST /checkout/place by card), Stripe played by
// FakeStripe over HTTP (STRIPE_API_BASE). Winners are sent on to pay; this process then pays each created
// Checkout Session on the fake and delivers the signed `checkout.session.completed` webhook to
// /stripe/webhook, and waits until every order is final (the worker, in the app's process, fulfils them).
//
// Checked: every number sold at most once and every sold number to exactly one account with one active
// subscription; exactly the winners' numbers sold; every loser told clearly (409, "just taken by another
// buyer"); no charge without a number (Stripe charges minus refunds = the ledger's charges for card orders
// = the payments recorded).
//
// The app runs in a child process like the web and worker roles together: createWebApp with startJobs
// (work: true; pg-boss unless REDIS_URL is set), a pool of 10.
//
// Run alone: `node test/bench/race.ts` (BENCH_RACE_BUYERS=200 BENCH_RACE_NUMBERS=20); run.ts calls
// runRaceBench() (BENCH_ONLY=race).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { hashPassword } from '../../core/accounts/users.ts';
import { loadConfig } from '../../core/config.ts';
import { connect } from '../../core/db/connect.ts';
import { seededRandom } from '../../core/demo/random.ts';
import { startJobs } from '../../core/runtime/jobs.ts';
import { createLogger } from '../../core/runtime/logger.ts';
import { systemClock } from '../../core/shared/clock.ts';
import { createWebApp } from '../../storefront/app.ts';
import { startWebServer } from '../../storefront/server.ts';
import { FakeStripe, signedEvent, TEST_SECRET_KEY, TEST_WEBHOOK_SECRET } from '../helpers/fake-stripe.ts';
import {
  fmtInt,
  fmtMs,
  fmtSeconds,
  now,
  openBenchOperator,
  percentiles,
  positiveIntEnv,
  table,
  type Percentiles,
} from './lib.ts';
import { benchDatabase } from './slack.ts';
import { stop } from './load.ts';

export interface RaceBenchOptions {
  readonly buyers?: number;
  readonly numbers?: number;
  readonly databaseUrl?: string;
  readonly seed?: number;
  readonly log?: (line: string) => void;
}

export interface RaceBenchResult {
  readonly buyers: number;
  readonly numbers: number;
  readonly engine: string;
  readonly setupMs: number;
  readonly loginMs: number;
  /** All POST /checkout/place at once: from the first sent to the last answered. */
  readonly placeMs: number;
  readonly placeLatency: Percentiles;
  /** From the race's start to every order final (paid through the webhook). */
  readonly totalMs: number;
  /** From the first webhook delivered to every order final. */
  readonly settleMs: number;
  readonly winners: number;
  readonly losersTold: number;
  /** Answers that were neither a redirect to pay nor a clear 409: must be 0. */
  readonly unexpected: number;
  readonly unexpectedSamples: readonly string[];
  readonly sold: number;
  readonly expectedSold: number;
  readonly soldAsExpected: boolean;
  readonly doubleSold: number;
  readonly soldWithoutOneActiveSubscription: number;
  readonly ordersByStatus: Readonly<Record<string, number>>;
  readonly webhooksRefused: number;
  readonly money: {
    readonly stripeCharged: number;
    readonly stripeRefunded: number;
    readonly stripeCharges: number;
    readonly ledgerCardCharges: number;
    readonly paymentsNet: number;
    readonly balanced: boolean;
  };
  readonly stripeRequests: Readonly<Record<string, number>>;
  readonly pass: boolean;
}

interface Listening {
  readonly kind: 'listening';
  readonly port: number;
  readonly engine: string;
}

const PASSWORD = 'correct horse battery';

export async function runRaceBench(options: RaceBenchOptions = {}): Promise<RaceBenchResult> {
  const buyers = options.buyers ?? 200;
  const numberCount = options.numbers ?? 20;
  const log = options.log ?? (() => {});
  const random = seededRandom(options.seed ?? 20261122);
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const setupStarted = now();
    const url = await benchDatabase(options.databaseUrl, log, cleanups, 'race');
    const { ctx, db } = await openBenchOperator(url, cleanups, {
      max: 4,
      applicationName: 'didops-bench-race-setup',
    });
    const operator = await db
      .selectFrom('accounts')
      .select('id')
      .where('kind', '=', 'admin')
      .executeTakeFirstOrThrow();
    // One hash for every buyer: argon2 is slow on purpose.
    const passwordHash = await hashPassword(PASSWORD);
    const accounts = await db
      .insertInto('accounts')
      .values(
        Array.from({ length: buyers }, (_, i) => ({
          kind: 'customer' as const,
          parent_id: operator.id,
          path: '',
          slug: `race-buyer-${i}`,
          name: `Race Buyer ${i}`,
          stripe_customer_id: null,
          email: `buyer${i}@race.example`,
        })),
      )
      .returning(['id', 'slug'])
      .execute();
    await db
      .insertInto('users')
      .values(
        accounts.map((a, i) => ({
          account_id: a.id,
          role: 'owner' as const,
          email: `buyer${i}@race.example`,
          name: `Buyer ${i}`,
          password_hash: passwordHash,
          slack_user_id: null,
          telegram_user_id: null,
        })),
      )
      .execute();
    const dids = await db
      .insertInto('dids')
      .values(
        Array.from({ length: numberCount }, (_, i) => ({
          number: `+1212${5_550_100 + i}`,
          country: 'US',
          area_code: '212',
          city: 'New York',
          province: 'NY',
          provider_id: null,
          vendor_batch_id: null,
          group_id: null,
          pricing_batch_id: null,
          setup_fee: 100 * (1 + (i % 3)),
          recurring_fee: 150,
          activation_cost: 50,
          recurring_cost: 40,
          connection_cost_micros: 10_000,
          per_minute_rate_micros: 4_500,
          owner_account_id: null,
          assigned_account_id: null,
          destination_type: null,
          destination: null,
        })),
      )
      .returning(['id', 'number'])
      .execute();
    void ctx;

    const fake = new FakeStripe();
    const stripeServer = await fake.listen();
    cleanups.push(() => stripeServer.close());

    const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
      env: {
        ...process.env,
        BENCH_RACE_DATABASE_URL: url,
        BENCH_RACE_STRIPE_API_BASE: stripeServer.url,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    cleanups.push(() => stop(child));
    const [listening] = (await once(child, 'message')) as [Listening];
    const base = `http://127.0.0.1:${listening.port}`;
    const setupMs = now() - setupStarted;
    log(
      `race: ${fmtInt(buyers)} prepaid buyers, ${numberCount} numbers; app on ${base} (${listening.engine}), Stripe fake on ${stripeServer.url}`,
    );

    // Each buyer logs in and opens the confirmation page of a random 1-3 of the numbers (a few at a time:
    // log-in verifies an argon2 hash).
    const loginStarted = now();
    const clients = Array.from({ length: buyers }, (_, i) => {
      const picks = new Set<number>();
      const want = 1 + Math.floor(random() * 3);
      while (picks.size < Math.min(want, numberCount)) picks.add(Math.floor(random() * numberCount));
      return {
        client: new Client(base),
        email: `buyer${i}@race.example`,
        accountId: accounts[i]!.id,
        dids: [...picks].sort((a, b) => a - b).map((p) => dids[p]!),
        submitKey: '',
      };
    });
    await inBatches(clients, 10, async (b) => {
      await b.client.get('/login');
      const loggedIn = await b.client.post('/login', { email: b.email, password: PASSWORD });
      if (loggedIn.status !== 303) throw new Error(`race: log-in of ${b.email} answered ${loggedIn.status}`);
      const page = await b.client.get(`/checkout?${b.dids.map((d) => `did=${d.id}`).join('&')}`);
      if (page.status !== 200) throw new Error(`race: checkout page for ${b.email}: ${page.status}`);
      b.submitKey = /<input type="hidden" name="submit_key" value="([^"]*)">/.exec(page.html)?.[1] ?? '';
      if (!b.submitKey) throw new Error(`race: no submit key on ${b.email}'s checkout page`);
    });
    const loginMs = now() - loginStarted;
    log(`race: ${buyers} buyers logged in and on their checkout page in ${fmtSeconds(loginMs)}; go!`);

    // The race: every "Place order" at once.
    const raceStarted = now();
    const answers = await Promise.all(
      clients.map(async (b) => {
        const t = now();
        const page = await b.client.post('/checkout/place', {
          did: b.dids.map((d) => String(d.id)),
          method: 'card',
          submit_key: b.submitKey,
        });
        return { buyer: b, page, ms: now() - t };
      }),
    );
    const placeMs = now() - raceStarted;
    const winners: { accountId: number; orderId: number; dids: number[] }[] = [];
    let losersTold = 0;
    const unexpected: string[] = [];
    for (const { buyer, page } of answers) {
      const paying = page.status === 303 ? /^\/orders\/(\d+)\/pay$/.exec(page.location ?? '') : null;
      if (paying) {
        winners.push({
          accountId: buyer.accountId,
          orderId: Number(paying[1]),
          dids: buyer.dids.map((d) => d.id),
        });
      } else if (
        page.status === 409 &&
        /just taken by another buyer/.test(page.html) &&
        /Nothing was charged/.test(page.html)
      ) {
        losersTold++;
      } else {
        unexpected.push(`${buyer.email}: ${page.status} ${page.location ?? textOf(page.html).slice(0, 200)}`);
      }
    }
    log(
      `race: placed in ${fmtSeconds(placeMs)}: ${winners.length} sent to pay, ${losersTold} told the number was taken, ${unexpected.length} other answers`,
    );

    // The winners pay on Stripe's page; Stripe tells us by webhook.
    const settleStarted = now();
    const orders = await db
      .selectFrom('orders')
      .select(['id', 'checkout_session_id'])
      .where(
        'id',
        'in',
        winners.map((w) => w.orderId),
      )
      .execute();
    let webhooksRefused = 0;
    await inBatches(orders, 20, async (order) => {
      if (!order.checkout_session_id) {
        webhooksRefused++;
        return;
      }
      const { payload, signature } = signedEvent(fake.payCheckout(order.checkout_session_id));
      const response = await fetch(`${base}/stripe/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        body: payload,
      });
      await response.text();
      if (response.status !== 200) webhooksRefused++;
    });
    // Every order final: nothing pending.
    const deadline = now() + 180_000;
    for (;;) {
      const { rows } = await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM orders WHERE status = 'pending'`.execute(db);
      if (rows[0]!.n === 0) break;
      if (now() > deadline) throw new Error(`race: ${rows[0]!.n} orders still pending after 3 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const totalMs = now() - raceStarted;
    const settleMs = now() - settleStarted;
    log(`race: every order final ${fmtSeconds(totalMs)} after the race started`);

    // The checks.
    const didIds = dids.map((d) => d.id);
    const soldRows = await db
      .selectFrom('dids')
      .select(['id', 'status', 'assigned_account_id'])
      .where('id', 'in', didIds)
      .execute();
    const sold = soldRows.filter((d) => d.status === 'assigned' && d.assigned_account_id !== null);
    const expectedOwner = new Map<number, number>();
    for (const w of winners) for (const id of w.dids) expectedOwner.set(id, w.accountId);
    const soldAsExpected =
      sold.length === expectedOwner.size &&
      sold.every((d) => expectedOwner.get(d.id) === d.assigned_account_id) &&
      soldRows.every((d) => expectedOwner.has(d.id) || d.status === 'available');
    const { rows: fulfilledTwice } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM (
        SELECT did_id FROM order_items WHERE outcome = 'fulfilled' AND did_id = ANY(${didIds})
        GROUP BY did_id HAVING count(*) > 1) x`.execute(db);
    const { rows: subs } = await sql<{ did_id: number; account_id: number; n: number }>`
      SELECT did_id, min(account_id) AS account_id, count(*)::int AS n FROM subscriptions
      WHERE status = 'active' AND did_id = ANY(${didIds}) GROUP BY did_id`.execute(db);
    const subsByDid = new Map(subs.map((s) => [Number(s.did_id), s]));
    const soldWithoutOneActiveSubscription = sold.filter((d) => {
      const s = subsByDid.get(d.id);
      return !s || s.n !== 1 || Number(s.account_id) !== d.assigned_account_id;
    }).length;
    const subscribedUnsold = subs.filter((s) => !sold.some((d) => d.id === Number(s.did_id))).length;
    const doubleSold = fulfilledTwice[0]!.n + subs.filter((s) => s.n > 1).length + subscribedUnsold;
    const { rows: statusRows } = await sql<{ status: string; n: number }>`
      SELECT status, count(*)::int AS n FROM orders GROUP BY status ORDER BY status`.execute(db);
    const { rows: ledger } = await sql<{ charged: string; payments: string }>`
      SELECT (SELECT coalesce(sum(c.amount), 0) FROM charges c JOIN orders o ON o.id = c.order_id
               WHERE o.method = 'card' AND c.account_id = o.account_id)::text AS charged,
             (SELECT coalesce(sum(amount - refunded_amount), 0) FROM payments
               WHERE method = 'card' AND status IN ('succeeded', 'refunded'))::text AS payments`.execute(db);
    const stripeCharged = [...fake.charges.values()].reduce((s, c) => s + c.amount, 0);
    const stripeRefunded = fake.refunds.reduce((s, r) => s + r.amount, 0);
    const ledgerCardCharges = Number(ledger[0]!.charged);
    const paymentsNet = Number(ledger[0]!.payments);
    const balanced =
      stripeCharged - stripeRefunded === ledgerCardCharges && ledgerCardCharges === paymentsNet;
    const stripeRequests: Record<string, number> = {};
    for (const r of fake.requests) stripeRequests[r] = (stripeRequests[r] ?? 0) + 1;

    const pass =
      unexpected.length === 0 &&
      winners.length + losersTold === buyers &&
      webhooksRefused === 0 &&
      soldAsExpected &&
      doubleSold === 0 &&
      soldWithoutOneActiveSubscription === 0 &&
      balanced &&
      fake.charges.size === winners.length;
    return {
      buyers,
      numbers: numberCount,
      engine: listening.engine,
      setupMs,
      loginMs,
      placeMs,
      placeLatency: percentiles(answers.map((a) => a.ms)),
      totalMs,
      settleMs,
      winners: winners.length,
      losersTold,
      unexpected: unexpected.length,
      unexpectedSamples: unexpected.slice(0, 5),
      sold: sold.length,
      expectedSold: expectedOwner.size,
      soldAsExpected,
      doubleSold,
      soldWithoutOneActiveSubscription,
      ordersByStatus: Object.fromEntries(statusRows.map((r) => [r.status, r.n])),
      webhooksRefused,
      money: {
        stripeCharged,
        stripeRefunded,
        stripeCharges: fake.charges.size,
        ledgerCardCharges,
        paymentsNet,
        balanced,
      },
      stripeRequests,
      pass,
    };
  } finally {
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (error) {
        log(`race bench cleanup: ${(error as Error).message}`);
      }
    }
  }
}

export function renderRaceBench(r: RaceBenchResult): string {
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  const money = (cents: number) => `$${(cents / 100).toFixed(2)}`;
  const lines = [
    `${fmtInt(r.buyers)} buyers racing for ${r.numbers} numbers through POST /checkout/place (by card, queue: ${r.engine})`,
    table(
      ['check', 'value', 'result'],
      [
        [
          'answers: sent to pay / told "just taken" (409) / other',
          `${r.winners} / ${r.losersTold} / ${r.unexpected}`,
          verdict(r.unexpected === 0 && r.winners + r.losersTold === r.buyers),
        ],
        [
          'numbers sold (exactly the winners’ picks)',
          `${r.sold} of ${r.numbers} (expected ${r.expectedSold})`,
          verdict(r.soldAsExpected),
        ],
        ['numbers sold twice / with two subscriptions', String(r.doubleSold), verdict(r.doubleSold === 0)],
        [
          'sold numbers without exactly one active subscription of the owner',
          String(r.soldWithoutOneActiveSubscription),
          verdict(r.soldWithoutOneActiveSubscription === 0),
        ],
        ['webhooks refused', String(r.webhooksRefused), verdict(r.webhooksRefused === 0)],
        [
          'Stripe charged − refunded = ledger card charges = payments',
          `${money(r.money.stripeCharged)} − ${money(r.money.stripeRefunded)} = ${money(r.money.ledgerCardCharges)} = ${money(r.money.paymentsNet)} (${r.money.stripeCharges} charges)`,
          verdict(r.money.balanced && r.money.stripeCharges === r.winners),
        ],
      ],
    ),
    `orders: ${Object.entries(r.ordersByStatus)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}; Stripe requests: ${Object.entries(r.stripeRequests)
      .map(([k, n]) => `${k} ×${n}`)
      .join(', ')}`,
    `POST /checkout/place, all at once: last answer after ${fmtMs(r.placeMs)} ms; latency p50 ${fmtMs(r.placeLatency.p50)} ms, p99 ${fmtMs(r.placeLatency.p99)} ms, max ${fmtMs(r.placeLatency.max)} ms`,
    `total: race start to every order final ${fmtSeconds(r.totalMs)} (webhooks to final ${fmtSeconds(r.settleMs)}); set-up ${fmtSeconds(r.setupMs)}, log-ins ${fmtSeconds(r.loginMs)}`,
  ];
  if (r.unexpectedSamples.length) lines.push(`unexpected answers: ${r.unexpectedSamples.join(' | ')}`);
  lines.push(`race: ${verdict(r.pass)}`);
  return lines.join('\n');
}

interface Page {
  readonly status: number;
  readonly html: string;
  readonly location: string | null;
}

/** A browser enough for the checkout: keeps cookies, follows no redirects, posts forms with the last CSRF token. */
class Client {
  readonly cookies = new Map<string, string>();
  csrf = '';
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }

  get(path: string): Promise<Page> {
    return this.request('GET', path);
  }

  post(path: string, fields: Record<string, string | string[]>): Promise<Page> {
    const body = new URLSearchParams();
    body.append('_csrf', this.csrf);
    for (const [name, value] of Object.entries(fields)) {
      for (const v of Array.isArray(value) ? value : [value]) body.append(name, v);
    }
    return this.request('POST', path, body);
  }

  private async request(method: string, path: string, body?: URLSearchParams): Promise<Page> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(this.base + path, {
      method,
      redirect: 'manual',
      headers: {
        accept: 'text/html',
        ...(cookie ? { cookie } : {}),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: body?.toString(),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0|expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const html = await response.text();
    const token = /name="_csrf" value="([^"]*)"/.exec(html)?.[1];
    if (token !== undefined) this.csrf = token;
    return { status: response.status, html, location: response.headers.get('location') };
  }
}

function textOf(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

async function inBatches<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(size, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** The child: web and worker roles in one process, Stripe at the parent's fake. */
async function serve(): Promise<void> {
  const url = process.env.BENCH_RACE_DATABASE_URL;
  const stripeBase = process.env.BENCH_RACE_STRIPE_API_BASE;
  if (!url || !stripeBase) throw new Error('BENCH_RACE_DATABASE_URL / BENCH_RACE_STRIPE_API_BASE not set');
  const log = createLogger({ level: 'error' });
  const config = loadConfig({
    NODE_ENV: 'production',
    SESSION_SECRET: 'bench-race-session-secret-0123456789abcdef0123',
    PUBLIC_URL: 'http://127.0.0.1',
    DATABASE_URL: url,
    STRIPE_SECRET_KEY: TEST_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    STRIPE_API_BASE: stripeBase,
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
  });
  const db = connect(url, { max: 10, applicationName: 'didops-bench-race' });
  const jobs = await startJobs({
    config,
    db,
    databaseUrl: url,
    log,
    clock: systemClock,
    work: true,
    channels: [],
  });
  const web = await startWebServer(
    createWebApp({ db, config, log, jobs, telegramBot: () => Promise.resolve({ status: 'off' } as const) }),
    { port: 0, host: '127.0.0.1', log },
  );
  process.on('message', (message: { kind: string }) => {
    if (message.kind === 'stop') {
      void web
        .close(1_000)
        .then(() => jobs.stop())
        .then(() => db.destroy())
        .finally(() => process.exit(0));
    }
  });
  process.send!({ kind: 'listening', port: web.port, engine: jobs.queue.engine } satisfies Listening);
}

if (import.meta.main) {
  if (process.argv[2] === '--serve') {
    await serve();
  } else {
    const result = await runRaceBench({
      buyers: positiveIntEnv('BENCH_RACE_BUYERS', 200),
      numbers: positiveIntEnv('BENCH_RACE_NUMBERS', 20),
      databaseUrl: process.env.BENCH_DATABASE_URL,
      log: (line) => console.log(line),
    });
    console.log(renderRaceBench(result));
    process.exitCode = result.pass ? 0 : 1;
  }
}
