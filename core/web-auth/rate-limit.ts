// Limits on what an anonymous visitor may repeat (failed log-ins, password reset requests), per email
// address and per IP over a sliding window. Each attempt is a row of login_attempts, tagged with what it
// counts against. The counts live in PostgreSQL so every web process shares them, and an attempt is
// recorded before it is judged, so a burst of parallel requests is counted in full.
import type { Executor } from '../context.ts';
import type { AttemptKind } from '../db/schema.ts';
import { DomainError } from '../shared/errors.ts';

export interface AttemptLimit {
  readonly kind: AttemptKind;
  readonly windowMs: number;
  /** Attempts allowed per email address in the window. */
  readonly maxPerEmail: number;
  /** Attempts allowed per IP in the window. */
  readonly maxPerIp: number;
  /** What the refusal says ("Too many failed log-ins."), and what to do meanwhile. */
  readonly refusal: { readonly message: string; readonly help: string };
}

/** Refused before the attempt was looked at. The web answers it with 429 and Retry-After. */
export class TooManyAttemptsError extends DomainError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number, refusal: AttemptLimit['refusal']) {
    const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
    super('unavailable', `${refusal.message} Try again in ${minutes} minute${minutes > 1 ? 's' : ''}.`, {
      help: refusal.help,
    });
    this.name = 'TooManyAttemptsError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Records an attempt from `ip` for `email` (normalized, at most 320 characters) and throws
 * TooManyAttemptsError when it is one too many for the address or the IP. Returns the attempt's id, for
 * a caller that forgets it once it turned out right.
 */
export async function countAttempt(
  db: Executor,
  now: Date,
  limit: AttemptLimit,
  from: { readonly email: string; readonly ip: string },
): Promise<number> {
  const ip = from.ip.slice(0, 64) || 'unknown';
  // Attempts that no longer count are pruned as new ones come (through the attempted_at index).
  await db
    .deleteFrom('login_attempts')
    .where('kind', '=', limit.kind)
    .where('attempted_at', '<', new Date(now.getTime() - limit.windowMs))
    .execute();
  const attempt = await db
    .insertInto('login_attempts')
    .values({ kind: limit.kind, email: from.email, ip, attempted_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  const wait =
    (await retryAfter(db, limit, 'email', from.email, now, limit.maxPerEmail)) ??
    (await retryAfter(db, limit, 'ip', ip, now, limit.maxPerIp));
  if (wait !== null) throw new TooManyAttemptsError(wait, limit.refusal);
  return attempt.id;
}

/**
 * Seconds until the next attempt is allowed, or null when this one is. Attempts in the window include
 * the one being made; once more than `max`, the caller waits until enough of the oldest have aged out.
 */
async function retryAfter(
  db: Executor,
  limit: AttemptLimit,
  column: 'email' | 'ip',
  value: string,
  now: Date,
  max: number,
): Promise<number | null> {
  const since = new Date(now.getTime() - limit.windowMs);
  const { count } = await db
    .selectFrom('login_attempts')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('kind', '=', limit.kind)
    .where(column, '=', value)
    .where('attempted_at', '>=', since)
    .executeTakeFirstOrThrow();
  const n = Number(count);
  if (n <= max) return null;
  // Another attempt fits once the (n - max + 1) oldest have aged out: n - k + 1 <= max.
  const pivot = await db
    .selectFrom('login_attempts')
    .select('attempted_at')
    .where('kind', '=', limit.kind)
    .where(column, '=', value)
    .where('attempted_at', '>=', since)
    .orderBy('attempted_at')
    .offset(n - max)
    .limit(1)
    .executeTakeFirst();
  const freeAt = (pivot?.attempted_at.getTime() ?? now.getTime()) + limit.windowMs;
  return Math.max(1, Math.ceil((freeAt - now.getTime()) / 1000));
}
