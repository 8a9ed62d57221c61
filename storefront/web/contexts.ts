// The contexts the signed-in pages hand to core: a billing context (the web actor plus the payments
// gateway, the queue and the public URL for Stripe's return links), a read-only one for pages that only
// look (a suspended account still sees its own things), and the id in a URL path, read strictly.
import type { Request, Response } from 'express';
import {
  DEFAULT_BILLING_POLICY,
  type BillingCtx,
  type BillingPolicy,
  type Enqueue,
} from '../../core/billing/billing-context.ts';
import type { Ctx } from '../../core/context.ts';
import { notFound } from '../../core/shared/errors.ts';
import { webReaderActor } from '../../core/web-auth/sessions.ts';
import type { Web } from './deps.ts';
import { webCtx } from './session.ts';
import { currentSession } from './state.ts';

/** The app runs without a queue (some tests, a bare web process): orders on account still work. */
const noQueue: Enqueue = () =>
  Promise.reject(new Error('This web process has no job queue: card checkouts need one (WebDeps.jobs).'));

/** Acting as the signed-in user, with everything billing use cases need. Behind requireUser. */
export function billingCtx(web: Web, res: Response): BillingCtx {
  return withBilling(web, webCtx(web, res));
}

function withBilling(web: Web, ctx: Ctx): BillingCtx {
  return {
    ...ctx,
    payments: web.jobs?.payments ?? null,
    enqueue: web.jobs?.enqueue ?? noQueue,
    publicUrl: web.config.publicUrl,
    policy: billingPolicy(web),
  };
}

export function billingPolicy(web: Web): BillingPolicy {
  return web.jobs?.policy ?? DEFAULT_BILLING_POLICY;
}

/** For pages that only read: works for a suspended account too (as a viewer). Behind requireUser. */
export function readerCtx(web: Web, res: Response): BillingCtx {
  const session = currentSession(res);
  if (!session) throw new Error('readerCtx: no signed-in user (mount requireUser first)');
  return withBilling(web, {
    db: web.db,
    clock: web.clock,
    settings: web.settings,
    actor: webReaderActor(session),
  });
}

/** A positive integer id from the path; anything else is a page that does not exist. */
export function idParam(req: Request, name: string): number {
  const text = req.params[name];
  const id = typeof text === 'string' && /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(id) || id <= 0) throw notFound('There is nothing at this address.');
  return id;
}
