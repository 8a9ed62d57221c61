// The audit trail: who (user and channel) changed what, before and after. Written in the same transaction
// as the change it describes, so there is never a change without its record or a record without its change.
import { sql } from 'kysely';
import type { Actor } from '../accounts/actor.ts';
import type { Executor } from '../context.ts';

export interface AuditEntry {
  readonly action: string;
  readonly didId?: number | null;
  readonly accountId?: number | null;
  /** What a person would call the thing: the number, the account slug. */
  readonly subject: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));

/** Records many entries with one statement (bulk operations touch thousands of numbers). */
export async function recordAudit(db: Executor, actor: Actor, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await sql`
    INSERT INTO audit_events (channel, actor_user_id, actor_account_id, actor_label, action, did_id, account_id,
                              subject, before, after)
    SELECT ${actor.channel}, ${actor.userId}::bigint, ${actor.accountId}::bigint, ${actor.label}, e.action,
           e.did_id, e.account_id, e.subject, e.before, e.after
    FROM unnest(${entries.map((e) => e.action)}::text[], ${entries.map((e) => e.didId ?? null)}::bigint[],
                ${entries.map((e) => e.accountId ?? null)}::bigint[], ${entries.map((e) => e.subject)}::text[],
                ${entries.map((e) => json(e.before))}::jsonb[], ${entries.map((e) => json(e.after))}::jsonb[])
      AS e(action, did_id, account_id, subject, before, after)
  `.execute(db);
}
