// Test double for Slack around the real bot: requests signed exactly as Slack signs them, sent to Bolt's
// real receiver mounted on an express app on 127.0.0.1, and Slack's side (Web API, response_url) faked with
// nock, recording the bodies Slack would receive.
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import nock from 'nock';
import { createSlackBot, type SlackBot } from '../../../../bot/slack/slack-bot.ts';
import { loadConfig } from '../../../../core/config.ts';
import type { Executor } from '../../../../core/context.ts';
import { createLogger } from '../../../../core/runtime/logger.ts';
import { systemClock } from '../../../../core/shared/clock.ts';

export const SIGNING_SECRET = 'test-signing-secret';
export const API_ORIGIN = 'https://slack.test';
export const HOOKS_ORIGIN = 'https://hooks.slack.test';
export const RESPONSE_PATH = '/commands/1/2/3';
export const RESPONSE_URL = HOOKS_ORIGIN + RESPONSE_PATH;
export const ADMIN = 'UADMIN01';
export const AUDIT_CHANNEL = 'CAUDIT01';
export const CHANNEL = 'COPS0001';

export const BASE_ENV: Readonly<Record<string, string>> = {
  SLACK_SIGNING_SECRET: SIGNING_SECRET,
  SLACK_BOT_TOKEN: 'xoxb-test-token',
  SLACK_ADMIN_USERS: ADMIN,
  SLACK_API_URL: `${API_ORIGIN}/api/`,
  SLACK_AUDIT_CHANNEL: AUDIT_CHANNEL,
};

export type Json = Record<string, unknown>;

/** Slack's signature: v0= HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the signing secret. */
export function signatureHeaders(
  body: string,
  options: { timestamp?: number; secret?: string } = {},
): Record<string, string> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = createHmac('sha256', options.secret ?? SIGNING_SECRET)
    .update(`v0:${timestamp}:${body}`)
    .digest('hex');
  return { 'x-slack-signature': `v0=${signature}`, 'x-slack-request-timestamp': String(timestamp) };
}

/** A slash command as Slack posts it: form-encoded. */
export function slashCommandBody(text: string, user = ADMIN): string {
  return new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: 'T0000001',
    team_domain: 'didops',
    channel_id: CHANNEL,
    channel_name: 'ops',
    user_id: user,
    user_name: user.toLowerCase(),
    command: '/did',
    text,
    api_app_id: 'A0000001',
    is_enterprise_install: 'false',
    response_url: RESPONSE_URL,
    trigger_id: '1337.42.abcdef',
  }).toString();
}

/** A click on a button of one of our (ephemeral) messages. */
export function buttonClickBody(actionId: string, value: string, user = ADMIN): string {
  return interactionBody({
    type: 'block_actions',
    team: { id: 'T0000001', domain: 'didops' },
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: 'T0000001' },
    api_app_id: 'A0000001',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: '1700000000.000100', channel_id: CHANNEL, is_ephemeral: true },
    trigger_id: '2468.13579.trigger',
    channel: { id: CHANNEL, name: 'ops' },
    response_url: RESPONSE_URL,
    actions: [
      {
        type: 'button',
        action_id: actionId,
        block_id: 'b1',
        text: { type: 'plain_text', text: 'Button', emoji: true },
        value,
        action_ts: '1700000001.000200',
      },
    ],
  });
}

/** A form submission: the view Slack opened for us, with the values typed into it. */
export function viewSubmissionBody(
  view: Json,
  values: Record<string, Record<string, Json>>,
  user = ADMIN,
): string {
  return interactionBody({
    type: 'view_submission',
    team: { id: 'T0000001', domain: 'didops' },
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: 'T0000001' },
    api_app_id: 'A0000001',
    token: 'legacy-verification-token',
    trigger_id: '9999.8888.trigger',
    view: {
      id: 'V0000001',
      team_id: 'T0000001',
      type: 'modal',
      app_id: 'A0000001',
      bot_id: 'B0000001',
      hash: '1700000000.abc',
      root_view_id: 'V0000001',
      previous_view_id: null,
      clear_on_close: false,
      notify_on_close: false,
      ...view,
      state: { values },
    },
    response_urls: [],
  });
}

function interactionBody(payload: Json): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface Posted {
  readonly status: number;
  readonly body: string;
  /** Time until the whole HTTP answer was in. */
  readonly ms: number;
}

export async function postSigned(
  url: string,
  body: string,
  headers = signatureHeaders(body),
): Promise<Posted> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text, ms: performance.now() - started };
}

/** A Web API call the bot made: the method and its arguments (blocks and views decoded). */
export interface ApiCall {
  readonly method: string;
  readonly args: Json;
}

function decodeBody(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    const out: Json = {};
    for (const [key, value] of new URLSearchParams(text)) {
      try {
        out[key] = /^[[{]/.test(value) ? JSON.parse(value) : value;
      } catch {
        out[key] = value;
      }
    }
    return out;
  }
}

const API_ANSWERS: Record<string, Json> = {
  'auth.test': {
    ok: true,
    url: 'https://didops.slack.com/',
    team: 'didops',
    user: 'didbot',
    team_id: 'T0000001',
    user_id: 'UBOT0001',
    bot_id: 'BBOT0001',
  },
  'views.open': { ok: true, view: { id: 'V0000001' } },
  'chat.postMessage': { ok: true, channel: AUDIT_CHANNEL, ts: '1700000002.000300' },
  'chat.postEphemeral': { ok: true, message_ts: '1700000003.000400' },
};

/** Slack's side of the conversation, faked with nock; unmatched outbound requests are recorded as failures. */
export class FakeSlack {
  readonly api: ApiCall[] = [];
  readonly responses: Json[] = [];
  readonly unmatched: string[] = [];
  /** Answer the response_url with this status (e.g. 404 once it has expired). */
  responseUrlStatus = 200;
  /** Statuses for the next response_url requests, one each, before `responseUrlStatus` applies again. */
  readonly responseUrlFailures: number[] = [];
  /** Every request to the response_url, answered or failed. */
  responseUrlRequests = 0;
  private readonly onNoMatch = (request: Request) => {
    if (new URL(request.url).hostname !== '127.0.0.1')
      this.unmatched.push(`${request.method} ${request.url}`);
  };

  install(): void {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    nock.emitter.on('no match', this.onNoMatch);
    // nock 15 hands a reply function the fetch Request itself.
    nock(API_ORIGIN)
      .persist()
      .post(/^\/api\/[\w.]+$/)
      .reply(async (request: Request) => {
        const method = new URL(request.url).pathname.replace(/^\/api\//, '');
        this.api.push({ method, args: decodeBody(await request.text()) });
        const answer = API_ANSWERS[method] ?? { ok: false, error: 'unknown_method' };
        return [200, answer, { 'content-type': 'application/json' }];
      });
    nock(HOOKS_ORIGIN)
      .persist()
      .post(RESPONSE_PATH)
      .reply(async (request: Request) => {
        this.responseUrlRequests++;
        const status = this.responseUrlFailures.shift() ?? this.responseUrlStatus;
        if (status === 200) this.responses.push(decodeBody(await request.text()));
        return [status, status === 200 ? 'ok' : status >= 500 ? 'internal_error' : 'expired_url'];
      });
  }

  uninstall(): void {
    nock.emitter.removeListener('no match', this.onNoMatch);
    nock.cleanAll();
    nock.enableNetConnect();
  }

  calls(method: string): ApiCall[] {
    return this.api.filter((c) => c.method === method);
  }
}

export interface RunningBot {
  readonly bot: SlackBot;
  readonly url: string;
  readonly logs: Json[];
  close(): Promise<void>;
}

/** The real bot on the real receiver, on an express app listening on 127.0.0.1. */
export async function startBot(db: Executor, env: Record<string, string> = {}): Promise<RunningBot> {
  const config = loadConfig({ ...BASE_ENV, ...env });
  const logs: Json[] = [];
  const log = createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line) as Json) });
  const bot = createSlackBot({ db, clock: systemClock, settings: { didAgingDays: 30 }, config, log });
  if (!bot.router) throw new Error('expected HTTP mode');
  const app = express();
  app.use(bot.router);
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    bot,
    url: `http://127.0.0.1:${port}/slack/events`,
    logs,
    async close() {
      await bot.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls until `check` returns something truthy (or fails after `ms`). */
export async function waitFor<T>(check: () => T | undefined | null | false, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`waitFor: nothing after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** All mrkdwn and plain text in a Block Kit message, for assertions on what a person reads. */
export function textOf(message: Json): string {
  const parts: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'text' && typeof value === 'string') parts.push(value);
        else walk(value);
      }
    }
  };
  walk(message.blocks);
  return parts.join('\n');
}
