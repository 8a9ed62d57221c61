// The job queues, for admins. On BullMQ, Bull Board (@bull-board/express) is mounted at /admin/queues
// behind the back office's own sign-in and role check. On pg-boss, a plain page: jobs per queue by state,
// the latest failed jobs with their error, and a Retry button for each.
import type { RequestHandler, Router } from 'express';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { isBullmqQueue } from '../../../../core/jobs/bullmq-queue.ts';
import { JOB_NAMES } from '../../../../core/jobs/registry.ts';
import { notFound } from '../../../../core/shared/errors.ts';
import { postForm } from '../../form.ts';
import { adminPage, atLeast, noticeOf, type AdminDeps, type AdminRoute } from './admin-web.ts';

/** Failed jobs listed per queue. */
const FAILED_SHOWN = 20;

const NOTICES: Readonly<Record<string, string>> = {
  retried: 'The job is queued again.',
  'not-retried': 'That job is no longer failed (or the same work is queued already): nothing was done.',
};

/**
 * Bull Board's page loads its own script and styles (with inline styles and Google fonts): its sub-tree
 * gets a policy that allows them. Its API answers JSON calls from that page only: the session cookie is
 * SameSite=Lax, so another site's requests arrive without it and are sent to the log-in page.
 */
const BULL_BOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com",
  "font-src 'self' https://fonts.gstatic.com",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function queueRoutes({ web, queue }: AdminDeps): AdminRoute[] {
  if (queue && isBullmqQueue(queue)) {
    const serverAdapter = new ExpressAdapter();
    serverAdapter.setBasePath('/admin/queues');
    const board = createBullBoard({
      queues: [],
      // @bull-board/express 9.10.1 pins its own @bull-board/api 9.10.1 beside our 9.10.2: the same shapes,
      // declared twice, which TypeScript tells apart by a private field. Aligning the versions drops this.
      serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
      options: { uiConfig: { boardTitle: 'didops jobs' } },
    });
    // The queues exist once the queue is started (by the time the first request comes in).
    let loaded = false;
    const loadQueues: RequestHandler = (_req, res, next) => {
      if (!loaded) {
        const queues = queue.bullmqQueues();
        if (queues.length > 0) {
          board.setQueues(queues.map((q) => new BullMQAdapter(q)));
          loaded = true;
        }
      }
      res.set('Content-Security-Policy', BULL_BOARD_CSP);
      next();
    };
    return [
      {
        method: 'use',
        path: '/queues',
        role: 'admin',
        handlers: [atLeast('admin'), loadQueues, serverAdapter.getRouter() as Router],
      },
    ];
  }

  return [
    {
      method: 'get',
      path: '/queues',
      role: 'admin',
      handlers: [
        atLeast('admin'),
        async (req, res) => {
          const counts = queue ? await queue.counts(JOB_NAMES) : [];
          const failed = queue
            ? await Promise.all(
                counts
                  .filter((c) => c.failed > 0)
                  .map(async (c) => ({ name: c.name, jobs: await queue.failed(c.name, FAILED_SHOWN) })),
              )
            : [];
          adminPage(web, req, res, 'queues', {
            title: 'Job queues',
            section: 'queues',
            engine: queue?.engine ?? null,
            counts,
            failed: failed.map((f) => ({
              ...f,
              jobs: f.jobs.map((j) => ({ ...j, payloadText: JSON.stringify(j.payload) })),
            })),
            noFailed: failed.length === 0,
            notice: noticeOf(req, NOTICES),
          });
        },
      ],
    },
    {
      method: 'post',
      path: '/queues/:name/:id/retry',
      role: 'admin',
      handlers: [
        atLeast('admin'),
        ...postForm(web),
        async (req, res) => {
          const name = String(req.params.name);
          if (!queue || !JOB_NAMES.includes(name)) throw notFound('There is no such job queue.');
          const retried = await queue.retry(name, String(req.params.id));
          res.redirect(303, `/admin/queues?done=${retried ? 'retried' : 'not-retried'}`);
        },
      ],
    },
  ];
}
