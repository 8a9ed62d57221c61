// The signed-in user's account page: who they are, their account, and the Telegram button that makes a
// one-time t.me link connecting their Telegram chat to their user (shown once, with its expiry).
import { Router, type Request, type Response } from 'express';
import { createTelegramLinkToken } from '../../../core/accounts/telegram-link.ts';
import { DomainError } from '../../../core/shared/errors.ts';
import type { Web } from '../deps.ts';
import { postForm, queryField } from '../form.ts';
import { requireUser, webCtx } from '../session.ts';
import { currentSession } from '../state.ts';

export function accountRoutes(web: Web): Router {
  const router = Router();

  const page = (req: Request, res: Response, extra: Record<string, unknown>) => {
    const session = currentSession(res)!;
    web.pages.render(req, res, 'account/show', {
      title: 'Your account',
      user: session.user,
      account: session.account,
      accountActive: session.account.status === 'active',
      telegramConfigured: web.config.telegram.botToken !== undefined,
      ...extra,
    });
  };

  router.get('/account', requireUser, (req, res) => {
    page(req, res, { welcome: queryField(req, 'welcome') === '1' });
  });

  router.post('/account/telegram-link', requireUser, ...postForm(web), async (req, res) => {
    const bot = await web.telegramBot();
    if (bot.status === 'off') {
      throw new DomainError('conflict', 'Telegram is not set up on this server.', {
        help: 'Ask your provider to connect a Telegram bot.',
      });
    }
    if (bot.status === 'unreachable') {
      throw new DomainError('unavailable', 'Telegram does not answer right now, so no link was made.', {
        help: 'Try again in a minute.',
      });
    }
    const offer = await createTelegramLinkToken(webCtx(web, res));
    page(req, res, { telegramLink: { url: offer.deepLink(bot.username), expiresAt: offer.expiresAt } });
  });

  return router;
}
