// The operator's back office at /admin (issue 7), server-rendered like the storefront and sharing its
// sessions, CSRF and error translator. Only the operator's staff get in: anyone else gets the site's 404
// (the back office does not exist for customers and resellers), a visitor the log-in page. Each route
// declares the least role it needs: viewers read, operators change numbers, admins change the catalog and
// accounts and see the job queues; below that role, a 403 page before the body is even read. Core checks
// the same rules again on every call.
import { Router } from 'express';
import type { JobQueue } from '../../../../core/jobs/queue.ts';
import type { Web } from '../../deps.ts';
import { accountRoutes } from './accounts.ts';
import { staffOnly, type AdminDeps, type AdminRoute } from './admin-web.ts';
import { auditRoutes } from './audit.ts';
import { bulkRoutes } from './bulk.ts';
import { catalogRoutes } from './catalog.ts';
import { importRoutes } from './import.ts';
import { inventoryRoutes } from './inventory.ts';
import { queueRoutes } from './queues.ts';

export type { AdminRoute } from './admin-web.ts';

/** Every back-office route, paths relative to /admin: what the router is built from and the role tests walk. */
export function adminRouteTable(deps: AdminDeps): AdminRoute[] {
  return [
    ...inventoryRoutes(deps),
    ...bulkRoutes(deps),
    ...importRoutes(deps),
    ...catalogRoutes(deps),
    ...accountRoutes(deps),
    ...auditRoutes(deps),
    ...queueRoutes(deps),
  ];
}

/** The back office, to mount among the storefront's routers (its paths start with /admin). */
export function adminRoutes(web: Web, options: { queue?: JobQueue | undefined } = {}): Router {
  const admin = Router();
  admin.use(...staffOnly(web));
  for (const route of adminRouteTable({ web, queue: options.queue })) {
    admin[route.method](route.path, ...route.handlers);
  }
  const router = Router();
  router.use('/admin', admin);
  return router;
}
