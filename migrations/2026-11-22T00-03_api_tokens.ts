// API tokens: how a machine (the switch asking the routing API where a call goes) proves who it is. Created
// and revoked from the operator's console; the secret is shown once and only its SHA-256 is kept.
//
// A fast hash is the right one here, unlike for passwords: a token is 32 random bytes, so there is nothing
// to guess with a dictionary and a slow hash (argon2) would only slow down every call lookup. Revoked
// tokens stay as rows (revoked_at set) so the audit trail and `token list` keep naming them; their names
// are not reused.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE api_tokens (
      id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name         text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
      -- sha256 of the whole token text, lowercase hex.
      token_hash   text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
      -- The first characters of the token, so people can tell which one a switch holds.
      prefix       text NOT NULL CHECK (length(prefix) BETWEEN 1 AND 32),
      scopes       text[] NOT NULL DEFAULT '{routing}' CHECK (scopes <@ ARRAY['routing']::text[]),
      created_at   timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz,
      revoked_at   timestamptz
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS api_tokens`.execute(db);
}
