// The Telegram bot's username, for t.me deep links. The web process may not run the bot (long polling
// lives in the bot role), so it asks the Bot API's getMe itself, once, and keeps the answer; a failure
// is retried on a later page view rather than remembered.
import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/runtime/logger.ts';

export type TelegramBotLookup =
  | { readonly status: 'off' }
  | { readonly status: 'ok'; readonly username: string }
  | { readonly status: 'unreachable' };

const TIMEOUT_MS = 5_000;

export function telegramBotLookup(config: Config, log: Logger): () => Promise<TelegramBotLookup> {
  const token = config.telegram.botToken;
  if (!token) return () => Promise.resolve({ status: 'off' });
  const root = (config.telegram.apiRoot ?? 'https://api.telegram.org').replace(/\/+$/, '');
  let known: string | undefined;
  return async () => {
    if (known) return { status: 'ok', username: known };
    try {
      const response = await fetch(`${root}/bot${token}/getMe`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      const body = (await response.json()) as { ok?: boolean; result?: { username?: unknown } };
      if (response.ok && body.ok && typeof body.result?.username === 'string') {
        known = body.result.username;
        return { status: 'ok', username: known };
      }
      log.warn({ status: response.status }, 'Telegram getMe refused: is TELEGRAM_BOT_TOKEN right?');
    } catch (error) {
      // Not the error itself: its details could carry the URL, and the URL carries the token.
      log.warn({ reason: error instanceof Error ? error.name : 'unknown' }, 'Telegram getMe failed');
    }
    return { status: 'unreachable' };
  };
}
