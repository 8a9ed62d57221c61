// Who may use each route of the web app outside the back office (the back office has its own table, in
// test/integration/admin/roles.test.ts): every route the live app mounts × every kind of visitor, and what
// the visitor notices. The routes are read from express's own router stack, so a route added without a row
// here fails the first test. Browsers: the page, a refusal of what they sent, the log-in page, "Not allowed"
// (403) or "Page not found" (404, for what is not theirs). Machines: in with their own credential only
// (metrics token, API token, Slack and Stripe signatures, Telegram's secret header); a signed-in browser's
// session is no credential. Then object-level scoping: someone else's order, number, invoice, receipt,
// customer or price rule is "not found". What gets through carries harmless forms (a missing field, a
// stale version), so nothing a later row needs changes; the last check of each test makes sure of that.
// SHOW_ROUTE_TABLE=1 prints the status each page row got.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createChatBots, type ChatBots } from '../../../bot/chat-bots.ts';
import { hashPassword } from '../../../core/accounts/users.ts';
import { createApiToken } from '../../../core/api-tokens/api-tokens.ts';
import { loadConfig } from '../../../core/config.ts';
import type { Account, UserRole } from '../../../core/db/schema.ts';
import { placeOrder } from '../../../core/billing/orders.ts';
import { enqueuerFor } from '../../../core/jobs/registry.ts';
import { createLogger } from '../../../core/runtime/logger.ts';
import { requestPasswordReset } from '../../../core/web-auth/password-reset.ts';
import { createWebApp } from '../../../storefront/app.ts';
import type { Web } from '../../../storefront/web/deps.ts';
import { adminRouteTable } from '../../../storefront/web/routes/admin/index.ts';
import {
  actorOf,
  buildAccount,
  buildDid,
  buildOperator,
  buildUser,
  ctxFor,
} from '../../helpers/factories.ts';
import { signedEvent, TEST_SECRET_KEY, TEST_WEBHOOK_SECRET } from '../../helpers/fake-stripe.ts';
import { RecordingQueue, signIn } from '../admin/harness.ts';
import { buy, PUBLIC_URL, useBilling } from '../billing/billing-fixture.ts';
import { signatureHeaders, SIGNING_SECRET } from '../bot/slack/slack-harness.ts';
import {
  API_ROOT as TELEGRAM_API_ROOT,
  fakeTelegram,
  TOKEN as TELEGRAM_TOKEN,
  WEBHOOK_SECRET as TELEGRAM_SECRET,
} from '../bot/telegram/fake-telegram.ts';
import { Browser, PASSWORD, type Page } from '../storefront/harness.ts';

/**
 * What a visitor notices. allowed: the page or the redirect the route makes (2xx, 3xx); refused: it got
 * past every check of who is asking, and what it sent was refused (400, 409...); login: sent to the log-in
 * page; unauthorized: 401 (a machine without its credential); denied: 403; hidden: 404; broken: 5xx.
 */
type Outcome = 'allowed' | 'refused' | 'login' | 'unauthorized' | 'denied' | 'hidden' | 'broken';
/** One outcome per column. */
type Row<Columns extends readonly string[]> = { readonly [C in keyof Columns]: Outcome };

const VISITORS = [
  'anonymous',
  'customer',
  'customerViewer',
  'reseller',
  'resellerViewer',
  'resellerCustomer',
  'staffViewer',
  'staffOwner',
] as const;
type Visitor = (typeof VISITORS)[number];

/**
 * Pages, in VISITORS order: a visitor; an owner and a viewer of a customer of the operator (Acme); an owner
 * and a viewer of a reseller (VoIP Co); a user of a customer of that reseller (the Bakery); the operator's
 * staff as viewer and as owner. Routes with an id ask for Acme's order, number, invoice or receipt, or in
 * the reseller portal for VoIP Co's customer, number or price rule. Viewers look; changes need an operator
 * or above (README, "viewers look, operators change numbers"; core/accounts/permissions.ts).
 */
// prettier-ignore
const PAGES: Record<string, Row<typeof VISITORS>> = {
  //                                         visitor      customer     cust viewer  reseller     res viewer   res customer staff viewer staff owner
  'USE /assets':                            ['allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed'],
  'GET /':                                  ['allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed'],
  'GET /login':                             ['allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed'],
  'POST /login':                            ['refused',   'refused',   'refused',   'refused',   'refused',   'refused',   'refused',   'refused'],
  'POST /logout':                           ['allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed'],
  'GET /signup':                            ['allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed'],
  'POST /signup':                           ['refused',   'refused',   'refused',   'refused',   'refused',   'refused',   'refused',   'refused'],
  'GET /password/forgot':                   ['allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed'],
  'POST /password/forgot':                  ['refused',   'refused',   'refused',   'refused',   'refused',   'refused',   'refused',   'refused'],
  'GET /password/reset':                    ['allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed'],
  'POST /password/reset':                   ['refused',   'refused',   'refused',   'refused',   'refused',   'refused',   'refused',   'refused'],
  'GET /numbers':                           ['allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed'],
  'GET /numbers/:number':                   ['allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed'],
  'GET /account':                           ['login',     'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed'],
  'POST /account/telegram-link':            ['login',     'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed'],
  'POST /checkout':                         ['login',     'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed'],
  'GET /checkout':                          ['login',     'allowed',   'denied',    'allowed',   'denied',    'allowed',   'denied',    'refused'],
  'POST /checkout/place':                   ['login',     'refused',   'denied',    'refused',   'denied',    'refused',   'denied',    'refused'],
  'GET /orders/:id':                        ['login',     'allowed',   'allowed',   'hidden',    'hidden',    'hidden',    'hidden',    'hidden'],
  'GET /orders/:id/pay':                    ['login',     'allowed',   'allowed',   'hidden',    'hidden',    'hidden',    'hidden',    'hidden'],
  'GET /orders/:id/status.json':            ['login',     'allowed',   'allowed',   'hidden',    'hidden',    'hidden',    'hidden',    'hidden'],
  'GET /orders/:id/cancel':                 ['login',     'allowed',   'allowed',   'hidden',    'hidden',    'hidden',    'hidden',    'hidden'],
  'POST /orders/:id/cancel':                ['login',     'allowed',   'denied',    'hidden',    'hidden',    'hidden',    'hidden',    'hidden'],
  'GET /my/numbers':                        ['login',     'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed'],
  'GET /my/numbers/:didId':                 ['login',     'allowed',   'allowed',   'hidden',    'hidden',    'hidden',    'hidden',    'hidden'],
  'POST /my/numbers/:didId/transfer':       ['login',     'refused',   'denied',    'hidden',    'denied',    'hidden',    'denied',    'refused'],
  'POST /my/numbers/:didId/cancel':         ['login',     'allowed',   'denied',    'hidden',    'hidden',    'hidden',    'hidden',    'hidden'],
  'GET /my/numbers/:didId/pay':             ['login',     'allowed',   'allowed',   'hidden',    'hidden',    'hidden',    'hidden',    'hidden'],
  'POST /my/numbers/:didId/pay':            ['login',     'refused',   'denied',    'hidden',    'hidden',    'hidden',    'hidden',    'hidden'],
  'GET /my/invoices':                       ['login',     'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed',   'allowed'],
  'GET /my/invoices/:id':                   ['login',     'allowed',   'allowed',   'hidden',    'hidden',    'hidden',    'allowed',   'allowed'],
  'GET /my/receipts/:id':                   ['login',     'allowed',   'allowed',   'hidden',    'hidden',    'hidden',    'hidden',    'hidden'],
  'USE /reseller':                          ['login',     'hidden',    'hidden',    'hidden',    'hidden',    'hidden',    'hidden',    'hidden'],
  'GET /reseller':                          ['login',     'hidden',    'hidden',    'allowed',   'allowed',   'hidden',    'hidden',    'hidden'],
  'GET /reseller/customers':                ['login',     'hidden',    'hidden',    'allowed',   'allowed',   'hidden',    'hidden',    'hidden'],
  'GET /reseller/customers/new':            ['login',     'hidden',    'hidden',    'allowed',   'allowed',   'hidden',    'hidden',    'hidden'],
  'POST /reseller/customers':               ['login',     'hidden',    'hidden',    'refused',   'denied',    'hidden',    'hidden',    'hidden'],
  'GET /reseller/customers/:id':            ['login',     'hidden',    'hidden',    'allowed',   'allowed',   'hidden',    'hidden',    'hidden'],
  'POST /reseller/customers/:id/status':    ['login',     'hidden',    'hidden',    'allowed',   'denied',    'hidden',    'hidden',    'hidden'],
  'GET /reseller/invitations/new':          ['login',     'hidden',    'hidden',    'allowed',   'allowed',   'hidden',    'hidden',    'hidden'],
  'POST /reseller/invitations':             ['login',     'hidden',    'hidden',    'refused',   'denied',    'hidden',    'hidden',    'hidden'],
  'GET /reseller/numbers':                  ['login',     'hidden',    'hidden',    'allowed',   'allowed',   'hidden',    'hidden',    'hidden'],
  'GET /reseller/numbers/:didId':           ['login',     'hidden',    'hidden',    'allowed',   'allowed',   'hidden',    'hidden',    'hidden'],
  'POST /reseller/numbers/:didId/assign':   ['login',     'hidden',    'hidden',    'refused',   'denied',    'hidden',    'hidden',    'hidden'],
  'POST /reseller/numbers/:didId/release':  ['login',     'hidden',    'hidden',    'refused',   'denied',    'hidden',    'hidden',    'hidden'],
  'POST /reseller/numbers/:didId/transfer': ['login',     'hidden',    'hidden',    'refused',   'denied',    'hidden',    'hidden',    'hidden'],
  'GET /reseller/prices':                   ['login',     'hidden',    'hidden',    'allowed',   'allowed',   'hidden',    'hidden',    'hidden'],
  'POST /reseller/prices':                  ['login',     'hidden',    'hidden',    'refused',   'denied',    'hidden',    'hidden',    'hidden'],
  'POST /reseller/prices/:id/delete':       ['login',     'hidden',    'hidden',    'allowed',   'denied',    'hidden',    'hidden',    'hidden'],
};

const PRESENTED = ['none', 'wrong', 'valid', 'session'] as const;
type Presented = (typeof PRESENTED)[number];

/**
 * Machine endpoints, in PRESENTED order: no credential; a wrong one (another token, a forged signature, a
 * wrong secret); the right one; and a signed-in staff owner's browser session without the credential.
 */
// prettier-ignore
const MACHINES: Record<string, Row<typeof PRESENTED>> = {
  //                                         none            wrong           valid           staff session
  'GET /healthz':                           ['allowed',      'allowed',      'allowed',      'allowed'],
  'GET /readyz':                            ['allowed',      'allowed',      'allowed',      'allowed'],
  'GET /metrics':                           ['unauthorized', 'unauthorized', 'allowed',      'unauthorized'],
  'POST /slack/events':                     ['unauthorized', 'unauthorized', 'allowed',      'unauthorized'],
  'POST /telegram/webhook':                 ['denied',       'denied',       'allowed',      'denied'],
  'GET /api/v1/routing/:number':            ['unauthorized', 'unauthorized', 'allowed',      'unauthorized'],
  'POST /api/v1/freeswitch/dialplan':       ['unauthorized', 'unauthorized', 'allowed',      'unauthorized'],
  'POST /stripe/webhook':                   ['refused',      'refused',      'allowed',      'refused'],
};

/** Someone else's things, asked for by id: the same "not found" as for an id that does not exist. */
const SCOPING: readonly {
  readonly case: string;
  readonly visitor: Visitor;
  readonly owner: Owner;
  readonly expect: Readonly<Record<string, Outcome>>;
}[] = [
  {
    case: "a customer asking for another customer's order, number, invoice or receipt",
    visitor: 'customer',
    owner: 'initech',
    expect: {
      'GET /orders/:id': 'hidden',
      'GET /orders/:id/pay': 'hidden',
      'GET /orders/:id/status.json': 'hidden',
      'GET /orders/:id/cancel': 'hidden',
      'POST /orders/:id/cancel': 'hidden',
      'GET /my/numbers/:didId': 'hidden',
      'POST /my/numbers/:didId/transfer': 'hidden',
      'POST /my/numbers/:didId/cancel': 'hidden',
      'GET /my/numbers/:didId/pay': 'hidden',
      'POST /my/numbers/:didId/pay': 'hidden',
      'GET /my/invoices/:id': 'hidden',
      'GET /my/receipts/:id': 'hidden',
    },
  },
  {
    case: "a reseller asking for another reseller's customer, number or price rule",
    visitor: 'reseller',
    owner: 'globaltel',
    expect: {
      'GET /reseller/customers/:id': 'hidden',
      'POST /reseller/customers/:id/status': 'hidden',
      'GET /reseller/numbers/:didId': 'hidden',
      'POST /reseller/numbers/:didId/assign': 'hidden',
      'POST /reseller/numbers/:didId/release': 'hidden',
      'POST /reseller/numbers/:didId/transfer': 'hidden',
      'POST /reseller/prices/:id/delete': 'hidden',
    },
  },
  {
    // A reseller reaches its customers' accounts (their invoices, their numbers' call transfer, as in its
    // portal); what was bought is the buyer's own: orders, receipts and the number's subscription.
    case: "a reseller asking for its own customer's things on the customer pages",
    visitor: 'reseller',
    owner: 'bakery',
    expect: {
      'GET /orders/:id': 'hidden',
      'GET /orders/:id/pay': 'hidden',
      'GET /orders/:id/status.json': 'hidden',
      'GET /orders/:id/cancel': 'hidden',
      'POST /orders/:id/cancel': 'hidden',
      'GET /my/numbers/:didId': 'hidden',
      'POST /my/numbers/:didId/transfer': 'refused',
      'POST /my/numbers/:didId/cancel': 'hidden',
      'GET /my/numbers/:didId/pay': 'hidden',
      'POST /my/numbers/:didId/pay': 'hidden',
      'GET /my/invoices/:id': 'allowed',
      'GET /my/receipts/:id': 'hidden',
    },
  },
];

/**
 * How a row is asked, beyond its path: another path for middleware mounts, a query string, a form that
 * gets past every check of who is asking without changing anything (a field missing, a stale version),
 * or a browser signed in afresh for a row that ends its session.
 */
interface How {
  readonly path?: string;
  readonly query?: (w: World) => string;
  readonly body?: (w: World) => Record<string, string>;
  readonly fresh?: boolean;
}

const STALE = '999999';
const STALE_TRANSFER = { enabled: '', ring_timeout: '30', version: STALE };

const HOW: Readonly<Record<string, How>> = {
  'USE /assets': { path: '/assets/site.css' },
  'USE /reseller': { path: '/reseller/no-such-page' },
  'POST /logout': { fresh: true },
  'GET /password/reset': { query: (w) => `?token=${w.resetToken}` },
  'POST /password/reset': { body: (w) => ({ token: w.resetToken }) },
  'GET /checkout': { query: (w) => `?did=${w.forSale.id}` },
  'POST /checkout': { body: (w) => ({ did: String(w.forSale.id) }) },
  // No submit key: refused before anything is held.
  'POST /checkout/place': { body: (w) => ({ did: String(w.forSale.id), method: 'invoice' }) },
  'POST /my/numbers/:didId/transfer': { body: () => STALE_TRANSFER },
  'POST /my/numbers/:didId/cancel': { body: () => ({ cancel: 'no' }) },
  // Valid enough to reach the role check (createAccount's); the missing name and slug are refused after it.
  'POST /reseller/customers': { body: () => ({ billing_mode: 'prepaid' }) },
  'POST /reseller/customers/:id/status': { body: () => ({ status: 'active' }) },
  'POST /reseller/numbers/:didId/assign': {
    body: (w) => ({ customer: String(w.accounts.bakery.id), version: STALE }),
  },
  'POST /reseller/numbers/:didId/release': { body: () => ({ version: STALE }) },
  'POST /reseller/numbers/:didId/transfer': { body: () => STALE_TRANSFER },
  'POST /reseller/prices': { body: () => ({ markup: 'lots' }) },
};

/** What each path parameter names: an object of `owner` (Acme's order, VoIP Co's customer...). */
const PARAMS: Readonly<Record<string, (w: World, owner: Owner) => string | number | Promise<number>>> = {
  '/numbers': (w) => w.forSale.number.slice(1),
  '/orders': (w, owner) => customerThings(w, owner).order,
  '/my/numbers': (w, owner) => customerThings(w, owner).number,
  '/my/invoices': (w, owner) => customerThings(w, owner).invoice,
  '/my/receipts': (w, owner) => customerThings(w, owner).receipt,
  '/reseller/customers': (w, owner) => resellerThings(w, owner).customer,
  '/reseller/numbers': (w, owner) => resellerThings(w, owner).number,
  '/reseller/prices': (w, owner) => resellerThings(w, owner).priceRule(),
  '/api/v1/routing': (w) => encodeURIComponent(w.routed),
};

const METRICS_TOKEN = 'metrics-scraper-token-4242';
/** Well-formed, never issued. */
const UNKNOWN_API_TOKEN = `didops_rt_${'x'.repeat(43)}`;
let telegramUpdate = 1;

/** A machine endpoint's request, with its credential as presented (a session is sent as 'none'). */
type MachineCall = (w: World, presented: Exclude<Presented, 'session'>) => Call;

const MACHINE_CALLS: Readonly<Record<string, MachineCall>> = {
  'GET /healthz': () => ({}),
  'GET /readyz': () => ({}),
  'GET /metrics': (_w, p) => ({
    headers: credential(p, 'authorization', `Bearer ${METRICS_TOKEN}`, 'Bearer not-the-metrics-token'),
  }),
  // Slack's URL check: answered by the receiver itself once the signature verifies.
  'POST /slack/events': (_w, p) => {
    const body = JSON.stringify({ token: 'legacy', challenge: 'prove-it', type: 'url_verification' });
    const signed = signatureHeaders(body, p === 'wrong' ? { secret: 'not-the-signing-secret' } : {});
    return { headers: { 'content-type': 'application/json', ...(p === 'none' ? {} : signed) }, body };
  },
  'POST /telegram/webhook': (_w, p) => ({
    headers: {
      'content-type': 'application/json',
      ...credential(p, 'x-telegram-bot-api-secret-token', TELEGRAM_SECRET, 'not-the-secret'),
    },
    body: JSON.stringify({ update_id: telegramUpdate++ }),
  }),
  'GET /api/v1/routing/:number': (w, p) => ({
    headers: credential(p, 'authorization', `Bearer ${w.apiToken}`, `Bearer ${UNKNOWN_API_TOKEN}`),
  }),
  // mod_xml_curl sends the token as basic auth's password.
  'POST /api/v1/freeswitch/dialplan': (w, p) => ({
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...credential(p, 'authorization', basic(w.apiToken), basic(UNKNOWN_API_TOKEN)),
    },
    body: new URLSearchParams({ section: 'dialplan', 'Caller-Destination-Number': w.routed }).toString(),
  }),
  'POST /stripe/webhook': (_w, p) => {
    const event = billing.stripe.event('customer.created', { id: 'cus_test', object: 'customer' });
    const { payload, signature } = signedEvent(event, p === 'wrong' ? 'whsec_forged' : TEST_WEBHOOK_SECRET);
    return {
      headers: {
        'content-type': 'application/json',
        ...(p === 'none' ? {} : { 'stripe-signature': signature }),
      },
      body: payload,
    };
  },
};

const billing = useBilling();

describe('who may use each route of the web app', () => {
  it('has a row for every route the app serves, next to the back office mounted at /admin', () => {
    const { app } = buildApp();
    const mounted = mountedRoutes(app);
    const admin = mounted.filter((route) => / \/admin(\/|$)/.test(route));
    // The back office is covered route by route in admin/roles.test.ts, from the table it is built from.
    expect(admin.sort()).toEqual(
      adminRouteTable({
        web: { csrf: { verify: () => undefined } } as unknown as Web,
        queue: new RecordingQueue(),
      })
        .map((route) => `${route.method.toUpperCase()} /admin${route.path}`)
        .sort(),
    );
    const rest = mounted.filter((route) => !admin.includes(route));
    expect(rest.sort()).toEqual([...Object.keys(PAGES), ...Object.keys(MACHINES)].sort());
  });

  it('shows each visitor the pages their account and role reach; else the log-in page, 403 or not found', async () => {
    const w = await world();
    const served = await serve();
    const browsers = await signInAll(served.base);
    const before = await lasting();
    const observed: Record<string, Record<Visitor, Outcome>> = {};
    const statuses: string[] = [];
    for (const route of Object.keys(PAGES)) {
      const row = {} as Record<Visitor, Outcome>;
      for (const visitor of VISITORS) {
        const browser = HOW[route]?.fresh ? await signInAs(served.base, visitor) : browsers[visitor];
        const page = await visit(w, browser, route, defaultOwner(route));
        row[visitor] = outcomeOf(page);
        statuses.push(`${route} ${visitor}: ${page.status} ${page.location ?? ''}`);
      }
      observed[route] = row;
    }
    if (process.env.SHOW_ROUTE_TABLE) console.log(statuses.join('\n'));
    expect(observed).toEqual(byColumn(PAGES, VISITORS));
    expect(await lasting()).toEqual(before);
    expect(errorsIn(served.logs)).toEqual([]);
  });

  // Viewers look (README): buying and cancelling need an operator. Ending someone else's pending checkout
  // releases the numbers held for it.
  it('does not let a viewer of the account cancel an order someone is paying for', async () => {
    const w = await world();
    const { order } = await placeOrder(billing.ctxFor(w.accounts.acme), {
      didIds: [w.forSale.id],
      method: 'card',
      submitKey: 'pending-card-order',
    });
    expect(order.status).toBe('pending');
    const served = await serve();
    const viewer = await signInAs(served.base, 'customerViewer');
    // Stripe's cancel link only leads back to the order page (a GET changes nothing); the form is refused.
    expect.soft(outcomeOf(await viewer.get(`/orders/${order.id}/cancel`)), 'GET').toBe('allowed');
    expect.soft(outcomeOf(await viewer.post(`/orders/${order.id}/cancel`)), 'POST').toBe('denied');
    const after = await billing.db
      .selectFrom('orders')
      .select('status')
      .where('id', '=', order.id)
      .executeTakeFirstOrThrow();
    expect(after.status).toBe('pending');
  });

  it('lets machines in with their own credential only, never with a signed-in session', async () => {
    const w = await world();
    const telegram = fakeTelegram();
    const served = await serve();
    const staff = await signInAs(served.base, 'staffOwner');
    const session = [...staff.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const observed: Record<string, Record<Presented, Outcome>> = {};
    for (const route of Object.keys(MACHINES)) {
      const [method, path] = route.split(' ') as [string, string];
      const url = served.base + (await concrete(path, 'acme', w));
      const row = {} as Record<Presented, Outcome>;
      for (const presented of PRESENTED) {
        const call = MACHINE_CALLS[route]!(w, presented === 'session' ? 'none' : presented);
        const response = await fetch(url, {
          method,
          redirect: 'manual',
          headers: { ...call.headers, ...(presented === 'session' ? { cookie: session } : {}) },
          body: call.body,
        });
        await response.arrayBuffer();
        row[presented] = outcomeOf({ status: response.status, location: response.headers.get('location') });
      }
      observed[route] = row;
    }
    expect(observed).toEqual(byColumn(MACHINES, PRESENTED));
    // The one update let in reached the bot (which asked Telegram who it is before handling it).
    await vi.waitFor(() => expect(telegram.of('getMe')).toHaveLength(1));
    expect(errorsIn(served.logs)).toEqual([]);
  });

  it("answers 'not found' to anyone asking for another account's things by id", async () => {
    const w = await world();
    const served = await serve();
    const browsers = await signInAll(served.base);
    const before = await lasting();
    for (const scope of SCOPING) {
      const observed: Record<string, Outcome> = {};
      for (const route of Object.keys(scope.expect)) {
        observed[route] = outcomeOf(await visit(w, browsers[scope.visitor], route, scope.owner));
      }
      expect(observed, scope.case).toEqual(scope.expect);
    }
    // Its own number handed to an account that is not its customer: that account is not found either.
    const reseller = browsers.reseller;
    for (const outsider of [w.accounts.acme, w.accounts.dental]) {
      const page = await reseller.post(`/reseller/numbers/${w.resellers.voipco.number}/assign`, {
        customer: String(outsider.id),
      });
      expect(outcomeOf(page), `assign to ${outsider.slug}`).toBe('hidden');
    }
    expect(await lasting()).toEqual(before);
    expect(errorsIn(served.logs)).toEqual([]);
  });
});

// The world ----------------------------------------------------------------------------------------------

const EMAILS: Readonly<Record<Exclude<Visitor, 'anonymous'>, string>> = {
  customer: 'owner@acme.example',
  customerViewer: 'viewer@acme.example',
  reseller: 'owner@voipco.example',
  resellerViewer: 'viewer@voipco.example',
  resellerCustomer: 'owner@bakery.example',
  staffViewer: 'viewer@operator.example',
  staffOwner: 'owner@operator.example',
};

type Owner = 'acme' | 'initech' | 'bakery' | 'voipco' | 'globaltel';
type World = Awaited<ReturnType<typeof world>>;

/**
 * The operator with staff; two direct customers (Acme, Initech); a reseller (VoIP Co) with a customer (the
 * Bakery); another reseller (GlobalTel) with a customer (Dental). Each customer bought one number on
 * account (an order, an invoice) and one by card (a receipt); each reseller holds a number and has a price
 * rule. One number is for sale; the switch has an API token; someone has a password reset link.
 */
async function world() {
  const db = billing.db;
  const passwordHash = await hashPassword(PASSWORD);
  const operator = await buildOperator(db);
  const postpaid = { billing_mode: 'postpaid', credit_limit: 100_000 } as const;
  const acme = await buildAccount(db, operator, { slug: 'acme', name: 'Acme', ...postpaid });
  const initech = await buildAccount(db, operator, { slug: 'initech', name: 'Initech', ...postpaid });
  const voipco = await buildAccount(db, operator, { kind: 'reseller', slug: 'voipco', name: 'VoIP Co' });
  const bakery = await buildAccount(db, voipco, { slug: 'bakery', name: 'The Bakery', ...postpaid });
  const globaltel = await buildAccount(db, operator, {
    kind: 'reseller',
    slug: 'globaltel',
    name: 'GlobalTel',
  });
  const dental = await buildAccount(db, globaltel, { slug: 'dental', name: 'Dental' });
  const users: [Account, UserRole, string][] = [
    [acme, 'owner', EMAILS.customer],
    [acme, 'viewer', EMAILS.customerViewer],
    [voipco, 'owner', EMAILS.reseller],
    [voipco, 'viewer', EMAILS.resellerViewer],
    [bakery, 'owner', EMAILS.resellerCustomer],
    [operator, 'viewer', EMAILS.staffViewer],
    [operator, 'owner', EMAILS.staffOwner],
  ];
  for (const [account, role, email] of users) {
    await buildUser(db, account, { role, email, name: email, password_hash: passwordHash });
  }

  const bought = async (account: Account) => {
    const onAccount = await buildDid(db);
    const byCard = await buildDid(db);
    const order = await buy(billing, account, [onAccount.id], 'invoice');
    await buy(billing, account, [byCard.id], 'card');
    const invoice = await db
      .selectFrom('invoices')
      .select('id')
      .where('account_id', '=', account.id)
      .executeTakeFirstOrThrow();
    const payment = await db
      .selectFrom('payments')
      .select('id')
      .where('account_id', '=', account.id)
      .executeTakeFirstOrThrow();
    return { order, number: onAccount.id, e164: onAccount.number, invoice: invoice.id, receipt: payment.id };
  };
  const portal = async (reseller: Account, customer: Account) => ({
    customer: customer.id,
    number: (await buildDid(db, { status: 'assigned', owner_account_id: reseller.id })).id,
    /** The reseller's price rule, made again when the last one was deleted. */
    async priceRule(): Promise<number> {
      const rule =
        (await db
          .selectFrom('reseller_prices')
          .select('id')
          .where('reseller_account_id', '=', reseller.id)
          .executeTakeFirst()) ??
        (await db
          .insertInto('reseller_prices')
          .values({ reseller_account_id: reseller.id, pricing_batch_id: null, markup_bp: 2_000 })
          .returning('id')
          .executeTakeFirstOrThrow());
      return rule.id;
    },
  });

  const customers = {
    acme: await bought(acme),
    initech: await bought(initech),
    bakery: await bought(bakery),
  };
  const admin = ctxFor(db, actorOf(operator, 'admin'), { clock: billing.clock });
  const { plaintext: apiToken } = await createApiToken(admin, { name: 'freeswitch' });
  await buildUser(db, acme, { email: 'forgetful@acme.example', password_hash: passwordHash });
  const reset = await requestPasswordReset(admin, { email: 'forgetful@acme.example', ip: '192.0.2.1' });
  return {
    accounts: { operator, acme, initech, voipco, bakery, globaltel, dental },
    customers,
    resellers: { voipco: await portal(voipco, bakery), globaltel: await portal(globaltel, dental) },
    forSale: await buildDid(db, { number: '+12125550100' }),
    routed: customers.acme.e164,
    apiToken,
    resetToken: reset!.token,
  };
}

function customerThings(w: World, owner: Owner) {
  if (owner in w.customers) return w.customers[owner as keyof World['customers']];
  throw new Error(`${owner} is not a customer with things of its own`);
}

function resellerThings(w: World, owner: Owner) {
  if (owner in w.resellers) return w.resellers[owner as keyof World['resellers']];
  throw new Error(`${owner} is not a reseller`);
}

/** Whose object a row of PAGES asks for: VoIP Co's in the reseller portal, Acme's everywhere else. */
function defaultOwner(route: string): Owner {
  return route.includes(' /reseller') ? 'voipco' : 'acme';
}

/** Rows that must not change while visitors try every route (a refused or harmless request changes none). */
async function lasting() {
  const db = billing.db;
  return {
    accounts: await db.selectFrom('accounts').select(['id', 'status']).orderBy('id').execute(),
    dids: await db
      .selectFrom('dids')
      .select(['id', 'status', 'owner_account_id', 'assigned_account_id', 'version'])
      .orderBy('id')
      .execute(),
    orders: await db.selectFrom('orders').select(['id', 'status']).orderBy('id').execute(),
    subscriptions: await db
      .selectFrom('subscriptions')
      .select(['id', 'status', 'cancel_at_period_end'])
      .orderBy('id')
      .execute(),
    transfers: await db.selectFrom('call_transfers').selectAll().orderBy('did_id').execute(),
  };
}

// Visiting -----------------------------------------------------------------------------------------------

async function signInAs(base: string, visitor: Visitor): Promise<Browser> {
  const browser = visitor === 'anonymous' ? new Browser(base) : await signIn(base, EMAILS[visitor]);
  // A page with a form gives the browser its CSRF token (the session's, once signed in).
  await browser.get('/numbers');
  expect(browser.csrf, visitor).not.toBe('');
  return browser;
}

async function signInAll(base: string): Promise<Record<Visitor, Browser>> {
  const browsers = {} as Record<Visitor, Browser>;
  for (const visitor of VISITORS) browsers[visitor] = await signInAs(base, visitor);
  return browsers;
}

/** The route's path with its parameter naming `owner`'s object. */
async function concrete(path: string, owner: Owner, w: World): Promise<string> {
  const prefix = Object.keys(PARAMS).find((p) => path.startsWith(`${p}/:`));
  if (prefix === undefined) {
    if (path.includes(':')) throw new Error(`No fixture for the parameter of ${path}: add one to PARAMS`);
    return path;
  }
  return path.replace(/:\w+/, String(await PARAMS[prefix]!(w, owner)));
}

/** Sends a row's request as the browser would, forms with the browser's CSRF token. */
async function visit(w: World, browser: Browser, route: string, owner: Owner): Promise<Page> {
  const [method, path] = route.split(' ') as [string, string];
  const how = HOW[route] ?? {};
  const url = (how.path ?? (await concrete(path, owner, w))) + (how.query?.(w) ?? '');
  return method === 'POST' ? browser.post(url, how.body?.(w) ?? {}) : browser.get(url);
}

/** A table's rows keyed by column name, like the observed table: a failure's diff names route and column. */
function byColumn<Columns extends readonly string[]>(table: Record<string, Row<Columns>>, columns: Columns) {
  return Object.fromEntries(
    Object.entries(table).map(([route, row]) => [
      route,
      Object.fromEntries(columns.map((column, i) => [column, (row as readonly Outcome[])[i]])),
    ]),
  );
}

function outcomeOf(page: { status: number; location: string | null }): Outcome {
  const { status } = page;
  if (status >= 300 && status < 400 && page.location?.startsWith('/login?next=')) return 'login';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'denied';
  if (status === 404) return 'hidden';
  if (status >= 500) return 'broken';
  return status >= 400 ? 'refused' : 'allowed';
}

interface Call {
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

function credential(presented: Presented, header: string, valid: string, wrong: string) {
  if (presented === 'none' || presented === 'session') return {};
  return { [header]: presented === 'valid' ? valid : wrong };
}

function basic(token: string): string {
  return `Basic ${Buffer.from(`freeswitch:${token}`).toString('base64')}`;
}

function errorsIn(logs: readonly Record<string, unknown>[]) {
  return logs.filter((line) => typeof line.level === 'number' && line.level >= 50);
}

// The app --------------------------------------------------------------------------------------------------

/**
 * A layer of express 5's router (the `router` package, lib/layer.js): a route with its methods, a nested
 * router (its own stack), or middleware; `rawPath` is the path given to use() or route(), and `slash` is
 * set for middleware mounted on every path.
 */
interface Layer {
  readonly route?: { readonly path: unknown; readonly methods: Readonly<Record<string, boolean>> };
  readonly handle: { readonly stack?: readonly Layer[] };
  readonly rawPath: unknown;
  readonly slash: boolean;
}

/**
 * Every route the live app answers, as "GET /orders/:id", with nested routers' mount paths prefixed; and
 * middleware mounted on a path (static files, a guard) as "USE /assets".
 */
function mountedRoutes(app: Express): string[] {
  const found = new Set<string>();
  const walk = (stack: readonly Layer[], prefix: string) => {
    for (const layer of stack) {
      const path = layer.route ? layer.route.path : layer.rawPath;
      if (typeof path !== 'string')
        throw new Error(`Mounted on ${String(path)}: teach mountedRoutes about it`);
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) {
          found.add(`${method.toUpperCase()} ${prefix}${path}`);
        }
      } else if (layer.handle.stack) {
        walk(layer.handle.stack, layer.slash ? prefix : prefix + path);
      } else if (!layer.slash) {
        found.add(`USE ${prefix}${path}`);
      }
    }
  };
  walk((app.router as unknown as { stack: Layer[] }).stack, '');
  return [...found];
}

/** The web role's app as `npm start` builds it, with every front door on: chat, Stripe, metrics token. */
function buildApp(logs: Record<string, unknown>[] = []): { app: Express; bots: ChatBots } {
  const config = loadConfig({
    NODE_ENV: 'development',
    PUBLIC_URL,
    METRICS_TOKEN,
    STRIPE_SECRET_KEY: TEST_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: 'https://slack.test/api/',
    TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
    TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
    TELEGRAM_API_ROOT,
  });
  const log = createLogger({
    level: 'warn',
    write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
  });
  const settings = { didAgingDays: 30 };
  const bots = createChatBots(
    { db: billing.db, clock: billing.clock, settings, config, log },
    { web: true, bot: false },
  );
  const app = createWebApp({
    db: billing.db,
    config,
    log,
    clock: billing.clock,
    slackRouter: bots.slackRouter,
    telegramWebhook: bots.telegramWebhook,
    jobs: {
      queue: billing.queue,
      enqueue: enqueuerFor(billing.queue),
      payments: billing.payments,
      policy: billing.policy,
    },
    telegramBot: () => Promise.resolve({ status: 'ok', username: 'didops_bot' }),
  });
  return { app, bots };
}

const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function serve(): Promise<{ base: string; logs: Record<string, unknown>[] }> {
  const logs: Record<string, unknown>[] = [];
  const { app, bots } = buildApp(logs);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  closers.push(
    () => bots.stop(),
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, logs };
}
