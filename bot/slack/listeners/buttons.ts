// The buttons under search results and number info. Each carries the number and the version it had when
// drawn, so core refuses a click on a stale button instead of acting on old facts. Assign and Transfer
// open a form: Slack's trigger_id lives 3 seconds, so the form opens before any database work. Release has
// already been confirmed in Slack's own dialog when it arrives here.
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { renderBlocks, ACTION_IDS, parseButtonValue } from '../blocks.ts';
import { sendReply, type ReplyTarget } from '../delivery.ts';
import { assignModal, transferModal, type ModalMeta } from '../modals.ts';
import {
  announce,
  auditLine,
  runSafely,
  slackIdentity,
  type SlackRuntime,
  type WebClient,
} from '../runtime.ts';
import { failure } from '../../commands/reply.ts';

type ButtonClick = BlockAction<ButtonAction>;

const actionId = (prefix: string) => new RegExp(`^${prefix}(:|$)`);

const STALE_FORM = failure(2, {
  type: 'text',
  text: '✗ That button is not one this bot drew, or it is too old to read. Run the command again.',
});

function targetOf(body: ButtonClick, client: WebClient): ReplyTarget {
  return { responseUrl: body.response_url, channelId: body.channel?.id, userId: body.user.id, client };
}

export function registerButtons(app: App, rt: SlackRuntime): void {
  for (const [prefix, modal] of [
    [ACTION_IDS.assign, assignModal],
    [ACTION_IDS.transfer, transferModal],
  ] as const) {
    app.action<ButtonClick>(
      { type: 'block_actions', action_id: actionId(prefix) },
      async ({ ack, body, action, client }) => {
        await ack();
        const value = parseButtonValue(action.value);
        if (!value) {
          await sendReply(rt, targetOf(body, client), STALE_FORM);
          return;
        }
        const meta: ModalMeta = {
          n: value.n,
          v: value.v,
          channel_id: body.channel?.id,
          response_url: body.response_url,
        };
        try {
          await client.views.open({ trigger_id: body.trigger_id, view: modal(meta) });
        } catch (error) {
          rt.log.warn({ err: error, user: body.user.id }, 'Slack did not open the form');
          await sendReply(
            rt,
            targetOf(body, client),
            failure(1, {
              type: 'text',
              text: '✗ Slack did not open the form in time. Click the button again.',
            }),
          );
        }
      },
    );
  }

  app.action<ButtonClick>(
    { type: 'block_actions', action_id: actionId(ACTION_IDS.release) },
    async ({ ack, body, action, client }) => {
      await ack();
      const target = targetOf(body, client);
      const value = parseButtonValue(action.value);
      if (!value) {
        await sendReply(rt, target, STALE_FORM);
        return;
      }
      const command = { name: 'release', number: value.n, version: value.v } as const;
      const reply = await runSafely(rt, slackIdentity(body.user), command);
      // The clicked message showed the number as it was; the answer takes its place.
      await sendReply(rt, target, renderBlocks(reply), { replaceOriginal: true });
      await announce(rt, client, auditLine(body.user.id, reply));
    },
  );
}
