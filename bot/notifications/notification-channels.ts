// Where account notices go (core/notifications): the Telegram chats of the account's linked users, and
// for notices staff should act on (a number suspended or released for non-payment) the staff Slack
// channel. Built from the configuration; a channel that is not configured is simply absent. Both call
// the platforms' HTTP APIs directly (no listener needed), so the worker role can deliver without running
// the bots.
import { webApi } from '@slack/bolt';
import { Telegram } from 'telegraf';
import type { Config } from '../../core/config.ts';
import type { Executor } from '../../core/context.ts';
import type { NotificationChannel } from '../../core/notifications/notifications.ts';
import type { Logger } from '../../core/runtime/logger.ts';
import { withRetryAfter } from '../telegram/messenger.ts';

/** Notices staff see in Slack, as well as the account. */
const STAFF_KINDS = new Set(['number_suspended', 'number_released']);

export function telegramChannel(
  db: Executor,
  telegram: Pick<Telegram, 'sendMessage'>,
  log: Logger,
): NotificationChannel {
  return {
    name: 'telegram',
    async deliver(notice, text) {
      const users = await db
        .selectFrom('users')
        .select('telegram_user_id')
        .where('account_id', '=', notice.account_id)
        .where('status', '=', 'active')
        .where('telegram_user_id', 'is not', null)
        .execute();
      for (const user of users) {
        // A private chat's id is the user's id.
        await withRetryAfter(() => telegram.sendMessage(Number(user.telegram_user_id), text), { log });
      }
      return users.length;
    },
  };
}

export function slackStaffChannel(
  db: Executor,
  client: Pick<webApi.WebClient, 'chat'>,
  channel: string,
): NotificationChannel {
  return {
    name: 'slack',
    async deliver(notice, text) {
      if (!STAFF_KINDS.has(notice.kind)) return 0;
      const account = await db
        .selectFrom('accounts')
        .select('slug')
        .where('id', '=', notice.account_id)
        .executeTakeFirst();
      await client.chat.postMessage({ channel, text: `[${account?.slug ?? notice.account_id}] ${text}` });
      return 1;
    },
  };
}

export function notificationChannels(db: Executor, config: Config, log: Logger): NotificationChannel[] {
  const channels: NotificationChannel[] = [];
  if (config.telegram.botToken) {
    const telegram = new Telegram(config.telegram.botToken, {
      ...(config.telegram.apiRoot ? { apiRoot: config.telegram.apiRoot } : {}),
    });
    channels.push(telegramChannel(db, telegram, log));
  }
  if (config.slack.botToken && config.slack.auditChannel) {
    const client = new webApi.WebClient(config.slack.botToken, {
      ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl.replace(/\/?$/, '/') } : {}),
    });
    channels.push(slackStaffChannel(db, client, config.slack.auditChannel));
  }
  return channels;
}
