import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { linkTelegramChat } from '../../../core/accounts/telegram-link.ts';
import { hashPassword } from '../../../core/accounts/users.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { buildAccount, buildOperator, buildUser } from '../../helpers/factories.ts';
import { Browser, PASSWORD, serve, textOf } from './harness.ts';

const t = useTestDatabase();
const TOKEN = '123456:TEST-token-abcdefghijklmnop';
const fakes: Server[] = [];

afterEach(async () => {
  while (fakes.length) {
    const server = fakes.pop()!;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** A Bot API that answers getMe (and counts the calls); `fail` makes it answer 500 first. */
async function fakeBotApi(options: { failFirst?: boolean } = {}) {
  let calls = 0;
  const server = createServer((req, res) => {
    calls++;
    if (req.url !== `/bot${TOKEN}/getMe`) {
      res.writeHead(404).end();
      return;
    }
    if (options.failFirst && calls === 1) {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"ok":false}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        ok: true,
        result: { id: 999, is_bot: true, first_name: 'DID Ops', username: 'didops_bot' },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fakes.push(server);
  return { root: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls: () => calls };
}

async function customer() {
  const operator = await buildOperator(t.db);
  const account = await buildAccount(t.db, operator, { slug: 'bakery', name: 'Bakery Ltd' });
  const user = await buildUser(t.db, account, {
    email: 'ann@bakery.example',
    name: 'Ann',
    password_hash: await hashPassword(PASSWORD),
  });
  return { operator, account, user };
}

async function logIn(base: string): Promise<Browser> {
  const browser = new Browser(base);
  const done = await browser.submit('/login', '/login', { email: 'ann@bakery.example', password: PASSWORD });
  expect(done.status).toBe(303);
  return browser;
}

describe('the account page', () => {
  it('needs a signed-in user, and shows who they are and their account', async () => {
    await customer();
    const { base } = await serve(t.db);
    const anonymous = await new Browser(base).get('/account');
    expect(anonymous.status).toBe(303);
    expect(anonymous.location).toBe('/login?next=%2Faccount');

    const browser = await logIn(base);
    const page = await browser.get('/account');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<title>Your account · didops</title>');
    const text = textOf(page.html);
    expect(text).toContain('Name Ann Email ann@bakery.example Role owner');
    expect(text).toContain('Name Bakery Ltd Account id bakery Status active Currency USD');
    expect(text).toContain('Telegram is not set up on this server.');
    expect(page.html).not.toContain('action="/account/telegram-link"');
  });

  it('makes a one-time Telegram deep link that the bot accepts once', async () => {
    const { user } = await customer();
    const api = await fakeBotApi();
    const { base } = await serve(t.db, { env: { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: api.root } });
    const browser = await logIn(base);
    const page = await browser.get('/account');
    expect(page.html).toContain('action="/account/telegram-link"');

    const linked = await browser.post('/account/telegram-link');
    expect(linked.status).toBe(200);
    const url = /href="(https:\/\/t\.me\/didops_bot\?start[^"]+)"/
      .exec(linked.html)?.[1]
      ?.replace(/&#x3D;/g, '=');
    expect(url).toMatch(/^https:\/\/t\.me\/didops_bot\?start=[A-Za-z0-9_-]{32}$/);
    expect(textOf(linked.html)).toMatch(/It works once, until \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    const token = new URL(url!).searchParams.get('start')!;

    const rows = await t.db.selectFrom('telegram_link_tokens').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ user_id: user.id, used_at: null });
    expect(rows[0]!.token_hash).not.toContain(token);
    const audit = await t.db
      .selectFrom('audit_events')
      .select(['action', 'channel', 'actor_label'])
      .execute();
    expect(audit).toEqual([
      { action: 'telegram.link_token', channel: 'web', actor_label: 'web:ann@bakery.example' },
    ]);

    const linkedUser = await linkTelegramChat(t.db, { token, telegramUserId: '424242' });
    expect(linkedUser.id).toBe(user.id);

    // The bot's name was asked once and kept.
    await browser.get('/account');
    await browser.post('/account/telegram-link');
    expect(api.calls()).toBe(1);
  });

  it('says so when Telegram does not answer, and makes no token', async () => {
    await customer();
    const api = await fakeBotApi({ failFirst: true });
    const { base } = await serve(t.db, { env: { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: api.root } });
    const browser = await logIn(base);
    await browser.get('/account');
    const failed = await browser.post('/account/telegram-link');
    expect(failed.status).toBe(503);
    expect(textOf(failed.html)).toContain('Telegram does not answer right now, so no link was made.');
    expect(await t.db.selectFrom('telegram_link_tokens').select('id').execute()).toEqual([]);

    await browser.get('/account');
    expect((await browser.post('/account/telegram-link')).status).toBe(200);
  });

  it('lets a suspended account look but not make links', async () => {
    const { account } = await customer();
    const { base } = await serve(t.db, {
      env: { TELEGRAM_BOT_TOKEN: TOKEN },
      telegramBot: () => Promise.resolve({ status: 'ok', username: 'didops_bot' }),
    });
    const browser = await logIn(base);
    await t.db.updateTable('accounts').set({ status: 'suspended' }).where('id', '=', account.id).execute();
    const page = await browser.get('/account');
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toContain('Your account is suspended');
    const refused = await browser.post('/account/telegram-link');
    expect(refused.status).toBe(403);
    expect(await t.db.selectFrom('telegram_link_tokens').select('id').execute()).toEqual([]);
  });
});
