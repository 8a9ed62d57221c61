// One-time links that tie a Telegram chat to a user (the storefront's "Open in Telegram" button, or
// `telegram link` in the console): t.me/<bot>?start=<token>. Only the token's SHA-256 is stored; the token
// is 24 random bytes, so a fast hash is enough and the table is useless to whoever reads it. A token is
// used once (used_at) and expires.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE telegram_link_tokens (
      id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      token_hash  text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
      expires_at  timestamptz NOT NULL,
      used_at     timestamptz,
      created_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX telegram_link_tokens_user_idx ON telegram_link_tokens (user_id);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE telegram_link_tokens`.execute(db);
}
