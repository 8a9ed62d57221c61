// Row types of the PostgreSQL schema (migrations/), as Kysely sees them. bigint columns arrive as JS
// numbers: connect.ts installs a parser that refuses values beyond Number.MAX_SAFE_INTEGER.
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Id = Generated<number>;
type Money = ColumnType<number, number | undefined, number>;

export const ACCOUNT_KINDS = ['admin', 'reseller', 'customer'] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];
export const ACCOUNT_STATUSES = ['active', 'suspended', 'closed'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];
export const BILLING_MODES = ['prepaid', 'postpaid'] as const;
export type BillingMode = (typeof BILLING_MODES)[number];
export const USER_ROLES = ['owner', 'admin', 'operator', 'viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];
export const DID_STATUSES = ['available', 'reserved', 'assigned', 'suspended', 'aging', 'disabled'] as const;
export type DidStatus = (typeof DID_STATUSES)[number];
export const NUMBER_TYPES = ['local', 'toll_free', 'mobile', 'national', 'other'] as const;
export type NumberType = (typeof NUMBER_TYPES)[number];
export const BILLING_TYPES = ['one_time', 'recurring'] as const;
export type BillingType = (typeof BILLING_TYPES)[number];
export const BILLING_PERIODS = ['days', 'monthly', 'yearly'] as const;
export type BillingPeriod = (typeof BILLING_PERIODS)[number];
export const DESTINATION_TYPES = ['sip', 'pstn', 'extension'] as const;
export type DestinationType = (typeof DESTINATION_TYPES)[number];
export const CAPABILITIES = ['voice', 'sms', 'mms', 'fax'] as const;
export type Capability = (typeof CAPABILITIES)[number];
export const CHANNELS = ['slack', 'telegram', 'web', 'cli', 'api', 'system'] as const;
export type Channel = (typeof CHANNELS)[number];
/** What a row of login_attempts counts against: failed log-ins, or password reset requests. */
export const ATTEMPT_KINDS = ['login', 'password_reset'] as const;
export type AttemptKind = (typeof ATTEMPT_KINDS)[number];

export interface AccountsTable {
  id: Id;
  kind: AccountKind;
  parent_id: number | null;
  path: Generated<string>;
  slug: string;
  name: string;
  billing_mode: Generated<BillingMode>;
  credit_limit: Generated<number>;
  currency: Generated<string>;
  status: Generated<AccountStatus>;
  call_transfer_enabled: Generated<boolean>;
  stripe_customer_id: string | null;
  email: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface UsersTable {
  id: Id;
  account_id: number;
  email: string | null;
  name: Generated<string>;
  role: UserRole;
  password_hash: string | null;
  slack_user_id: string | null;
  telegram_user_id: string | null;
  status: Generated<'active' | 'disabled'>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface ProvidersTable {
  id: Id;
  name: string;
  description: Generated<string>;
  created_at: CreatedAt;
}

export interface VendorBatchesTable {
  id: Id;
  provider_id: number;
  name: string;
  activation_cost: Money;
  recurring_cost: Money;
  currency: Generated<string>;
  created_at: CreatedAt;
}

export interface DidGroupsTable {
  id: Id;
  name: string;
  description: Generated<string>;
  created_at: CreatedAt;
}

export interface PricingBatchesTable {
  id: Id;
  owner_account_id: number;
  name: string;
  setup_fee: Money;
  recurring_fee: Money;
  currency: Generated<string>;
  billing_type: Generated<BillingType>;
  billing_period: Generated<BillingPeriod>;
  billing_days: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface DidsTable {
  id: Id;
  number: string;
  country: string;
  area_code: Generated<string>;
  number_type: Generated<NumberType>;
  city: Generated<string>;
  province: Generated<string>;
  provider_id: number | null;
  vendor_batch_id: number | null;
  group_id: number | null;
  pricing_batch_id: number | null;
  activation_cost: Money;
  recurring_cost: Money;
  setup_fee: Money;
  recurring_fee: Money;
  currency: Generated<string>;
  billing_type: Generated<BillingType>;
  billing_period: Generated<BillingPeriod>;
  billing_days: Generated<number>;
  connection_cost_micros: Money;
  per_minute_rate_micros: Money;
  grace_seconds: Generated<number>;
  initial_increment: Generated<number>;
  increment: Generated<number>;
  call_timeout_seconds: Generated<number>;
  max_concurrent_calls: Generated<number>;
  capabilities: ColumnType<Capability[], Capability[] | undefined, Capability[]>;
  description: Generated<string>;
  status: Generated<DidStatus>;
  owner_account_id: number | null;
  assigned_account_id: number | null;
  assigned_at: NullableTimestamp;
  freed_at: NullableTimestamp;
  aging_until: NullableTimestamp;
  destination_type: DestinationType | null;
  destination: string | null;
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface ReservationsTable {
  id: Id;
  did_id: number;
  account_id: number;
  status: Generated<'active' | 'converted' | 'expired' | 'canceled'>;
  expires_at: Timestamp;
  order_id: number | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface CallTransfersTable {
  did_id: number;
  enabled: Generated<boolean>;
  busy_destination: string | null;
  no_answer_destination: string | null;
  unreachable_destination: string | null;
  always_destination: string | null;
  ring_timeout_seconds: Generated<number>;
  updated_at: Timestamp;
}

export interface SubscriptionsTable {
  id: Id;
  did_id: number;
  account_id: number;
  status: Generated<'active' | 'past_due' | 'suspended' | 'canceled'>;
  billing_type: BillingType;
  billing_period: BillingPeriod;
  billing_days: number;
  setup_fee: number;
  recurring_fee: number;
  currency: string;
  anchor_day: number | null;
  current_period_start: Timestamp;
  current_period_end: Timestamp;
  cancel_at_period_end: Generated<boolean>;
  dunning_attempts: Generated<number>;
  next_retry_at: NullableTimestamp;
  canceled_at: NullableTimestamp;
  seller_account_id: number | null;
  order_id: number | null;
  upstream: ColumnType<UpstreamPrice[], string | undefined, string>;
  payment_method: Generated<PaymentMethod>;
  stripe_payment_method_id: string | null;
  last_failure: string | null;
  suspended_at: NullableTimestamp;
  release_at: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

/** What a reseller between the buyer and the operator owes its supplier for one number. */
export interface UpstreamPrice {
  readonly account_id: number;
  readonly seller_account_id: number;
  readonly setup_fee: number;
  readonly recurring_fee: number;
}

export const PAYMENT_METHODS = ['card', 'invoice'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];
export type SubscriptionStatus = 'active' | 'past_due' | 'suspended' | 'canceled';
export type OrderStatus = 'pending' | 'paid' | 'expired' | 'canceled' | 'failed';
export type ChargeKind = 'setup' | 'recurring' | 'adjustment' | 'refund';
export type PaymentStatus = 'pending' | 'succeeded' | 'failed' | 'requires_action' | 'refunded';
export const NOTIFICATION_KINDS = [
  'payment_failed',
  'number_suspended',
  'number_released',
  'renewal_receipt',
  'order_receipt',
  'payment_action_required',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface ResellerPricesTable {
  id: Id;
  reseller_account_id: number;
  pricing_batch_id: number | null;
  markup_bp: Generated<number>;
  setup_fee: number | null;
  recurring_fee: number | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface OrdersTable {
  id: Id;
  account_id: number;
  user_id: number | null;
  method: PaymentMethod;
  status: Generated<OrderStatus>;
  currency: string;
  total: number;
  submit_key: string;
  checkout_session_id: string | null;
  checkout_url: string | null;
  expires_at: Timestamp;
  paid_at: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface OrderItemsTable {
  id: Id;
  order_id: number;
  did_id: number;
  reservation_id: number | null;
  seller_account_id: number;
  setup_fee: number;
  recurring_fee: number;
  upstream: ColumnType<UpstreamPrice[], string | undefined, string>;
  outcome: Generated<'pending' | 'fulfilled' | 'refunded' | 'released'>;
}

export interface NotificationsTable {
  id: Id;
  account_id: number;
  kind: NotificationKind;
  key: string;
  data: ColumnType<Record<string, unknown>, string | undefined, string>;
  status: Generated<'pending' | 'sent' | 'failed' | 'skipped'>;
  attempts: Generated<number>;
  last_error: string | null;
  created_at: CreatedAt;
  sent_at: NullableTimestamp;
}

export interface InvoicesTable {
  id: Id;
  account_id: number;
  currency: string;
  period_start: Timestamp;
  period_end: Timestamp;
  status: Generated<'open' | 'issued' | 'paid' | 'void'>;
  issued_at: NullableTimestamp;
  paid_at: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface ChargesTable {
  id: Id;
  account_id: number;
  kind: ChargeKind;
  amount: number;
  currency: string;
  did_id: number | null;
  subscription_id: number | null;
  invoice_id: number | null;
  seller_account_id: number | null;
  order_id: number | null;
  period_start: NullableTimestamp;
  period_end: NullableTimestamp;
  description: Generated<string>;
  idempotency_key: string;
  created_at: CreatedAt;
}

export interface PaymentsTable {
  id: Id;
  account_id: number;
  amount: number;
  currency: string;
  method: 'card' | 'invoice' | 'manual';
  status: PaymentStatus;
  provider_ref: string | null;
  invoice_id: number | null;
  order_id: number | null;
  subscription_id: number | null;
  refunded_amount: Generated<number>;
  idempotency_key: string;
  failure_code: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface WebhookEventsTable {
  id: Id;
  provider: string;
  event_id: string;
  type: string;
  payload: unknown;
  received_at: CreatedAt;
  processed_at: NullableTimestamp;
}

export interface TelegramLinkTokensTable {
  id: Id;
  user_id: number;
  /** SHA-256 of the token, hex; the token itself is never stored. */
  token_hash: string;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
  created_at: CreatedAt;
}

export interface AuditEventsTable {
  id: Id;
  occurred_at: CreatedAt;
  channel: Channel;
  actor_user_id: number | null;
  actor_account_id: number | null;
  actor_label: string;
  action: string;
  did_id: number | null;
  account_id: number | null;
  subject: Generated<string>;
  before: ColumnType<unknown, string | null | undefined, never>;
  after: ColumnType<unknown, string | null | undefined, never>;
}

export const API_TOKEN_SCOPES = ['routing'] as const;
export type ApiTokenScope = (typeof API_TOKEN_SCOPES)[number];

export interface ApiTokensTable {
  id: Id;
  name: string;
  token_hash: string;
  prefix: string;
  scopes: ColumnType<ApiTokenScope[], ApiTokenScope[] | undefined, ApiTokenScope[]>;
  created_at: CreatedAt;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

export interface Database {
  accounts: AccountsTable;
  users: UsersTable;
  providers: ProvidersTable;
  vendor_batches: VendorBatchesTable;
  did_groups: DidGroupsTable;
  pricing_batches: PricingBatchesTable;
  dids: DidsTable;
  reservations: ReservationsTable;
  call_transfers: CallTransfersTable;
  subscriptions: SubscriptionsTable;
  invoices: InvoicesTable;
  charges: ChargesTable;
  payments: PaymentsTable;
  webhook_events: WebhookEventsTable;
  audit_events: AuditEventsTable;
  telegram_link_tokens: TelegramLinkTokensTable;
  api_tokens: ApiTokensTable;
  reseller_prices: ResellerPricesTable;
  orders: OrdersTable;
  order_items: OrderItemsTable;
  notifications: NotificationsTable;
  web_sessions: WebSessionsTable;
  login_attempts: LoginAttemptsTable;
  account_invitations: AccountInvitationsTable;
  password_reset_tokens: PasswordResetTokensTable;
  bulk_operations: BulkOperationsTable;
}

export type Account = Selectable<AccountsTable>;
export type User = Selectable<UsersTable>;
export type Provider = Selectable<ProvidersTable>;
export type VendorBatch = Selectable<VendorBatchesTable>;
export type DidGroup = Selectable<DidGroupsTable>;
export type PricingBatch = Selectable<PricingBatchesTable>;
export type Did = Selectable<DidsTable>;
export type NewDid = Insertable<DidsTable>;
export type DidUpdate = Updateable<DidsTable>;
export type AuditEvent = Selectable<AuditEventsTable>;
export type TelegramLinkToken = Selectable<TelegramLinkTokensTable>;
export type ApiToken = Selectable<ApiTokensTable>;
export type Subscription = Selectable<SubscriptionsTable>;
export type Order = Selectable<OrdersTable>;
export type OrderItem = Selectable<OrderItemsTable>;
export type Charge = Selectable<ChargesTable>;
export type Payment = Selectable<PaymentsTable>;
export type Invoice = Selectable<InvoicesTable>;
export type ResellerPrice = Selectable<ResellerPricesTable>;
export type Notification = Selectable<NotificationsTable>;

// Storefront sign-in (migration 2026-11-22T00-06). Token columns hold SHA-256 hex, never the token.
export interface WebSessionsTable {
  /** SHA-256 of the cookie's random token, hex. */
  id: string;
  user_id: number;
  csrf_secret: string;
  expires_at: Timestamp;
  created_at: CreatedAt;
  last_seen_at: Timestamp;
}

export interface LoginAttemptsTable {
  id: Id;
  kind: AttemptKind;
  email: string;
  ip: string;
  attempted_at: Timestamp;
}

export interface AccountInvitationsTable {
  id: Id;
  token_hash: string;
  reseller_account_id: number;
  email: string;
  created_by_user_id: number | null;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
  used_by_account_id: number | null;
  created_at: CreatedAt;
}

export interface PasswordResetTokensTable {
  id: Id;
  user_id: number;
  token_hash: string;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
  created_at: CreatedAt;
}

export type WebSession = Selectable<WebSessionsTable>;
export type AccountInvitation = Selectable<AccountInvitationsTable>;

// Back-office bulk work and imports (migration 2026-11-22T00-08): a draft, then queued, running, done/failed.
export const BULK_KINDS = [
  'assign',
  'pricing_batch',
  'group',
  'release',
  'enable',
  'disable',
  'import',
] as const;
export type BulkKind = (typeof BULK_KINDS)[number];
export type BulkStatus = 'draft' | 'queued' | 'running' | 'done' | 'failed';

export interface BulkOperationsTable {
  id: Id;
  kind: BulkKind;
  status: Generated<BulkStatus>;
  user_id: number;
  params: ColumnType<Record<string, unknown>, string | undefined, string>;
  input: string | null;
  as_of: Timestamp;
  total: Generated<number>;
  processed: Generated<number>;
  changed: Generated<number>;
  unchanged: Generated<number>;
  skipped: Generated<number>;
  details: ColumnType<unknown[], string | undefined, string>;
  cursor: string | null;
  error: string | null;
  created_at: CreatedAt;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  updated_at: Timestamp;
}

export type BulkOperation = Selectable<BulkOperationsTable>;
