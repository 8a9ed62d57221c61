import { describe, expect, it } from 'vitest';
import {
  actorForChatUser,
  linkStaff,
  listStaff,
  normalizeChatUserId,
  unlinkStaff,
} from '../../../core/accounts/staff-identity.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { actorOf, buildAccount, buildOperator, ctxFor } from '../../helpers/factories.ts';
import { errorOf } from '../../helpers/errors.ts';

const t = useTestDatabase();

const users = () => t.db.selectFrom('users').selectAll().orderBy('id').execute();

describe('chat users as staff', () => {
  it('refuses an unknown chat user (null) and creates nothing', async () => {
    await buildOperator(t.db);
    expect(await actorForChatUser(t.db, { channel: 'slack', externalId: 'U999' }, [])).toBeNull();
    expect(await users()).toEqual([]);
  });

  it('links a bootstrap admin on first contact, once, even when two first messages race', async () => {
    const operator = await buildOperator(t.db);
    const who = { channel: 'slack' as const, externalId: 'U0ADMIN', displayName: 'alice' };
    const [a, b] = await Promise.all([
      actorForChatUser(t.db, who, ['U0ADMIN']),
      actorForChatUser(t.db, who, ['U0ADMIN']),
    ]);
    expect(a).toMatchObject({
      accountId: operator.id,
      role: 'admin',
      channel: 'slack',
      label: 'slack:U0ADMIN',
    });
    expect(b?.userId).toBe(a?.userId);
    expect(await users()).toHaveLength(1);
    const audit = await t.db.selectFrom('audit_events').selectAll().execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'staff.link', channel: 'system', subject: 'slack:U0ADMIN' });
  });

  it('an admin links, re-roles and unlinks staff of its own account; each change audited', async () => {
    const operator = await buildOperator(t.db);
    const admin = await actorForChatUser(t.db, { channel: 'telegram', externalId: '1001' }, ['1001']);
    const ctx = ctxFor(t.db, admin!);
    const linked = await linkStaff(ctx, { channel: 'slack', user: '<@U0BOB|bob>', role: 'viewer' });
    expect(linked).toMatchObject({
      changed: true,
      user: { slack_user_id: 'U0BOB', role: 'viewer', account_id: operator.id },
    });
    expect((await linkStaff(ctx, { channel: 'slack', user: 'U0BOB', role: 'viewer' })).changed).toBe(false);
    expect((await linkStaff(ctx, { channel: 'slack', user: '@u0bob', role: 'operator' })).user.role).toBe(
      'operator',
    );

    const bob = await actorForChatUser(t.db, { channel: 'slack', externalId: 'U0BOB' }, []);
    expect(bob).toMatchObject({ role: 'operator', label: 'slack:U0BOB' });

    await unlinkStaff(ctx, { channel: 'slack', user: 'U0BOB' });
    const refused = await errorOf(actorForChatUser(t.db, { channel: 'slack', externalId: 'U0BOB' }, []));
    expect(refused.code).toBe('forbidden');
    const actions = (await t.db.selectFrom('audit_events').select('action').orderBy('id').execute()).map(
      (a) => a.action,
    );
    expect(actions).toEqual(['staff.link', 'staff.link', 'staff.link', 'staff.unlink']);
    expect((await listStaff(ctx)).map((m) => [m.role, m.status])).toEqual([
      ['admin', 'active'],
      ['operator', 'disabled'],
    ]);
  });

  it('refuses bad ids and roles, non-admins, self-unlink, and taking over another account’s staff', async () => {
    const operator = await buildOperator(t.db);
    const reseller = await buildAccount(t.db, operator, { kind: 'reseller', slug: 'voipco' });
    const opAdmin = ctxFor(t.db, actorOf(operator, 'admin', 'slack', null));
    await linkStaff(opAdmin, { channel: 'slack', user: 'U0STAFF', role: 'operator' });
    const before = await users();

    expect(
      (await errorOf(linkStaff(opAdmin, { channel: 'slack', user: 'alice', role: 'viewer' }))).message,
    ).toContain('not a Slack user id');
    expect(
      (await errorOf(linkStaff(opAdmin, { channel: 'telegram', user: '12ab', role: 'viewer' }))).code,
    ).toBe('invalid');
    expect(
      (await errorOf(linkStaff(opAdmin, { channel: 'slack', user: 'U0NEW', role: 'owner' }))).message,
    ).toContain('not a staff role');
    const operatorRole = ctxFor(t.db, actorOf(operator, 'operator', 'slack'));
    expect(
      (await errorOf(linkStaff(operatorRole, { channel: 'slack', user: 'U0NEW', role: 'viewer' }))).code,
    ).toBe('forbidden');
    const resellerAdmin = ctxFor(t.db, actorOf(reseller, 'admin', 'slack'));
    const takeover = await errorOf(
      linkStaff(resellerAdmin, { channel: 'slack', user: 'U0STAFF', role: 'admin' }),
    );
    expect(takeover.code).toBe('conflict');
    expect(takeover.message).toContain('already staff of another account');
    expect((await errorOf(unlinkStaff(resellerAdmin, { channel: 'slack', user: 'U0STAFF' }))).code).toBe(
      'not_found',
    );
    expect(await users()).toEqual(before);

    const self = await actorForChatUser(t.db, { channel: 'slack', externalId: 'U0STAFF' }, []);
    await t.db.updateTable('users').set({ role: 'admin' }).where('slack_user_id', '=', 'U0STAFF').execute();
    const selfCtx = ctxFor(t.db, { ...self!, role: 'admin' });
    expect((await errorOf(unlinkStaff(selfCtx, { channel: 'slack', user: 'U0STAFF' }))).message).toContain(
      'cannot unlink yourself',
    );
  });

  it('normalizes Slack mentions and ids', () => {
    expect(normalizeChatUserId('slack', '<@U024BE7LH|alice>')).toBe('U024BE7LH');
    expect(normalizeChatUserId('slack', '@w012abc')).toBe('W012ABC');
    expect(normalizeChatUserId('telegram', ' 123456789 ')).toBe('123456789');
  });
});
