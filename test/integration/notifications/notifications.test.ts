// Notices reach the account's linked Telegram chats (the Bot API faked with nock) and, for suspensions and
// releases, the staff Slack channel; a failed delivery is retried by the job, a delivered one never repeats.
import nock from 'nock';
import { Telegram } from 'telegraf';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { webApi } from '@slack/bolt';
import { slackStaffChannel, telegramChannel } from '../../../bot/notifications/notification-channels.ts';
import { deliverNotification, recordNotification } from '../../../core/notifications/notifications.ts';
import { silentLogger } from '../../../core/runtime/logger.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { buildHierarchy, buildUser } from '../../helpers/factories.ts';

const t = useTestDatabase();
const TOKEN = '123456:TEST-token-for-didops-notices';
const now = new Date('2026-03-01T10:00:00Z');

beforeEach(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

function channels() {
  const telegram = telegramChannel(t.db, new Telegram(TOKEN), silentLogger);
  const slack = slackStaffChannel(
    t.db,
    new webApi.WebClient('xoxb-test', {
      slackApiUrl: 'https://slack.test/api/',
      retryConfig: { retries: 0 },
    }),
    'C0AUDIT01',
  );
  return [telegram, slack];
}

describe('notification delivery', () => {
  it('sends a failed payment to every linked Telegram chat of the account, once', async () => {
    const h = await buildHierarchy(t.db);
    await buildUser(t.db, h.acme, { telegram_user_id: '4242' });
    await buildUser(t.db, h.acme, { telegram_user_id: '4343', role: 'operator' });
    await buildUser(t.db, h.bakery, { telegram_user_id: '9999' });
    const id = (await recordNotification(t.db, {
      accountId: h.acme.id,
      kind: 'payment_failed',
      key: 'test-payment-failed-1',
      data: {
        number: '+12125550100',
        amount: 1500,
        currency: 'USD',
        reason: 'card declined',
        nextAttempt: '2026-03-02T10:00:00Z',
      },
    }))!;
    const sent: { chat_id: number; text: string }[] = [];
    nock('https://api.telegram.org')
      .post(`/bot${TOKEN}/sendMessage`)
      .times(2)
      .reply(200, async (request: Request) => {
        sent.push((await request.json()) as { chat_id: number; text: string });
        return { ok: true, result: { message_id: 1, date: 0, chat: { id: 1, type: 'private' }, text: '' } };
      });

    expect(await deliverNotification(t.db, channels(), id, now)).toBe('sent');
    expect(sent.map((m) => m.chat_id).sort()).toEqual([4242, 4343]);
    expect(sent[0]!.text).toBe(
      'We could not charge $15.00 for +1 212 555 0100 (card declined). We will try again on 2026-03-02; update your card or pay now to keep the number.',
    );
    // Delivered once: a second run of the job sends nothing (nock would refuse a third request).
    expect(await deliverNotification(t.db, channels(), id, now)).toBe('already_done');
    const row = await t.db
      .selectFrom('notifications')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('a Telegram outage fails the job (so the queue retries) and keeps the notice pending', async () => {
    const h = await buildHierarchy(t.db);
    await buildUser(t.db, h.acme, { telegram_user_id: '4242' });
    const id = (await recordNotification(t.db, {
      accountId: h.acme.id,
      kind: 'renewal_receipt',
      key: 'test-receipt-1',
      data: { number: '+12125550100', amount: 500, currency: 'USD', periodEnd: '2026-04-01T00:00:00Z' },
    }))!;
    nock('https://api.telegram.org')
      .post(`/bot${TOKEN}/sendMessage`)
      .reply(502, { ok: false, error_code: 502, description: 'Bad Gateway' });
    await expect(deliverNotification(t.db, channels(), id, now)).rejects.toThrow(/not delivered/);
    const row = await t.db
      .selectFrom('notifications')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    expect(row.last_error).toContain('telegram');
  });

  it('tells staff on Slack about a suspension; an account with no channel gets it on the storefront only', async () => {
    const h = await buildHierarchy(t.db);
    const suspended = (await recordNotification(t.db, {
      accountId: h.bakery.id,
      kind: 'number_suspended',
      key: 'test-suspended-1',
      data: { number: '+12125550100', amount: 1500, currency: 'USD', releaseOn: '2026-03-15T00:00:00Z' },
    }))!;
    let posted: Record<string, unknown> | undefined;
    nock('https://slack.test')
      .post('/api/chat.postMessage')
      .reply(200, async (request: Request) => {
        const body = await request.text();
        posted = body.startsWith('{')
          ? (JSON.parse(body) as Record<string, unknown>)
          : Object.fromEntries(new URLSearchParams(body));
        return { ok: true, channel: 'C0AUDIT01', ts: '1.2' };
      });
    expect(await deliverNotification(t.db, channels(), suspended, now)).toBe('sent');
    expect(posted).toMatchObject({ channel: 'C0AUDIT01' });
    expect(String(posted!.text)).toMatch(/^\[bakery\] \+1 212 555 0100 is suspended/);

    const receipt = (await recordNotification(t.db, {
      accountId: h.bakery.id,
      kind: 'renewal_receipt',
      key: 'test-receipt-2',
      data: { number: '+12125550100', amount: 500, currency: 'USD' },
    }))!;
    expect(await deliverNotification(t.db, channels(), receipt, now)).toBe('skipped');
    // The same key never makes a second notice.
    expect(
      await recordNotification(t.db, {
        accountId: h.bakery.id,
        kind: 'renewal_receipt',
        key: 'test-receipt-2',
        data: {},
      }),
    ).toBeNull();
  });
});
