// The bot's front door: the webhook handler mounted on a real express app (secret-token check, answer
// first and handle after) and start() registering the webhook with Telegram.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTelegramBot, type TelegramBot } from '../../../../bot/telegram/telegram-bot.ts';
import { silentLogger } from '../../../../core/runtime/logger.ts';
import { ManualClock } from '../../../../core/shared/clock.ts';
import { useTestDatabase } from '../../../helpers/database.ts';
import { buildAccount, buildDid, buildOperator } from '../../../helpers/factories.ts';
import {
  ADMIN_ID,
  BOT_INFO,
  WEBHOOK_SECRET,
  fakeTelegram,
  telegramConfig,
  textUpdate,
  type FakeTelegram,
  testTelegramBot,
} from './fake-telegram.ts';

const t = useTestDatabase();
const NUMBER = '+18665550100';

let telegram: FakeTelegram;
let tb: TelegramBot;
let server: Server;
let url: string;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => {
  nock.enableNetConnect();
});

beforeEach(async () => {
  telegram = fakeTelegram();
  tb = testTelegramBot(t.db, {
    askIdentity: true,
    env: {
      TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
      PUBLIC_URL: 'https://dids.example.com/',
    },
  });
  const operator = await buildOperator(t.db);
  await buildAccount(t.db, operator, { slug: 'acme' });
  await buildDid(t.db, { number: NUMBER, area_code: '866', number_type: 'toll_free' });
  const app = express();
  app.post('/telegram/webhook', tb.webhook!);
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/telegram/webhook`;
});

afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  await tb.stop();
  nock.cleanAll();
});

const status = async () =>
  (await t.db.selectFrom('dids').select('status').where('number', '=', NUMBER).executeTakeFirstOrThrow())
    .status;

function post(body: unknown, secret?: string) {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(secret === undefined ? {} : { 'x-telegram-bot-api-secret-token': secret }),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('the webhook', () => {
  it('handles an update that carries the secret token', async () => {
    await tb.start();
    const response = await post(textUpdate(ADMIN_ID, '/did assign 18665550100 acme'), WEBHOOK_SECRET);
    expect(response.status).toBe(200);
    await tb.stop(); // waits for the update being handled

    expect(telegram.texts()).toEqual(['✓ +1 866 555 0100 is now assigned to acme.']);
    expect(await status()).toBe('assigned');
  });

  it('refuses a request with a wrong or missing secret token, and runs nothing', async () => {
    tb.bot.botInfo = BOT_INFO;
    const wrong = await post(textUpdate(ADMIN_ID, '/did assign 18665550100 acme'), 'not-the-secret');
    const missing = await post(textUpdate(ADMIN_ID, '/did assign 18665550100 acme'));
    expect(wrong.status).toBe(403);
    expect(missing.status).toBe(403);
    await tb.stop();

    expect(telegram.calls).toEqual([]);
    expect(await status()).toBe('available');
  });

  it('answers 400 to a body that is not an update', async () => {
    tb.bot.botInfo = BOT_INFO;
    expect((await post('not json', WEBHOOK_SECRET)).status).toBe(400);
    expect((await post({ hello: 'world' }, WEBHOOK_SECRET)).status).toBe(400);
    expect(telegram.calls).toEqual([]);
  });
});

describe('start', () => {
  it('registers the webhook at PUBLIC_URL with the secret token and the updates it handles', async () => {
    await tb.start();
    expect(telegram.calls.map((c) => c.method)).toEqual(['getMe', 'setWebhook']);
    expect(telegram.of('setWebhook')[0]!.body).toEqual({
      url: 'https://dids.example.com/telegram/webhook',
      secret_token: WEBHOOK_SECRET,
      allowed_updates: ['message', 'callback_query'],
    });
    expect(tb.bot.botInfo?.username).toBe('didops_bot');
  });

  it('polls when there is no webhook secret: handles what getUpdates brings, and stops cleanly', async () => {
    const polling = createTelegramBot({
      db: t.db,
      clock: new ManualClock(),
      settings: { didAgingDays: 30 },
      config: telegramConfig(),
      log: silentLogger,
    });
    expect(polling.webhook).toBeUndefined();
    telegram.deliver(textUpdate(ADMIN_ID, '/did assign 18665550100 acme'));

    await polling.start();
    await expect.poll(() => telegram.of('sendMessage').length).toBe(1);
    await polling.stop();

    expect(telegram.calls.map((c) => c.method).slice(0, 3)).toEqual(['getMe', 'deleteWebhook', 'getUpdates']);
    expect(telegram.of('getUpdates')[0]!.body.allowed_updates).toEqual(['message', 'callback_query']);
    expect(telegram.texts()).toEqual(['✓ +1 866 555 0100 is now assigned to acme.']);
    expect(await status()).toBe('assigned');
  });
});
