// `telegram link <account> [email=..] [bot=..] [minutes=..]` (console only): a one-time link that connects a
// customer's Telegram to their user, for operators to send until the storefront shows its own button.
// Prints the token once (only its hash is stored) and the t.me link, or the /start message to send.
import {
  checkBotUsername,
  createTelegramLinkToken,
  findUserToLink,
} from '../../core/accounts/telegram-link.ts';
import type { Ctx } from '../../core/context.ts';
import type { Command } from './grammar.ts';
import { reply, withEffect, type Block, type Reply } from './reply.ts';

export type TelegramLinkCommand = Extract<Command, { name: 'telegram link' }>;

export async function executeTelegramLink(ctx: Ctx, command: TelegramLinkCommand): Promise<Reply> {
  // A mistyped bot name is refused before a token is made.
  const bot = command.bot === undefined ? undefined : checkBotUsername(command.bot);
  const { user, account } = await findUserToLink(ctx, { account: command.account, email: command.email });
  const offer = await createTelegramLinkToken(ctx, { user: user.id, ttlMinutes: command.ttlMinutes });
  const who = user.email ?? (user.name || `user ${user.id}`);
  const until = offer.expiresAt.toISOString().slice(0, 16).replace('T', ' ');
  const blocks: Block[] = [
    {
      type: 'text',
      text: `✓ Telegram link for ${who} (${account.slug}): works once, until ${until} UTC.`,
    },
    { type: 'fields', pairs: [['Token (shown once)', offer.token]] },
  ];
  if (bot) {
    blocks.push({ type: 'text', text: 'Send them this link; it opens the bot and links their chat:' });
    blocks.push({ type: 'hint', text: offer.deepLink(bot) });
  } else {
    blocks.push({ type: 'text', text: 'Have them open a private chat with the bot and send:' });
    blocks.push({ type: 'hint', text: `/start ${offer.token}` });
    blocks.push({ type: 'text', text: 'Add bot=<bot username> to get the t.me link to send instead.' });
  }
  return withEffect(reply(...blocks), `created a Telegram link for ${who} (${account.slug})`);
}
