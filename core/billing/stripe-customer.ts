// Each paying account has one Stripe customer, created on its first card payment. The idempotency key
// names the account, so two first purchases at once create one customer; the database keeps the id.
import type { Account } from '../db/schema.ts';
import type { BillingCtx } from './billing-context.ts';

export async function ensureStripeCustomer(ctx: BillingCtx, account: Account): Promise<string> {
  if (account.stripe_customer_id) return account.stripe_customer_id;
  if (!ctx.payments) throw new Error('ensureStripeCustomer called without a payments gateway');
  const email =
    account.email ??
    (
      await ctx.db
        .selectFrom('users')
        .select('email')
        .where('account_id', '=', account.id)
        .where('email', 'is not', null)
        .orderBy('id')
        .executeTakeFirst()
    )?.email ??
    null;
  const customerId = await ctx.payments.createCustomer({
    accountId: account.id,
    name: account.name,
    email,
    idempotencyKey: `customer-account-${account.id}`,
  });
  // Keep the first id written: a concurrent purchase got the same customer from Stripe anyway.
  await ctx.db
    .updateTable('accounts')
    .set({ stripe_customer_id: customerId })
    .where('id', '=', account.id)
    .where('stripe_customer_id', 'is', null)
    .execute();
  return customerId;
}
