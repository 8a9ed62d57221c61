// A small stand-in for Stripe's HTTP API: the endpoints our adapter calls, with idempotency-key replay
// as Stripe does it (same key, same answer, errors included), a test-chosen fate for each off-session
// charge, and a hook that delays or withholds any answer (a slow API, an answer lost on its way back).
// Tests put it behind nock (third-party HTTP faked, our code untouched); the benchmark, the end-to-end
// tests and the fault tests run it as a real local HTTP server through STRIPE_API_BASE.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type nock from 'nock';
import Stripe from 'stripe';

export type ChargeFate = 'succeed' | 'decline' | 'authentication_required' | 'server_error';

interface Reply {
  readonly status: number;
  readonly body: unknown;
}

/** A request the fake has handled and is about to answer (see FakeStripe.beforeReply). */
export interface HandledRequest {
  readonly method: string;
  /** Without the query string, e.g. "/v1/payment_intents". */
  readonly path: string;
  readonly idempotencyKey: string | undefined;
  readonly status: number;
  readonly body: unknown;
}

interface Session {
  id: string;
  object: 'checkout.session';
  url: string;
  status: 'open' | 'complete' | 'expired';
  payment_status: 'unpaid' | 'paid';
  amount_total: number;
  currency: string;
  customer: string | null;
  metadata: Record<string, string>;
  payment_intent: string | null;
  expires_at: number;
  success_url: string;
}

export const TEST_WEBHOOK_SECRET = 'whsec_test_secret_for_didops';
export const TEST_SECRET_KEY = 'sk_test_didops_fake';

const id = (prefix: string) => `${prefix}_${randomBytes(10).toString('hex')}`;

/** Flattens Stripe's form encoding: `metadata[order_id]=4` → { 'metadata[order_id]': '4' }. */
function form(body: string): Map<string, string> {
  return new Map(new URLSearchParams(body));
}

function nested(fields: Map<string, string>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of fields) {
    const m = new RegExp(`^${prefix.replace(/[[\]]/g, '\\$&')}\\[([^\\]]+)\\]$`).exec(key);
    if (m) out[m[1]!] = value;
  }
  return out;
}

export class FakeStripe {
  readonly sessions = new Map<string, Session>();
  readonly customers = new Map<string, { id: string; metadata: Record<string, string> }>();
  /** Every off-session charge that succeeded, by PaymentIntent id. */
  readonly charges = new Map<
    string,
    { amount: number; currency: string; customer: string; metadata: Record<string, string> }
  >();
  readonly refunds: { paymentIntent: string; amount: number }[] = [];
  /** Requests received, e.g. "POST /v1/payment_intents". */
  readonly requests: string[] = [];
  /** Decides each off-session charge; by default all succeed. */
  fate: (charge: { amount: number; customer: string; metadata: Record<string, string> }) => ChargeFate = () =>
    'succeed';
  /**
   * Runs once a request has been handled (an intent created, its answer kept for its idempotency key) and
   * before its answer is sent; the answer goes out when the promise settles. A slow API is a delay; an
   * answer lost on its way back (the charge happened, the caller never hears of it) is a promise that never
   * settles. By default every answer goes out at once.
   */
  beforeReply: (request: HandledRequest) => Promise<void> | void = () => undefined;
  private readonly idempotent = new Map<string, Reply>();

  /** Answers one API request the way Stripe would. */
  handle(method: string, path: string, body: string, idempotencyKey: string | undefined): Reply {
    this.requests.push(`${method} ${path.split('?')[0]}`);
    if (method === 'POST' && idempotencyKey) {
      const seen = this.idempotent.get(idempotencyKey);
      if (seen) return seen;
      const reply = this.route(method, path, form(body));
      // Our 5xx stands for a request that never ran (an outage in front of the API): nothing to replay.
      if (reply.status < 500) this.idempotent.set(idempotencyKey, reply);
      return reply;
    }
    return this.route(method, path, form(body));
  }

  private route(method: string, path: string, fields: Map<string, string>): Reply {
    const [base] = path.split('?') as [string];
    if (method === 'POST' && base === '/v1/customers') {
      const customer = { id: id('cus'), object: 'customer', metadata: nested(fields, 'metadata') };
      this.customers.set(customer.id, customer);
      return { status: 200, body: customer };
    }
    if (method === 'POST' && base === '/v1/checkout/sessions') return this.createSession(fields);
    const sessionPath = /^\/v1\/checkout\/sessions\/([^/]+)(\/expire)?$/.exec(base);
    if (sessionPath) {
      const session = this.sessions.get(sessionPath[1]!);
      if (!session) return notFound('checkout.session');
      if (method === 'POST' && sessionPath[2]) {
        if (session.status !== 'open') return invalidRequest('Only open sessions can be expired.');
        session.status = 'expired';
      }
      return { status: 200, body: this.sessionBody(session) };
    }
    if (method === 'POST' && base === '/v1/payment_intents') return this.charge(fields);
    if (method === 'POST' && base === '/v1/refunds') {
      const paymentIntent = fields.get('payment_intent') ?? '';
      const amount = Number(fields.get('amount'));
      this.refunds.push({ paymentIntent, amount });
      return {
        status: 200,
        body: { id: id('re'), object: 'refund', amount, payment_intent: paymentIntent, status: 'succeeded' },
      };
    }
    return notFound(base);
  }

  private createSession(fields: Map<string, string>): Reply {
    let total = 0;
    for (let i = 0; fields.has(`line_items[${i}][quantity]`); i++) {
      total +=
        Number(fields.get(`line_items[${i}][quantity]`)) *
        Number(fields.get(`line_items[${i}][price_data][unit_amount]`));
    }
    const session: Session = {
      id: id('cs_test'),
      object: 'checkout.session',
      url: '',
      status: 'open',
      payment_status: 'unpaid',
      amount_total: total,
      currency: fields.get('line_items[0][price_data][currency]') ?? 'usd',
      customer: fields.get('customer') ?? null,
      metadata: nested(fields, 'metadata'),
      payment_intent: null,
      expires_at: Number(fields.get('expires_at')),
      success_url: fields.get('success_url') ?? '',
    };
    session.url = `https://checkout.stripe.test/pay/${session.id}`;
    this.sessions.set(session.id, session);
    return { status: 200, body: this.sessionBody(session) };
  }

  private sessionBody(session: Session) {
    return { ...session, payment_intent: session.payment_intent };
  }

  private charge(fields: Map<string, string>): Reply {
    const amount = Number(fields.get('amount'));
    const customer = fields.get('customer') ?? '';
    const metadata = nested(fields, 'metadata');
    const fate = this.fate({ amount, customer, metadata });
    const intentId = id('pi');
    if (fate === 'server_error') {
      return {
        status: 500,
        body: { error: { type: 'api_error', message: 'Something went wrong on Stripe.' } },
      };
    }
    if (fate === 'decline' || fate === 'authentication_required') {
      const code = fate === 'decline' ? 'card_declined' : 'authentication_required';
      return {
        status: 402,
        body: {
          error: {
            type: 'card_error',
            code,
            ...(fate === 'decline' && { decline_code: 'insufficient_funds' }),
            message:
              fate === 'decline'
                ? 'Your card has insufficient funds.'
                : 'This payment requires authentication.',
            payment_intent: { id: intentId, object: 'payment_intent', status: 'requires_payment_method' },
          },
        },
      };
    }
    this.charges.set(intentId, { amount, currency: fields.get('currency') ?? 'usd', customer, metadata });
    return {
      status: 200,
      body: {
        id: intentId,
        object: 'payment_intent',
        status: 'succeeded',
        amount,
        currency: fields.get('currency'),
        metadata,
      },
    };
  }

  /** Waits for beforeReply to let the answer go: when its promise settles, fulfilled or not. */
  private async replyTime(request: HandledRequest): Promise<void> {
    try {
      await this.beforeReply(request);
    } catch {
      // A hook that fails still lets the answer out.
    }
  }

  /** The buyer pays on the hosted page: returns the `checkout.session.completed` event Stripe would send. */
  payCheckout(sessionId: string): Stripe.Event {
    const session = this.sessions.get(sessionId);
    if (!session) throw new Error(`No checkout session ${sessionId}`);
    if (session.status === 'open' || session.status === 'expired') {
      const intentId = id('pi');
      session.status = 'complete';
      session.payment_status = 'paid';
      session.payment_intent = intentId;
      this.charges.set(intentId, {
        amount: session.amount_total,
        currency: session.currency,
        customer: session.customer ?? '',
        metadata: session.metadata,
      });
    }
    return this.event('checkout.session.completed', {
      ...this.sessionBody(session),
      payment_intent: {
        id: session.payment_intent,
        object: 'payment_intent',
        payment_method: 'pm_card_visa_saved',
      },
    });
  }

  /** Stripe gave up on an unpaid page: the `checkout.session.expired` event. */
  expireCheckout(sessionId: string): Stripe.Event {
    const session = this.sessions.get(sessionId);
    if (!session) throw new Error(`No checkout session ${sessionId}`);
    if (session.status === 'open') session.status = 'expired';
    return this.event('checkout.session.expired', this.sessionBody(session));
  }

  event(type: string, object: unknown): Stripe.Event {
    return {
      id: id('evt'),
      object: 'event',
      api_version: '2026-10-28.endive',
      created: Math.floor(Date.now() / 1000),
      type,
      data: { object },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
    } as unknown as Stripe.Event;
  }

  /**
   * Puts this fake behind nock for api.stripe.com (or `base`) until `nock.cleanAll()`. nock is loaded here
   * and not at the top: loading it puts an interceptor in front of every HTTP request of the process, which
   * made a benchmark's load generator (which imports this file for the served fake) its own bottleneck.
   */
  async intercept(base = 'https://api.stripe.com'): Promise<nock.Scope> {
    const { default: nock } = await import('nock');
    // nock 15 hands a full reply function the fetch Request.
    const reply = async (request: Request): Promise<[number, string]> => {
      const url = new URL(request.url);
      const key = request.headers.get('idempotency-key') ?? undefined;
      const r = this.handle(request.method, url.pathname + url.search, await request.text(), key);
      await this.replyTime({ method: request.method, path: url.pathname, idempotencyKey: key, ...r });
      return [r.status, JSON.stringify(r.body)];
    };
    // nock 15's types still describe the old (uri, body) signature; the runtime passes the Request.
    const fullReply: unknown = reply;
    return nock(base).persist().post(/.*/).reply(fullReply).get(/.*/).reply(fullReply);
  }

  /** Serves this fake over HTTP on 127.0.0.1 (for STRIPE_API_BASE): benchmarks and browser tests. */
  async listen(): Promise<{ url: string; close: () => Promise<void> }> {
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const header = req.headers['idempotency-key'];
        const key = Array.isArray(header) ? header[0] : header;
        const method = req.method ?? 'GET';
        const url = req.url ?? '/';
        const r = this.handle(method, url, Buffer.concat(chunks).toString(), key);
        const path = url.split('?')[0]!;
        void this.replyTime({ method, path, idempotencyKey: key, ...r }).then(() => {
          // The caller may have gone meanwhile (a killed process): its answer is lost, as on the network.
          if (res.destroyed) return;
          res.writeHead(r.status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(r.body));
        });
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }
}

/** A webhook request body and its valid signature, as Stripe would send them. */
export function signedEvent(event: Stripe.Event, secret = TEST_WEBHOOK_SECRET, timestamp?: number) {
  const payload = JSON.stringify(event);
  const signature = Stripe.webhooks.generateTestHeaderString({
    payload,
    secret,
    ...(timestamp !== undefined && { timestamp }),
  });
  return { payload, signature };
}

function notFound(what: string): Reply {
  return { status: 404, body: { error: { type: 'invalid_request_error', message: `No such ${what}` } } };
}

function invalidRequest(message: string): Reply {
  return { status: 400, body: { error: { type: 'invalid_request_error', message } } };
}
