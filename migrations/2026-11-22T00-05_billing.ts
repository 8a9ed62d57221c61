// Billing: reseller price lists, orders (a checkout of one or more numbers), subscription details for
// dunning and reseller chains, the seller of each charge (so a reseller's margin is a query), and
// notifications as rows that jobs deliver.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- A reseller's prices for its customers (seed 003). A rule applies to the numbers of one of its
    -- supplier's pricing batches, or (pricing_batch_id NULL) to every number; fixed fees win over the
    -- markup. A reseller without rules sells at its own cost: never below it, never at 0 by accident.
    CREATE TABLE reseller_prices (
      id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      reseller_account_id bigint NOT NULL REFERENCES accounts (id),
      pricing_batch_id    bigint REFERENCES pricing_batches (id),
      markup_bp           integer NOT NULL DEFAULT 0 CHECK (markup_bp BETWEEN 0 AND 1000000),
      setup_fee           bigint CHECK (setup_fee >= 0),
      recurring_fee       bigint CHECK (recurring_fee >= 0),
      created_at          timestamptz NOT NULL DEFAULT now(),
      updated_at          timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX reseller_prices_rule_idx
      ON reseller_prices (reseller_account_id, coalesce(pricing_batch_id, 0));
    CREATE TRIGGER reseller_prices_touch BEFORE UPDATE ON reseller_prices
      FOR EACH ROW EXECUTE FUNCTION didops_touch();

    -- A checkout: the numbers a buyer picked, priced by the server, paid by card or on account.
    -- submit_key comes from the form, so a double-clicked pay button finds the first order.
    CREATE TABLE orders (
      id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      account_id          bigint NOT NULL REFERENCES accounts (id),
      user_id             bigint REFERENCES users (id),
      method              text NOT NULL CHECK (method IN ('card', 'invoice')),
      status              text NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'paid', 'expired', 'canceled', 'failed')),
      currency            char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      total               bigint NOT NULL CHECK (total >= 0),
      submit_key          text NOT NULL UNIQUE CHECK (length(submit_key) BETWEEN 8 AND 100),
      checkout_session_id text UNIQUE,
      checkout_url        text,
      expires_at          timestamptz NOT NULL,
      paid_at             timestamptz,
      created_at          timestamptz NOT NULL DEFAULT now(),
      updated_at          timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX orders_account_idx ON orders (account_id, created_at);
    CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION didops_touch();

    -- One number of an order, with the prices frozen when the buyer saw them. upstream holds what each
    -- reseller above the buyer owes its own supplier: [{ "account_id", "seller_account_id", "setup_fee",
    -- "recurring_fee" }], nearest first.
    CREATE TABLE order_items (
      id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      order_id         bigint NOT NULL REFERENCES orders (id),
      did_id           bigint NOT NULL REFERENCES dids (id),
      reservation_id   bigint REFERENCES reservations (id),
      seller_account_id bigint NOT NULL REFERENCES accounts (id),
      setup_fee        bigint NOT NULL CHECK (setup_fee >= 0),
      recurring_fee    bigint NOT NULL CHECK (recurring_fee >= 0),
      upstream         jsonb NOT NULL DEFAULT '[]',
      outcome          text NOT NULL DEFAULT 'pending'
                         CHECK (outcome IN ('pending', 'fulfilled', 'refunded', 'released')),
      UNIQUE (order_id, did_id)
    );
    CREATE INDEX order_items_did_idx ON order_items (did_id);

    ALTER TABLE reservations ADD COLUMN order_id bigint REFERENCES orders (id);

    ALTER TABLE subscriptions
      ADD COLUMN seller_account_id bigint REFERENCES accounts (id),
      ADD COLUMN order_id bigint REFERENCES orders (id),
      ADD COLUMN upstream jsonb NOT NULL DEFAULT '[]',
      ADD COLUMN payment_method text NOT NULL DEFAULT 'invoice' CHECK (payment_method IN ('card', 'invoice')),
      ADD COLUMN stripe_payment_method_id text,
      ADD COLUMN last_failure text,
      ADD COLUMN suspended_at timestamptz,
      ADD COLUMN release_at timestamptz;
    CREATE INDEX subscriptions_retry_idx ON subscriptions (next_retry_at) WHERE status = 'past_due';
    CREATE INDEX subscriptions_release_idx ON subscriptions (release_at) WHERE status = 'suspended';

    -- Who receives the money of a charge: the operator, or the reseller that sold to this account.
    ALTER TABLE charges ADD COLUMN seller_account_id bigint REFERENCES accounts (id);
    ALTER TABLE charges ADD COLUMN order_id bigint REFERENCES orders (id);
    CREATE INDEX charges_seller_idx ON charges (seller_account_id, created_at);

    ALTER TABLE payments
      ADD COLUMN order_id bigint REFERENCES orders (id),
      ADD COLUMN subscription_id bigint REFERENCES subscriptions (id),
      ADD COLUMN refunded_amount bigint NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0);
    ALTER TABLE payments DROP CONSTRAINT payments_status_check;
    ALTER TABLE payments ADD CONSTRAINT payments_status_check
      CHECK (status IN ('pending', 'succeeded', 'failed', 'requires_action', 'refunded'));

    -- A message to an account (payment failed, number suspended...). The row is the truth; a job delivers
    -- it to the account's channels and retries; key makes each notice happen once.
    CREATE TABLE notifications (
      id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      account_id   bigint NOT NULL REFERENCES accounts (id),
      kind         text NOT NULL CHECK (kind IN ('payment_failed', 'number_suspended', 'number_released',
                                                  'renewal_receipt', 'order_receipt', 'payment_action_required')),
      key          text NOT NULL UNIQUE,
      data         jsonb NOT NULL DEFAULT '{}',
      status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
      attempts     integer NOT NULL DEFAULT 0,
      last_error   text,
      created_at   timestamptz NOT NULL DEFAULT now(),
      sent_at      timestamptz
    );
    CREATE INDEX notifications_pending_idx ON notifications (created_at) WHERE status = 'pending';
    CREATE INDEX notifications_account_idx ON notifications (account_id, created_at);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE notifications;
    ALTER TABLE payments DROP CONSTRAINT payments_status_check;
    ALTER TABLE payments ADD CONSTRAINT payments_status_check
      CHECK (status IN ('pending', 'succeeded', 'failed', 'refunded'));
    ALTER TABLE payments DROP COLUMN order_id, DROP COLUMN subscription_id, DROP COLUMN refunded_amount;
    ALTER TABLE charges DROP COLUMN seller_account_id, DROP COLUMN order_id;
    ALTER TABLE subscriptions DROP COLUMN seller_account_id, DROP COLUMN order_id, DROP COLUMN upstream,
      DROP COLUMN payment_method, DROP COLUMN stripe_payment_method_id, DROP COLUMN last_failure,
      DROP COLUMN suspended_at, DROP COLUMN release_at;
    ALTER TABLE reservations DROP COLUMN order_id;
    DROP TABLE order_items;
    DROP TABLE orders;
    DROP TABLE reseller_prices;
  `.execute(db);
}
