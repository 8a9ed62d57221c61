// Getting a reply to the person who asked, after the acknowledgement. The response_url is the way (it works
// in channels the bot is not in), but it expires after 30 minutes and 5 uses. A failure on Slack's side is
// tried again twice; when it still fails, or the URL is spent, the reply is posted with the bot token as an
// ephemeral message instead. Replies are always ephemeral: only the caller
// sees them.
import type { Reply } from '../commands/reply.ts';
import { renderBlocks, type SlackMessage } from './blocks.ts';
import type { SlackRuntime, WebClient } from './runtime.ts';

export interface ReplyTarget {
  /** The response_url of the slash command or the clicked message, if any. */
  readonly responseUrl: string | undefined;
  /** For the bot-token fallback: where the caller is, and who they are. */
  readonly channelId: string | undefined;
  readonly userId: string;
  readonly client: WebClient;
}

export interface SendOptions {
  /** Replace the message the response_url belongs to (a progress message, a clicked message). */
  readonly replaceOriginal?: boolean;
}

const RESPONSE_URL_TIMEOUT_MS = 10_000;
/**
 * Pauses before trying a response_url again after a failure on Slack's side or the network's (5xx, 429, a
 * timeout). A 4xx other than 429 means the URL has expired or is used up: no point asking again.
 */
const RESPONSE_URL_RETRY_DELAYS_MS = [250, 1_000];

/** Slack answered the response_url with an error status. */
class ResponseUrlRefused extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`response_url answered ${status}`);
    this.status = status;
  }
}

/** POSTs a message to a response_url; throws when Slack does not take it. */
async function postToResponseUrl(url: string, body: object): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(RESPONSE_URL_TIMEOUT_MS),
  });
  // Slack answers "ok" in plain text; drain the body so the connection is reused.
  await response.text();
  if (!response.ok) throw new ResponseUrlRefused(response.status);
}

function worthRetrying(error: unknown): boolean {
  return !(error instanceof ResponseUrlRefused) || error.status >= 500 || error.status === 429;
}

/** postToResponseUrl, asked again after a transient failure (logged); throws the last failure. */
async function postToResponseUrlWithRetry(
  rt: SlackRuntime,
  userId: string,
  url: string,
  body: object,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await postToResponseUrl(url, body);
      return;
    } catch (error) {
      const delay = RESPONSE_URL_RETRY_DELAYS_MS[attempt - 1];
      if (delay === undefined || !worthRetrying(error)) throw error;
      rt.log.warn({ err: error, user: userId, attempt }, 'Slack response_url failed; trying again');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** Sends a reply (or an already rendered message); true when it reached Slack one way or the other. */
export async function sendReply(
  rt: SlackRuntime,
  target: ReplyTarget,
  reply: Reply | SlackMessage,
  options: SendOptions = {},
): Promise<boolean> {
  const message = 'ok' in reply ? renderBlocks(reply) : reply;
  if (target.responseUrl) {
    try {
      await postToResponseUrlWithRetry(rt, target.userId, target.responseUrl, {
        response_type: 'ephemeral',
        replace_original: options.replaceOriginal ?? false,
        blocks: message.blocks,
        text: message.text,
      });
      return true;
    } catch (error) {
      rt.log.warn(
        { err: error, user: target.userId },
        'Slack response_url refused the reply; posting it instead',
      );
    }
  }
  if (target.channelId) {
    try {
      await target.client.chat.postEphemeral({
        channel: target.channelId,
        user: target.userId,
        blocks: message.blocks,
        text: message.text,
      });
      return true;
    } catch (error) {
      rt.log.error({ err: error, user: target.userId }, 'Could not deliver a Slack reply');
      return false;
    }
  }
  rt.log.error({ user: target.userId }, 'A Slack reply had nowhere to go (no response_url, no channel)');
  return false;
}

export interface Progress {
  /** Waits for any update in flight, then stops updating. */
  done(): Promise<void>;
}

/**
 * Shows that a long command is under way: a first message now, then the same message edited as time
 * passes. At most `maxUpdates` edits, so the final reply still has one of the response_url's five uses.
 */
export function showProgress(
  rt: SlackRuntime,
  target: ReplyTarget,
  text: (elapsedSeconds: number) => SlackMessage,
  options: { everyMs?: number; maxUpdates?: number } = {},
): Progress {
  const everyMs = options.everyMs ?? 10_000;
  const maxUpdates = options.maxUpdates ?? 2;
  const started = Date.now();
  let updates = 0;
  let last: Promise<unknown> = sendReply(rt, target, text(0));
  const timer = setInterval(() => {
    if (updates >= maxUpdates) {
      clearInterval(timer);
      return;
    }
    updates++;
    const seconds = Math.round((Date.now() - started) / 1000);
    last = last.then(() => sendReply(rt, target, text(seconds), { replaceOriginal: true }));
  }, everyMs);
  timer.unref();
  return {
    async done() {
      clearInterval(timer);
      await last;
    },
  };
}
