import { describe, expect, it } from 'vitest';
import { hashPassword } from '../../../core/accounts/users.ts';
import { ManualClock, systemClock } from '../../../core/shared/clock.ts';
import { createInvitation } from '../../../core/web-auth/invitations.ts';
import { hashToken } from '../../../core/web-auth/secret-token.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { actorOf, buildAccount, buildOperator, buildUser, ctxFor } from '../../helpers/factories.ts';
import { Browser, PASSWORD, serve, textOf } from './harness.ts';

const t = useTestDatabase();

async function customerWithLogin(email = 'ann@example.com') {
  const operator = await buildOperator(t.db);
  const account = await buildAccount(t.db, operator, { slug: 'ann-co', name: 'Ann Co' });
  const user = await buildUser(t.db, account, {
    email,
    name: 'Ann',
    password_hash: await hashPassword(PASSWORD),
  });
  return { operator, account, user };
}

async function logIn(browser: Browser, email: string, password = PASSWORD) {
  return browser.submit('/login', '/login', { email, password });
}

const sessions = () => t.db.selectFrom('web_sessions').selectAll().execute();

describe('sign up', () => {
  it('creates a customer of the operator with its owner, logs in, and audits it on the web channel', async () => {
    const operator = await buildOperator(t.db);
    const { base } = await serve(t.db);
    const browser = new Browser(base);
    const signup = await browser.get('/signup');
    expect(signup.status).toBe(200);
    expect(signup.html).toContain('<title>Sign up · didops</title>');

    const done = await browser.post('/signup', {
      name: 'Ann Smith',
      company: "Ann's Bakery",
      email: 'Ann@Example.com',
      password: PASSWORD,
    });
    expect(done.status).toBe(303);
    expect(done.location).toBe('/account?welcome=1');

    const account = await t.db
      .selectFrom('accounts')
      .selectAll()
      .where('slug', '=', 'ann-s-bakery')
      .executeTakeFirstOrThrow();
    expect(account).toMatchObject({ kind: 'customer', parent_id: operator.id, name: "Ann's Bakery" });
    const user = await t.db
      .selectFrom('users')
      .selectAll()
      .where('account_id', '=', account.id)
      .executeTakeFirstOrThrow();
    expect(user).toMatchObject({ email: 'ann@example.com', role: 'owner', name: 'Ann Smith' });
    expect(user.password_hash).toMatch(/^\$argon2/);

    const audit = await t.db.selectFrom('audit_events').selectAll().orderBy('id').execute();
    expect(audit.map((a) => [a.channel, a.action])).toEqual([
      ['web', 'account.create'],
      ['web', 'user.create'],
    ]);
    expect(audit[0]!.actor_label).toBe('web:signup ann@example.com');

    const page = await browser.get(done.location!);
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toContain('Welcome, Ann Smith! Your account is ready.');
    expect(textOf(page.html)).toContain('ann@example.com');
  });

  it('shows what is wrong next to the field and keeps what was typed, but never the password', async () => {
    await customerWithLogin('taken@example.com');
    const { base } = await serve(t.db);
    const browser = new Browser(base);

    const short = await browser.submit('/signup', '/signup', {
      name: 'Bob',
      email: 'bob@example.com',
      password: 'short',
    });
    expect(short.status).toBe(400);
    expect(short.html).toMatch(
      /<p class="field__error" id="f-password-error">Choose a password of at least 10 characters\./,
    );
    expect(short.html).toContain('aria-invalid="true"');
    expect(short.html).toContain('value="bob@example.com"');
    expect(short.html).not.toContain('value="short"');

    const taken = await browser.post('/signup', {
      name: 'Bob',
      email: 'TAKEN@example.com',
      password: PASSWORD,
    });
    expect(taken.status).toBe(409);
    expect(textOf(taken.html)).toContain('There is already an account with this email address.');
    expect(await t.db.selectFrom('accounts').select('slug').execute()).toHaveLength(2);
  });

  it('escapes what people type when it is shown', async () => {
    await buildOperator(t.db);
    const { base } = await serve(t.db);
    const browser = new Browser(base);
    await browser.submit('/signup', '/signup', {
      name: '<script>alert(1)</script>',
      email: 'eve@example.com',
      password: PASSWORD,
    });
    const page = await browser.get('/account');
    expect(page.html).not.toContain('<script>alert(1)</script>');
    expect(page.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('signs up an invited customer under the reseller that invited them, once', async () => {
    const operator = await buildOperator(t.db);
    const reseller = await buildAccount(t.db, operator, {
      kind: 'reseller',
      slug: 'voipco',
      name: 'VoIP Co',
    });
    const staff = await buildUser(t.db, reseller, { email: 'boss@voipco.example', role: 'admin' });
    const invitation = await createInvitation(
      ctxFor(t.db, actorOf(reseller, 'admin', 'web', staff.id), { clock: systemClock }),
      { email: 'Dana@Dental.example' },
    );
    expect(invitation.path).toBe(`/signup?invite=${invitation.token}`);
    const stored = await t.db.selectFrom('account_invitations').selectAll().executeTakeFirstOrThrow();
    expect(stored.token_hash).toBe(hashToken(invitation.token));

    const { base } = await serve(t.db);
    const browser = new Browser(base);
    const page = await browser.get(invitation.path);
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toContain('VoIP Co invited dana@dental.example');

    const wrongEmail = await browser.post('/signup', {
      invite: invitation.token,
      name: 'Dana',
      email: 'someone@else.example',
      password: PASSWORD,
    });
    expect(wrongEmail.status).toBe(400);
    expect(textOf(wrongEmail.html)).toContain('This invitation is for dana@dental.example.');

    const done = await browser.post('/signup', {
      invite: invitation.token,
      name: 'Dana',
      company: 'Dental',
      email: 'dana@dental.example',
      password: PASSWORD,
    });
    expect(done.status).toBe(303);
    const account = await t.db
      .selectFrom('accounts')
      .selectAll()
      .where('slug', '=', 'dental')
      .executeTakeFirstOrThrow();
    expect(account.parent_id).toBe(reseller.id);
    expect(account.path).toBe(`${reseller.path}${account.id}/`);
    const used = await t.db.selectFrom('account_invitations').selectAll().executeTakeFirstOrThrow();
    expect(used.used_by_account_id).toBe(account.id);
    const actions = await t.db
      .selectFrom('audit_events')
      .select(['action', 'channel'])
      .orderBy('id')
      .execute();
    expect(actions).toEqual([
      { action: 'invitation.create', channel: 'web' },
      { action: 'account.create', channel: 'web' },
      { action: 'user.create', channel: 'web' },
      { action: 'invitation.accept', channel: 'web' },
    ]);

    const again = await new Browser(base).get(invitation.path);
    expect(again.status).toBe(409);
    expect(textOf(again.html)).toContain('This invitation was already used.');
  });
});

describe('log in and out', () => {
  it('logs in with a new session id each time, sets safe cookie flags, and logs out by deleting the row', async () => {
    const { user } = await customerWithLogin();
    const { base } = await serve(t.db);
    const browser = new Browser(base);

    const login = await browser.get('/login');
    expect(login.status).toBe(200);
    const first = await browser.post('/login', {
      email: 'ANN@example.com',
      password: PASSWORD,
      next: '/numbers',
    });
    expect(first.status).toBe(303);
    expect(first.location).toBe('/numbers');
    const setCookie = first.headers.getSetCookie().find((c) => c.startsWith('didops_session='))!;
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Lax/);
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).not.toMatch(/; Secure/);
    const firstToken = browser.cookie('didops_session')!;
    expect((await sessions()).map((s) => s.id)).toEqual([hashToken(firstToken)]);
    expect((await sessions())[0]!.user_id).toBe(user.id);

    const nav = await browser.get('/numbers');
    expect(textOf(nav.html)).toContain('Signed in as Ann');
    expect(textOf(nav.html)).toContain('Log out');

    // Logging in again (from a form opened earlier) rotates the id: the old session is gone.
    expect((await browser.post('/login', { email: 'ann@example.com', password: PASSWORD })).status).toBe(303);
    const secondToken = browser.cookie('didops_session')!;
    expect(secondToken).not.toBe(firstToken);
    expect((await sessions()).map((s) => s.id)).toEqual([hashToken(secondToken)]);

    await browser.get('/account');
    const out = await browser.post('/logout');
    expect(out.status).toBe(303);
    expect(out.location).toBe('/login?notice=logged-out');
    expect(await sessions()).toEqual([]);
    expect(browser.cookie('didops_session')).toBeUndefined();

    // A copy of the old cookie is worth nothing now.
    const stolen = new Browser(base);
    stolen.cookies.set('didops_session', secondToken);
    const page = await stolen.get('/account');
    expect(page.status).toBe(303);
    expect(page.location).toBe('/login?next=%2Faccount');
  });

  it('refuses a wrong password and an unknown address with the same answer', async () => {
    await customerWithLogin();
    const { base } = await serve(t.db);
    const browser = new Browser(base);
    const wrong = await logIn(browser, 'ann@example.com', 'not the password');
    const unknown = await logIn(browser, 'nobody@example.com', 'not the password');
    for (const page of [wrong, unknown]) {
      expect(page.status).toBe(400);
      expect(textOf(page.html)).toContain('The email address or password is wrong.');
      expect(page.html).not.toContain('not the password');
    }
    expect(wrong.html).toContain('value="ann@example.com"');
    expect(await sessions()).toEqual([]);
  });

  it('goes back where it was asked from, but never to another site', async () => {
    await customerWithLogin();
    const { base } = await serve(t.db);
    const browser = new Browser(base);
    const guarded = await browser.get('/account');
    expect(guarded.location).toBe('/login?next=%2Faccount');
    const login = await browser.get(guarded.location!);
    expect(login.html).toContain('name="next" value="/account"');
    const done = await browser.post('/login', {
      email: 'ann@example.com',
      password: PASSWORD,
      next: '//evil.example/x',
    });
    expect(done.location).toBe('/account');
  });

  it('limits failed log-ins per address to 5 in 15 minutes with 429, even for the right password', async () => {
    await customerWithLogin();
    const clock = new ManualClock('2026-05-01T12:00:00Z');
    const { base } = await serve(t.db, { clock });
    const browser = new Browser(base);
    for (let i = 0; i < 5; i++) {
      expect((await logIn(browser, 'ann@example.com', `guess number ${i}`)).status).toBe(400);
      clock.advance(10_000);
    }
    const limited = await logIn(browser, 'ann@example.com');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(13 * 60);
    expect(textOf(limited.html)).toContain('Too many failed log-ins. Try again in 15 minutes.');
    expect(await sessions()).toEqual([]);

    // Another address from the same place is not blocked by that.
    await customerWithLoginUnder('bob@example.com');
    expect((await logIn(new Browser(base), 'bob@example.com')).status).toBe(303);

    // Once the oldest failures age out, the right password works again.
    clock.advance(15 * 60_000);
    expect((await logIn(browser, 'ann@example.com')).status).toBe(303);
  });

  it('limits failed log-ins per IP across addresses', async () => {
    await customerWithLogin();
    const { base } = await serve(t.db);
    const browser = new Browser(base);
    await browser.get('/login');
    for (let i = 0; i < 20; i++) {
      expect(
        (await browser.post('/login', { email: `user${i}@example.com`, password: 'wrong password' })).status,
      ).toBe(400);
    }
    const limited = await browser.post('/login', { email: 'ann@example.com', password: PASSWORD });
    expect(limited.status).toBe(429);
  });

  it('limits each visitor behind a trusted proxy (TRUST_PROXY=1) on their own, not everyone together', async () => {
    await customerWithLogin();
    const fail = (browser: Browser, i: number, forwardedFor: string) =>
      browser.post(
        '/login',
        { email: `user${i}@example.com`, password: 'wrong password' },
        { 'x-forwarded-for': forwardedFor },
      );
    const { base } = await serve(t.db, { env: { TRUST_PROXY: '1' } });
    const browser = new Browser(base);
    await browser.get('/login');
    for (let i = 0; i < 20; i++) expect((await fail(browser, i, '203.0.113.1')).status).toBe(400);
    expect((await fail(browser, 20, '203.0.113.1')).status).toBe(429);
    // The proxy appends the address it sees: one a visitor writes in front of it changes nothing.
    expect((await fail(browser, 21, '198.51.100.9, 203.0.113.1')).status).toBe(429);
    expect((await fail(browser, 22, '203.0.113.2')).status).toBe(400);
    const ips = await t.db.selectFrom('login_attempts').select('ip').distinct().orderBy('ip').execute();
    expect(ips.map((r) => r.ip)).toEqual(['203.0.113.1', '203.0.113.2']);
  });

  it('ignores X-Forwarded-For without TRUST_PROXY: every request is the connection it came on', async () => {
    await customerWithLogin();
    const { base } = await serve(t.db);
    const browser = new Browser(base);
    await browser.get('/login');
    for (let i = 0; i < 20; i++) {
      const wrong = { email: `user${i}@example.com`, password: 'wrong password' };
      expect((await browser.post('/login', wrong, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(400);
    }
    const elsewhere = await browser.post(
      '/login',
      { email: 'ann@example.com', password: PASSWORD },
      { 'x-forwarded-for': '203.0.113.2' },
    );
    expect(elsewhere.status).toBe(429);
    const ips = await t.db.selectFrom('login_attempts').select('ip').distinct().execute();
    expect(ips.map((r) => r.ip)).toEqual([expect.stringMatching(/^(::ffff:)?127\.0\.0\.1$/)]);
  });
});

async function customerWithLoginUnder(email: string) {
  const operator = await t.db
    .selectFrom('accounts')
    .selectAll()
    .where('kind', '=', 'admin')
    .executeTakeFirstOrThrow();
  const account = await buildAccount(t.db, operator);
  return buildUser(t.db, account, { email, password_hash: await hashPassword(PASSWORD) });
}

describe('password reset', () => {
  const linkFrom = (logs: Record<string, unknown>[]) => {
    const line = logs.find((l) => l.msg === 'Password reset link (no mail is sent: give it to the user)');
    return line ? new URL(String(line.link)) : undefined;
  };

  it('writes a one-time link to the log, sets the new password with it, and ends every session', async () => {
    await customerWithLogin();
    const { base, logs } = await serve(t.db, { env: { PUBLIC_URL: 'http://shop.example' } });
    const other = new Browser(base);
    await logIn(other, 'ann@example.com');
    expect(await sessions()).toHaveLength(1);

    const browser = new Browser(base);
    const sent = await browser.submit('/password/forgot', '/password/forgot', { email: 'ann@example.com' });
    expect(sent.status).toBe(200);
    expect(textOf(sent.html)).toContain('the link was written to the server log');
    const link = linkFrom(logs)!;
    expect(link.origin).toBe('http://shop.example');
    expect(link.pathname).toBe('/password/reset');
    const token = link.searchParams.get('token')!;
    const stored = await t.db.selectFrom('password_reset_tokens').selectAll().executeTakeFirstOrThrow();
    expect(stored.token_hash).toBe(hashToken(token));

    const form = await browser.get(`/password/reset?token=${token}`);
    expect(form.status).toBe(200);
    const done = await browser.post('/password/reset', { token, password: 'a brand new password' });
    expect(done.status).toBe(303);
    expect(done.location).toBe('/login?notice=reset-done');
    expect(await sessions()).toEqual([]);
    expect((await other.get('/account')).status).toBe(303);

    const reposted = await browser.post('/password/reset', { token, password: 'yet another password' });
    expect(reposted.status).toBe(409);
    expect(textOf(reposted.html)).toContain('This password reset link was already used.');
    const reused = await new Browser(base).get(`/password/reset?token=${token}`);
    expect(reused.status).toBe(409);

    expect((await logIn(browser, 'ann@example.com')).status).toBe(400);
    expect((await logIn(browser, 'ann@example.com', 'a brand new password')).status).toBe(303);

    const audit = await t.db.selectFrom('audit_events').select(['action', 'channel']).execute();
    expect(audit).toEqual([{ action: 'user.password_reset', channel: 'web' }]);
  });

  it('refuses an expired link and says nothing about unknown addresses', async () => {
    await customerWithLogin();
    const clock = new ManualClock('2026-05-01T12:00:00Z');
    const { base, logs } = await serve(t.db, { clock });
    const browser = new Browser(base);

    const unknown = await browser.submit('/password/forgot', '/password/forgot', {
      email: 'nobody@example.com',
    });
    expect(unknown.status).toBe(200);
    expect(linkFrom(logs)).toBeUndefined();

    const known = await browser.submit('/password/forgot', '/password/forgot', { email: 'ann@example.com' });
    expect(textOf(known.html)).toBe(textOf(unknown.html));
    const token = linkFrom(logs)!.searchParams.get('token')!;

    clock.advance(61 * 60_000);
    const expired = await browser.get(`/password/reset?token=${token}`);
    expect(expired.status).toBe(400);
    expect(textOf(expired.html)).toContain('This password reset link has expired.');
    await browser.get('/login');
    const posted = await browser.post('/password/reset', { token, password: 'a brand new password' });
    expect(posted.status).toBe(400);
    const user = await t.db.selectFrom('users').select('password_hash').executeTakeFirstOrThrow();
    expect(user.password_hash).not.toBeNull();
    expect((await logIn(browser, 'ann@example.com')).status).toBe(303);
  });

  it('limits requests per address to 3 an hour with 429, answering unknown addresses alike', async () => {
    await customerWithLogin();
    const clock = new ManualClock('2026-05-01T12:00:00Z');
    const { base, logs } = await serve(t.db, { clock });
    const browser = new Browser(base);
    const ask = (email: string) => browser.submit('/password/forgot', '/password/forgot', { email });
    const links = () =>
      logs.filter((l) => l.msg === 'Password reset link (no mail is sent: give it to the user)');
    for (let i = 0; i < 3; i++) {
      expect((await ask('ann@example.com')).status).toBe(200);
      expect((await ask('nobody@example.com')).status).toBe(200);
      clock.advance(60_000);
    }
    expect(links()).toHaveLength(3);

    const known = await ask('Ann@Example.com');
    const unknown = await ask('nobody@example.com');
    expect(known.status).toBe(429);
    expect(textOf(known.html)).toContain(
      'Too many password reset links were asked for. Try again in 58 minutes. A link works for an hour: use the latest one, or ask again later.',
    );
    expect(Number(known.headers.get('retry-after'))).toBeGreaterThan(57 * 60);
    // Nothing tells the known address from the unknown one.
    expect(unknown.status).toBe(known.status);
    expect(unknown.headers.get('retry-after')).toBe(known.headers.get('retry-after'));
    expect(textOf(unknown.html)).toBe(textOf(known.html));
    expect(links()).toHaveLength(3);
    expect(await t.db.selectFrom('password_reset_tokens').select('id').execute()).toHaveLength(3);

    // Other addresses still get theirs, and the address gets one again an hour on.
    await customerWithLoginUnder('bob@example.com');
    expect((await ask('bob@example.com')).status).toBe(200);
    expect(links()).toHaveLength(4);
    clock.advance(60 * 60_000);
    expect((await ask('ann@example.com')).status).toBe(200);
    expect(links()).toHaveLength(5);
    // Failed log-ins are counted apart: asking for links did not use up any.
    expect((await logIn(browser, 'ann@example.com')).status).toBe(303);
  });

  it('limits requests per IP to 20 an hour, across addresses', async () => {
    await customerWithLogin();
    const { base, logs } = await serve(t.db);
    const browser = new Browser(base);
    for (let i = 0; i < 20; i++) {
      const sent = await browser.submit('/password/forgot', '/password/forgot', {
        email: `user${i}@example.com`,
      });
      expect(sent.status).toBe(200);
    }
    const limited = await browser.submit('/password/forgot', '/password/forgot', {
      email: 'ann@example.com',
    });
    expect(limited.status).toBe(429);
    expect(logs.some((l) => l.msg === 'Password reset link (no mail is sent: give it to the user)')).toBe(
      false,
    );
  });

  it('does not hint at the server log in production', async () => {
    await customerWithLogin();
    const { base } = await serve(t.db, {
      env: { NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40), PUBLIC_URL: 'https://shop.example' },
    });
    const sent = await new Browser(base).submit('/password/forgot', '/password/forgot', {
      email: 'ann@example.com',
    });
    expect(textOf(sent.html)).toContain('If the address is known, a link to choose a new password was sent.');
    expect(sent.html).not.toContain('server log');
  });
});

describe('CSRF', () => {
  it('refuses anonymous forms without the right token with 403, changing nothing', async () => {
    await customerWithLogin();
    const { base } = await serve(t.db);
    const browser = new Browser(base);
    await browser.get('/signup');

    const forged = await browser.post('/signup', {
      _csrf: 'forged',
      name: 'Mallory',
      email: 'mallory@example.com',
      password: PASSWORD,
    });
    expect(forged.status).toBe(403);
    expect(textOf(forged.html)).toContain('This form has expired or was not sent from this site');
    const missing = await new Browser(base).post('/login', {
      _csrf: '',
      email: 'ann@example.com',
      password: PASSWORD,
    });
    expect(missing.status).toBe(403);
    // A token from another browser does not fit this browser's cookie.
    const other = new Browser(base);
    await other.get('/login');
    const stranger = new Browser(base);
    await stranger.get('/login');
    expect(
      (await stranger.post('/login', { _csrf: other.csrf, email: 'ann@example.com', password: PASSWORD }))
        .status,
    ).toBe(403);

    expect(await t.db.selectFrom('accounts').select('id').execute()).toHaveLength(2);
    expect(await t.db.selectFrom('login_attempts').select('id').execute()).toEqual([]);
    expect(await sessions()).toEqual([]);
  });

  it('refuses signed-in forms carrying anything but the session token', async () => {
    await customerWithLogin();
    const { base } = await serve(t.db, {
      telegramBot: () => Promise.resolve({ status: 'ok', username: 'didops_bot' }),
      env: { TELEGRAM_BOT_TOKEN: '123456:TEST-token-abcdefghijklmnop' },
    });
    const browser = new Browser(base);
    await browser.get('/login');
    const anonymousToken = browser.csrf;
    await logIn(browser, 'ann@example.com');
    await browser.get('/account');
    expect(browser.csrf).not.toBe(anonymousToken);

    const forged = await browser.post('/account/telegram-link', { _csrf: anonymousToken });
    expect(forged.status).toBe(403);
    const loggedOut = await browser.post('/logout', { _csrf: 'nope' });
    expect(loggedOut.status).toBe(403);
    expect(await t.db.selectFrom('telegram_link_tokens').select('id').execute()).toEqual([]);
    expect(await sessions()).toHaveLength(1);
  });
});

describe('pages', () => {
  it('send security headers and a title on every HTML page', async () => {
    await customerWithLogin();
    const { base } = await serve(t.db);
    const browser = new Browser(base);
    for (const path of ['/', '/numbers', '/login', '/signup', '/password/forgot', '/no/such/page']) {
      const page = await browser.get(path);
      expect(page.headers.get('content-type'), path).toMatch(/text\/html/);
      const csp = page.headers.get('content-security-policy')!;
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      expect(page.headers.get('referrer-policy')).toBe('same-origin');
      expect(page.headers.get('strict-transport-security')).toBeNull();
      expect(page.html).toMatch(/<title>[^<]+ · didops<\/title>/);
      expect(page.html).not.toMatch(/<script>|<script [^>]*>[^<]/);
      expect(page.html).not.toMatch(/ on[a-z]+="/);
    }
  });

  it('warns when SESSION_SECRET is not set (development), and not when it is', async () => {
    const warned = (logs: Record<string, unknown>[]) =>
      logs.some((l) => l.level === 'warn' && String(l.msg).startsWith('SESSION_SECRET is not set'));
    expect(warned((await serve(t.db)).logs)).toBe(true);
    expect(warned((await serve(t.db, { env: { SESSION_SECRET: 's'.repeat(32) } })).logs)).toBe(false);
  });

  it('adds HSTS and Secure cookies when the site is served over https', async () => {
    await customerWithLogin();
    const { base } = await serve(t.db, { env: { PUBLIC_URL: 'https://shop.example' } });
    const browser = new Browser(base);
    const page = await browser.get('/login');
    expect(page.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    expect(page.headers.getSetCookie().find((c) => c.startsWith('didops_csrf='))).toMatch(/; Secure/);
    const login = await browser.post('/login', { email: 'ann@example.com', password: PASSWORD });
    expect(login.headers.getSetCookie().find((c) => c.startsWith('didops_session='))).toMatch(
      /HttpOnly.*Secure|Secure.*HttpOnly/,
    );
  });

  it('takes Secure cookies and HSTS from PUBLIC_URL behind a proxy, whatever X-Forwarded-Proto says', async () => {
    await customerWithLogin();
    const secure = (page: { headers: Headers }) =>
      /; Secure/.test(page.headers.getSetCookie().find((c) => c.startsWith('didops_csrf=')) ?? '');
    const https = await serve(t.db, { env: { TRUST_PROXY: '1', PUBLIC_URL: 'https://shop.example' } });
    const overHttps = await new Browser(https.base).get('/login', { 'x-forwarded-proto': 'http' });
    expect(secure(overHttps)).toBe(true);
    expect(overHttps.headers.get('strict-transport-security')).not.toBeNull();
    const http = await serve(t.db, { env: { TRUST_PROXY: '1' } });
    const overHttp = await new Browser(http.base).get('/login', { 'x-forwarded-proto': 'https' });
    expect(secure(overHttp)).toBe(false);
    expect(overHttp.headers.get('strict-transport-security')).toBeNull();
  });

  it('answers unknown paths with a page for browsers and JSON for machines and /api', async () => {
    await buildOperator(t.db);
    const { base } = await serve(t.db);
    const page = await new Browser(base).get('/no/such/page');
    expect(page.status).toBe(404);
    expect(textOf(page.html)).toContain('Page not found');
    const api = await new Browser(base).get('/api/v2/nothing');
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toMatch(/application\/json/);
    const machine = await fetch(`${base}/no/such/page`);
    expect(machine.status).toBe(404);
    expect(machine.headers.get('content-type')).toMatch(/application\/json/);
  });

  it('serves its stylesheet with a long cache', async () => {
    const { base } = await serve(t.db);
    const home = await new Browser(base).get('/');
    const href = /<link rel="stylesheet" href="([^"]+)"/.exec(home.html)![1]!;
    expect(href).toMatch(/^\/assets\/site\.css\?v=[0-9a-f]{10}$/);
    const css = await fetch(base + href);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/text\/css/);
    expect(css.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });
});
