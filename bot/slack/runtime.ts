// What every Slack listener shares: the chat dependencies, the logger, the audit channel, and the few
// steps they all take — run a command without letting a bug escape, and announce a change in the audit
// channel. Nothing here decides anything: core does, through runChatCommand.
import type { webApi } from '@slack/bolt';
import type { ChatIdentity } from '../../core/accounts/staff-identity.ts';

import type { Logger } from '../../core/runtime/logger.ts';
import { runChatCommand, type ChatDeps } from '../commands/chat.ts';
import type { Command } from '../commands/grammar.ts';
import { failure, type Reply } from '../commands/reply.ts';
import { escapeMrkdwn } from './blocks.ts';

export type WebClient = webApi.WebClient;

export interface SlackRuntime {
  readonly chat: ChatDeps;
  readonly log: Logger;
  /** SLACK_AUDIT_CHANNEL: where changes made from Slack are announced, when set. */
  readonly auditChannel: string | undefined;
}

export const SORRY_TEXT = 'Something went wrong on our side; nothing you can fix. It has been logged.';

export function slackIdentity(user: { id: string; name?: string; username?: string }): ChatIdentity {
  return { channel: 'slack', externalId: user.id, displayName: user.username ?? user.name };
}

/**
 * runChatCommand, with anything that is not a domain error (a bug, an outage) logged and answered with an
 * apology instead of escaping into Bolt, where the user would see nothing at all.
 */
export async function runSafely(
  rt: SlackRuntime,
  who: ChatIdentity,
  input: string | Command,
): Promise<Reply> {
  try {
    return await runChatCommand(rt.chat, who, input);
  } catch (error) {
    rt.log.error(
      { err: error, user: who.externalId, command: typeof input === 'string' ? input : input.name },
      'A Slack command failed',
    );
    return failure(1, { type: 'text', text: SORRY_TEXT });
  }
}

/** The audit-channel line for a command run from Slack, or null when it changed nothing. */
export function auditLine(userId: string, reply: Reply): string | null {
  return reply.ok && reply.effect ? `<@${userId}> ${escapeMrkdwn(reply.effect)}` : null;
}

/** Posts a line to the audit channel. A failure is logged; the command itself already succeeded. */
export async function announce(rt: SlackRuntime, client: WebClient, line: string | null): Promise<void> {
  if (!line || !rt.auditChannel) return;
  try {
    await client.chat.postMessage({
      channel: rt.auditChannel,
      text: line,
      unfurl_links: false,
      unfurl_media: false,
    });
  } catch (error) {
    rt.log.warn({ err: error, channel: rt.auditChannel }, 'Could not post to the Slack audit channel');
  }
}

/** Resolves with the work's result if it is done within `ms`, else with `undefined` (the work goes on). */
export async function within<T>(work: Promise<T>, ms: number): Promise<{ value: T } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([work.then((value) => ({ value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
