// Customer self-service on Telegram, end to end through the real bot: updates go in through
// bot.handleUpdate, the Bot API is faked with nock, the numbers live in a real PostgreSQL. Linking with a
// one-time token, /numbers, the /transfer screens (switch, destinations asked with a forced reply), bad
// input, forged buttons, suspended accounts, /unlink, and staff and customers kept to their own commands.
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type TelegramBot } from '../../../../bot/telegram/telegram-bot.ts';
import { createTelegramLinkToken } from '../../../../core/accounts/telegram-link.ts';
import { actorForUser } from '../../../../core/accounts/users.ts';
import type { Account, Did, User } from '../../../../core/db/schema.ts';
import { ManualClock } from '../../../../core/shared/clock.ts';
import { useTestDatabase } from '../../../helpers/database.ts';
import { buildAccount, buildDid, buildOperator, ctxFor, buildUser } from '../../../helpers/factories.ts';
import {
  ADMIN_ID,
  buttonUpdate,
  callbackData,
  fakeTelegram,
  textUpdate,
  type ApiCall,
  type FakeTelegram,
  testTelegramBot,
} from './fake-telegram.ts';

const t = useTestDatabase();
const ANN_ID = 4004;
const UMA_ID = 5005;
const STRANGER_ID = 6006;
const STAFF_ID = 7007;
const MINE = '+12125550142';
const ALSO_MINE = '+12125550143';
const THEIRS = '+12125550199';

let clock: ManualClock;
let telegram: FakeTelegram;
let tb: TelegramBot;
let operator: Account;
let acme: Account;
let umbrella: Account;
let ann: User;
let uma: User;
let mine: Did;
let alsoMine: Did;
let theirs: Did;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => {
  nock.enableNetConnect();
});

beforeEach(async () => {
  clock = new ManualClock('2026-03-01T10:00:00Z');
  telegram = fakeTelegram();
  tb = testTelegramBot(t.db, { clock });
  operator = await buildOperator(t.db);
  acme = await buildAccount(t.db, operator, { slug: 'acme', name: 'Acme Corp' });
  umbrella = await buildAccount(t.db, operator, { slug: 'umbrella', name: 'Umbrella' });
  ann = await buildUser(t.db, acme, { email: 'ann@acme.example' });
  uma = await buildUser(t.db, umbrella, { email: 'uma@umbrella.example' });
  const inUse = (account: Account) =>
    ({ status: 'assigned', assigned_account_id: account.id, assigned_at: clock.now() }) as const;
  mine = await buildDid(t.db, { number: MINE, ...inUse(acme) });
  alsoMine = await buildDid(t.db, { number: ALSO_MINE, city: 'Brooklyn', ...inUse(acme) });
  theirs = await buildDid(t.db, { number: THEIRS, ...inUse(umbrella) });
  await buildDid(t.db, { number: '+12125550100' });
});

afterEach(async () => {
  await tb.stop();
  nock.cleanAll();
});

const send = (from: number, text: string, options?: Parameters<typeof textUpdate>[2]) =>
  tb.bot.handleUpdate(textUpdate(from, text, options));
const tap = (from: number, data: string, messageId = 1) =>
  tb.bot.handleUpdate(buttonUpdate(from, data, messageId));

const sent = () => telegram.of('sendMessage');
const lastSent = () => sent().at(-1)!;
const lastText = () => String(lastSent().body.text);
const edits = () => telegram.of('editMessageText');
const answers = () => telegram.of('answerCallbackQuery').map((c) => c.body.text);
const messageIdOf = (call: ApiCall) => 500 + telegram.of('sendMessage').indexOf(call);

async function tokenFor(user: User): Promise<string> {
  const ctx = ctxFor(t.db, await actorForUser(t.db, user.id, 'web'), { clock });
  return (await createTelegramLinkToken(ctx)).token;
}

/** Links Ann's chat the way a customer does: /start with the storefront's token. */
async function linkAnn(): Promise<void> {
  await send(ANN_ID, `/start ${await tokenFor(ann)}`);
}

const userRow = (id: number) =>
  t.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const didRow = (id: number) =>
  t.db.selectFrom('dids').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const transferOf = (didId: number) =>
  t.db.selectFrom('call_transfers').selectAll().where('did_id', '=', didId).executeTakeFirst();
const transferAudits = () =>
  t.db.selectFrom('audit_events').selectAll().where('action', 'like', 'transfer.%').orderBy('id').execute();

/** The answer to the bot's last message (its destination question). */
const answerQuestion = (from: number, text: string) =>
  send(from, text, { replyTo: { messageId: messageIdOf(lastSent()), text: lastText() } });

describe('linking', () => {
  it('links the chat with a valid token and says which account and how many numbers', async () => {
    const token = await tokenFor(ann);
    await send(ANN_ID, `/start ${token}`);

    expect(sent()).toHaveLength(1);
    expect(lastText()).toContain('✓ This chat is now linked to <b>Acme Corp</b> (acme). You have 2 numbers.');
    expect(lastText()).toContain('/numbers');
    expect(await userRow(ann.id)).toMatchObject({ telegram_user_id: String(ANN_ID), name: 'Ann Staff' });
    const row = await t.db.selectFrom('telegram_link_tokens').selectAll().executeTakeFirstOrThrow();
    expect(row.used_at).not.toBeNull();
    const audit = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'telegram.link')
      .executeTakeFirstOrThrow();
    expect(audit).toMatchObject({
      channel: 'telegram',
      actor_label: `telegram:${ANN_ID}`,
      actor_user_id: ann.id,
    });
  });

  it('refuses a reused token, an expired one and an unknown one; nothing changes', async () => {
    const token = await tokenFor(ann);
    await send(ANN_ID, `/start ${token}`);
    await send(STRANGER_ID, `/start ${token}`);
    expect(lastText()).toContain('✗ This link was already used.');

    const late = await tokenFor(uma);
    clock.advance(16 * 60_000);
    await send(UMA_ID, `/start ${late}`);
    expect(lastText()).toContain('✗ This link has expired; get a new one from the website');

    await send(UMA_ID, '/start Zm9yZ2VkLXRva2VuLW5vdC1yZWFs');
    expect(lastText()).toContain('✗ This link is not valid.');

    expect((await userRow(ann.id)).telegram_user_id).toBe(String(ANN_ID));
    expect((await userRow(uma.id)).telegram_user_id).toBeNull();
    const linked = await t.db
      .selectFrom('users')
      .select('telegram_user_id')
      .where('telegram_user_id', 'is not', null)
      .execute();
    expect(linked).toEqual([{ telegram_user_id: String(ANN_ID) }]);
  });

  it('refuses to link a Telegram account that is staff, and a bootstrap admin', async () => {
    await buildUser(t.db, operator, { role: 'viewer', telegram_user_id: String(STAFF_ID) });
    await send(STAFF_ID, `/start ${await tokenFor(ann)}`);
    expect(lastText()).toContain('✗ This Telegram account is already linked to staff of');
    expect(lastText()).toContain('either staff or a customer');

    await send(ADMIN_ID, `/start ${await tokenFor(ann)}`);
    expect(lastText()).toContain('You are staff here (TELEGRAM_ADMIN_USERS)');
    expect((await userRow(ann.id)).telegram_user_id).toBeNull();
  });

  it('explains how to link on a plain /start, and welcomes a linked customer', async () => {
    await send(STRANGER_ID, '/start');
    expect(lastText()).toContain('link this chat to your account');
    expect(lastText()).toContain(`<code>/did staff link telegram ${STRANGER_ID} viewer</code>`);

    await linkAnn();
    await send(ANN_ID, '/start');
    expect(lastText()).toContain('This chat manages the numbers of <b>Acme Corp</b> (acme).');
    await send(ANN_ID, '/help');
    expect(lastText()).toContain('/transfer — send calls on');
  });

  it('unlinks the chat with /unlink', async () => {
    await linkAnn();
    await send(ANN_ID, '/unlink');
    expect(lastText()).toContain('✓ This chat is no longer linked to your account.');
    expect((await userRow(ann.id)).telegram_user_id).toBeNull();
    expect(
      await t.db
        .selectFrom('audit_events')
        .select('action')
        .where('action', '=', 'telegram.unlink')
        .execute(),
    ).toHaveLength(1);

    await send(ANN_ID, '/numbers');
    expect(lastText()).toContain('This chat is not linked to an account.');
    await send(ANN_ID, '/unlink');
    expect(lastText()).toContain('there is nothing to unlink');
  });
});

describe('/numbers', () => {
  it("lists only the customer's own numbers, with their call transfer", async () => {
    await t.db
      .insertInto('call_transfers')
      .values({
        did_id: alsoMine.id,
        enabled: true,
        busy_destination: '+442079460000',
        updated_at: clock.now(),
      })
      .execute();
    await linkAnn();
    await send(ANN_ID, '/numbers');

    const text = lastText();
    expect(text).toContain('<b>Your numbers (2)</b>');
    expect(text).toContain('• <b>+1 212 555 0142</b> — in service · New York, US · transfer off');
    expect(text).toContain(
      '• <b>+1 212 555 0143</b> — in service · Brooklyn, US · transfer on: Busy → +44 20 7946 0000',
    );
    expect(text).not.toContain('0199');
    expect(text).not.toContain('0100');
  });

  it('tells staff these commands are for customers, and customers that /did is for staff', async () => {
    await buildUser(t.db, operator, { role: 'operator', telegram_user_id: String(STAFF_ID) });
    await send(STAFF_ID, '/numbers');
    expect(lastText()).toContain('These commands are for customers.');
    await send(STAFF_ID, '/transfer');
    expect(lastText()).toContain('These commands are for customers.');
    await send(ADMIN_ID, '/numbers');
    expect(lastText()).toContain('These commands are for customers.');
    // Staff keep their own /start and /did.
    await send(STAFF_ID, '/start');
    expect(lastText()).toContain('<b>Commands</b>');

    await linkAnn();
    await send(ANN_ID, `/did info ${THEIRS}`);
    expect(lastText()).toBe('These commands are for staff. Manage your numbers with /numbers and /transfer.');
    await send(ANN_ID, '/did search');
    expect(lastText()).toContain('These commands are for staff.');
  });
});

describe('/transfer', () => {
  /** Opens a number's screen from the /transfer keyboard; returns the screen's buttons. */
  async function openScreen(did: Did): Promise<string[]> {
    await send(ANN_ID, '/transfer');
    const list = lastSent();
    const button = callbackData(list).find((d) => d.startsWith(`cs|${did.id}|`))!;
    await tap(ANN_ID, button, messageIdOf(list));
    return callbackData(edits().at(-1));
  }

  it('offers one button per own number, carrying its DID id and version, within 64 bytes', async () => {
    await linkAnn();
    await send(ANN_ID, '/transfer');
    const data = callbackData(lastSent());
    expect(data).toEqual([`cs|${mine.id}|${mine.version}`, `cs|${alsoMine.id}|${alsoMine.version}`]);
    expect(lastText()).toContain('Which number?');

    const screen = await openScreen(mine);
    expect(screen).toEqual([
      `c1|${mine.id}|${mine.version}`,
      `cd|${mine.id}|${mine.version}|b`,
      `cd|${mine.id}|${mine.version}|n`,
      `cd|${mine.id}|${mine.version}|u`,
      `cd|${mine.id}|${mine.version}|a`,
      'cl',
    ]);
    for (const d of [...data, ...screen]) expect(Buffer.byteLength(d)).toBeLessThanOrEqual(64);
    expect(String(edits().at(-1)!.body.text)).toContain('<b>Call transfer for +1 212 555 0142</b>');
    expect(answers().at(-1)).toBeUndefined();

    await tap(ANN_ID, 'cl', 77);
    expect(callbackData(edits().at(-1))).toHaveLength(2);
  });

  it('asks for a destination first when turned on without one, then sets it and turns transfer on', async () => {
    await linkAnn();
    const screen = await openScreen(mine);
    await tap(ANN_ID, screen[0]!);
    expect(answers().at(-1)).toBe('Set a destination first.');
    expect(await transferOf(mine.id)).toBeUndefined();
    expect(lastText()).toContain('Call transfer needs somewhere to send calls first.');
    const choices = callbackData(lastSent());
    expect(choices[0]).toBe(`cD|${mine.id}|${mine.version}|b`);

    await tap(ANN_ID, choices[0]!);
    expect(lastSent().body).toMatchObject({
      text: 'Send the destination for BUSY on +1 212 555 0142: a phone number with country code or sip:user@host ("none" clears it).',
      reply_markup: { force_reply: true },
    });
    await answerQuestion(ANN_ID, '+44 20 7946 0000');

    expect(lastText()).toContain('✓ Busy: calls to +1 212 555 0142 now go to +44 20 7946 0000.');
    expect(lastText()).toContain('✓ Call transfer is now on.');
    expect(lastText()).toContain('<b>Transfer:</b> on');
    expect(await transferOf(mine.id)).toMatchObject({ enabled: true, busy_destination: '+442079460000' });

    // …and off again, from the fresh screen.
    const off = callbackData(lastSent())[0]!;
    expect(off).toMatch(new RegExp(`^c0\\|${mine.id}\\|`));
    await tap(ANN_ID, off, messageIdOf(lastSent()));
    expect(answers().at(-1)).toBe('Call transfer is off.');
    expect(String(edits().at(-1)!.body.text)).toContain('<b>Transfer:</b> off');
    expect(await transferOf(mine.id)).toMatchObject({ enabled: false, busy_destination: '+442079460000' });
    expect((await transferAudits()).map((a) => [a.action, a.channel, a.actor_label])).toEqual([
      ['transfer.destination', 'telegram', `telegram:${ANN_ID}`],
      ['transfer.enable', 'telegram', `telegram:${ANN_ID}`],
      ['transfer.disable', 'telegram', `telegram:${ANN_ID}`],
    ]);
  });

  it('sets a BUSY destination to a SIP address through the forced reply, and clears it with "none"', async () => {
    await linkAnn();
    const screen = await openScreen(mine);
    await tap(ANN_ID, screen[1]!);
    await answerQuestion(ANN_ID, 'sip:desk@pbx.acme.example');
    expect(lastText()).toContain('✓ Busy: calls to +1 212 555 0142 now go to sip:desk@pbx.acme.example.');
    expect(await transferOf(mine.id)).toMatchObject({
      enabled: false,
      busy_destination: 'sip:desk@pbx.acme.example',
    });

    await tap(ANN_ID, callbackData(lastSent())[1]!);
    await answerQuestion(ANN_ID, 'none');
    expect(lastText()).toContain('✓ Busy: destination cleared for +1 212 555 0142.');
    expect(await transferOf(mine.id)).toMatchObject({ busy_destination: null });
  });

  it('refuses invalid destinations with a clear message and asks again; nothing changes', async () => {
    await t.db
      .insertInto('call_transfers')
      .values({ did_id: alsoMine.id, enabled: true, always_destination: MINE, updated_at: clock.now() })
      .execute();
    await linkAnn();
    const screen = await openScreen(mine);
    await tap(ANN_ID, screen[1]!);

    const cases: [string, string][] = [
      ['+1 212 ABC 0142', 'is not a phone number: it contains letters'],
      ['sip:desk', 'is not a valid SIP URI: it needs a user and a host'],
      ['+1 212 555 0142', '+1 212 555 0142 cannot forward to itself.'],
      [ALSO_MINE, 'would forward round a loop: +1 212 555 0142 → +1 212 555 0143 → +1 212 555 0142'],
    ];
    for (const [typed, why] of cases) {
      const before = sent().length;
      await answerQuestion(ANN_ID, typed);
      const [refusal, again] = sent().slice(before);
      expect(refusal!.body.text).toContain(`✗ `);
      expect(refusal!.body.text).toContain(why);
      expect(String(again!.body.text)).toContain('Send the destination for BUSY on +1 212 555 0142');
      expect(again!.body.reply_markup).toMatchObject({ force_reply: true });
    }
    expect(await transferOf(mine.id)).toBeUndefined();
    expect(await transferAudits()).toEqual([]);

    // The retry prompt takes a good answer; typed without replying, it counts too.
    await send(ANN_ID, '+44 20 7946 0000');
    expect(lastText()).toContain('✓ Busy: calls to +1 212 555 0142 now go to +44 20 7946 0000.');
  });

  it("refuses a crafted button with another customer's DID id; nothing changes", async () => {
    await linkAnn();
    const v = theirs.version;
    for (const data of [
      `c1|${theirs.id}|${v}`,
      `cd|${theirs.id}|${v}|b`,
      `cs|${theirs.id}|${v}`,
      `c0|${theirs.id}|${v}`,
    ]) {
      await tap(ANN_ID, data);
    }
    expect(answers()).toEqual(Array(4).fill('That number is not yours.'));
    expect(sent()).toHaveLength(1); // only the link confirmation
    expect(edits()).toEqual([]);
    expect(await transferOf(theirs.id)).toBeUndefined();
    expect((await didRow(theirs.id)).version).toBe(v);

    await send(ANN_ID, `/transfer ${THEIRS}`);
    expect(lastText()).toContain('✗ +1 212 555 0199 is not one of your numbers.');
  });

  it('refreshes a stale screen instead of acting on it', async () => {
    await t.db
      .insertInto('call_transfers')
      .values({ did_id: mine.id, enabled: false, busy_destination: '+442079460000', updated_at: clock.now() })
      .execute();
    await linkAnn();
    const screen = await openScreen(mine);
    await t.db
      .updateTable('dids')
      .set({ description: 'changed by staff' })
      .where('id', '=', mine.id)
      .execute();
    const changed = await didRow(mine.id);
    expect(changed.version).not.toBe(mine.version);

    await tap(ANN_ID, screen[0]!, 42);
    expect(answers().at(-1)).toBe('It changed since; showing it as it is now.');
    expect(edits().at(-1)!.body.message_id).toBe(42);
    expect(callbackData(edits().at(-1))[0]).toBe(`c1|${mine.id}|${changed.version}`);
    expect(await transferOf(mine.id)).toMatchObject({ enabled: false });
  });

  it('tells a linked chat of a suspended account so, for every command and button', async () => {
    await linkAnn();
    await t.db.updateTable('accounts').set({ status: 'suspended' }).where('id', '=', acme.id).execute();
    for (const command of ['/numbers', '/transfer', '/help', '/start', `/transfer ${MINE}`]) {
      await send(ANN_ID, command);
      expect(lastText()).toContain('Your account is suspended; contact your provider');
    }
    await tap(ANN_ID, `c1|${mine.id}|${mine.version}`);
    expect(answers().at(-1)).toBe('Your account is suspended; contact your provider.');
    expect(await transferOf(mine.id)).toBeUndefined();
  });

  it('says a question expired when its answer comes after a restart', async () => {
    await linkAnn();
    const screen = await openScreen(mine);
    await tap(ANN_ID, screen[1]!);
    const question = lastSent();
    await tb.stop();
    tb = testTelegramBot(t.db, { clock });
    await send(ANN_ID, '+44 20 7946 0000', {
      replyTo: { messageId: messageIdOf(question), text: String(question.body.text) },
    });
    expect(lastText()).toContain('That question expired');
    expect(await transferOf(mine.id)).toBeUndefined();
  });
});
