// The storefront's sign-in state: sessions, failed-login counting shared by every web process, reseller
// invitations and password-reset links. Every token handed to a browser or written in a link is random;
// only its SHA-256 is stored, so whoever reads these tables cannot act with what they find.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- A signed-in browser. id is the SHA-256 of the cookie's random token; csrf_secret is the
    -- synchronizer token its forms carry. A new row (new id) at every log-in, deleted at log-out.
    CREATE TABLE web_sessions (
      id            text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{64}$'),
      user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      csrf_secret   text NOT NULL CHECK (length(csrf_secret) BETWEEN 32 AND 128),
      expires_at    timestamptz NOT NULL,
      created_at    timestamptz NOT NULL DEFAULT now(),
      last_seen_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX web_sessions_user_idx ON web_sessions (user_id);
    CREATE INDEX web_sessions_expiry_idx ON web_sessions (expires_at);

    -- Log-in attempts not (yet) known to have succeeded, counted per address and per IP over a window.
    -- A row is written before the password is checked and removed when it was right, so parallel
    -- guesses count too.
    CREATE TABLE login_attempts (
      id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      email         text NOT NULL CHECK (length(email) <= 320),
      ip            text NOT NULL CHECK (length(ip) <= 64),
      attempted_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX login_attempts_email_idx ON login_attempts (email, attempted_at);
    CREATE INDEX login_attempts_ip_idx ON login_attempts (ip, attempted_at);
    CREATE INDEX login_attempts_time_idx ON login_attempts (attempted_at);

    -- A reseller inviting a customer: the link's signup creates the customer under the reseller.
    CREATE TABLE account_invitations (
      id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      token_hash          text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
      reseller_account_id bigint NOT NULL REFERENCES accounts (id),
      email               text NOT NULL CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
      created_by_user_id  bigint REFERENCES users (id) ON DELETE SET NULL,
      expires_at          timestamptz NOT NULL,
      used_at             timestamptz,
      used_by_account_id  bigint REFERENCES accounts (id),
      created_at          timestamptz NOT NULL DEFAULT now(),
      CHECK ((used_at IS NULL) = (used_by_account_id IS NULL))
    );
    CREATE INDEX account_invitations_reseller_idx ON account_invitations (reseller_account_id);

    -- "Forgot your password": a one-time link that expires.
    CREATE TABLE password_reset_tokens (
      id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      token_hash  text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
      expires_at  timestamptz NOT NULL,
      used_at     timestamptz,
      created_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX password_reset_tokens_user_idx ON password_reset_tokens (user_id);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE password_reset_tokens;
    DROP TABLE account_invitations;
    DROP TABLE login_attempts;
    DROP TABLE web_sessions;
  `.execute(db);
}
