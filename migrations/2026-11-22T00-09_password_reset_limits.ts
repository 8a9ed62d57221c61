// Password reset requests are limited per address and per IP like failed log-ins (a reset link written for
// an address without end is a mail bomb once mail is sent). They are counted in the same table, each row
// saying which limit it counts against; the rows already there are log-ins. Frozen in time: imports no app
// code.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE login_attempts
      ADD COLUMN kind text NOT NULL DEFAULT 'login' CHECK (kind IN ('login', 'password_reset'));
    DROP INDEX login_attempts_email_idx;
    DROP INDEX login_attempts_ip_idx;
    DROP INDEX login_attempts_time_idx;
    CREATE INDEX login_attempts_email_idx ON login_attempts (kind, email, attempted_at);
    CREATE INDEX login_attempts_ip_idx ON login_attempts (kind, ip, attempted_at);
    CREATE INDEX login_attempts_time_idx ON login_attempts (kind, attempted_at);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DELETE FROM login_attempts WHERE kind <> 'login';
    -- Dropping the column drops the indexes on it.
    ALTER TABLE login_attempts DROP COLUMN kind;
    CREATE INDEX login_attempts_email_idx ON login_attempts (email, attempted_at);
    CREATE INDEX login_attempts_ip_idx ON login_attempts (ip, attempted_at);
    CREATE INDEX login_attempts_time_idx ON login_attempts (attempted_at);
  `.execute(db);
}
