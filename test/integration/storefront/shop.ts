// What the buying and managing tests share: the billing fixture (real PostgreSQL, a real pg-boss queue,
// Stripe faked by nock in front of FakeStripe), the whole web app served on it with that queue and
// gateway at the fixture's clock, and a signed-in browser for any account.
import { hashPassword } from '../../../core/accounts/users.ts';
import type { Account, UserRole } from '../../../core/db/schema.ts';
import { createPgBossQueue } from '../../../core/jobs/pgboss-queue.ts';
import { enqueuerFor } from '../../../core/jobs/registry.ts';
import { silentLogger } from '../../../core/runtime/logger.ts';
import { buildUser } from '../../helpers/factories.ts';
import { TEST_SECRET_KEY, TEST_WEBHOOK_SECRET } from '../../helpers/fake-stripe.ts';
import { PUBLIC_URL, useBilling, type BillingFixture } from '../billing/billing-fixture.ts';
import { Browser, PASSWORD, serve, type Served } from './harness.ts';

export interface Shop {
  readonly billing: BillingFixture;
  /** The app with the queue and, unless `cardPayments: false`, Stripe as the payments gateway. */
  open(options?: { cardPayments?: boolean }): Promise<Served>;
}

/** Registers the billing fixture's hooks; the queue polls every 500 ms so worker tests stay quick. */
export function useShop(): Shop {
  const billing = useBilling({
    queue: (url) => createPgBossQueue({ connectionString: url, log: silentLogger, pollingIntervalMs: 500 }),
  });
  return {
    billing,
    open(options = {}) {
      const cards = options.cardPayments ?? true;
      return serve(billing.db, {
        clock: billing.clock,
        env: {
          PUBLIC_URL,
          ...(cards
            ? { STRIPE_SECRET_KEY: TEST_SECRET_KEY, STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET }
            : {}),
        },
        jobs: {
          queue: billing.queue,
          enqueue: enqueuerFor(billing.queue),
          payments: cards ? billing.payments : null,
          policy: billing.policy,
        },
      });
    },
  };
}

let users = 0;

/** A browser logged in as a new user of `account`. */
export async function signedIn(
  served: Served,
  db: BillingFixture['db'],
  account: Account,
  options: { role?: UserRole; email?: string } = {},
): Promise<Browser> {
  const email = options.email ?? `user${++users}@${account.slug}.example`;
  await buildUser(db, account, {
    email,
    name: `User ${users}`,
    role: options.role ?? 'owner',
    password_hash: await hashPassword(PASSWORD),
  });
  const browser = new Browser(served.base);
  const page = await browser.submit('/login', '/login', { email, password: PASSWORD });
  if (page.status !== 303) throw new Error(`log-in as ${email} failed: ${page.status}`);
  return browser;
}

/** The value of a hidden input in a page. */
export function hidden(html: string, name: string): string {
  const value = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(html)?.[1];
  if (value === undefined) throw new Error(`no hidden input "${name}" in the page`);
  return value;
}
