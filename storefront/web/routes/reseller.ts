// The reseller portal (issue 5, deliverable 5), for users of reseller accounts only: everyone else gets
// the 404 page, as for any address that does not exist. Its customers (create one, suspend or re-activate
// it, invite someone by email and show the one-time link), its numbers (hand one to a customer, release it
// to the pool, set its call transfer), its price list for its customers, and its margin per month. Every
// page calls the use cases staff use, with the reseller's user as the actor, so a customer of another
// reseller is "not found" however its id gets into the URL.
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { createAccount, setAccountStatus } from '../../../core/accounts/accounts.ts';
import { getCustomer, listCustomers } from '../../../core/accounts/reseller-customers.ts';
import {
  deleteResellerPrice,
  listResellerPrices,
  setResellerPrice,
} from '../../../core/billing/reseller-prices.ts';
import { resellerMargins } from '../../../core/billing/subscriptions.ts';
import {
  assignHeldNumber,
  getHeldNumber,
  listHeldNumbers,
  releaseHeldNumber,
} from '../../../core/inventory/reseller-numbers.ts';
import { invalid } from '../../../core/shared/errors.ts';
import { saveCallTransfer } from '../../../core/transfer/call-transfer.ts';
import { createInvitation, DEFAULT_INVITATION_DAYS } from '../../../core/web-auth/invitations.ts';
import { idParam, readerCtx } from '../contexts.ts';
import type { Web } from '../deps.ts';
import { renderNotFound } from '../errors.ts';
import type { PageData } from '../render.ts';
import { bodyField, postForm, queryField } from '../form.ts';
import { requireUser, webCtx } from '../session.ts';
import { currentSession } from '../state.ts';
import { withPageOnError } from '../form-page.ts';
import { TRANSFER_FIELDS, transferForm, transferFormData } from './my-numbers.ts';

const NOTICES: Readonly<Record<string, string>> = {
  created: 'The customer account is ready. Invite its people by email so they can log in.',
  suspended: 'The account is suspended: it can look at its pages but not change anything.',
  active: 'The account is active again.',
  assigned: 'The number now belongs to the customer.',
  released: 'The number went back to the pool.',
  transfer: 'Call transfer saved.',
  'transfer-unchanged': 'Call transfer already was set like that: nothing changed.',
  price: 'Price saved. It applies to numbers your customers buy from now on.',
  'price-deleted': 'Price rule removed.',
};

export function resellerRoutes(web: Web): Router {
  const router = Router();
  router.use('/reseller', requireUser, resellersOnly(web));

  router.get('/reseller', async (req, res) => {
    const margins = await resellerMargins(readerCtx(web, res));
    page(req, res, 'reseller/home', { title: 'Reseller portal', margins });
  });

  // Customers ------------------------------------------------------------------------------------
  router.get('/reseller/customers', async (req, res) => {
    const customers = await listCustomers(readerCtx(web, res));
    page(req, res, 'reseller/customers', { title: 'Your customers', customers });
  });

  router.get('/reseller/customers/new', (req, res) => {
    page(req, res, 'reseller/customer-new', {
      title: 'New customer',
      values: { billing_mode: 'prepaid', credit_limit: '0' },
    });
  });

  router.post(
    '/reseller/customers',
    ...postForm(web, {
      view: 'reseller/customer-new',
      title: 'New customer',
      fields: ['name', 'slug', 'email', 'billing_mode', 'credit_limit'],
    }),
    async (req, res) => {
      const billingMode = bodyField(req, 'billing_mode');
      if (billingMode !== 'prepaid' && billingMode !== 'postpaid') {
        throw invalid('Choose prepaid or postpaid.', { field: 'billing_mode' });
      }
      const account = await createAccount(webCtx(web, res), {
        kind: 'customer',
        name: bodyField(req, 'name'),
        slug: bodyField(req, 'slug'),
        email: bodyField(req, 'email'),
        billingMode,
        creditLimit: bodyField(req, 'credit_limit').trim() || '0',
        currency: currentSession(res)!.account.currency,
      });
      res.redirect(303, `/reseller/customers/${account.id}?notice=created`);
    },
  );

  router.get('/reseller/customers/:id', async (req, res) => {
    const customer = await getCustomer(readerCtx(web, res), idParam(req, 'id'));
    page(req, res, 'reseller/customer', { title: customer.account.name, ...customer });
  });

  router.post('/reseller/customers/:id/status', ...postForm(web), async (req, res) => {
    const id = idParam(req, 'id');
    const status = bodyField(req, 'status');
    if (status !== 'suspended' && status !== 'active') throw invalid('Choose suspend or re-activate.');
    await setAccountStatus(webCtx(web, res), id, status);
    res.redirect(303, `/reseller/customers/${id}?notice=${status}`);
  });

  router.get('/reseller/invitations/new', (req, res) => {
    page(req, res, 'reseller/invite', { title: 'Invite a customer', days: DEFAULT_INVITATION_DAYS });
  });

  // The link is shown once, on this answer (only its hash is stored): no redirect.
  router.post(
    '/reseller/invitations',
    ...postForm(web, { view: 'reseller/invite', title: 'Invite a customer', fields: ['email'] }),
    async (req, res) => {
      const invitation = await createInvitation(webCtx(web, res), { email: bodyField(req, 'email') });
      page(req, res, 'reseller/invite', {
        title: 'Invitation ready',
        days: DEFAULT_INVITATION_DAYS,
        invitation: { ...invitation, url: `${web.config.publicUrl}${invitation.path}` },
      });
    },
  );

  // Numbers --------------------------------------------------------------------------------------
  router.get('/reseller/numbers', async (req, res) => {
    const held = await listHeldNumbers(readerCtx(web, res));
    page(req, res, 'reseller/numbers', {
      title: 'Your numbers',
      ...held,
      more: held.total > held.numbers.length,
    });
  });

  router.get('/reseller/numbers/:didId', async (req, res) => {
    page(req, res, 'reseller/number', await numberPage(web, res, idParam(req, 'didId')));
  });

  router.post(
    '/reseller/numbers/:didId/assign',
    ...postForm(web, { view: 'reseller/number', title: 'Your number', fields: ['customer'] }),
    async (req, res) => {
      const didId = idParam(req, 'didId');
      await withPageOnError(
        res,
        () => numberPage(web, res, didId),
        () =>
          assignHeldNumber(webCtx(web, res), {
            didId,
            customerId: bodyField(req, 'customer'),
            ...expectedVersion(bodyField(req, 'version')),
          }),
      );
      res.redirect(303, `/reseller/numbers/${didId}?notice=assigned`);
    },
  );

  router.post('/reseller/numbers/:didId/release', ...postForm(web), async (req, res) => {
    await releaseHeldNumber(webCtx(web, res), {
      didId: idParam(req, 'didId'),
      ...expectedVersion(bodyField(req, 'version')),
    });
    res.redirect(303, '/reseller/numbers?notice=released');
  });

  router.post(
    '/reseller/numbers/:didId/transfer',
    ...postForm(web, { view: 'reseller/number', title: 'Your number', fields: TRANSFER_FIELDS }),
    async (req, res) => {
      const didId = idParam(req, 'didId');
      const result = await withPageOnError(
        res,
        () => numberPage(web, res, didId),
        () => saveCallTransfer(webCtx(web, res), transferForm(req, didId)),
      );
      const notice = result.changed ? 'transfer' : 'transfer-unchanged';
      res.redirect(303, `/reseller/numbers/${didId}?notice=${notice}#transfer`);
    },
  );

  // Prices and margins ---------------------------------------------------------------------------
  router.get('/reseller/prices', async (req, res) => {
    page(req, res, 'reseller/prices', await pricesPage(web, res));
  });

  router.post(
    '/reseller/prices',
    ...postForm(web, {
      view: 'reseller/prices',
      title: 'Your prices',
      fields: ['batch', 'markup', 'setup_fee', 'recurring_fee'],
    }),
    async (req, res) => {
      await withPageOnError(
        res,
        () => pricesPage(web, res),
        () =>
          setResellerPrice(webCtx(web, res), {
            pricingBatchId: bodyField(req, 'batch'),
            markup: bodyField(req, 'markup'),
            setupFee: bodyField(req, 'setup_fee'),
            recurringFee: bodyField(req, 'recurring_fee'),
          }),
      );
      res.redirect(303, '/reseller/prices?notice=price');
    },
  );

  router.post('/reseller/prices/:id/delete', ...postForm(web), async (req, res) => {
    await deleteResellerPrice(webCtx(web, res), idParam(req, 'id'));
    res.redirect(303, '/reseller/prices?notice=price-deleted');
  });

  /** Renders a portal page with its section navigation and the notice the last redirect named. */
  function page(req: Request, res: Response, view: string, data: PageData) {
    web.pages.render(req, res, view, {
      ...data,
      section: view.split('/')[1],
      notice: NOTICES[queryField(req, 'notice')],
    });
  }

  return router;
}

/** Users of other accounts find nothing here (404, as for any unknown address). */
function resellersOnly(web: Web): RequestHandler {
  return (req, res, next) => {
    if (currentSession(res)?.account.kind === 'reseller') {
      next();
      return;
    }
    renderNotFound(web.pages, req, res);
  };
}

async function numberPage(web: Web, res: Response, didId: number) {
  const held = await getHeldNumber(readerCtx(web, res), didId);
  return {
    title: `Number ${held.did.number}`,
    ...held,
    transferAction: `/reseller/numbers/${held.did.id}/transfer`,
    ...transferFormData(held.transfer, held.did.version),
  };
}

async function pricesPage(web: Web, res: Response) {
  const list = await listResellerPrices(readerCtx(web, res));
  return { title: 'Your prices', ...list, currency: currentSession(res)!.account.currency };
}

function expectedVersion(text: string): { expectedVersion?: number } {
  const version = Number(text);
  return Number.isSafeInteger(version) && version > 0 ? { expectedVersion: version } : {};
}
