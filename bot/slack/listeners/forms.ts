// Submissions of the Assign and Transfer forms. A submission is answered in the acknowledgement itself:
// either the form closes, or it stays open with an error under the field that needs fixing. So the command
// runs before the ack, but never for longer than Slack waits: past ACK_BUDGET_MS the form closes and the
// result follows as a message, like every other reply.
import type { App } from '@slack/bolt';
import type { ChatIdentity } from '../../../core/accounts/staff-identity.ts';
import { EXIT_CODES } from '../../commands/error-reply.ts';
import { renderText } from '../../commands/render-text.ts';
import type { TransferChange } from '../../commands/grammar.ts';
import type { Reply } from '../../commands/reply.ts';
import { sendReply, type ReplyTarget } from '../delivery.ts';
import {
  ACCOUNT_BLOCK,
  ASSIGN_MODAL,
  SWITCH_BLOCK,
  TRANSFER_MODAL,
  blockOf,
  decodeMeta,
  fieldError,
  readAssignSubmission,
  readTransferSubmission,
  type ModalMeta,
  type TransferCommand,
} from '../modals.ts';
import {
  announce,
  auditLine,
  runSafely,
  slackIdentity,
  within,
  type SlackRuntime,
  type WebClient,
} from '../runtime.ts';

/** Slack waits 3 seconds for the acknowledgement, network included. */
export const ACK_BUDGET_MS = 2_000;

const OUT_OF_DATE = 'This form is out of date. Close it and click the button again.';

/** A failure the person can fix in the form (an unknown account, a malformed destination). */
function isInputProblem(reply: Reply): boolean {
  return !reply.ok && (reply.exitCode === EXIT_CODES.invalid || reply.exitCode === EXIT_CODES.not_found);
}

function targetOf(meta: ModalMeta, userId: string, client: WebClient): ReplyTarget {
  return { responseUrl: meta.response_url, channelId: meta.channel_id, userId, client };
}

export function registerForms(app: App, rt: SlackRuntime): void {
  app.view(ASSIGN_MODAL, async ({ ack, body, view, client }) => {
    const meta = decodeMeta(view.private_metadata);
    if (!meta) {
      await ack({ response_action: 'errors', errors: { [ACCOUNT_BLOCK]: OUT_OF_DATE } });
      return;
    }
    const account = readAssignSubmission(view.state.values);
    const command = { name: 'assign', number: meta.n, account, version: meta.v } as const;
    const work = runSafely(rt, slackIdentity(body.user), command);
    const early = await within(work, ACK_BUDGET_MS);
    if (early && isInputProblem(early.value)) {
      await ack({
        response_action: 'errors',
        errors: { [ACCOUNT_BLOCK]: fieldError(renderText(early.value)) },
      });
      return;
    }
    await ack();
    const reply = early ? early.value : await work;
    await sendReply(rt, targetOf(meta, body.user.id, client), reply);
    await announce(rt, client, auditLine(body.user.id, reply));
  });

  app.view(TRANSFER_MODAL, async ({ ack, body, view, client }) => {
    const meta = decodeMeta(view.private_metadata);
    if (!meta) {
      await ack({ response_action: 'errors', errors: { [SWITCH_BLOCK]: OUT_OF_DATE } });
      return;
    }
    const read = readTransferSubmission(view.state.values);
    if ('errors' in read) {
      await ack({ response_action: 'errors', errors: read.errors });
      return;
    }
    const work = runTransfer(rt, slackIdentity(body.user), meta, read.changes);
    const early = await within(work, ACK_BUDGET_MS);
    // Only a refusal of the first change leaves the form worth fixing: later ones follow a change made.
    const first = early?.value[0];
    if (early && early.value.length === 1 && first && isInputProblem(first.reply)) {
      await ack({
        response_action: 'errors',
        errors: { [blockOf(first.command.change)]: fieldError(renderText(first.reply)) },
      });
      return;
    }
    await ack();
    const steps = early ? early.value : await work;
    const reply = combine(steps.map((s) => s.reply));
    await sendReply(rt, targetOf(meta, body.user.id, client), reply);
    const made = steps.filter((s) => s.reply.ok);
    const last = made.at(-1);
    if (last) await announce(rt, client, auditLine(body.user.id, combine(made.map((s) => s.reply))));
  });
}

interface TransferStep {
  readonly command: TransferCommand;
  readonly reply: Reply;
}

/**
 * Applies the changes one by one and stops at the first refusal. Only the first carries the version the
 * button was drawn with: the ones after it follow from a change this same form just made.
 */
async function runTransfer(
  rt: SlackRuntime,
  who: ChatIdentity,
  meta: ModalMeta,
  changes: readonly TransferChange[],
): Promise<TransferStep[]> {
  const steps: TransferStep[] = [];
  for (const [i, change] of changes.entries()) {
    const command: TransferCommand = {
      name: 'transfer',
      number: meta.n,
      change,
      ...(i === 0 ? { version: meta.v } : {}),
    };
    const reply = await runSafely(rt, who, command);
    steps.push({ command, reply });
    if (!reply.ok) break;
  }
  return steps;
}

/**
 * One reply for the form: what each change did (the lines its reply leads with), then the last reply whole
 * (the settings as they now are, or why the last change was refused).
 */
function combine(replies: readonly Reply[]): Reply {
  const last = replies.at(-1);
  if (!last) return { ok: true, exitCode: 0, blocks: [] };
  const failed = replies.find((r) => !r.ok);
  const effects = replies.flatMap((r) => (r.effect ? [r.effect] : []));
  return {
    ok: !failed,
    exitCode: failed?.exitCode ?? 0,
    blocks: [...replies.slice(0, -1).flatMap(leadingLines), ...last.blocks],
    ...(effects.length ? { effect: effects.join('; ') } : {}),
  };
}

function leadingLines(reply: Reply): Reply['blocks'] {
  const end = reply.blocks.findIndex((b) => b.type !== 'text');
  return end === -1 ? reply.blocks : reply.blocks.slice(0, end);
}
