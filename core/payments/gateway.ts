// The payments port: what billing needs from a card processor, in our own terms. Only the Stripe adapter
// (stripe-gateway.ts) knows Stripe's SDK and wire format; billing and its tests speak this interface.
import { DomainError } from '../shared/errors.ts';

export interface CheckoutLine {
  readonly name: string;
  /** Minor units. */
  readonly amount: number;
  readonly quantity: number;
}

export interface CheckoutRequest {
  readonly customerId: string;
  readonly currency: string;
  readonly lines: readonly CheckoutLine[];
  readonly successUrl: string;
  readonly cancelUrl: string;
  /** The hosted page stops accepting payment at this time (Stripe allows 30 minutes to 24 hours). */
  readonly expiresAt: Date;
  /** Ours, echoed back in webhooks: e.g. { order_id: "42" }. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly idempotencyKey: string;
  /** Keep the card for renewals charged without the customer present. */
  readonly saveCard: boolean;
}

export interface CheckoutSession {
  readonly id: string;
  readonly url: string;
}

export interface OffSessionCharge {
  readonly customerId: string;
  readonly paymentMethodId: string;
  readonly amount: number;
  readonly currency: string;
  readonly description: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Same key, same result: a retried renewal never charges twice. */
  readonly idempotencyKey: string;
}

export type ChargeOutcome =
  | { readonly status: 'succeeded'; readonly paymentId: string }
  /** The bank wants the customer present (3-D Secure): never retried off-session. */
  | { readonly status: 'requires_action'; readonly paymentId: string | null; readonly code: string }
  | {
      readonly status: 'declined';
      readonly paymentId: string | null;
      readonly code: string;
      readonly message: string;
    };

export interface CompletedCheckout {
  readonly sessionId: string;
  readonly paid: boolean;
  readonly paymentId: string | null;
  /** The saved card, for off-session renewals. */
  readonly paymentMethodId: string | null;
  readonly customerId: string | null;
  readonly amountTotal: number;
  readonly currency: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** A verified webhook event, reduced to what billing acts on. */
export type PaymentEvent =
  | { readonly id: string; readonly type: 'checkout.completed'; readonly checkout: CompletedCheckout }
  | {
      readonly id: string;
      readonly type: 'checkout.expired';
      readonly sessionId: string;
      readonly metadata: Readonly<Record<string, string>>;
    }
  | {
      readonly id: string;
      readonly type: 'payment.succeeded' | 'payment.failed';
      readonly paymentId: string;
      readonly metadata: Readonly<Record<string, string>>;
    }
  | { readonly id: string; readonly type: 'ignored'; readonly providerType: string };

export interface PaymentGateway {
  /** Creates the processor's customer for one of our accounts. */
  createCustomer(input: {
    accountId: number;
    name: string;
    email: string | null;
    idempotencyKey: string;
  }): Promise<string>;
  createCheckout(request: CheckoutRequest): Promise<CheckoutSession>;
  /** Re-reads a session: webhooks may arrive late or out of order, the processor's state is the truth. */
  retrieveCheckout(sessionId: string): Promise<CompletedCheckout>;
  expireCheckout(sessionId: string): Promise<void>;
  chargeOffSession(charge: OffSessionCharge): Promise<ChargeOutcome>;
  refund(input: {
    paymentId: string;
    amount: number;
    idempotencyKey: string;
    reason: string;
  }): Promise<string>;
  /** Verifies the signature over the raw body; throws InvalidSignatureError when it does not hold. */
  parseWebhook(rawBody: Buffer, signature: string | undefined): PaymentEvent;
}

export class InvalidSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidSignatureError';
  }
}

/** The processor did not answer usefully (network, 5xx, rate limit): try again later with the same key. */
export class PaymentTemporarilyUnavailableError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, { help: 'Please try again in a minute.', cause: options?.cause });
    this.name = 'PaymentTemporarilyUnavailableError';
  }
}
