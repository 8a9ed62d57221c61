// The queue pages: the plain page over the port (pg-boss, or any engine without Bull Board), and Bull Board
// mounted at /admin/queues when the engine is BullMQ (needs REDIS_URL; skipped without it, as the queue
// contract tests are).
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createBullmqQueue } from '../../../core/jobs/bullmq-queue.ts';
import { JOB_NAMES } from '../../../core/jobs/registry.ts';
import { silentLogger } from '../../../core/runtime/logger.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { adminWorld, RecordingQueue, serveAdmin, signIn, staffEmail, textOf } from './harness.ts';

const t = useTestDatabase();

describe('the job queue page', () => {
  it('lists counts per queue and failed jobs with their error, and retries one', async () => {
    await adminWorld(t.db);
    const queue = new RecordingQueue();
    queue.countsResult = [
      { name: 'renew-subscription', waiting: 3, delayed: 1, active: 2, completed: 40, failed: 1 },
    ];
    queue.failedJobs.set('renew-subscription', [
      {
        id: 'job-7',
        name: 'renew-subscription',
        payload: { subscriptionId: 12 },
        error: 'Stripe did not answer',
        attempts: 6,
        failedAt: new Date('2026-03-01T10:00:00Z'),
      },
    ]);
    const { base } = await serveAdmin(t.db, { queue });
    const admin = await signIn(base, staffEmail('admin'));
    const page = await admin.get('/admin/queues');
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toContain('Engine: pg-boss');
    expect(text).toContain('renew-subscription 3 1 2 40 1');
    for (const name of JOB_NAMES) expect(text).toContain(name);
    expect(text).toContain('2026-03-01 10:00 UTC {"subscriptionId":12} 6 Stripe did not answer');

    const retried = await admin.post('/admin/queues/renew-subscription/job-7/retry', {});
    expect(retried.location).toBe('/admin/queues?done=retried');
    expect(queue.retried).toEqual([{ name: 'renew-subscription', id: 'job-7' }]);
    expect(textOf((await admin.get(retried.location!)).html)).toContain('The job is queued again.');
    expect((await admin.post('/admin/queues/renew-subscription/job-7/retry', {})).location).toBe(
      '/admin/queues?done=not-retried',
    );
    expect((await admin.post('/admin/queues/no-such-queue/job-7/retry', {})).status).toBe(404);

    const operator = await signIn(base, staffEmail('operator'));
    expect((await operator.get('/admin/queues')).status).toBe(403);
  });

  it('says so when this process has no queue', async () => {
    await adminWorld(t.db);
    const { base } = await serveAdmin(t.db, { queue: 'none' });
    const admin = await signIn(base, staffEmail('admin'));
    expect(textOf((await admin.get('/admin/queues')).html)).toContain('This process has no job queue');
  });
});

const redisUrl = process.env.REDIS_URL;
const prefix = `didops-admin-test-${randomBytes(4).toString('hex')}`;
const bullmq = redisUrl ? createBullmqQueue({ redisUrl, prefix, log: silentLogger }) : undefined;
afterAll(async () => {
  await bullmq?.stop(1_000);
});

describe.skipIf(!redisUrl)('Bull Board on BullMQ', () => {
  it('is mounted at /admin/queues for admins only, behind the sign-in', async () => {
    await adminWorld(t.db);
    await bullmq!.start(JOB_NAMES);
    const { base } = await serveAdmin(t.db, { queue: bullmq! });
    const admin = await signIn(base, staffEmail('admin'));
    const page = await admin.get('/admin/queues');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<base href="/admin/queues/"');
    expect(page.headers.get('content-security-policy')).toContain("style-src 'self' 'unsafe-inline'");
    const api = await admin.get('/admin/queues/api/queues?activeQueue=bulk-operation&page=1&jobsPerPage=10', {
      accept: 'application/json',
    });
    expect(api.status).toBe(200);
    expect((JSON.parse(api.html) as { queues: { name: string }[] }).queues.map((q) => q.name)).toEqual(
      expect.arrayContaining(['bulk-operation', 'renew-subscription']),
    );
    const operator = await signIn(base, staffEmail('operator'));
    expect((await operator.get('/admin/queues')).status).toBe(403);
    expect((await operator.get('/admin/queues/api/queues')).status).toBe(403);
    const customer = await signIn(base, 'owner@acme.example');
    expect((await customer.get('/admin/queues')).status).toBe(404);
  });
});
