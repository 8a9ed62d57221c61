// API tokens for machines: the switch (FreeSWITCH, Kamailio, Asterisk) presents one to the routing API.
// The operator's admins create and revoke them from the console; the secret is shown once, at creation,
// and only its SHA-256 is stored. Every create and revoke is audited, never with the secret or its hash.
import { createHash, randomBytes } from 'node:crypto';
import type { Actor } from '../accounts/actor.ts';
import { isOperatorStaff } from '../accounts/actor.ts';
import { recordAudit } from '../audit/audit.ts';
import { inTransaction, type Ctx, type Executor } from '../context.ts';
import type { ApiToken, ApiTokenScope } from '../db/schema.ts';
import { uniqueViolation } from '../db/errors.ts';
import { conflict, forbidden, invalid, notFound } from '../shared/errors.ts';
import { didYouMean } from '../shared/suggest.ts';

export const TOKEN_PREFIX = 'didops_rt_';
/** 32 random bytes: 43 base64url characters after the prefix. */
const SECRET_BYTES = 32;
/** What a well-formed token looks like; anything else is refused before any lookup. */
const TOKEN_PATTERN = /^didops_rt_[A-Za-z0-9_-]{32,128}$/;
/** How much of the token `token list` shows: the fixed prefix and 4 characters of the secret. */
const DISPLAY_LENGTH = TOKEN_PREFIX.length + 4;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A token as listed: everything but the hash. */
export type ApiTokenInfo = Omit<ApiToken, 'token_hash'>;

export interface CreatedApiToken {
  readonly token: ApiTokenInfo;
  /** The secret: returned by createApiToken only, never stored, never shown again. */
  readonly plaintext: string;
}

/**
 * SHA-256 of the token text, hex. A fast hash is the right choice for tokens (unlike passwords): they are
 * 256 random bits, so no dictionary helps an attacker, and a slow hash would only slow every call lookup.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function isWellFormedToken(text: string): boolean {
  return TOKEN_PATTERN.test(text);
}

/** `token create <name>`: a new routing token; the reply shows the secret once. */
export async function createApiToken(ctx: Ctx, input: { name: string }): Promise<CreatedApiToken> {
  requireTokenAdmin(ctx.actor);
  const name = checkName(input.name);
  const plaintext = TOKEN_PREFIX + randomBytes(SECRET_BYTES).toString('base64url');
  const scopes: ApiTokenScope[] = ['routing'];
  return inTransaction(ctx, async (tx) => {
    const existing = await tx.db
      .selectFrom('api_tokens')
      .select(['name', 'revoked_at'])
      .where('name', '=', name)
      .executeTakeFirst();
    if (existing) throw nameTaken(existing);
    let token: ApiTokenInfo;
    try {
      token = await tx.db
        .insertInto('api_tokens')
        .values({
          name,
          token_hash: hashToken(plaintext),
          prefix: plaintext.slice(0, DISPLAY_LENGTH),
          scopes,
          created_at: tx.clock.now(),
        })
        .returning(INFO_COLUMNS)
        .executeTakeFirstOrThrow();
    } catch (error) {
      // Two admins creating the same name at once: the unique index decides.
      if (uniqueViolation(error) === 'api_tokens_name_key') throw nameTaken({ name, revoked_at: null });
      throw error;
    }
    await recordAudit(tx.db, tx.actor, [
      { action: 'api_token.create', subject: name, after: { name, prefix: token.prefix, scopes } },
    ]);
    return { token, plaintext };
  });
}

/** `token revoke <name>`: the token stops working (within the routing API's cache bound). Idempotent. */
export async function revokeApiToken(
  ctx: Ctx,
  typedName: string,
): Promise<{ token: ApiTokenInfo; changed: boolean }> {
  requireTokenAdmin(ctx.actor);
  const name = typedName.trim();
  if (name === '') throw invalid('No token name given.', { help: 'List them with `token list`.' });
  return inTransaction(ctx, async (tx) => {
    const token = await tx.db
      .selectFrom('api_tokens')
      .select(INFO_COLUMNS)
      .where('name', '=', name)
      .forUpdate()
      .executeTakeFirst();
    if (!token) {
      const names = await tx.db.selectFrom('api_tokens').select('name').execute();
      throw notFound(
        `No API token named "${name}".${didYouMean(
          name,
          names.map((n) => n.name),
        )}`,
        { help: 'List them with `token list`.', field: 'name' },
      );
    }
    if (token.revoked_at !== null) return { token, changed: false };
    const revoked = await tx.db
      .updateTable('api_tokens')
      .set({ revoked_at: tx.clock.now() })
      .where('id', '=', token.id)
      .returning(INFO_COLUMNS)
      .executeTakeFirstOrThrow();
    await recordAudit(tx.db, tx.actor, [
      {
        action: 'api_token.revoke',
        subject: name,
        before: { revoked_at: null },
        after: { revoked_at: revoked.revoked_at },
      },
    ]);
    return { token: revoked, changed: true };
  });
}

/** `token list`: every token, live ones first, newest first; never the secret or its hash. */
export async function listApiTokens(ctx: Ctx): Promise<ApiTokenInfo[]> {
  requireTokenAdmin(ctx.actor);
  return ctx.db
    .selectFrom('api_tokens')
    .select(INFO_COLUMNS)
    .orderBy((eb) => eb('revoked_at', 'is', null), 'desc')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

/**
 * The live token a bearer value names, or null: malformed text is refused without a query; unknown and
 * revoked tokens look the same to the caller. Looking up by hash leaves no timing to compare.
 */
export async function verifyApiToken(db: Executor, bearer: string): Promise<ApiTokenInfo | null> {
  if (!isWellFormedToken(bearer)) return null;
  const token = await db
    .selectFrom('api_tokens')
    .select(INFO_COLUMNS)
    .where('token_hash', '=', hashToken(bearer))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return token ?? null;
}

/** Records that a token was used (the caller throttles: this is bookkeeping, not worth a write per call). */
export async function touchApiToken(db: Executor, id: number, at: Date): Promise<void> {
  await db
    .updateTable('api_tokens')
    .set({ last_used_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
}

const INFO_COLUMNS = [
  'id',
  'name',
  'prefix',
  'scopes',
  'created_at',
  'last_used_at',
  'revoked_at',
] as const satisfies readonly (keyof ApiToken)[];

/** Tokens open the operator's routing data to a machine: only the operator's admins and owners manage them. */
function requireTokenAdmin(actor: Actor): void {
  if (isOperatorStaff(actor) && (actor.role === 'admin' || actor.role === 'owner')) return;
  throw forbidden("Only the operator's admins manage API tokens.", {
    help: 'Ask an admin of the operator account, or run it from the server console.',
  });
}

function checkName(typed: string): string {
  const name = typed.trim();
  if (!NAME_PATTERN.test(name)) {
    throw invalid(`"${typed.trim()}" is not a token name.`, {
      help: 'Use 1 to 64 letters, digits, dots, dashes or underscores, e.g. freeswitch-1.',
      field: 'name',
    });
  }
  return name;
}

function nameTaken(existing: { name: string; revoked_at: Date | null }) {
  return conflict(
    existing.revoked_at
      ? `A revoked token was named "${existing.name}"; names are not reused, so the audit trail stays unambiguous.`
      : `There already is an API token named "${existing.name}".`,
    {
      help: `Pick another name, e.g. ${existing.name}-2 (to rotate: create the new one, switch over, then revoke the old).`,
      field: 'name',
    },
  );
}
