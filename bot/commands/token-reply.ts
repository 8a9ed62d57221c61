// `token create|revoke|list`: the API tokens switches use for the routing API (console only). The new
// token's secret is in the create reply and nowhere else, ever.
import {
  createApiToken,
  listApiTokens,
  revokeApiToken,
  type ApiTokenInfo,
} from '../../core/api-tokens/api-tokens.ts';
import type { Ctx } from '../../core/context.ts';
import type { Command } from './grammar.ts';
import { reply, withEffect, type Reply } from './reply.ts';

type TokenCommand = Extract<Command, { name: 'token create' | 'token revoke' | 'token list' }>;

export async function executeToken(ctx: Ctx, command: TokenCommand): Promise<Reply> {
  switch (command.name) {
    case 'token create': {
      const { token, plaintext } = await createApiToken(ctx, { name: command.tokenName });
      return withEffect(
        reply(
          { type: 'text', text: `✓ Created API token ${token.name} (scope: ${token.scopes.join(', ')}).` },
          { type: 'fields', pairs: [['Token (shown once)', plaintext]] },
          {
            type: 'text',
            text: '⚠ Copy it now: it is stored only as a hash and cannot be shown again. Anyone holding it can read call routing; keep it in the switch configuration only.',
          },
          {
            type: 'hint',
            text: 'curl -H "Authorization: Bearer <token>" http://localhost:3000/api/v1/routing/18665550100',
          },
        ),
        `created API token ${token.name}`,
      );
    }
    case 'token revoke': {
      const { token, changed } = await revokeApiToken(ctx, command.tokenName);
      return withEffect(
        reply({
          type: 'text',
          text: changed
            ? `✓ Revoked API token ${token.name}: requests with it are refused within 2 seconds.`
            : `API token ${token.name} was already revoked on ${day(token.revoked_at)}; nothing changed.`,
        }),
        changed ? `revoked API token ${token.name}` : undefined,
      );
    }
    case 'token list': {
      const tokens = await listApiTokens(ctx);
      if (tokens.length === 0) {
        return reply(
          { type: 'text', text: 'No API tokens yet.' },
          { type: 'hint', text: 'token create freeswitch' },
        );
      }
      return reply({
        type: 'table',
        columns: ['Name', 'Token', 'Scopes', 'Created', 'Last used', 'Status'],
        rows: tokens.map((t) => [
          t.name,
          `${t.prefix}…`,
          t.scopes.join(','),
          day(t.created_at),
          t.last_used_at ? minute(t.last_used_at) : 'never',
          status(t),
        ]),
      });
    }
  }
}

function status(token: ApiTokenInfo): string {
  return token.revoked_at ? `revoked ${day(token.revoked_at)}` : 'active';
}

const day = (date: Date | null) => (date ? date.toISOString().slice(0, 10) : '—');
const minute = (date: Date) => date.toISOString().slice(0, 16).replace('T', ' ');
