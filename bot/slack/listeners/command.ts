// The /did slash command. Slack gives up after 3 seconds, and the database may be slow: the command is
// acknowledged before anything else happens, with an empty body (Slack shows nothing), and the answer
// follows through the response_url. Long commands (assign first) show a progress message at once and edit
// it into the result.
import type { App } from '@slack/bolt';
import type { Command } from '../../commands/grammar.ts';
import { parseCommand } from '../../commands/parse.ts';
import type { Reply } from '../../commands/reply.ts';
import { escapeMrkdwn, type SlackMessage } from '../blocks.ts';
import { sendReply, showProgress, type ReplyTarget } from '../delivery.ts';
import { announce, auditLine, runSafely, slackIdentity, type SlackRuntime } from '../runtime.ts';

export const SLASH_COMMAND = '/did';

export function registerSlashCommand(app: App, rt: SlackRuntime): void {
  app.command(SLASH_COMMAND, async ({ ack, command: body, client }) => {
    await ack();

    const who = slackIdentity({ id: body.user_id, username: body.user_name });
    const target: ReplyTarget = {
      responseUrl: body.response_url,
      channelId: body.channel_id,
      userId: body.user_id,
      client,
    };
    const text = (body.text ?? '').trim();
    // Parsing needs no database; knowing the command early tells whether to show progress.
    const parsed = parseCommand(text, 'chat');
    const command: Command | undefined = parsed.ok ? parsed.command : undefined;

    let reply: Reply;
    if (command?.name === 'assign first') {
      const progress = showProgress(rt, target, (seconds) => working(command, seconds));
      reply = await runSafely(rt, who, command);
      await progress.done();
      await sendReply(rt, target, reply, { replaceOriginal: true });
    } else {
      reply = await runSafely(rt, who, command ?? text);
      await sendReply(rt, target, reply);
    }
    await announce(rt, client, auditLine(body.user_id, reply));
  });
}

function working(command: Extract<Command, { name: 'assign first' }>, seconds: number): SlackMessage {
  const what = `assigning the first ${command.count} numbers matching ${command.filter.pattern ?? 'your filters'} to ${command.account}`;
  const text =
    seconds === 0 ? `⏳ Working on it: ${what}…` : `⏳ Still working (${seconds} s so far): ${what}…`;
  return {
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(text) } }],
    text: escapeMrkdwn(text),
  };
}
