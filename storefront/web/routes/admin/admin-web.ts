// What every back-office route shares: who may reach it (the operator's staff only; others get a 404, as if
// /admin did not exist; a role below the route's gets a 403 page), the page renderer that adds the admin
// navigation, and the route table the router is built from (so the role tests can walk every route).
import type { Request, RequestHandler, Response } from 'express';
import type { Ctx } from '../../../../core/context.ts';
import type { UserRole } from '../../../../core/db/schema.ts';
import type { JobQueue } from '../../../../core/jobs/queue.ts';
import { forbidden } from '../../../../core/shared/errors.ts';
import type { Web } from '../../deps.ts';
import { renderNotFound } from '../../errors.ts';
import { requireUser, webCtx } from '../../session.ts';
import { currentSession } from '../../state.ts';

/** What the back office needs beyond the storefront's deps: the job queue, when this process has one. */
export interface AdminDeps {
  readonly web: Web;
  readonly queue?: JobQueue | undefined;
}

export interface AdminRoute {
  /** 'use' mounts a sub-application (Bull Board) under the path. */
  readonly method: 'get' | 'post' | 'use';
  /** Under /admin, express syntax (`/accounts/:slug`). */
  readonly path: string;
  /** The least role that may use it: viewers read, operators change numbers, admins the rest. */
  readonly role: UserRole;
  readonly handlers: readonly RequestHandler[];
}

const RANK: Readonly<Record<UserRole, number>> = { viewer: 0, operator: 1, admin: 2, owner: 3 };

/** Signed in (else the log-in page), and the operator's staff (else the site's 404 page). */
export function staffOnly(web: Web): RequestHandler[] {
  return [
    requireUser,
    (req, res, next) => {
      if (currentSession(res)?.account.kind !== 'admin') {
        renderNotFound(web.pages, req, res);
        return;
      }
      next();
    },
  ];
}

/** Refuses (403 page) a staff member whose role is below `role`, before the body is read. */
export function atLeast(role: UserRole): RequestHandler {
  return (_req, res, next) => {
    const session = currentSession(res)!;
    if (RANK[session.user.role] >= RANK[role]) {
      next();
      return;
    }
    next(
      forbidden(`Your role (${session.user.role}) cannot do this: it needs ${role} or above.`, {
        help: 'Ask an admin to do it, or to change your role.',
      }),
    );
  };
}

export function can(res: Response, role: UserRole): boolean {
  const session = currentSession(res);
  return session !== null && RANK[session.user.role] >= RANK[role];
}

/** The core context of the signed-in staff member. */
export function staffCtx(web: Web, res: Response): Ctx {
  return webCtx(web, res);
}

export type AdminSection = 'inventory' | 'bulk' | 'import' | 'catalog' | 'accounts' | 'audit' | 'queues';

/** Renders templates/admin/<view>.hbs with what the admin navigation and the role-dependent forms need. */
export function adminPage(
  web: Web,
  req: Request,
  res: Response,
  view: string,
  data: { title: string; section: AdminSection; [key: string]: unknown },
  status?: number,
): void {
  web.pages.render(req, res, `admin/${view}`, { ...data, admin: adminFlags(res, data.section) }, status);
}

/** Flags for templates: which forms to show (the server checks again on every POST). */
export function adminFlags(res: Response, section: AdminSection) {
  return {
    section,
    role: currentSession(res)?.user.role,
    canOperate: can(res, 'operator'),
    canAdminister: can(res, 'admin'),
    [section]: true,
  };
}

/** Pages re-rendered by the error translator get the admin flags too (set before the core call). */
export function formFlags(res: Response, section: AdminSection): { admin: ReturnType<typeof adminFlags> } {
  return { admin: adminFlags(res, section) };
}

/** A notice named in the query string (?done=...), from a fixed list: never text from the URL itself. */
export function noticeOf(req: Request, notices: Readonly<Record<string, string>>): string | undefined {
  const key = typeof req.query.done === 'string' ? req.query.done : '';
  return Object.hasOwn(notices, key) ? notices[key] : undefined;
}

/** A path under /admin to go back to after a form (the inventory page with its filters); else `fallback`. */
export function backTo(value: unknown, fallback: string): string {
  if (
    typeof value !== 'string' ||
    !value.startsWith('/admin') ||
    /[\\\s]/.test(value) ||
    value.length > 4000
  ) {
    return fallback;
  }
  return value;
}

/** A positive integer route parameter (an id), or NaN: core answers "not found" for it. */
export function idParam(req: Request, name = 'id'): number {
  const text = String(req.params[name] ?? '');
  return /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
}
