// Accounts (seed 003): the hierarchy as a tree (operator → resellers → sub-resellers → customers), a new
// account, and one account's page: its terms (prepaid/postpaid, credit limit), status, the account-level
// call-transfer switch (seed 002), its users with their linked Slack and Telegram identities, what it owes
// and its recent charges and payments, and recording a payment received outside Stripe.
import type { Request, Response } from 'express';
import { accountOverview } from '../../../../core/accounts/account-overview.ts';
import {
  createAccount,
  listAccounts,
  setAccountStatus,
  updateAccount,
} from '../../../../core/accounts/accounts.ts';
import { createUser } from '../../../../core/accounts/users.ts';
import { recordManualPayment } from '../../../../core/billing/subscriptions.ts';
import { ACCOUNT_STATUSES, USER_ROLES, type AccountStatus } from '../../../../core/db/schema.ts';
import { invalid } from '../../../../core/shared/errors.ts';
import { formatMoney, minorToDecimal } from '../../../../core/shared/money.ts';
import { setAccountCallTransfer } from '../../../../core/transfer/call-transfer.ts';
import { setFormData } from '../../errors.ts';
import { bodyField, postForm, queryField } from '../../form.ts';
import {
  adminPage,
  atLeast,
  formFlags,
  noticeOf,
  staffCtx,
  type AdminDeps,
  type AdminRoute,
} from './admin-web.ts';

const NOTICES: Readonly<Record<string, string>> = {
  created: 'The account was created.',
  saved: 'The account was saved.',
  active: 'The account is active again.',
  suspended: 'The account is suspended: its users can look but not change anything.',
  closed: 'The account is closed.',
  'transfer-on': 'Call transfer is on for this account (each number still has its own switch).',
  'transfer-off': 'Call transfer is off for this account: none of its numbers transfer calls.',
  payment: 'The payment was recorded.',
  user: 'The user was created.',
};

const ACCOUNT_FIELDS = [
  'kind',
  'parent',
  'slug',
  'name',
  'email',
  'billing_mode',
  'credit_limit',
  'currency',
];
// Inputs whose name is unique on the account page: an error about another (email is in two forms) goes
// above the forms instead of next to the wrong input.
const DETAIL_FIELDS = ['billing_mode', 'credit_limit', 'amount', 'reference', 'role', 'password'];

export function accountRoutes({ web }: AdminDeps): AdminRoute[] {
  const slugOf = (req: Request) => String(req.params.slug);

  const parents = async (res: Response) =>
    (await listAccounts(staffCtx(web, res)))
      .filter((a) => a.kind !== 'customer')
      .map((a) => ({ value: a.slug, label: `${'— '.repeat(a.depth)}${a.name} (${a.slug})` }));

  const detail = async (req: Request, res: Response) => {
    const o = await accountOverview(staffCtx(web, res), slugOf(req));
    const a = o.account;
    return {
      ...formFlags(res, 'accounts'),
      section: 'accounts',
      overview: o,
      account: a,
      isOperator: a.kind === 'admin',
      creditLimit: formatMoney(a.credit_limit, a.currency),
      owed: formatMoney(o.owed, a.currency),
      inCredit: o.owed < 0,
      charges: o.charges.map((c) => ({ ...c, amountText: formatMoney(c.amount, c.currency) })),
      payments: o.payments.map((p) => ({ ...p, amountText: formatMoney(p.amount, p.currency) })),
      statuses: ACCOUNT_STATUSES.filter((s) => s !== a.status),
      roles: USER_ROLES,
      numbersUrl: `/admin/inventory?account=${encodeURIComponent(a.slug)}`,
      auditUrl: `/admin/audit?account=${encodeURIComponent(a.slug)}`,
      editValues: {
        name: a.name,
        email: a.email ?? '',
        billing_mode: a.billing_mode,
        credit_limit: minorToDecimal(a.credit_limit, a.currency),
      },
    };
  };

  const detailPage = async (req: Request, res: Response, status?: number) => {
    const data = await detail(req, res);
    adminPage(
      web,
      req,
      res,
      'account',
      {
        ...data,
        title: `${data.account.name} (${data.account.slug})`,
        section: 'accounts',
        values: data.editValues,
        notice: noticeOf(req, NOTICES),
      },
      status,
    );
  };

  /** Every POST on the account page: on a refusal, the page again with the problem by its form. */
  const accountForm = (
    path: string,
    action: (req: Request, res: Response) => Promise<string>,
  ): AdminRoute => ({
    method: 'post',
    path: `/accounts/:slug${path}`,
    role: 'admin',
    handlers: [
      atLeast('admin'),
      ...postForm(web, { view: 'admin/account', title: 'Account', fields: DETAIL_FIELDS }),
      async (req, res) => {
        const data = await detail(req, res);
        setFormData(res, { ...data, title: `${data.account.name} (${data.account.slug})` });
        const done = await action(req, res);
        res.redirect(303, `/admin/accounts/${encodeURIComponent(data.account.slug)}?done=${done}`);
      },
    ],
  });

  return [
    {
      method: 'get',
      path: '/accounts',
      role: 'viewer',
      handlers: [
        async (req, res) => {
          const accounts = await listAccounts(staffCtx(web, res));
          adminPage(web, req, res, 'accounts', {
            title: 'Accounts',
            section: 'accounts',
            accounts: accounts.map((a) => ({
              ...a,
              indent: a.depth,
              creditLimit: formatMoney(a.credit_limit, a.currency),
              url: `/admin/accounts/${encodeURIComponent(a.slug)}`,
            })),
          });
        },
      ],
    },
    {
      method: 'get',
      path: '/accounts/new',
      role: 'admin',
      handlers: [
        atLeast('admin'),
        async (req, res) => {
          adminPage(web, req, res, 'account-new', {
            title: 'New account',
            section: 'accounts',
            parents: await parents(res),
            values: {
              kind: queryField(req, 'kind') || 'customer',
              parent: queryField(req, 'parent'),
              billing_mode: 'prepaid',
              currency: 'USD',
            },
          });
        },
      ],
    },
    {
      method: 'post',
      path: '/accounts',
      role: 'admin',
      handlers: [
        atLeast('admin'),
        ...postForm(web, { view: 'admin/account-new', title: 'New account', fields: ACCOUNT_FIELDS }),
        async (req, res) => {
          setFormData(res, {
            ...formFlags(res, 'accounts'),
            section: 'accounts',
            parents: await parents(res),
          });
          const kind = bodyField(req, 'kind');
          if (kind !== 'reseller' && kind !== 'customer') {
            throw invalid('Choose reseller or customer.', { field: 'kind' });
          }
          const mode = bodyField(req, 'billing_mode');
          const account = await createAccount(staffCtx(web, res), {
            kind,
            slug: bodyField(req, 'slug'),
            name: bodyField(req, 'name'),
            parent: bodyField(req, 'parent') || undefined,
            billingMode: mode === 'postpaid' ? 'postpaid' : 'prepaid',
            creditLimit: bodyField(req, 'credit_limit') || undefined,
            currency: bodyField(req, 'currency') || undefined,
            email: bodyField(req, 'email') || undefined,
          });
          res.redirect(303, `/admin/accounts/${encodeURIComponent(account.slug)}?done=created`);
        },
      ],
    },
    {
      method: 'get',
      path: '/accounts/:slug',
      role: 'viewer',
      handlers: [(req, res) => detailPage(req, res)],
    },
    accountForm('', async (req, res) => {
      await updateAccount(staffCtx(web, res), slugOf(req), {
        name: bodyField(req, 'name'),
        email: bodyField(req, 'email'),
        billingMode: bodyField(req, 'billing_mode'),
        creditLimit: bodyField(req, 'credit_limit'),
      });
      return 'saved';
    }),
    accountForm('/status', async (req, res) => {
      const status = bodyField(req, 'status') as AccountStatus;
      if (!ACCOUNT_STATUSES.includes(status))
        throw invalid('Choose active, suspended or closed.', { field: 'status' });
      await setAccountStatus(staffCtx(web, res), slugOf(req), status);
      return status;
    }),
    accountForm('/call-transfer', async (req, res) => {
      const enabled = bodyField(req, 'enabled') === 'on';
      await setAccountCallTransfer(staffCtx(web, res), { account: slugOf(req), enabled });
      return enabled ? 'transfer-on' : 'transfer-off';
    }),
    accountForm('/payments', async (req, res) => {
      await recordManualPayment(staffCtx(web, res), {
        account: slugOf(req),
        amount: bodyField(req, 'amount'),
        reference: bodyField(req, 'reference'),
      });
      return 'payment';
    }),
    accountForm('/users', async (req, res) => {
      await createUser(staffCtx(web, res), {
        account: slugOf(req),
        role: bodyField(req, 'role'),
        email: bodyField(req, 'user_email') || undefined,
        name: bodyField(req, 'user_name') || undefined,
        password: bodyField(req, 'password') || undefined,
        slackUserId: bodyField(req, 'slack_user_id') || undefined,
        telegramUserId: bodyField(req, 'telegram_user_id') || undefined,
      });
      return 'user';
    }),
  ];
}
