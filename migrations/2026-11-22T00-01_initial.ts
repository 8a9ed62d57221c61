// Initial schema: every entity of DESIGN §3. Frozen in time: this file never imports app code and is never
// edited once released; later changes come as new migrations.
//
// Rules the database enforces itself, so no code path can break them:
// - a number is unique and stored as E.164; money is integer minor units (bigint), never negative where
//   a negative amount is meaningless;
// - a DID's status agrees with its holders (an assigned number has an account, an available one has none);
// - the account tree is a tree (a materialized path kept by a trigger, parents fixed at creation);
// - the ledger is append-only (charges and audit events cannot be updated or deleted).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE EXTENSION IF NOT EXISTS pg_trgm;

    CREATE FUNCTION didops_touch() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.updated_at := now();
      RETURN NEW;
    END $$;

    CREATE FUNCTION didops_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END $$;

    -- Accounts ------------------------------------------------------------------------------------------
    CREATE TABLE accounts (
      id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      kind          text NOT NULL CHECK (kind IN ('admin', 'reseller', 'customer')),
      parent_id     bigint REFERENCES accounts (id),
      path          text NOT NULL COLLATE "C",
      slug          text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
      name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      billing_mode  text NOT NULL DEFAULT 'prepaid' CHECK (billing_mode IN ('prepaid', 'postpaid')),
      credit_limit  bigint NOT NULL DEFAULT 0 CHECK (credit_limit >= 0),
      currency      char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
      status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
      call_transfer_enabled boolean NOT NULL DEFAULT true,
      stripe_customer_id text UNIQUE,
      email         text,
      created_at    timestamptz NOT NULL DEFAULT now(),
      updated_at    timestamptz NOT NULL DEFAULT now(),
      -- The operator (kind admin) is the root; everyone else hangs under the operator or a reseller.
      CHECK ((kind = 'admin') = (parent_id IS NULL))
    );
    CREATE INDEX accounts_path_idx ON accounts (path);
    -- There is one operator: the root of the tree.
    CREATE UNIQUE INDEX accounts_one_operator_idx ON accounts (kind) WHERE kind = 'admin';
    CREATE INDEX accounts_parent_idx ON accounts (parent_id);

    CREATE FUNCTION didops_account_path() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE parent accounts%ROWTYPE;
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        IF NEW.parent_id IS DISTINCT FROM OLD.parent_id OR NEW.path IS DISTINCT FROM OLD.path
           OR NEW.kind IS DISTINCT FROM OLD.kind THEN
          RAISE EXCEPTION 'an account''s kind and place in the hierarchy are fixed at creation'
            USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END IF;
      IF NEW.parent_id IS NULL THEN
        NEW.path := '/' || NEW.id || '/';
      ELSE
        SELECT * INTO parent FROM accounts WHERE id = NEW.parent_id;
        IF parent.kind = 'customer' THEN
          RAISE EXCEPTION 'a customer account cannot have accounts under it' USING ERRCODE = 'check_violation';
        END IF;
        NEW.path := parent.path || NEW.id || '/';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER accounts_path BEFORE INSERT OR UPDATE ON accounts
      FOR EACH ROW EXECUTE FUNCTION didops_account_path();
    CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION didops_touch();

    CREATE TABLE users (
      id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      account_id       bigint NOT NULL REFERENCES accounts (id),
      email            text CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
      name             text NOT NULL DEFAULT '',
      role             text NOT NULL CHECK (role IN ('owner', 'admin', 'operator', 'viewer')),
      password_hash    text,
      slack_user_id    text UNIQUE,
      telegram_user_id text UNIQUE,
      status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
      created_at       timestamptz NOT NULL DEFAULT now(),
      updated_at       timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX users_email_idx ON users (lower(email));
    CREATE INDEX users_account_idx ON users (account_id);
    CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION didops_touch();

    -- Catalog -------------------------------------------------------------------------------------------
    CREATE TABLE providers (
      id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
      description text NOT NULL DEFAULT '',
      created_at  timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE vendor_batches (
      id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      provider_id     bigint NOT NULL REFERENCES providers (id),
      name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
      activation_cost bigint NOT NULL DEFAULT 0 CHECK (activation_cost >= 0),
      recurring_cost  bigint NOT NULL DEFAULT 0 CHECK (recurring_cost >= 0),
      currency        char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
      created_at      timestamptz NOT NULL DEFAULT now(),
      UNIQUE (provider_id, name)
    );

    CREATE TABLE did_groups (
      id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
      description text NOT NULL DEFAULT '',
      created_at  timestamptz NOT NULL DEFAULT now()
    );

    -- A price list. Owned by the operator (wholesale/direct prices) or by a reseller (its customers' prices).
    CREATE TABLE pricing_batches (
      id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      owner_account_id bigint NOT NULL REFERENCES accounts (id),
      name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
      setup_fee        bigint NOT NULL DEFAULT 0 CHECK (setup_fee >= 0),
      recurring_fee    bigint NOT NULL DEFAULT 0 CHECK (recurring_fee >= 0),
      currency         char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
      billing_type     text NOT NULL DEFAULT 'recurring' CHECK (billing_type IN ('one_time', 'recurring')),
      billing_period   text NOT NULL DEFAULT 'monthly' CHECK (billing_period IN ('days', 'monthly', 'yearly')),
      billing_days     integer NOT NULL DEFAULT 30 CHECK (billing_days BETWEEN 1 AND 3660),
      created_at       timestamptz NOT NULL DEFAULT now(),
      updated_at       timestamptz NOT NULL DEFAULT now(),
      UNIQUE (owner_account_id, name)
    );
    CREATE TRIGGER pricing_batches_touch BEFORE UPDATE ON pricing_batches
      FOR EACH ROW EXECUTE FUNCTION didops_touch();

    -- DIDs ----------------------------------------------------------------------------------------------
    CREATE TABLE dids (
      id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      -- "C" collation so a btree on number serves LIKE '1866%' prefix searches.
      number              text NOT NULL COLLATE "C" UNIQUE CHECK (number ~ '^[+][1-9][0-9]{6,14}$'),
      country             char(2) NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
      area_code           text NOT NULL DEFAULT '' COLLATE "C",
      number_type         text NOT NULL DEFAULT 'local'
                            CHECK (number_type IN ('local', 'toll_free', 'mobile', 'national', 'other')),
      city                text NOT NULL DEFAULT '',
      province            text NOT NULL DEFAULT '',
      provider_id         bigint REFERENCES providers (id),
      vendor_batch_id     bigint REFERENCES vendor_batches (id),
      group_id            bigint REFERENCES did_groups (id),
      pricing_batch_id    bigint REFERENCES pricing_batches (id),
      -- What the operator pays the carrier (ASTPP "buy cost"; PortaBilling activation/recurring cost).
      activation_cost     bigint NOT NULL DEFAULT 0 CHECK (activation_cost >= 0),
      recurring_cost      bigint NOT NULL DEFAULT 0 CHECK (recurring_cost >= 0),
      -- What the buyer pays the operator.
      setup_fee           bigint NOT NULL DEFAULT 0 CHECK (setup_fee >= 0),
      recurring_fee       bigint NOT NULL DEFAULT 0 CHECK (recurring_fee >= 0),
      currency            char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
      billing_type        text NOT NULL DEFAULT 'recurring' CHECK (billing_type IN ('one_time', 'recurring')),
      billing_period      text NOT NULL DEFAULT 'monthly' CHECK (billing_period IN ('days', 'monthly', 'yearly')),
      billing_days        integer NOT NULL DEFAULT 30 CHECK (billing_days BETWEEN 1 AND 3660),
      -- Call rating (seed 000). Rates need sub-cent precision, so they are micro-units (1e-6 of the currency).
      connection_cost_micros  bigint NOT NULL DEFAULT 0 CHECK (connection_cost_micros >= 0),
      per_minute_rate_micros  bigint NOT NULL DEFAULT 0 CHECK (per_minute_rate_micros >= 0),
      grace_seconds       integer NOT NULL DEFAULT 0 CHECK (grace_seconds BETWEEN 0 AND 3600),
      initial_increment   integer NOT NULL DEFAULT 1 CHECK (initial_increment BETWEEN 1 AND 3600),
      increment           integer NOT NULL DEFAULT 1 CHECK (increment BETWEEN 1 AND 3600),
      call_timeout_seconds integer NOT NULL DEFAULT 30 CHECK (call_timeout_seconds BETWEEN 1 AND 600),
      max_concurrent_calls integer NOT NULL DEFAULT 0 CHECK (max_concurrent_calls >= 0),
      capabilities        text[] NOT NULL DEFAULT '{voice}'
                            CHECK (capabilities <@ ARRAY['voice', 'sms', 'mms', 'fax']::text[]),
      description         text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
      status              text NOT NULL DEFAULT 'available'
                            CHECK (status IN ('available', 'reserved', 'assigned', 'suspended', 'aging', 'disabled')),
      owner_account_id    bigint REFERENCES accounts (id),
      assigned_account_id bigint REFERENCES accounts (id),
      assigned_at         timestamptz,
      freed_at            timestamptz,
      aging_until         timestamptz,
      destination_type    text CHECK (destination_type IN ('sip', 'pstn', 'extension')),
      destination         text CHECK (length(destination) <= 255),
      version             integer NOT NULL DEFAULT 1,
      created_at          timestamptz NOT NULL DEFAULT now(),
      updated_at          timestamptz NOT NULL DEFAULT now(),
      CHECK ((destination_type IS NULL) = (destination IS NULL)),
      -- A number in the pool belongs to nobody; a number in use belongs to somebody.
      CHECK (status NOT IN ('available', 'aging', 'disabled')
             OR (owner_account_id IS NULL AND assigned_account_id IS NULL)),
      CHECK (status NOT IN ('assigned', 'suspended')
             OR owner_account_id IS NOT NULL OR assigned_account_id IS NOT NULL),
      CHECK ((assigned_account_id IS NULL) OR status IN ('assigned', 'suspended')),
      CHECK ((status = 'aging') = (aging_until IS NOT NULL))
    );
    CREATE INDEX dids_number_trgm_idx ON dids USING gin (number gin_trgm_ops);
    CREATE INDEX dids_available_number_idx ON dids (number) WHERE status = 'available';
    CREATE INDEX dids_country_city_idx ON dids (country, city, number);
    CREATE INDEX dids_status_idx ON dids (status, number);
    CREATE INDEX dids_owner_idx ON dids (owner_account_id, number) WHERE owner_account_id IS NOT NULL;
    CREATE INDEX dids_assigned_idx ON dids (assigned_account_id, number) WHERE assigned_account_id IS NOT NULL;
    CREATE INDEX dids_pricing_batch_idx ON dids (pricing_batch_id);
    CREATE INDEX dids_group_idx ON dids (group_id);
    CREATE INDEX dids_provider_idx ON dids (provider_id);
    CREATE INDEX dids_vendor_batch_idx ON dids (vendor_batch_id);
    CREATE INDEX dids_aging_idx ON dids (aging_until) WHERE status = 'aging';

    -- Every change bumps the version, so a stale button or a bulk page loaded earlier can tell.
    CREATE FUNCTION didops_did_touch() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.updated_at := now();
      NEW.version := OLD.version + 1;
      RETURN NEW;
    END $$;
    CREATE TRIGGER dids_touch BEFORE UPDATE ON dids FOR EACH ROW EXECUTE FUNCTION didops_did_touch();

    CREATE TABLE reservations (
      id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      did_id      bigint NOT NULL REFERENCES dids (id),
      account_id  bigint NOT NULL REFERENCES accounts (id),
      status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'converted', 'expired', 'canceled')),
      expires_at  timestamptz NOT NULL,
      created_at  timestamptz NOT NULL DEFAULT now(),
      updated_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX reservations_one_active_idx ON reservations (did_id) WHERE status = 'active';
    CREATE INDEX reservations_expiry_idx ON reservations (expires_at) WHERE status = 'active';
    CREATE TRIGGER reservations_touch BEFORE UPDATE ON reservations FOR EACH ROW EXECUTE FUNCTION didops_touch();

    -- Call transfer (seed 002): one row per DID; the destination's form tells its type (sip: URI or E.164).
    CREATE TABLE call_transfers (
      did_id                  bigint PRIMARY KEY REFERENCES dids (id),
      enabled                 boolean NOT NULL DEFAULT false,
      busy_destination        text CHECK (length(busy_destination) <= 255),
      no_answer_destination   text CHECK (length(no_answer_destination) <= 255),
      unreachable_destination text CHECK (length(unreachable_destination) <= 255),
      always_destination      text CHECK (length(always_destination) <= 255),
      ring_timeout_seconds    integer NOT NULL DEFAULT 20 CHECK (ring_timeout_seconds BETWEEN 5 AND 300),
      updated_at              timestamptz NOT NULL DEFAULT now()
    );
    CREATE TRIGGER call_transfers_touch BEFORE UPDATE ON call_transfers FOR EACH ROW EXECUTE FUNCTION didops_touch();

    -- Billing -------------------------------------------------------------------------------------------
    CREATE TABLE subscriptions (
      id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      did_id               bigint NOT NULL REFERENCES dids (id),
      account_id           bigint NOT NULL REFERENCES accounts (id),
      status               text NOT NULL DEFAULT 'active'
                             CHECK (status IN ('active', 'past_due', 'suspended', 'canceled')),
      billing_type         text NOT NULL CHECK (billing_type IN ('one_time', 'recurring')),
      billing_period       text NOT NULL CHECK (billing_period IN ('days', 'monthly', 'yearly')),
      billing_days         integer NOT NULL CHECK (billing_days BETWEEN 1 AND 3660),
      setup_fee            bigint NOT NULL CHECK (setup_fee >= 0),
      recurring_fee        bigint NOT NULL CHECK (recurring_fee >= 0),
      currency             char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      -- Calendar periods keep the day of month they started on (31 Jan -> 28 Feb -> 31 Mar).
      anchor_day           integer CHECK (anchor_day BETWEEN 1 AND 31),
      current_period_start timestamptz NOT NULL,
      current_period_end   timestamptz NOT NULL CHECK (current_period_end > current_period_start),
      cancel_at_period_end boolean NOT NULL DEFAULT false,
      dunning_attempts     integer NOT NULL DEFAULT 0 CHECK (dunning_attempts >= 0),
      next_retry_at        timestamptz,
      canceled_at          timestamptz,
      created_at           timestamptz NOT NULL DEFAULT now(),
      updated_at           timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX subscriptions_one_live_idx ON subscriptions (did_id) WHERE status <> 'canceled';
    CREATE INDEX subscriptions_due_idx ON subscriptions (current_period_end) WHERE status IN ('active', 'past_due');
    CREATE INDEX subscriptions_account_idx ON subscriptions (account_id);
    CREATE TRIGGER subscriptions_touch BEFORE UPDATE ON subscriptions FOR EACH ROW EXECUTE FUNCTION didops_touch();

    CREATE TABLE invoices (
      id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      account_id   bigint NOT NULL REFERENCES accounts (id),
      currency     char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      period_start timestamptz NOT NULL,
      period_end   timestamptz NOT NULL CHECK (period_end > period_start),
      status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'issued', 'paid', 'void')),
      issued_at    timestamptz,
      paid_at      timestamptz,
      created_at   timestamptz NOT NULL DEFAULT now(),
      updated_at   timestamptz NOT NULL DEFAULT now(),
      UNIQUE (account_id, currency, period_start)
    );
    CREATE TRIGGER invoices_touch BEFORE UPDATE ON invoices FOR EACH ROW EXECUTE FUNCTION didops_touch();

    -- The ledger. A charge is never edited: corrections are new adjustment or refund rows.
    CREATE TABLE charges (
      id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      account_id      bigint NOT NULL REFERENCES accounts (id),
      kind            text NOT NULL CHECK (kind IN ('setup', 'recurring', 'adjustment', 'refund')),
      amount          bigint NOT NULL,
      currency        char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      did_id          bigint REFERENCES dids (id),
      subscription_id bigint REFERENCES subscriptions (id),
      invoice_id      bigint REFERENCES invoices (id),
      period_start    timestamptz,
      period_end      timestamptz,
      description     text NOT NULL DEFAULT '',
      idempotency_key text NOT NULL UNIQUE,
      created_at      timestamptz NOT NULL DEFAULT now(),
      CHECK (kind <> 'refund' OR amount <= 0),
      CHECK (kind NOT IN ('setup', 'recurring') OR amount >= 0)
    );
    CREATE INDEX charges_account_idx ON charges (account_id, created_at);
    CREATE INDEX charges_subscription_idx ON charges (subscription_id);
    CREATE INDEX charges_invoice_idx ON charges (invoice_id);
    CREATE TRIGGER charges_append_only BEFORE UPDATE OR DELETE ON charges
      FOR EACH ROW EXECUTE FUNCTION didops_append_only();

    CREATE TABLE payments (
      id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      account_id      bigint NOT NULL REFERENCES accounts (id),
      amount          bigint NOT NULL CHECK (amount > 0),
      currency        char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      method          text NOT NULL CHECK (method IN ('card', 'invoice', 'manual')),
      status          text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'refunded')),
      provider_ref    text UNIQUE,
      invoice_id      bigint REFERENCES invoices (id),
      idempotency_key text NOT NULL UNIQUE,
      failure_code    text,
      created_at      timestamptz NOT NULL DEFAULT now(),
      updated_at      timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX payments_account_idx ON payments (account_id, created_at);
    CREATE TRIGGER payments_touch BEFORE UPDATE ON payments FOR EACH ROW EXECUTE FUNCTION didops_touch();

    CREATE TABLE webhook_events (
      id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      provider     text NOT NULL,
      event_id     text NOT NULL,
      type         text NOT NULL,
      payload      jsonb NOT NULL,
      received_at  timestamptz NOT NULL DEFAULT now(),
      processed_at timestamptz,
      UNIQUE (provider, event_id)
    );

    -- Audit ---------------------------------------------------------------------------------------------
    -- No foreign keys: the trail outlives what it describes.
    CREATE TABLE audit_events (
      id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      occurred_at      timestamptz NOT NULL DEFAULT now(),
      channel          text NOT NULL CHECK (channel IN ('slack', 'telegram', 'web', 'cli', 'api', 'system')),
      actor_user_id    bigint,
      actor_account_id bigint,
      actor_label      text NOT NULL,
      action           text NOT NULL,
      did_id           bigint,
      account_id       bigint,
      subject          text NOT NULL DEFAULT '',
      before           jsonb,
      after            jsonb
    );
    CREATE INDEX audit_events_did_idx ON audit_events (did_id, id) WHERE did_id IS NOT NULL;
    CREATE INDEX audit_events_account_idx ON audit_events (account_id, id) WHERE account_id IS NOT NULL;
    CREATE INDEX audit_events_actor_idx ON audit_events (actor_user_id, id) WHERE actor_user_id IS NOT NULL;
    CREATE INDEX audit_events_time_idx ON audit_events (occurred_at);
    CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION didops_append_only();
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS audit_events, webhook_events, payments, charges, invoices, subscriptions,
      call_transfers, reservations, dids, pricing_batches, did_groups, vendor_batches, providers, users,
      accounts CASCADE;
    DROP FUNCTION IF EXISTS didops_did_touch, didops_account_path, didops_append_only, didops_touch;
  `.execute(db);
}
