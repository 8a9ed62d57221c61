// Signing up (directly, or by a reseller's invitation), logging in and out, and resetting a forgotten
// password. Each POST: CSRF check → one core use case → redirect, or the form again with its errors.
import { Router } from 'express';
import { logIn } from '../../../core/web-auth/login.ts';
import { findInvitation } from '../../../core/web-auth/invitations.ts';
import {
  checkResetToken,
  requestPasswordReset,
  resetPassword,
  RESET_TTL_MS,
} from '../../../core/web-auth/password-reset.ts';
import { signUp } from '../../../core/web-auth/signup.ts';
import type { Web } from '../deps.ts';
import { bodyField, postForm, queryField } from '../form.ts';
import { safeNext, signIn, signOut } from '../session.ts';
import { currentSession } from '../state.ts';

const NOTICES: Readonly<Record<string, string>> = {
  'reset-done': 'Your password was changed. Log in with the new one.',
  'logged-out': 'You are logged out.',
};

export function authRoutes(web: Web): Router {
  const router = Router();

  router.get('/login', (req, res) => {
    const next = safeNext(queryField(req, 'next'));
    if (currentSession(res)) {
      res.redirect(303, next);
      return;
    }
    web.pages.render(req, res, 'auth/login', {
      title: 'Log in',
      values: { next },
      notice: NOTICES[queryField(req, 'notice')],
    });
  });

  router.post(
    '/login',
    ...postForm(web, { view: 'auth/login', title: 'Log in', fields: ['email', 'password'] }),
    async (req, res) => {
      const { userId } = await logIn(web.db, web.clock, {
        email: bodyField(req, 'email'),
        password: bodyField(req, 'password'),
        ip: req.ip ?? '',
      });
      await signIn(web, req, res, userId);
      res.redirect(303, safeNext(bodyField(req, 'next')));
    },
  );

  router.post('/logout', ...postForm(web), async (req, res) => {
    await signOut(web, req, res);
    res.redirect(303, '/login?notice=logged-out');
  });

  router.get('/signup', async (req, res) => {
    const invite = queryField(req, 'invite').trim();
    const invitation = invite ? await findInvitation(web.db, web.clock, invite) : undefined;
    web.pages.render(req, res, 'auth/signup', {
      title: 'Sign up',
      invitation,
      values: { invite, email: invitation?.email ?? '' },
    });
  });

  router.post(
    '/signup',
    ...postForm(web, {
      view: 'auth/signup',
      title: 'Sign up',
      fields: ['name', 'company', 'email', 'password'],
    }),
    async (req, res) => {
      const { user } = await signUp(web, {
        name: bodyField(req, 'name'),
        company: bodyField(req, 'company'),
        email: bodyField(req, 'email'),
        password: bodyField(req, 'password'),
        invite: bodyField(req, 'invite') || undefined,
      });
      await signIn(web, req, res, user.id);
      res.redirect(303, '/account?welcome=1');
    },
  );

  router.get('/password/forgot', (req, res) => {
    web.pages.render(req, res, 'auth/forgot', { title: 'Forgot your password' });
  });

  router.post(
    '/password/forgot',
    ...postForm(web, { view: 'auth/forgot', title: 'Forgot your password', fields: ['email'] }),
    async (req, res) => {
      const link = await requestPasswordReset(web, { email: bodyField(req, 'email'), ip: req.ip ?? '' });
      if (link) {
        // There is no mail server: the operator hands the link over.
        web.log.info(
          {
            email: link.user.email,
            link: `${web.config.publicUrl}/password/reset?token=${encodeURIComponent(link.token)}`,
            expiresAt: link.expiresAt.toISOString(),
          },
          'Password reset link (no mail is sent: give it to the user)',
        );
      }
      // The same page whether or not the address is known.
      web.pages.render(req, res, 'auth/forgot-sent', {
        title: 'Check for the link',
        minutes: RESET_TTL_MS / 60_000,
      });
    },
  );

  router.get('/password/reset', async (req, res) => {
    const token = queryField(req, 'token');
    await checkResetToken(web.db, web.clock, token);
    web.pages.render(req, res, 'auth/reset', { title: 'Choose a new password', values: { token } });
  });

  router.post(
    '/password/reset',
    ...postForm(web, { view: 'auth/reset', title: 'Choose a new password', fields: ['password'] }),
    async (req, res) => {
      await resetPassword(web, { token: bodyField(req, 'token'), password: bodyField(req, 'password') });
      res.redirect(303, '/login?notice=reset-done');
    },
  );

  return router;
}
