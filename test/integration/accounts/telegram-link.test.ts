// Linking Telegram chats to users with one-time tokens: who may create a link, that a link works once and
// expires, that a Telegram account belongs to one user only, unlinking, and the audit trail.
import { describe, expect, it } from 'vitest';
import { replyForError } from '../../../bot/commands/error-reply.ts';
import { executeCommand } from '../../../bot/commands/execute.ts';
import { parseCommand } from '../../../bot/commands/parse.ts';
import { renderText } from '../../../bot/commands/render-text.ts';
import {
  actorForTelegramUser,
  createTelegramLinkToken,
  findUserToLink,
  hashToken,
  linkTelegramChat,
  telegramUserKind,
  unlinkTelegram,
} from '../../../core/accounts/telegram-link.ts';
import { actorForUser, operatorActor } from '../../../core/accounts/users.ts';
import { ManualClock } from '../../../core/shared/clock.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { errorOf } from '../../helpers/errors.ts';
import { actorOf, buildHierarchy, ctxFor, buildUser } from '../../helpers/factories.ts';

const t = useTestDatabase();
const START = '2026-03-01T10:00:00Z';
const TELEGRAM_ID = '4004';

async function setup() {
  const h = await buildHierarchy(t.db);
  const clock = new ManualClock(START);
  const ann = await buildUser(t.db, h.acme, { email: 'ann@acme.example' });
  const annCtx = ctxFor(t.db, await actorForUser(t.db, ann.id, 'web'), { clock });
  return { ...h, clock, ann, annCtx };
}

const userRow = (id: number) =>
  t.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const tokens = () => t.db.selectFrom('telegram_link_tokens').selectAll().orderBy('id').execute();
const audits = (action: string) =>
  t.db.selectFrom('audit_events').selectAll().where('action', '=', action).orderBy('id').execute();

describe('createTelegramLinkToken', () => {
  it('gives a customer a one-time link for itself: 32 base64url characters, 15 minutes, only the hash kept, audited', async () => {
    const { annCtx, ann, acme } = await setup();
    const offer = await createTelegramLinkToken(annCtx);

    expect(offer.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(offer.userId).toBe(ann.id);
    expect(offer.expiresAt.toISOString()).toBe('2026-03-01T10:15:00.000Z');
    expect(offer.deepLink('didops_bot')).toBe(`https://t.me/didops_bot?start=${offer.token}`);
    expect(offer.deepLink('@didops_bot')).toBe(`https://t.me/didops_bot?start=${offer.token}`);
    expect((await errorOf(Promise.resolve().then(() => offer.deepLink('t.me/x')))).code).toBe('invalid');

    const [row] = await tokens();
    expect(row).toMatchObject({ user_id: ann.id, token_hash: hashToken(offer.token), used_at: null });
    expect(row!.token_hash).not.toContain(offer.token);
    const [audit] = await audits('telegram.link_token');
    expect(audit).toMatchObject({ channel: 'web', actor_user_id: ann.id, account_id: acme.id });
    expect(JSON.stringify(audit)).not.toContain(offer.token);
  });

  it('takes a validity in minutes, from 1 to a week', async () => {
    const { annCtx } = await setup();
    const hour = await createTelegramLinkToken(annCtx, { ttlMinutes: 60 });
    expect(hour.expiresAt.toISOString()).toBe('2026-03-01T11:00:00.000Z');
    for (const ttlMinutes of [0, 1.5, 7 * 24 * 60 + 1]) {
      const error = await errorOf(createTelegramLinkToken(annCtx, { ttlMinutes }));
      expect(error).toMatchObject({ code: 'invalid', field: 'ttlMinutes' });
    }
  });

  it('lets admins create links for users of accounts in their reach, and nobody else', async () => {
    const { staff, operator, reseller, bakery, initech, acme, annCtx, clock } = await setup();
    const baker = await buildUser(t.db, bakery, { email: 'baker@bakery.example' });
    const ini = await buildUser(t.db, initech, { email: 'ini@initech.example' });
    const bob = await buildUser(t.db, acme, { role: 'viewer', email: 'bob@acme.example' });

    // The operator's staff: anyone below.
    expect(
      (await createTelegramLinkToken(ctxFor(t.db, actorOf(operator, 'admin')), { user: ini.id })).userId,
    ).toBe(ini.id);
    // Operators (the role) may not: accounts.write is for admins.
    expect((await errorOf(createTelegramLinkToken(staff, { user: ini.id }))).code).toBe('forbidden');
    // A reseller's admin: its own subtree only; others' users do not exist for it.
    const resellerAdmin = ctxFor(t.db, actorOf(reseller, 'admin'), { clock });
    expect((await createTelegramLinkToken(resellerAdmin, { user: baker.id })).userId).toBe(baker.id);
    expect(await errorOf(createTelegramLinkToken(resellerAdmin, { user: ini.id }))).toMatchObject({
      code: 'not_found',
      message: 'No such user.',
    });
    // A customer: itself only, not a colleague.
    expect((await errorOf(createTelegramLinkToken(annCtx, { user: bob.id }))).code).toBe('forbidden');
    // The console (no user of its own) must say whom.
    const cli = ctxFor(t.db, await operatorActor(t.db, 'cli', 'root'));
    expect((await errorOf(createTelegramLinkToken(cli))).code).toBe('invalid');
    expect(await tokens()).toHaveLength(2);
  });

  it('does not let an admin create a link for someone of its own account who outranks it', async () => {
    const { operator } = await setup();
    const owner = await buildUser(t.db, operator, { email: 'owner@operator.example' });
    const adminUser = await buildUser(t.db, operator, { role: 'admin', email: 'admin@operator.example' });
    const admin = ctxFor(t.db, await actorForUser(t.db, adminUser.id, 'web'));
    const error = await errorOf(createTelegramLinkToken(admin, { user: owner.id }));
    expect(error).toMatchObject({ code: 'forbidden' });
    expect(error.message).toBe('You cannot create a Telegram link for an owner of your own account.');
  });

  it('refuses a disabled user and an account that is not active', async () => {
    const { operator, acme, ann } = await setup();
    const admin = ctxFor(t.db, actorOf(operator, 'admin'));
    await t.db.updateTable('accounts').set({ status: 'suspended' }).where('id', '=', acme.id).execute();
    expect(await errorOf(createTelegramLinkToken(admin, { user: ann.id }))).toMatchObject({
      code: 'conflict',
      message: 'acme is suspended; a Telegram link would not work.',
    });
  });
});

describe('linkTelegramChat', () => {
  it('links the chat to the user once: telegram_user_id set, name filled in, token used, audited', async () => {
    const { annCtx, ann, acme, clock } = await setup();
    const { token } = await createTelegramLinkToken(annCtx);

    const user = await linkTelegramChat(
      t.db,
      { token, telegramUserId: TELEGRAM_ID, displayName: 'Ann A' },
      clock,
    );

    expect(user).toMatchObject({ id: ann.id, telegram_user_id: TELEGRAM_ID, name: 'Ann A' });
    expect((await tokens())[0]!.used_at).toEqual(new Date(START));
    const [audit] = await audits('telegram.link');
    expect(audit).toMatchObject({
      channel: 'telegram',
      actor_user_id: ann.id,
      actor_label: `telegram:${TELEGRAM_ID}`,
      account_id: acme.id,
      subject: `telegram:${TELEGRAM_ID}`,
      before: { telegram_user_id: null },
      after: { telegram_user_id: TELEGRAM_ID },
    });
    expect(await actorForTelegramUser(t.db, TELEGRAM_ID)).toMatchObject({
      actor: { userId: ann.id, accountId: acme.id, channel: 'telegram', label: `telegram:${TELEGRAM_ID}` },
      account: { slug: 'acme' },
    });
    expect(await telegramUserKind(t.db, TELEGRAM_ID)).toBe('customer');
  });

  it('refuses a used link, also for another Telegram account, and changes nothing', async () => {
    const { annCtx, ann, clock } = await setup();
    const { token } = await createTelegramLinkToken(annCtx);
    await linkTelegramChat(t.db, { token, telegramUserId: TELEGRAM_ID }, clock);

    const error = await errorOf(linkTelegramChat(t.db, { token, telegramUserId: '5005' }, clock));
    expect(error).toMatchObject({ code: 'conflict', message: 'This link was already used.' });
    expect((await userRow(ann.id)).telegram_user_id).toBe(TELEGRAM_ID);
    expect(await audits('telegram.link')).toHaveLength(1);
  });

  it('refuses an expired link with what to do, and leaves it unused', async () => {
    const { annCtx, ann, clock } = await setup();
    const { token } = await createTelegramLinkToken(annCtx);
    clock.advance(15 * 60_000);

    const error = await errorOf(linkTelegramChat(t.db, { token, telegramUserId: TELEGRAM_ID }, clock));
    expect(error).toMatchObject({
      code: 'invalid',
      message: 'This link has expired; get a new one from the website.',
    });
    expect((await userRow(ann.id)).telegram_user_id).toBeNull();
    expect((await tokens())[0]!.used_at).toBeNull();
  });

  it('refuses unknown and malformed tokens', async () => {
    await setup();
    for (const token of ['A'.repeat(32), 'not a token!', '', 'x'.repeat(65)]) {
      const error = await errorOf(linkTelegramChat(t.db, { token, telegramUserId: TELEGRAM_ID }));
      expect(error).toMatchObject({ code: 'invalid', message: 'This link is not valid.' });
    }
  });

  it('refuses a Telegram account linked to another user (staff or customer); the link stays good', async () => {
    const { annCtx, ann, operator, bakery, clock } = await setup();
    await buildUser(t.db, operator, { role: 'viewer', telegram_user_id: TELEGRAM_ID });
    const { token } = await createTelegramLinkToken(annCtx);

    const asStaff = await errorOf(linkTelegramChat(t.db, { token, telegramUserId: TELEGRAM_ID }, clock));
    expect(asStaff).toMatchObject({
      code: 'conflict',
      message: 'This Telegram account is already linked to staff of operator.',
    });
    expect(asStaff.help).toMatch(/either staff or a customer/);

    const baker = await buildUser(t.db, bakery, { email: 'baker@bakery.example', telegram_user_id: '5005' });
    const asCustomer = await errorOf(linkTelegramChat(t.db, { token, telegramUserId: '5005' }, clock));
    expect(asCustomer).toMatchObject({
      code: 'conflict',
      message: 'This Telegram account is already linked to bakery.',
      help: 'Send /unlink first, then open the link again.',
    });
    expect((await userRow(ann.id)).telegram_user_id).toBeNull();

    // Unlinked, the same link works.
    expect((await unlinkTelegram(t.db, '5005'))?.id).toBe(baker.id);
    expect((await linkTelegramChat(t.db, { token, telegramUserId: '5005' }, clock)).id).toBe(ann.id);
  });

  it('moves the user to a new Telegram account when it links again from another one', async () => {
    const { annCtx, ann, clock } = await setup();
    await linkTelegramChat(
      t.db,
      { token: (await createTelegramLinkToken(annCtx)).token, telegramUserId: TELEGRAM_ID },
      clock,
    );
    await linkTelegramChat(
      t.db,
      { token: (await createTelegramLinkToken(annCtx)).token, telegramUserId: '6006' },
      clock,
    );
    expect((await userRow(ann.id)).telegram_user_id).toBe('6006');
    expect((await audits('telegram.link')).map((a) => a.before)).toEqual([
      { telegram_user_id: null },
      { telegram_user_id: TELEGRAM_ID },
    ]);
  });

  it('refuses to link a suspended account, and a linked chat of one is told so', async () => {
    const { annCtx, ann, acme, clock } = await setup();
    const first = await createTelegramLinkToken(annCtx);
    const second = await createTelegramLinkToken(annCtx);
    await linkTelegramChat(t.db, { token: first.token, telegramUserId: TELEGRAM_ID }, clock);
    await t.db.updateTable('accounts').set({ status: 'suspended' }).where('id', '=', acme.id).execute();

    const error = await errorOf(
      linkTelegramChat(t.db, { token: second.token, telegramUserId: '6006' }, clock),
    );
    expect(error).toMatchObject({
      code: 'forbidden',
      message: 'Your account is suspended; contact your provider.',
    });
    expect((await userRow(ann.id)).telegram_user_id).toBe(TELEGRAM_ID);
    expect((await errorOf(actorForTelegramUser(t.db, TELEGRAM_ID))).message).toBe(
      'Your account is suspended; contact your provider.',
    );
  });
});

describe('unlinkTelegram', () => {
  it('unlinks the user (the row stays), audited; null when nothing was linked', async () => {
    const { annCtx, ann, clock } = await setup();
    await linkTelegramChat(
      t.db,
      { token: (await createTelegramLinkToken(annCtx)).token, telegramUserId: TELEGRAM_ID },
      clock,
    );

    expect(await unlinkTelegram(t.db, TELEGRAM_ID)).toMatchObject({ id: ann.id, telegram_user_id: null });
    expect(await unlinkTelegram(t.db, TELEGRAM_ID)).toBeNull();
    expect(await actorForTelegramUser(t.db, TELEGRAM_ID)).toBeNull();
    expect(await audits('telegram.unlink')).toMatchObject([
      { channel: 'telegram', actor_user_id: ann.id, actor_label: `telegram:${TELEGRAM_ID}` },
    ]);
  });
});

describe('telegram link (console)', () => {
  const run = async (line: string) => {
    const parsed = parseCommand(line, 'cli');
    if (!parsed.ok) throw new Error(parsed.message);
    const ctx = ctxFor(t.db, await operatorActor(t.db, 'cli', 'root'));
    return executeCommand(ctx, parsed.command, { channel: 'cli' }).catch(replyForError);
  };

  it("finds the account's user, prints the token once and the t.me link", async () => {
    const { ann } = await setup();
    const reply = await run('telegram link acme bot=@didops_bot minutes=60');
    const text = renderText(reply);
    const token = /start=([A-Za-z0-9_-]{32})/.exec(text)?.[1];
    expect(token).toBeDefined();
    expect(text).toContain('✓ Telegram link for ann@acme.example (acme): works once, until');
    expect(text).toContain(`https://t.me/didops_bot?start=${token}`);
    expect((await tokens())[0]).toMatchObject({ user_id: ann.id, token_hash: hashToken(token!) });
    expect((await audits('telegram.link_token'))[0]).toMatchObject({
      channel: 'cli',
      actor_label: 'cli:root',
    });
  });

  it('without bot= prints the /start message; email= picks among several users', async () => {
    const { acme } = await setup();
    const bob = await buildUser(t.db, acme, { role: 'viewer', email: 'Bob@acme.example' });
    const several = renderText(await run('telegram link acme'));
    expect(several).toContain('✗ acme has 2 users; say which with email=.');

    const text = renderText(await run('telegram link acme email=bob@ACME.example'));
    expect(text).toMatch(/→ \/start [A-Za-z0-9_-]{32}/);
    expect((await tokens())[0]!.user_id).toBe(bob.id);
    expect(parseCommand('telegram link acme minutes=soon', 'cli')).toMatchObject({ ok: false });
    expect(parseCommand('telegram link acme', 'chat')).toMatchObject({ ok: false });
  });

  it('refuses a bad bot name before making a token', async () => {
    await setup();
    expect(renderText(await run('telegram link acme bot=t.me/x'))).toContain(
      'is not a Telegram bot username',
    );
    expect(await tokens()).toEqual([]);
  });

  it('says how to create a user for an account that has none', async () => {
    const { staff } = await setup();
    const error = await errorOf(
      findUserToLink(ctxFor(t.db, { ...staff.actor, role: 'admin' }), { account: 'initech' }),
    );
    expect(error).toMatchObject({ code: 'not_found', message: 'initech has no active users.' });
    expect(error.help).toContain('user create initech owner email=');
  });
});
