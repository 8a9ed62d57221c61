// Reading the audit trail (the back office's audit log): filtered by number, account, user, channel and
// time, newest first, paged by id so page 100 costs what page 1 costs. Each event comes with the fields
// its before/after snapshots differ in, so a person sees at a glance what changed.
import { sql } from 'kysely';
import { isOperatorStaff } from '../accounts/actor.ts';
import { findAccount } from '../accounts/accounts.ts';
import { requirePermission } from '../accounts/permissions.ts';
import type { Ctx } from '../context.ts';
import { CHANNELS, type Channel } from '../db/schema.ts';
import { parseNumber } from '../numbers/phone-number.ts';
import { forbidden, invalid } from '../shared/errors.ts';

export interface AuditFilter {
  /** A phone number as typed. */
  readonly number?: string;
  /** An account slug or id: events about that account. */
  readonly account?: string;
  /** Who acted: an email, a Slack or Telegram user id, a user's name, or part of the audit label. */
  readonly user?: string;
  readonly channel?: string;
  /** Dates (YYYY-MM-DD, UTC) or date-times (YYYY-MM-DDTHH:MM); `to` is inclusive for a date. */
  readonly from?: string;
  readonly to?: string;
  /** An action or its prefix: did.assign, account., bulk. */
  readonly action?: string;
}

export interface AuditChange {
  readonly field: string;
  readonly before: string;
  readonly after: string;
}

export interface AuditEventView {
  readonly id: number;
  readonly occurredAt: Date;
  readonly channel: Channel;
  readonly actorLabel: string;
  readonly action: string;
  readonly subject: string;
  readonly didId: number | null;
  readonly accountId: number | null;
  /** Field by field, when the snapshots are objects; otherwise the whole snapshots as JSON. */
  readonly changes: readonly AuditChange[];
  readonly before: string | null;
  readonly after: string | null;
}

export interface AuditPage {
  readonly events: readonly AuditEventView[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  readonly nextBefore: number | null;
}

export async function searchAudit(
  ctx: Ctx,
  filter: AuditFilter,
  options: { before?: number; limit?: number } = {},
): Promise<AuditPage> {
  requirePermission(ctx.actor, 'accounts.read');
  if (!isOperatorStaff(ctx.actor)) {
    throw forbidden("The audit log is for the operator's staff.");
  }
  const limit = options.limit ?? 50;
  let query = ctx.db
    .selectFrom('audit_events')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (options.before !== undefined) query = query.where('id', '<', options.before);

  const number = filter.number?.trim();
  if (number) {
    const e164 = parseNumber(number).e164;
    const did = await ctx.db.selectFrom('dids').select('id').where('number', '=', e164).executeTakeFirst();
    // The trail outlives what it describes: a number no longer in the inventory is found by its subject.
    query = did ? query.where('did_id', '=', did.id) : query.where('subject', '=', e164);
  }
  const account = filter.account?.trim();
  if (account) query = query.where('account_id', '=', (await findAccount(ctx, account)).id);
  const user = filter.user?.trim();
  if (user) {
    const ids = await usersNamed(ctx, user);
    query = ids.length
      ? query.where('actor_user_id', 'in', ids)
      : query.where('actor_label', 'ilike', `%${user.replace(/[\\%_]/g, '\\$&')}%`);
  }
  const channel = filter.channel?.trim().toLowerCase();
  if (channel) {
    if (!(CHANNELS as readonly string[]).includes(channel)) {
      throw invalid(`"${filter.channel}" is not a channel.`, {
        help: `Use ${CHANNELS.join(', ')}.`,
        field: 'channel',
      });
    }
    query = query.where('channel', '=', channel as Channel);
  }
  const from = parseTime(filter.from, 'from', false);
  if (from) query = query.where('occurred_at', '>=', from);
  const to = parseTime(filter.to, 'to', true);
  if (to) query = query.where('occurred_at', '<', to);
  const action = filter.action?.trim();
  if (action) {
    query = action.endsWith('.')
      ? query.where('action', 'like', `${action.replace(/[\\%_]/g, '\\$&')}%`)
      : query.where('action', '=', action);
  }

  const rows = await query.execute();
  const page = rows.slice(0, limit);
  return {
    events: page.map((row) => {
      const { changes, before, after } = describeChange(row.before, row.after);
      return {
        id: row.id,
        occurredAt: row.occurred_at,
        channel: row.channel,
        actorLabel: row.actor_label,
        action: row.action,
        subject: row.subject,
        didId: row.did_id,
        accountId: row.account_id,
        changes,
        before,
        after,
      };
    }),
    nextBefore: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
  };
}

/** Users a person might mean: by email, Slack or Telegram id, or name (served by small indexes). */
async function usersNamed(ctx: Ctx, text: string): Promise<number[]> {
  const rows = await ctx.db
    .selectFrom('users')
    .select('id')
    .where((eb) =>
      eb.or([
        eb(eb.fn('lower', ['email']), '=', text.toLowerCase()),
        eb('slack_user_id', '=', text.toUpperCase()),
        eb('telegram_user_id', '=', text),
        eb(sql`lower(name)`, '=', text.toLowerCase()),
      ]),
    )
    .execute();
  return rows.map((r) => r.id);
}

function parseTime(text: string | undefined, field: 'from' | 'to', endOfDay: boolean): Date | null {
  const value = text?.trim();
  if (!value) return null;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const date = new Date(
    dateOnly ? `${value}T00:00:00Z` : /Z$|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`,
  );
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?/.test(value) || Number.isNaN(date.getTime())) {
    throw invalid(`"${value}" is not a date.`, { help: 'Use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC).', field });
  }
  // "to 2026-03-01" means through the end of that day.
  return dateOnly && endOfDay ? new Date(date.getTime() + 24 * 3600_000) : date;
}

function describeChange(
  before: unknown,
  after: unknown,
): { changes: AuditChange[]; before: string | null; after: string | null } {
  const show = (value: unknown) =>
    value === undefined || value === null ? null : JSON.stringify(value, null, 1);
  const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value);
  if ((before === null || isObject(before)) && (after === null || isObject(after))) {
    const b = before ?? {};
    const a = after ?? {};
    const fields = [...new Set([...Object.keys(b), ...Object.keys(a)])];
    const text = (value: unknown) =>
      value === undefined
        ? ''
        : value === null
          ? '—'
          : typeof value === 'string'
            ? value
            : JSON.stringify(value);
    return {
      changes: fields.map((field) => ({ field, before: text(b[field]), after: text(a[field]) })),
      before: show(before),
      after: show(after),
    };
  }
  return { changes: [], before: show(before), after: show(after) };
}
