// "My numbers" (issue 5, deliverable 4; issue 6, item 3): the account's numbers with their state, renewal
// date and price; per number the call-transfer settings (saved through core/transfer/call-transfer.ts,
// the same use cases the chat bots call), cancel at period end and undo, the charges, what calls cost,
// and "Pay now" for an overdue renewal (also reached from payment-failed notices: GET .../pay).
import { Router, type Request, type Response } from 'express';
import {
  listMyNumbers,
  myNumber,
  payOverdueRenewal,
  setMyNumberCancellation,
} from '../../../core/billing/my-numbers.ts';
import {
  CONDITION_LABEL,
  TRANSFER_CONDITIONS,
  saveCallTransfer,
  type CallTransferView,
} from '../../../core/transfer/call-transfer.ts';
import type { AccountNumberTransfer } from '../../../core/inventory/account-numbers.ts';
import { billingCtx, idParam, readerCtx } from '../contexts.ts';
import type { Web } from '../deps.ts';
import { withPageOnError } from '../form-page.ts';
import { bodyField, postForm, queryField } from '../form.ts';
import { requireUser, webCtx } from '../session.ts';

/** The inputs of the call-transfer form, named as core's errors name them. */
export const TRANSFER_FIELDS = ['enabled', ...TRANSFER_CONDITIONS, 'ring_timeout'] as const;

const NOTICES: Readonly<Record<string, string>> = {
  transfer: 'Call transfer saved.',
  'transfer-unchanged': 'Call transfer already was set like that: nothing changed.',
  cancel: 'This number will be canceled at the end of its period. You can undo that until then.',
  resume: 'This number will renew as usual.',
  paid: 'Thank you: the payment is being confirmed. The number is restored as soon as it is.',
};

export function myNumbersRoutes(web: Web): Router {
  const router = Router();

  router.get('/my/numbers', requireUser, async (req, res) => {
    const list = await listMyNumbers(readerCtx(web, res));
    web.pages.render(req, res, 'my/numbers', {
      title: 'My numbers',
      numbers: list.numbers,
      total: list.total,
      more: list.total > list.numbers.length,
    });
  });

  router.get('/my/numbers/:didId', requireUser, async (req, res) => {
    const data = await numberPage(web, res, idParam(req, 'didId'));
    const notice = queryField(req, 'paid') === '1' ? NOTICES.paid : NOTICES[queryField(req, 'saved')];
    web.pages.render(req, res, 'my/number', { ...data, notice });
  });

  router.post(
    '/my/numbers/:didId/transfer',
    requireUser,
    ...postForm(web, { view: 'my/number', title: 'Your number', fields: TRANSFER_FIELDS }),
    async (req, res) => {
      const didId = idParam(req, 'didId');
      const result = await withPageOnError(
        res,
        () => numberPage(web, res, didId),
        () => saveCallTransfer(webCtx(web, res), transferForm(req, didId)),
      );
      res.redirect(
        303,
        `/my/numbers/${didId}?saved=${result.changed ? 'transfer' : 'transfer-unchanged'}#transfer`,
      );
    },
  );

  router.post('/my/numbers/:didId/cancel', requireUser, ...postForm(web), async (req, res) => {
    const didId = idParam(req, 'didId');
    const cancel = bodyField(req, 'cancel') !== 'no';
    await setMyNumberCancellation(webCtx(web, res), didId, cancel);
    res.redirect(303, `/my/numbers/${didId}?saved=${cancel ? 'cancel' : 'resume'}`);
  });

  // The link in "your payment failed" notices: the number's page with the button, nothing done by a GET.
  router.get('/my/numbers/:didId/pay', requireUser, async (req, res) => {
    const data = await numberPage(web, res, idParam(req, 'didId'));
    web.pages.render(req, res, 'my/pay', { ...data, title: `Pay for ${data.heading}` });
  });

  // Answered with the page that opens Stripe (templates/orders/pay.hbs) rather than a redirect; sending the
  // form again is harmless, the payment page is made once per period and attempt.
  router.post('/my/numbers/:didId/pay', requireUser, ...postForm(web), async (req, res) => {
    const didId = idParam(req, 'didId');
    const url = await payOverdueRenewal(billingCtx(web, res), didId);
    web.pages.render(req, res, 'orders/pay', {
      title: 'Opening the payment page',
      redirectTo: url,
      backUrl: `/my/numbers/${didId}`,
    });
  });

  return router;
}

/** Everything the number's page shows; the transfer form starts from the saved settings. */
async function numberPage(web: Web, res: Response, didId: number) {
  const number = await myNumber(readerCtx(web, res), didId);
  const heading = number.number;
  return {
    title: `Your number ${heading}`,
    heading,
    number,
    overdue: number.state === 'past_due' || number.state === 'suspended',
    canCancel:
      number.subscription !== null &&
      number.subscription.billingType === 'recurring' &&
      number.state !== 'canceling',
    canResume: number.state === 'canceling',
    transferAction: `/my/numbers/${number.didId}/transfer`,
    ...transferFormData(number.transfer, number.version),
  };
}

/** The call-transfer form's inputs and labels, filled from the settings. */
export function transferFormData(transfer: AccountNumberTransfer | CallTransferView, version: number) {
  const values: Record<string, string> = {
    enabled: transfer.enabled ? 'on' : '',
    ring_timeout: String(transfer.ringTimeoutSeconds),
  };
  for (const condition of TRANSFER_CONDITIONS)
    values[condition] = transfer.destinations[condition]?.value ?? '';
  return {
    transfer,
    // Outside `values`: a form shown again after a refusal keeps what was typed but the number's latest version.
    currentVersion: version,
    conditions: TRANSFER_CONDITIONS.map((c) => ({ name: c, label: CONDITION_LABEL[c] })),
    values,
  };
}

/** The transfer form as core takes it. */
export function transferForm(req: Request, didId: number) {
  const version = Number(bodyField(req, 'version'));
  return {
    didId,
    enabled: bodyField(req, 'enabled') !== '',
    destinations: Object.fromEntries(TRANSFER_CONDITIONS.map((c) => [c, bodyField(req, c)])),
    ringTimeout: bodyField(req, 'ring_timeout'),
    ...(Number.isSafeInteger(version) && version > 0 ? { expectedVersion: version } : {}),
  };
}
