// Staff chat-ops on Telegram, end to end through the real bot: updates go in through bot.handleUpdate,
// the Bot API is faked with nock, and the inventory lives in a real PostgreSQL.
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type TelegramBot } from '../../../../bot/telegram/telegram-bot.ts';
import { connect } from '../../../../core/db/connect.ts';
import type { Account } from '../../../../core/db/schema.ts';
import { ManualClock } from '../../../../core/shared/clock.ts';
import { useTestDatabase } from '../../../helpers/database.ts';
import { buildAccount, buildDid, buildOperator } from '../../../helpers/factories.ts';
import {
  ADMIN_ID,
  buttonUpdate,
  callbackData,
  fakeTelegram,
  textUpdate,
  type FakeTelegram,
  testTelegramBot,
} from './fake-telegram.ts';

const t = useTestDatabase();
const NUMBER = '+18665550100';
const VIEWER_ID = 3003;
const STRANGER_ID = 2002;

let clock: ManualClock;
let telegram: FakeTelegram;
let tb: TelegramBot;
let operator: Account;

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
  await buildAccount(t.db, operator, { slug: 'acme' });
  await buildAccount(t.db, operator, { slug: 'umbrella' });
  await buildDid(t.db, { number: NUMBER, area_code: '866', number_type: 'toll_free' });
});

afterEach(async () => {
  await tb.stop();
  nock.cleanAll();
});

const send = (from: number, text: string, options?: Parameters<typeof textUpdate>[2]) =>
  tb.bot.handleUpdate(textUpdate(from, text, options));
const tap = (from: number, data: string, messageId: number, options?: { group?: boolean }) =>
  tb.bot.handleUpdate(buttonUpdate(from, data, messageId, options));

const did = () => t.db.selectFrom('dids').selectAll().where('number', '=', NUMBER).executeTakeFirstOrThrow();
const assignAudits = () =>
  t.db.selectFrom('audit_events').selectAll().where('action', '=', 'did.assign').execute();

async function linkViewer() {
  await t.db
    .insertInto('users')
    .values({
      account_id: operator.id,
      role: 'viewer',
      email: null,
      name: 'Viewer',
      password_hash: null,
      slack_user_id: null,
      telegram_user_id: String(VIEWER_ID),
    })
    .execute();
}

describe('typed commands', () => {
  it('lets a bootstrap admin assign a number, audited with their Telegram id', async () => {
    await send(ADMIN_ID, '/did assign 18665550100 acme');

    const [sent, ...more] = telegram.of('sendMessage');
    expect(more).toEqual([]);
    expect(sent!.body).toMatchObject({
      chat_id: ADMIN_ID,
      parse_mode: 'HTML',
      text: '✓ +1 866 555 0100 is now assigned to acme.',
    });
    expect(await did()).toMatchObject({ status: 'assigned' });
    const [audit] = await assignAudits();
    expect(audit).toMatchObject({ channel: 'telegram', actor_label: `telegram:${ADMIN_ID}` });
    // The bootstrap admin is now a linked user, and that was audited too.
    const link = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'staff.link')
      .executeTakeFirstOrThrow();
    expect(link.subject).toBe(`telegram:${ADMIN_ID}`);
  });

  it('answers /did@botname the same way', async () => {
    await send(ADMIN_ID, '/did@didops_bot assign 18665550100 acme');
    expect(telegram.texts()).toEqual(['✓ +1 866 555 0100 is now assigned to acme.']);
  });

  it('refuses an unknown user politely and changes nothing', async () => {
    await send(STRANGER_ID, '/did assign 18665550100 acme');

    const [text] = telegram.texts();
    expect(text).toContain("Sorry, you're not set up as staff here");
    expect(text).toContain(
      `<code>Ask an admin to run: /did staff link telegram ${STRANGER_ID} viewer</code>`,
    );
    expect(await did()).toMatchObject({ status: 'available' });
    expect(await t.db.selectFrom('users').selectAll().execute()).toEqual([]);
  });

  it('lets a viewer look but not assign', async () => {
    await linkViewer();
    await send(VIEWER_ID, `/did assign 18665550100 acme`);
    await send(VIEWER_ID, `/did info 18665550100`);

    const [refused, info] = telegram.texts();
    expect(refused).toMatch(/^✗ Your role \(viewer\) cannot /);
    expect(info).toContain('<b>+1 866 555 0100</b>');
    expect(await did()).toMatchObject({ status: 'available' });
    expect(await assignAudits()).toEqual([]);
  });

  it('lets an admin link a viewer, who then counts as staff', async () => {
    await send(ADMIN_ID, `/did staff link telegram ${VIEWER_ID} viewer`);
    await send(VIEWER_ID, '/did search 1866');
    const [linked, search] = telegram.texts();
    expect(linked).toBe(`✓ telegram user ${VIEWER_ID} is now viewer.`);
    expect(search).toContain('<b>+1 866 555 0100</b>');
  });

  it('answers a malformed number and an unknown account clearly, changing nothing', async () => {
    await send(ADMIN_ID, '/did assign 12345 acme');
    await send(ADMIN_ID, '/did assign 18665550100 acmee');

    const [badNumber, badAccount] = telegram.texts();
    expect(badNumber).toMatch(/^✗ .*12345/);
    expect(badAccount).toMatch(/^✗ .*acmee/);
    expect(await did()).toMatchObject({ status: 'available' });
    expect(await assignAudits()).toEqual([]);
  });

  it('says who holds a number someone else has', async () => {
    await send(ADMIN_ID, '/did assign 18665550100 acme');
    await send(ADMIN_ID, '/did assign 18665550100 umbrella');
    expect(telegram.texts()[1]).toMatch(/^✗ .*already assigned to acme/);
  });

  it('shows search results in HTML with an Assign button per free number', async () => {
    await buildDid(t.db, { number: '+18665550101', area_code: '866', number_type: 'toll_free' });
    const { version } = await did();
    await send(ADMIN_ID, '/did search 1866');

    const [sent] = telegram.of('sendMessage');
    expect(sent!.body.parse_mode).toBe('HTML');
    expect(sent!.body.text).toContain('<b>2 numbers</b>');
    expect(sent!.body.text).toContain('<b>+1 866 555 0100</b> — available');
    const data = callbackData(sent);
    expect(data).toEqual([`a|${NUMBER}|${version}`, expect.stringMatching(/^a\|\+18665550101\|\d+$/)]);
    for (const d of data) expect(Buffer.byteLength(d)).toBeLessThanOrEqual(64);
  });

  it('shows help for /start and /help, escaped', async () => {
    // A stranger's /start explains how to link instead (customer-commands.test.ts).
    await send(ADMIN_ID, '/start');
    await send(STRANGER_ID, '/help assign');
    const [start, help] = telegram.texts();
    expect(start).toContain('<b>Commands</b>');
    expect(start).toContain('assign &lt;number&gt; &lt;account&gt;');
    expect(help).toContain('<b>/did assign &lt;number&gt; &lt;account&gt;</b>');
  });

  it('tells a group to use a private chat, and runs nothing', async () => {
    await send(ADMIN_ID, '/did assign 18665550100 acme', { group: true });
    const [sent] = telegram.of('sendMessage');
    expect(sent!.body.chat_id).toBe(-4242);
    expect(sent!.body.text).toBe(
      'Staff commands work only in a private chat with me: open @didops_bot and type /did help.',
    );
    expect(await did()).toMatchObject({ status: 'available' });
  });

  it('shows "Working on it…" for assign first, then edits it into what was assigned and skipped', async () => {
    await buildDid(t.db, { number: '+18665550101', area_code: '866' });
    await send(ADMIN_ID, '/did assign first 5 1866 acme');

    const [working] = telegram.of('sendMessage');
    expect(working!.body.text).toBe('Working on it…');
    const [edited] = telegram.of('editMessageText');
    expect(edited!.body).toMatchObject({ chat_id: ADMIN_ID, message_id: 500, parse_mode: 'HTML' });
    expect(edited!.body.text).toContain('✓ Assigned 2 of 5 to acme.');
    expect(edited!.body.text).toContain('• +1 866 555 0100');
    expect(await assignAudits()).toHaveLength(2);
  });

  it('answers an unexpected failure with an apology, and logs it', async () => {
    const broken = connect('postgres://nobody@127.0.0.1:1/nothing', { max: 1 });
    const lines: string[] = [];
    const { createLogger } = await import('../../../../core/runtime/logger.ts');
    const other = testTelegramBot(broken, {
      clock,
      log: createLogger({ level: 'error', write: (line) => lines.push(line) }),
    });
    try {
      await other.bot.handleUpdate(textUpdate(ADMIN_ID, '/did info 18665550100'));
    } finally {
      await broken.destroy();
    }
    expect(telegram.texts()).toEqual(['Something went wrong on our side; it has been logged.']);
    expect(lines.join('\n')).toContain('Telegram staff command failed');
  });
});

describe('buttons', () => {
  /** Asks /did info and returns the message id and buttons of the reply. */
  async function infoMessage(from = ADMIN_ID) {
    await send(from, '/did info 18665550100');
    const sent = telegram.of('sendMessage').at(-1)!;
    const index = telegram.of('sendMessage').length - 1;
    return { messageId: 500 + index, data: callbackData(sent) };
  }

  it('Assign asks which account with force_reply, and the reply assigns', async () => {
    const { version } = await did();
    const { messageId, data } = await infoMessage();
    expect(data).toEqual([`a|${NUMBER}|${version}`]);

    await tap(ADMIN_ID, data[0]!, messageId);
    const question = telegram.of('sendMessage').at(-1)!;
    expect(question.body).toMatchObject({
      chat_id: ADMIN_ID,
      text: 'Which account gets +1 866 555 0100? Reply with its slug.',
      reply_markup: { force_reply: true },
    });
    expect(telegram.of('answerCallbackQuery')).toHaveLength(1);

    await send(ADMIN_ID, 'acme', {
      replyTo: { messageId: 501, text: 'Which account gets +1 866 555 0100? Reply with its slug.' },
    });
    expect(telegram.texts().at(-1)).toBe('✓ +1 866 555 0100 is now assigned to acme.');
    const [audit] = await assignAudits();
    expect(audit).toMatchObject({ channel: 'telegram', actor_label: `telegram:${ADMIN_ID}` });
  });

  it('answers an unknown slug clearly, assigns nothing, and takes another answer', async () => {
    const { messageId, data } = await infoMessage();
    await tap(ADMIN_ID, data[0]!, messageId);
    const replyTo = { messageId: 501, text: 'Which account gets +1 866 555 0100? Reply with its slug.' };

    await send(ADMIN_ID, 'nosuchco', { replyTo });
    expect(telegram.texts().at(-1)).toMatch(/^✗ .*nosuchco/);
    expect(await did()).toMatchObject({ status: 'available' });

    await send(ADMIN_ID, 'acme', { replyTo });
    expect(telegram.texts().at(-1)).toBe('✓ +1 866 555 0100 is now assigned to acme.');
  });

  it('says a question expired after 10 minutes, assigning nothing', async () => {
    const { messageId, data } = await infoMessage();
    await tap(ADMIN_ID, data[0]!, messageId);
    clock.advance(11 * 60 * 1000);

    await send(ADMIN_ID, 'acme', {
      replyTo: { messageId: 501, text: 'Which account gets +1 866 555 0100? Reply with its slug.' },
    });
    expect(telegram.texts().at(-1)).toMatch(/^That question expired.*Tap Assign again\.$/);
    expect(await did()).toMatchObject({ status: 'available' });
  });

  it('Release asks to confirm, then releases', async () => {
    await send(ADMIN_ID, '/did assign 18665550100 acme');
    const { version } = await did();
    const { messageId, data } = await infoMessage();
    expect(data).toEqual([`r|${NUMBER}|${version}`, `t|${NUMBER}|${version}`]);

    await tap(ADMIN_ID, data[0]!, messageId);
    const confirm = telegram.of('sendMessage').at(-1)!;
    expect(confirm.body.text).toMatch(
      /^<b>Release this number\?<\/b>\n\+1 866 555 0100 goes back to the pool, taken from acme/,
    );
    expect(callbackData(confirm)).toEqual([`R|${NUMBER}|${version}`, 'x']);
    expect(await did()).toMatchObject({ status: 'assigned' });

    await tap(ADMIN_ID, `R|${NUMBER}|${version}`, 502);
    const [edited] = telegram.of('editMessageText');
    expect(edited!.body).toMatchObject({
      chat_id: ADMIN_ID,
      message_id: 502,
      reply_markup: { inline_keyboard: [] },
    });
    expect(edited!.body.text).toContain('✓ +1 866 555 0100 is released.');
    expect(await did()).toMatchObject({ status: 'aging' });
    const release = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', 'like', 'did.release%')
      .executeTakeFirstOrThrow();
    expect(release.actor_label).toBe(`telegram:${ADMIN_ID}`);
    expect(telegram.of('answerCallbackQuery')).toHaveLength(2);
  });

  it('Cancel on the confirmation changes nothing', async () => {
    await send(ADMIN_ID, '/did assign 18665550100 acme');
    await tap(ADMIN_ID, 'x', 600);
    expect(telegram.of('editMessageText')[0]!.body).toMatchObject({
      message_id: 600,
      text: 'Cancelled; nothing changed.',
    });
    expect(await did()).toMatchObject({ status: 'assigned' });
  });

  it('refuses a stale Assign button, says it changed since, and redraws the message with fresh buttons', async () => {
    const { messageId, data } = await infoMessage();
    await send(ADMIN_ID, '/did assign 18665550100 umbrella'); // meanwhile, someone else took it
    const { version } = await did();

    await tap(ADMIN_ID, data[0]!, messageId);
    const [answer] = telegram.of('answerCallbackQuery');
    expect(answer!.body.text).toMatch(/changed since/);
    const [refreshed] = telegram.of('editMessageText');
    expect(refreshed!.body).toMatchObject({ chat_id: ADMIN_ID, message_id: messageId });
    expect(refreshed!.body.text).toContain('umbrella');
    expect(callbackData(refreshed)).toEqual([`r|${NUMBER}|${version}`, `t|${NUMBER}|${version}`]);
    expect(telegram.texts().at(-1)).toMatch(/changed since that button was shown; nothing was done/);
    expect(telegram.of('sendMessage').some((c) => String(c.body.text).startsWith('Which account'))).toBe(
      false,
    );
    expect(await did()).toMatchObject({ status: 'assigned', version });
  });

  it('refuses a stale Release confirmation with core\'s "changed since", and refreshes the message', async () => {
    await send(ADMIN_ID, '/did assign 18665550100 acme');
    const stale = (await did()).version;
    await send(ADMIN_ID, '/did release 18665550100');
    await t.db
      .updateTable('dids')
      .set({ status: 'available', aging_until: null })
      .where('number', '=', NUMBER)
      .execute();
    await send(ADMIN_ID, '/did assign 18665550100 umbrella');
    const current = await did();

    await tap(ADMIN_ID, `R|${NUMBER}|${stale}`, 777);
    expect(telegram.of('answerCallbackQuery')[0]!.body.text).toBe('Not done: see my message.');
    expect(telegram.texts().some((text) => /^✗ .*changed since it was shown/.test(text))).toBe(true);
    const refreshed = telegram.of('editMessageText').at(-1)!;
    expect(refreshed.body.message_id).toBe(777);
    expect(callbackData(refreshed)).toEqual([
      `r|${NUMBER}|${current.version}`,
      `t|${NUMBER}|${current.version}`,
    ]);
    expect(await did()).toMatchObject({ status: 'assigned', version: current.version });
  });

  it('Transfer shows the settings with how to change them, and On/Off buttons that work', async () => {
    await send(ADMIN_ID, '/did assign 18665550100 acme');
    await send(ADMIN_ID, '/did transfer 18665550100 busy +1 212 555 0142');
    const { version } = await did();
    const { messageId, data } = await infoMessage();

    await tap(ADMIN_ID, data[1]!, messageId);
    const view = telegram.of('sendMessage').at(-1)!;
    expect(view.body.text).toContain('<b>Call transfer for +1 866 555 0100');
    expect(view.body.text).toContain(
      `<code>/did transfer ${NUMBER} busy|noanswer|unreachable|always &lt;destination&gt;</code>`,
    );
    expect(callbackData(view)).toEqual([`T1|${NUMBER}|${version}`, `T0|${NUMBER}|${version}`]);

    const viewId = 500 + telegram.of('sendMessage').length - 1;
    await tap(ADMIN_ID, `T1|${NUMBER}|${version}`, viewId);
    const edited = telegram.of('editMessageText').at(-1)!;
    expect(edited.body.message_id).toBe(viewId);
    expect(edited.body.text).toContain('✓ Call transfer is now on for +1 866 555 0100.');
    expect(String(edited.body.text).match(/Call transfer for/g)).toHaveLength(1);
    expect(edited.body.text).toContain('<b>Transfer:</b> on');
    const fresh = (await did()).version;
    expect(callbackData(edited)).toEqual([`T1|${NUMBER}|${fresh}`, `T0|${NUMBER}|${fresh}`]);
    expect(telegram.of('answerCallbackQuery').at(-1)!.body.text).toBe('Call transfer is on.');
    const audit = await t.db
      .selectFrom('audit_events')
      .select(['actor_label', 'channel'])
      .where('action', 'like', '%transfer%')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(audit).toEqual({ actor_label: `telegram:${ADMIN_ID}`, channel: 'telegram' });
  });

  it('answers a button it does not know, and one in a group', async () => {
    await tap(ADMIN_ID, 'zz|nonsense', 1);
    await tap(ADMIN_ID, `a|${NUMBER}|1`, 1, { group: true });
    const answers = telegram.of('answerCallbackQuery').map((c) => c.body.text);
    expect(answers).toEqual([
      'This button no longer works; run the command again.',
      expect.stringMatching(/private chat/),
    ]);
    expect(telegram.of('sendMessage')).toEqual([]);
  });

  it('does not let an unknown user use a button', async () => {
    const { version } = await did();
    await tap(STRANGER_ID, `a|${NUMBER}|${version}`, 1);
    expect(telegram.of('answerCallbackQuery')[0]!.body.text).toBe('Not done: see my message.');
    expect(telegram.texts()[0]).toContain("Sorry, you're not set up as staff here");
  });
});

describe('rate limits', () => {
  it('retries a message once after Telegram asks to wait', async () => {
    telegram.failOnce('sendMessage', 429, {
      ok: false,
      error_code: 429,
      description: 'Too Many Requests: retry after 1',
      parameters: { retry_after: 1 },
    });
    await send(ADMIN_ID, '/did help');
    expect(telegram.of('sendMessage')).toHaveLength(2);
    expect(telegram.texts()[1]).toContain('<b>Commands</b>');
  });
});
