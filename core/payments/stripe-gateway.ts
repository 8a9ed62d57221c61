// The Stripe adapter of the payments port: the only module that imports `stripe`. It turns our requests
// into Stripe calls (every write with an idempotency key) and Stripe's answers and errors into the port's
// outcomes: a decline or an authentication request is an outcome billing handles (dunning); a network
// error, a 5xx or a rate limit is PaymentTemporarilyUnavailableError, which the job queue retries with the
// same key, so Stripe replays the first result instead of charging again.
import Stripe from 'stripe';
import {
  InvalidSignatureError,
  PaymentTemporarilyUnavailableError,
  type ChargeOutcome,
  type CheckoutRequest,
  type CheckoutSession,
  type CompletedCheckout,
  type OffSessionCharge,
  type PaymentEvent,
  type PaymentGateway,
} from './gateway.ts';

export interface StripeGatewayOptions {
  readonly secretKey: string;
  readonly webhookSecret?: string;
  /** STRIPE_API_BASE: stripe-mock, a test double or a proxy. */
  readonly apiBase?: string;
  readonly timeoutMs?: number;
}

/** Decline codes after which the customer must come back and pay on-session (3-D Secure and friends). */
const ACTION_CODES = new Set(['authentication_required', 'card_authentication_required']);

export function createStripeGateway(options: StripeGatewayOptions): PaymentGateway {
  const base = options.apiBase ? new URL(options.apiBase) : undefined;
  const stripe = new Stripe(options.secretKey, {
    // Retries inside the SDK reuse the idempotency key; our job retries do the same from outside.
    maxNetworkRetries: 1,
    timeout: options.timeoutMs ?? 20_000,
    telemetry: false,
    ...(base && {
      host: base.hostname,
      port: base.port || (base.protocol === 'https:' ? 443 : 80),
      protocol: base.protocol === 'http:' ? ('http' as const) : ('https' as const),
    }),
  });

  const call = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw translate(what, error);
    }
  };

  return {
    async createCustomer({ accountId, name, email, idempotencyKey }) {
      const customer = await call('create a customer', () =>
        stripe.customers.create(
          { name, ...(email && { email }), metadata: { account_id: String(accountId) } },
          { idempotencyKey },
        ),
      );
      return customer.id;
    },

    async createCheckout(request: CheckoutRequest): Promise<CheckoutSession> {
      const session = await call('start a checkout', () =>
        stripe.checkout.sessions.create(
          {
            mode: 'payment',
            customer: request.customerId,
            line_items: request.lines.map((line) => ({
              quantity: line.quantity,
              price_data: {
                currency: request.currency.toLowerCase(),
                unit_amount: line.amount,
                product_data: { name: line.name },
              },
            })),
            success_url: request.successUrl,
            cancel_url: request.cancelUrl,
            expires_at: Math.floor(request.expiresAt.getTime() / 1000),
            metadata: { ...request.metadata },
            payment_intent_data: {
              metadata: { ...request.metadata },
              ...(request.saveCard && { setup_future_usage: 'off_session' as const }),
            },
          },
          { idempotencyKey: request.idempotencyKey },
        ),
      );
      if (!session.url)
        throw new PaymentTemporarilyUnavailableError('Stripe returned a checkout without a URL.');
      return { id: session.id, url: session.url };
    },

    async retrieveCheckout(sessionId) {
      const session = await call('read a checkout', () =>
        stripe.checkout.sessions.retrieve(sessionId, { expand: ['payment_intent'] }),
      );
      return completedCheckout(session);
    },

    async expireCheckout(sessionId) {
      await call('expire a checkout', async () => {
        try {
          await stripe.checkout.sessions.expire(sessionId);
        } catch (error) {
          // Already completed or expired: nothing to do; billing reads the session's real state anyway.
          if (error instanceof Stripe.errors.StripeInvalidRequestError) return;
          throw error;
        }
      });
    },

    async chargeOffSession(charge: OffSessionCharge): Promise<ChargeOutcome> {
      try {
        const intent = await stripe.paymentIntents.create(
          {
            customer: charge.customerId,
            payment_method: charge.paymentMethodId,
            amount: charge.amount,
            currency: charge.currency.toLowerCase(),
            description: charge.description,
            metadata: { ...charge.metadata },
            off_session: true,
            confirm: true,
          },
          { idempotencyKey: charge.idempotencyKey },
        );
        if (intent.status === 'succeeded') return { status: 'succeeded', paymentId: intent.id };
        if (intent.status === 'requires_action' || intent.status === 'requires_payment_method') {
          return { status: 'requires_action', paymentId: intent.id, code: 'authentication_required' };
        }
        // processing: the outcome arrives by webhook (payment.succeeded / payment.failed).
        throw new PaymentTemporarilyUnavailableError(
          `The payment is ${intent.status}; it will be checked again.`,
        );
      } catch (error) {
        if (error instanceof Stripe.errors.StripeCardError) {
          const code = error.decline_code ?? error.code ?? 'card_declined';
          const paymentId = error.payment_intent?.id ?? null;
          if (ACTION_CODES.has(error.code ?? '') || ACTION_CODES.has(code)) {
            return { status: 'requires_action', paymentId, code: 'authentication_required' };
          }
          return { status: 'declined', paymentId, code, message: error.message };
        }
        throw translate('charge a saved card', error);
      }
    },

    async refund({ paymentId, amount, idempotencyKey, reason }) {
      const refund = await call('refund a payment', () =>
        stripe.refunds.create(
          { payment_intent: paymentId, amount, metadata: { reason } },
          { idempotencyKey },
        ),
      );
      return refund.id;
    },

    parseWebhook(rawBody, signature) {
      if (!options.webhookSecret) throw new InvalidSignatureError('STRIPE_WEBHOOK_SECRET is not set.');
      if (!signature) throw new InvalidSignatureError('The Stripe-Signature header is missing.');
      let event: Stripe.Event;
      try {
        event = stripe.webhooks.constructEvent(rawBody, signature, options.webhookSecret);
      } catch (error) {
        throw new InvalidSignatureError(error instanceof Error ? error.message : 'Invalid signature.');
      }
      return paymentEvent(event);
    },
  };
}

function paymentEvent(event: Stripe.Event): PaymentEvent {
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
      return { id: event.id, type: 'checkout.completed', checkout: completedCheckout(event.data.object) };
    case 'checkout.session.expired':
      return {
        id: event.id,
        type: 'checkout.expired',
        sessionId: event.data.object.id,
        metadata: event.data.object.metadata ?? {},
      };
    case 'payment_intent.succeeded':
    case 'payment_intent.payment_failed':
      return {
        id: event.id,
        type: event.type === 'payment_intent.succeeded' ? 'payment.succeeded' : 'payment.failed',
        paymentId: event.data.object.id,
        metadata: event.data.object.metadata ?? {},
      };
    default:
      return { id: event.id, type: 'ignored', providerType: event.type };
  }
}

function completedCheckout(session: Stripe.Checkout.Session): CompletedCheckout {
  const intent = session.payment_intent;
  const paymentId = typeof intent === 'string' ? intent : (intent?.id ?? null);
  const method = typeof intent === 'object' && intent !== null ? intent.payment_method : null;
  return {
    sessionId: session.id,
    paid: session.payment_status === 'paid' || session.payment_status === 'no_payment_required',
    paymentId,
    paymentMethodId: typeof method === 'string' ? method : (method?.id ?? null),
    customerId: typeof session.customer === 'string' ? session.customer : (session.customer?.id ?? null),
    amountTotal: session.amount_total ?? 0,
    currency: (session.currency ?? 'usd').toUpperCase(),
    metadata: session.metadata ?? {},
  };
}

/** Errors worth retrying become PaymentTemporarilyUnavailableError; the rest are bugs or setup problems. */
function translate(what: string, error: unknown): Error {
  if (
    error instanceof Stripe.errors.StripeConnectionError ||
    error instanceof Stripe.errors.StripeAPIError ||
    error instanceof Stripe.errors.StripeRateLimitError ||
    (error instanceof Stripe.errors.StripeError && (error.statusCode ?? 0) >= 500)
  ) {
    return new PaymentTemporarilyUnavailableError(`Stripe could not ${what} right now.`, { cause: error });
  }
  if (error instanceof PaymentTemporarilyUnavailableError) return error;
  return new Error(`Stripe refused to ${what}: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
}
