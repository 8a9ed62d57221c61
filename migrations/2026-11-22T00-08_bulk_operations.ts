// Bulk work started from the back office (/admin): assigning, re-pricing, regrouping, releasing, enabling or
// disabling many numbers at once, and CSV imports. A row is first a draft (what the confirmation page
// showed, with the moment it was shown), then queued, running, and done or failed. Progress lives here,
// written in the same transaction as each batch of changes, so a job that dies and runs again continues
// where the last committed batch ended and never counts or changes a number twice.
// Frozen in time: imports no app code.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE bulk_operations (
      id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      kind         text NOT NULL
                     CHECK (kind IN ('assign', 'pricing_batch', 'group', 'release', 'enable', 'disable', 'import')),
      status       text NOT NULL DEFAULT 'draft'
                     CHECK (status IN ('draft', 'queued', 'running', 'done', 'failed')),
      -- Who asked: the job acts as this user again, so their role is checked when the work is done.
      user_id      bigint NOT NULL REFERENCES users (id),
      -- The operation's arguments (target, selection: filter, first N or numbers with their versions).
      params       jsonb NOT NULL DEFAULT '{}',
      -- An import's CSV text (TOAST compresses it).
      input        text,
      -- Numbers changed after this moment (the confirmation page) are skipped and reported, not overwritten.
      as_of        timestamptz NOT NULL DEFAULT now(),
      total        integer NOT NULL DEFAULT 0 CHECK (total >= 0),
      processed    integer NOT NULL DEFAULT 0 CHECK (processed >= 0),
      changed      integer NOT NULL DEFAULT 0 CHECK (changed >= 0),
      unchanged    integer NOT NULL DEFAULT 0 CHECK (unchanged >= 0),
      skipped      integer NOT NULL DEFAULT 0 CHECK (skipped >= 0),
      -- Skipped numbers with their reasons (imports: rows with their line), the first thousand.
      details      jsonb NOT NULL DEFAULT '[]',
      -- Where the last committed batch ended: a number, a position in a list, or a line of the file.
      cursor       text,
      error        text,
      created_at   timestamptz NOT NULL DEFAULT now(),
      started_at   timestamptz,
      finished_at  timestamptz,
      updated_at   timestamptz NOT NULL DEFAULT now(),
      CHECK ((kind = 'import') = (input IS NOT NULL))
    );
    CREATE INDEX bulk_operations_created_idx ON bulk_operations (created_at);
    CREATE TRIGGER bulk_operations_touch BEFORE UPDATE ON bulk_operations
      FOR EACH ROW EXECUTE FUNCTION didops_touch();
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE bulk_operations`.execute(db);
}
