// Invoices and receipts (issue 5, deliverable 4): the account's monthly invoices (postpaid statements) and
// payments on one page, each printable on its own (the print stylesheet drops the site's chrome).
import { Router } from 'express';
import { getInvoice } from '../../../core/billing/subscriptions.ts';
import { billingHistory, getReceipt } from '../../../core/billing/statements.ts';
import { idParam, readerCtx } from '../contexts.ts';
import type { Web } from '../deps.ts';
import { requireUser } from '../session.ts';

export function invoicesRoutes(web: Web): Router {
  const router = Router();

  router.get('/my/invoices', requireUser, async (req, res) => {
    const history = await billingHistory(readerCtx(web, res));
    web.pages.render(req, res, 'my/invoices', { title: 'Invoices and receipts', ...history });
  });

  router.get('/my/invoices/:id', requireUser, async (req, res) => {
    const { invoice, lines, total } = await getInvoice(readerCtx(web, res), idParam(req, 'id'));
    web.pages.render(req, res, 'my/invoice', {
      title: `Invoice ${invoice.id}, ${invoice.period_start.toISOString().slice(0, 7)}`,
      invoice,
      lines,
      total,
      printable: true,
    });
  });

  router.get('/my/receipts/:id', requireUser, async (req, res) => {
    const receipt = await getReceipt(readerCtx(web, res), idParam(req, 'id'));
    web.pages.render(req, res, 'my/receipt', {
      title: `Receipt ${receipt.payment.id}`,
      ...receipt,
      printable: true,
    });
  });

  return router;
}
