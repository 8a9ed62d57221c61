// What every use case receives: the database (or the caller's transaction), who is asking, and the clock.
import type { Kysely } from 'kysely';
import type { Actor } from './accounts/actor.ts';
import type { Database } from './db/schema.ts';
import type { Clock } from './shared/clock.ts';

/** The pool or an open transaction: query functions accept either, callers own the transaction. */
export type Executor = Kysely<Database>;

export interface Settings {
  /** Days a released number rests before it is offered again, so calls for the last owner die out. */
  readonly didAgingDays: number;
}

export interface Ctx {
  readonly db: Executor;
  readonly actor: Actor;
  readonly clock: Clock;
  readonly settings: Settings;
}

/** Runs `work` in one transaction, handing it a context whose db is that transaction. */
export async function inTransaction<C extends Ctx, T>(ctx: C, work: (tx: C) => Promise<T>): Promise<T> {
  if (ctx.db.isTransaction) return work(ctx);
  return ctx.db.transaction().execute((trx) => work({ ...ctx, db: trx }));
}
