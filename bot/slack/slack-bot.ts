// The Slack front door: Bolt, with the /did command, its buttons and its forms. HTTP mode serves
// POST /slack/events through Bolt's ExpressReceiver (signature and 5-minute replay window checked on the
// raw body before anything runs); with SLACK_APP_TOKEN it connects in Socket Mode instead. Either way every
// request is acknowledged first and answered after, so a slow database never costs Slack's 3 seconds.
import {
  App,
  ExpressReceiver,
  LogLevel,
  webApi,
  type Authorize,
  type Logger as BoltLogger,
} from '@slack/bolt';
import type { Router } from 'express';
import type { Config } from '../../core/config.ts';
import type { Executor, Settings } from '../../core/context.ts';
import type { Logger } from '../../core/runtime/logger.ts';
import type { Clock } from '../../core/shared/clock.ts';
import { registerButtons } from './listeners/buttons.ts';
import { registerSlashCommand } from './listeners/command.ts';
import { registerForms } from './listeners/forms.ts';
import type { SlackRuntime, WebClient } from './runtime.ts';

export interface SlackBotDeps {
  readonly db: Executor;
  readonly clock: Clock;
  readonly settings: Settings;
  readonly config: Config;
  readonly log: Logger;
}

export interface SlackBot {
  /** HTTP mode: mount at the app root (before any body parser); it serves POST /slack/events. */
  readonly router?: Router;
  /** Socket Mode connects; HTTP mode only checks the bot token in the background. */
  start(): Promise<void>;
  /** Disconnects (Socket Mode) and waits for replies still being worked on. */
  stop(): Promise<void>;
}

export const EVENTS_PATH = '/slack/events';

/** How long a request may wait for the first auth.test before going on without the bot's ids. */
const AUTH_WAIT_MS = 500;
/** How long stop() waits for commands still running. */
const STOP_WAIT_MS = 10_000;

export function createSlackBot(deps: SlackBotDeps): SlackBot {
  const { slack } = deps.config;
  if (!slack.botToken) throw new Error('createSlackBot needs SLACK_BOT_TOKEN');
  const socketMode = slack.appToken !== undefined;
  if (!socketMode && !slack.signingSecret) {
    throw new Error('createSlackBot needs SLACK_SIGNING_SECRET in HTTP mode (or SLACK_APP_TOKEN)');
  }
  const log = deps.log.child({ component: 'slack' });
  const logger = boltLogger(log);
  const clientOptions: webApi.WebClientOptions = {
    logger,
    timeout: 10_000,
    retryConfig: webApi.retryPolicies.fiveRetriesInFiveMinutes,
    ...(slack.apiUrl ? { slackApiUrl: slack.apiUrl.replace(/\/?$/, '/') } : {}),
  };
  const identity = botIdentity(new webApi.WebClient(undefined, clientOptions), slack.botToken, log);

  const receiver =
    socketMode || !slack.signingSecret
      ? undefined
      : new ExpressReceiver({
          signingSecret: slack.signingSecret,
          endpoints: EVENTS_PATH,
          processBeforeResponse: false,
          logger,
        });
  const app = new App({
    authorize: identity.authorize,
    logger,
    clientOptions,
    convoStore: false,
    ...(receiver ? { receiver } : { socketMode: true, appToken: slack.appToken }),
  });

  // Work after the ack is tracked, so stop() can let it finish instead of cutting replies off.
  const inflight = new Set<Promise<unknown>>();
  app.use(async ({ next }) => {
    const work = next();
    inflight.add(work);
    const forget = () => inflight.delete(work);
    work.then(forget, forget);
    await work;
  });
  app.error((error) => {
    log.error({ err: error }, 'A Slack listener failed');
    return Promise.resolve();
  });

  const rt: SlackRuntime = {
    chat: {
      db: deps.db,
      clock: deps.clock,
      settings: deps.settings,
      bootstrapAdmins: slack.adminUsers,
    },
    log,
    auditChannel: slack.auditChannel,
  };
  registerSlashCommand(app, rt);
  registerButtons(app, rt);
  registerForms(app, rt);

  let connected = false;
  return {
    router: receiver?.router as Router | undefined,
    async start() {
      if (socketMode) {
        await app.start();
        connected = true;
        log.info('Slack connected in Socket Mode');
      } else {
        identity.verify();
      }
    },
    async stop() {
      if (connected) {
        connected = false;
        await app.stop();
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inflight]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, STOP_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}

/**
 * Bolt's own token authorization calls auth.test once at construction and keeps the result forever: a
 * Slack hiccup at boot then fails every request until a restart (and is an unhandled rejection meanwhile).
 * This one keeps a success, retries after a failure, and never holds a request (and so its ack) for more
 * than AUTH_WAIT_MS: commands, buttons and forms need the token, not the bot's ids.
 */
function botIdentity(
  client: WebClient,
  botToken: string,
  log: Logger,
): { authorize: Authorize<boolean>; verify(): void } {
  let ids: { botId?: string; botUserId?: string } = {};
  let verified = false;
  let pending: Promise<void> | undefined;
  const verify = (): Promise<void> =>
    (pending ??= client.auth.test({ token: botToken }).then(
      (result) => {
        ids = { botId: result.bot_id, botUserId: result.user_id };
        verified = true;
      },
      (error: unknown) => {
        pending = undefined;
        log.error(
          { err: error },
          'Slack auth.test failed: check SLACK_BOT_TOKEN and that Slack is reachable',
        );
      },
    ));
  return {
    verify: () => void verify(),
    authorize: async () => {
      if (!verified) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          verify(),
          new Promise((resolve) => {
            timer = setTimeout(resolve, AUTH_WAIT_MS);
          }),
        ]);
        clearTimeout(timer);
      }
      return { botToken, ...ids };
    },
  };
}

/** Bolt's logger interface on top of ours, so Bolt's warnings (a failed signature check) land in our log. */
function boltLogger(log: Logger): BoltLogger {
  const line = (parts: unknown[]) =>
    parts
      .map((part) => {
        if (typeof part === 'string') return part;
        if (part instanceof Error) return part.message;
        try {
          return JSON.stringify(part);
        } catch {
          return String(part);
        }
      })
      .join(' ');
  const level = (): LogLevel =>
    log.isLevelEnabled('debug')
      ? LogLevel.DEBUG
      : log.isLevelEnabled('info')
        ? LogLevel.INFO
        : log.isLevelEnabled('warn')
          ? LogLevel.WARN
          : LogLevel.ERROR;
  return {
    debug: (...parts: unknown[]) => log.debug(line(parts)),
    info: (...parts: unknown[]) => log.info(line(parts)),
    warn: (...parts: unknown[]) => log.warn(line(parts)),
    error: (...parts: unknown[]) => log.error(line(parts)),
    // The level is ours (LOG_LEVEL); Bolt and its clients only read it.
    setLevel: () => {},
    getLevel: level,
    setName: () => {},
  };
}
