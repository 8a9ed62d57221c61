// API tokens for the routing API: created, listed and revoked by the operator's admins (console commands
// through the shared command engine), shown once, stored as a SHA-256, audited without the secret.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createApiToken,
  listApiTokens,
  revokeApiToken,
  verifyApiToken,
} from '../../../core/api-tokens/api-tokens.ts';
import { executeCommand } from '../../../bot/commands/execute.ts';
import { parseCommand } from '../../../bot/commands/parse.ts';
import { renderText } from '../../../bot/commands/render-text.ts';
import type { Ctx } from '../../../core/context.ts';
import { ManualClock } from '../../../core/shared/clock.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { errorOf } from '../../helpers/errors.ts';
import { actorOf, buildHierarchy, ctxFor } from '../../helpers/factories.ts';

const t = useTestDatabase();

async function operatorAdmin(clock = new ManualClock('2026-03-01T10:00:00Z')) {
  const world = await buildHierarchy(t.db);
  return { ...world, admin: ctxFor(t.db, actorOf(world.operator, 'admin'), { clock }), clock };
}

/** Runs a console command as the CLI does and returns its text and exit code. */
async function console_(ctx: Ctx, line: string) {
  const parsed = parseCommand(line, 'cli');
  if (!parsed.ok) expect.fail(`${line}: ${parsed.message}`);
  const reply = await executeCommand(ctx, parsed.command, { channel: 'cli' });
  return { text: renderText(reply), ok: reply.ok, effect: reply.effect };
}

describe('API tokens', () => {
  it('creates a token shown once, stored only as its SHA-256, audited without the secret', async () => {
    const { admin } = await operatorAdmin();
    const { token, plaintext } = await createApiToken(admin, { name: 'freeswitch' });
    expect(plaintext).toMatch(/^didops_rt_[A-Za-z0-9_-]{43}$/);
    expect(token).toMatchObject({ name: 'freeswitch', prefix: plaintext.slice(0, 14), scopes: ['routing'] });
    expect(token).not.toHaveProperty('token_hash');
    const row = await t.db.selectFrom('api_tokens').selectAll().executeTakeFirstOrThrow();
    expect(row.token_hash).toBe(createHash('sha256').update(plaintext).digest('hex'));
    expect(row.created_at.toISOString()).toBe('2026-03-01T10:00:00.000Z');
    const stored = JSON.stringify(await t.db.selectFrom('api_tokens').selectAll().execute());
    expect(stored).not.toContain(plaintext.slice(14));
    const audit = await t.db.selectFrom('audit_events').selectAll().execute();
    expect(audit).toEqual([
      expect.objectContaining({
        action: 'api_token.create',
        subject: 'freeswitch',
        actor_label: admin.actor.label,
        after: { name: 'freeswitch', prefix: token.prefix, scopes: ['routing'] },
      }),
    ]);
    expect(JSON.stringify(audit)).not.toContain(plaintext.slice(14));
    expect(JSON.stringify(audit)).not.toContain(row.token_hash);
    // Two tokens never share a secret.
    const other = await createApiToken(admin, { name: 'kamailio' });
    expect(other.plaintext).not.toBe(plaintext);
  });

  it('verifies live tokens only', async () => {
    const { admin } = await operatorAdmin();
    const { plaintext, token } = await createApiToken(admin, { name: 'freeswitch' });
    expect(await verifyApiToken(t.db, plaintext)).toMatchObject({ id: token.id, name: 'freeswitch' });
    for (const wrong of [
      '',
      'freeswitch',
      plaintext + 'x'.repeat(200),
      plaintext.slice(0, -1) + '!',
      'didops_rt_' + 'A'.repeat(43),
    ]) {
      expect(await verifyApiToken(t.db, wrong), wrong).toBeNull();
    }
    await revokeApiToken(admin, 'freeswitch');
    expect(await verifyApiToken(t.db, plaintext)).toBeNull();
  });

  it('lets only the operator’s admins and owners manage tokens', async () => {
    const world = await buildHierarchy(t.db);
    for (const ctx of [
      ctxFor(t.db, actorOf(world.operator, 'operator')),
      ctxFor(t.db, actorOf(world.operator, 'viewer')),
      ctxFor(t.db, actorOf(world.reseller, 'owner')),
      ctxFor(t.db, actorOf(world.acme, 'owner')),
    ]) {
      for (const attempt of [
        createApiToken(ctx, { name: 'x' }),
        revokeApiToken(ctx, 'x'),
        listApiTokens(ctx),
      ]) {
        const error = await errorOf(attempt);
        expect(error.code).toBe('forbidden');
        expect(error.message).toBe("Only the operator's admins manage API tokens.");
      }
    }
    await createApiToken(ctxFor(t.db, actorOf(world.operator, 'owner')), { name: 'by-owner' });
    expect(await t.db.selectFrom('api_tokens').select('name').execute()).toEqual([{ name: 'by-owner' }]);
  });

  it('refuses bad names and reused names, revoked ones included', async () => {
    const { admin } = await operatorAdmin();
    for (const name of ['', ' ', '-x', 'has space', 'x'.repeat(65), 'semi;colon']) {
      const error = await errorOf(createApiToken(admin, { name }));
      expect(error.code, name).toBe('invalid');
      expect(error.help).toMatch(/letters, digits/);
    }
    await createApiToken(admin, { name: 'freeswitch' });
    const taken = await errorOf(createApiToken(admin, { name: 'freeswitch' }));
    expect(taken.code).toBe('conflict');
    expect(taken.message).toBe('There already is an API token named "freeswitch".');
    await revokeApiToken(admin, 'freeswitch');
    const reused = await errorOf(createApiToken(admin, { name: 'freeswitch' }));
    expect(reused.code).toBe('conflict');
    expect(reused.help).toMatch(/freeswitch-2/);
    expect(await t.db.selectFrom('api_tokens').select('name').execute()).toHaveLength(1);
  });

  it('revokes once (audited), and again changes nothing', async () => {
    const { admin, clock } = await operatorAdmin();
    await createApiToken(admin, { name: 'freeswitch' });
    clock.advance(60_000);
    const first = await revokeApiToken(admin, 'freeswitch');
    expect(first.changed).toBe(true);
    expect(first.token.revoked_at?.toISOString()).toBe('2026-03-01T10:01:00.000Z');
    clock.advance(60_000);
    const again = await revokeApiToken(admin, 'freeswitch');
    expect(again).toMatchObject({ changed: false, token: { revoked_at: first.token.revoked_at } });
    const actions = await t.db.selectFrom('audit_events').select('action').orderBy('id').execute();
    expect(actions.map((a) => a.action)).toEqual(['api_token.create', 'api_token.revoke']);
    const missing = await errorOf(revokeApiToken(admin, 'freeswich'));
    expect(missing.code).toBe('not_found');
    expect(missing.message).toBe('No API token named "freeswich". Did you mean freeswitch?');
  });

  it('lists live tokens first, newest first', async () => {
    const { admin, clock } = await operatorAdmin();
    for (const name of ['a', 'b', 'c']) {
      await createApiToken(admin, { name });
      clock.advance(1_000);
    }
    await revokeApiToken(admin, 'c');
    expect((await listApiTokens(admin)).map((x) => [x.name, x.revoked_at === null])).toEqual([
      ['b', true],
      ['a', true],
      ['c', false],
    ]);
  });
});

describe('token console commands', () => {
  it('token create shows the token once with a warning; list shows its first characters only', async () => {
    const { admin } = await operatorAdmin();
    const created = await console_(admin, 'token create freeswitch');
    expect(created.ok).toBe(true);
    expect(created.effect).toBe('created API token freeswitch');
    const token = /didops_rt_[A-Za-z0-9_-]{43}/.exec(created.text)?.[0];
    expect(token).toBeDefined();
    expect(created.text.split(token!)).toHaveLength(2);
    expect(created.text).toMatch(/Token \(shown once\):/);
    expect(created.text).toMatch(/⚠ Copy it now: it is stored only as a hash and cannot be shown again/);
    expect(await verifyApiToken(t.db, token!)).not.toBeNull();

    const listed = await console_(admin, 'token list');
    expect(listed.text).toContain('freeswitch');
    expect(listed.text).toContain(`${token!.slice(0, 14)}…`);
    expect(listed.text).not.toContain(token!.slice(0, 20));
    expect(listed.text).toMatch(/never\s+active/);
  });

  it('token revoke revokes, and says so when it already was', async () => {
    const { admin } = await operatorAdmin();
    await console_(admin, 'token create freeswitch');
    const revoked = await console_(admin, 'token revoke freeswitch');
    expect(revoked.text).toMatch(/^✓ Revoked API token freeswitch: requests with it are refused/);
    expect(revoked.effect).toBe('revoked API token freeswitch');
    const again = await console_(admin, 'token revoke freeswitch');
    expect(again.text).toBe('API token freeswitch was already revoked on 2026-03-01; nothing changed.');
    expect(again.effect).toBeUndefined();
    expect((await console_(admin, 'token list')).text).toMatch(/revoked 2026-03-01/);
  });

  it('says when there are no tokens, and refuses the commands in chat', async () => {
    const { admin } = await operatorAdmin();
    expect((await console_(admin, 'token list')).text).toBe(
      'No API tokens yet.\n  → token create freeswitch',
    );
    for (const line of ['token create x', 'token revoke x', 'token list']) {
      const parsed = parseCommand(line, 'chat');
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.message).toMatch(/works only in the server's console/);
    }
    const usage = parseCommand('token create two words', 'cli');
    expect(usage.ok).toBe(false);
    if (!usage.ok) expect(usage.message).toBe('A token name is one word, e.g. freeswitch-1.');
  });
});
