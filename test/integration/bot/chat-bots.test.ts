import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createChatBots } from '../../../bot/chat-bots.ts';
import { loadConfig } from '../../../core/config.ts';
import { silentLogger } from '../../../core/runtime/logger.ts';
import { ManualClock } from '../../../core/shared/clock.ts';
import { createWebApp } from '../../../storefront/app.ts';
import { useTestDatabase } from '../../helpers/database.ts';

const t = useTestDatabase();

const SLACK_HTTP = {
  SLACK_BOT_TOKEN: 'xoxb-test-token',
  SLACK_SIGNING_SECRET: 'slack-signing-secret',
};
const TELEGRAM_WEBHOOK = {
  TELEGRAM_BOT_TOKEN: '123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  TELEGRAM_WEBHOOK_SECRET: 'telegram-secret',
  PUBLIC_URL: 'https://dids.example.com',
};

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

function botsFor(env: Record<string, string>, roles: { web: boolean; bot: boolean }) {
  const config = loadConfig(env);
  return createChatBots(
    { db: t.db, clock: new ManualClock(), settings: { didAgingDays: 30 }, config, log: silentLogger },
    roles,
  );
}

async function serve(env: Record<string, string>) {
  const config = loadConfig(env);
  const bots = botsFor(env, { web: true, bot: false });
  const app = createWebApp({
    db: t.db,
    config,
    log: silentLogger,
    slackRouter: bots.slackRouter,
    telegramWebhook: bots.telegramWebhook,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  closers.push(() => bots.stop());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('chat front doors in the web app', () => {
  it('serves the Slack endpoint and the Telegram webhook, and both refuse unsigned requests', async () => {
    const base = await serve({ ...SLACK_HTTP, ...TELEGRAM_WEBHOOK });
    const slack = await fetch(`${base}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'command=%2Fdid&text=assign+18665550100+acme&user_id=U1',
    });
    expect(slack.status).toBe(401);
    const telegram = await fetch(`${base}/telegram/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'wrong' },
      body: JSON.stringify({ update_id: 1 }),
    });
    expect(telegram.status).toBe(403);
  });

  it('without chat configuration, those paths do not exist', async () => {
    const base = await serve({});
    expect((await fetch(`${base}/slack/events`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${base}/telegram/webhook`, { method: 'POST' })).status).toBe(404);
  });

  it('gives HTTP-delivered bots to the web role and connection-holding ones to the bot role', () => {
    expect(botsFor({ ...SLACK_HTTP, ...TELEGRAM_WEBHOOK }, { web: true, bot: false }).running).toEqual([
      'slack (events API)',
      'telegram (webhook)',
    ]);
    expect(botsFor({ ...SLACK_HTTP, ...TELEGRAM_WEBHOOK }, { web: false, bot: true }).running).toEqual([]);
    const polling = {
      SLACK_BOT_TOKEN: 'xoxb-t',
      SLACK_APP_TOKEN: 'xapp-t',
      TELEGRAM_BOT_TOKEN: TELEGRAM_WEBHOOK.TELEGRAM_BOT_TOKEN,
    };
    expect(botsFor(polling, { web: true, bot: false }).running).toEqual([]);
    expect(botsFor(polling, { web: false, bot: true }).running).toEqual([
      'slack (socket mode)',
      'telegram (long polling)',
    ]);
  });
});
