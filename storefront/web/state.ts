// What the storefront's middleware learns about a request and later steps read: the session, and the form
// a POST came from (so the error translator can show the form again with its errors).
import type { Response } from 'express';
import type { SessionUser } from '../../core/web-auth/sessions.ts';

/** The form a POST handler renders again when core refuses the input. */
export interface FormSpec {
  readonly view: string;
  readonly title: string;
  /** The inputs the form shows: errors about them go next to them, others above the form. */
  readonly fields: readonly string[];
  /** More data the view needs besides the submitted values (set by the route before it calls core). */
  data: Record<string, unknown>;
}

export interface WebState {
  session: SessionUser | null;
  form?: FormSpec;
}

/** The request's state; created empty on first use. */
export function webState(res: Response): WebState {
  const locals = res.locals as { web?: WebState };
  locals.web ??= { session: null };
  return locals.web;
}

/** The signed-in user, or null. */
export function currentSession(res: Response): SessionUser | null {
  return webState(res).session;
}
