import { describe, expect, it } from 'vitest';
import {
  createAccount,
  findAccount,
  listAccounts,
  setAccountStatus,
} from '../../../core/accounts/accounts.ts';
import { actorForUser, createUser, operatorActor, verifyPassword } from '../../../core/accounts/users.ts';
import { DomainError } from '../../../core/shared/errors.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { actorOf, buildAccount, buildOperator, ctxFor } from '../../helpers/factories.ts';
import { errorOf } from '../../helpers/errors.ts';

const t = useTestDatabase();

async function world() {
  const operator = await buildOperator(t.db);
  const owner = ctxFor(t.db, actorOf(operator, 'owner'));
  const admin = ctxFor(t.db, actorOf(operator, 'admin'));
  return { operator, owner, admin };
}

/** operator ─ acme, globaltel ─ initech, voipco ─ bakery, voipco-east ─ dental */
async function tree() {
  const w = await world();
  const reseller = await buildAccount(t.db, w.operator, { kind: 'reseller', slug: 'voipco' });
  const subReseller = await buildAccount(t.db, reseller, { kind: 'reseller', slug: 'voipco-east' });
  const acme = await buildAccount(t.db, w.operator, { slug: 'acme' });
  const bakery = await buildAccount(t.db, reseller, { slug: 'bakery' });
  const dental = await buildAccount(t.db, subReseller, { slug: 'dental' });
  const otherReseller = await buildAccount(t.db, w.operator, { kind: 'reseller', slug: 'globaltel' });
  const initech = await buildAccount(t.db, otherReseller, { slug: 'initech' });
  return { ...w, reseller, subReseller, acme, bakery, dental, otherReseller, initech };
}

async function count(table: 'accounts' | 'users' | 'audit_events'): Promise<number> {
  const row = await t.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('createAccount', () => {
  it('builds the materialized path down nested resellers and audits each creation', async () => {
    const w = await world();
    const voipco = await createAccount(w.admin, { kind: 'reseller', slug: 'voipco', name: 'VoIP Co' });
    const east = await createAccount(w.admin, {
      kind: 'reseller',
      slug: 'voipco-east',
      name: 'VoIP Co East',
      parent: 'voipco',
    });
    const dental = await createAccount(w.admin, {
      kind: 'customer',
      slug: 'Dental',
      name: '  Smile Dental  ',
      parent: east.id,
      billingMode: 'postpaid',
      creditLimit: '500.00',
      currency: 'eur',
      email: ' billing@dental.example ',
    });
    expect(voipco).toMatchObject({ parent_id: w.operator.id, path: '/1/2/' });
    expect(east).toMatchObject({ parent_id: voipco.id, path: '/1/2/3/' });
    expect(dental).toMatchObject({
      kind: 'customer',
      slug: 'dental',
      name: 'Smile Dental',
      parent_id: east.id,
      path: '/1/2/3/4/',
      billing_mode: 'postpaid',
      credit_limit: 50_000,
      currency: 'EUR',
      email: 'billing@dental.example',
      status: 'active',
    });
    const audit = await t.db.selectFrom('audit_events').selectAll().orderBy('id').execute();
    expect(audit.map((a) => [a.action, a.subject, a.account_id])).toEqual([
      ['account.create', 'voipco', voipco.id],
      ['account.create', 'voipco-east', east.id],
      ['account.create', 'dental', dental.id],
    ]);
    expect(audit[2]!.after).toMatchObject({
      kind: 'customer',
      parent_id: east.id,
      credit_limit: 50_000,
      currency: 'EUR',
    });
  });

  it('a customer cannot have accounts under it', async () => {
    const w = await tree();
    const before = await count('accounts');
    const error = await errorOf(
      createAccount(w.admin, { kind: 'customer', slug: 'sub-acme', name: 'Sub', parent: 'acme' }),
    );
    expect(error.code).toBe('invalid');
    expect(error.field).toBe('parent');
    expect(error.message).toContain('acme is a customer');
    expect(await count('accounts')).toBe(before);
    expect(await count('audit_events')).toBe(0);
  });

  it('refuses bad slugs, names, currencies and credit limits; accepts and lowercases upper case', async () => {
    const w = await world();
    for (const slug of ['bad slug', '-acme', 'acme_corp', '', 'a'.repeat(64), 'café']) {
      const error = await errorOf(createAccount(w.admin, { kind: 'customer', slug, name: 'X' }));
      expect(error.code).toBe('invalid');
      expect(error.field).toBe('slug');
    }
    expect((await errorOf(createAccount(w.admin, { kind: 'customer', slug: 'ok', name: '   ' }))).field).toBe(
      'name',
    );
    expect(
      (
        await errorOf(
          createAccount(w.admin, { kind: 'customer', slug: 'ok', name: 'X', currency: 'DOLLARS' }),
        )
      ).field,
    ).toBe('currency');
    expect(
      (await errorOf(createAccount(w.admin, { kind: 'customer', slug: 'ok', name: 'X', creditLimit: '-5' })))
        .code,
    ).toBe('invalid');
    expect(await count('accounts')).toBe(1);
    expect(await count('audit_events')).toBe(0);
    expect((await createAccount(w.admin, { kind: 'customer', slug: 'ACME-Corp', name: 'Acme' })).slug).toBe(
      'acme-corp',
    );
  });

  it('a taken slug is a conflict, whatever its case, and nothing is created', async () => {
    const w = await tree();
    const before = await count('accounts');
    const error = await errorOf(
      createAccount(w.admin, { kind: 'customer', slug: 'ACME', name: 'Another Acme', parent: 'voipco' }),
    );
    expect(error.code).toBe('conflict');
    expect(error.message).toBe('The slug "acme" is already taken.');
    expect(error.field).toBe('slug');
    expect(await count('accounts')).toBe(before);
    expect(await count('audit_events')).toBe(0);
  });

  it('a reseller admin creates under itself by default and under its sub-resellers, never elsewhere', async () => {
    const w = await tree();
    const voipco = ctxFor(t.db, actorOf(w.reseller, 'admin'));
    const cafe = await createAccount(voipco, { kind: 'customer', slug: 'cafe', name: 'Cafe' });
    expect(cafe).toMatchObject({ parent_id: w.reseller.id, path: `${w.reseller.path}${cafe.id}/` });
    const clinic = await createAccount(voipco, {
      kind: 'customer',
      slug: 'clinic',
      name: 'Clinic',
      parent: 'voipco-east',
    });
    expect(clinic.path).toBe(`${w.subReseller.path}${clinic.id}/`);

    const before = await count('accounts');
    for (const parent of ['globaltel', 'operator', w.otherReseller.id]) {
      const error = await errorOf(
        createAccount(voipco, { kind: 'customer', slug: 'sneaky', name: 'Sneaky', parent }),
      );
      expect(error.code).toBe('not_found');
      expect(error.message).not.toContain('globaltel?');
    }
    expect(await count('accounts')).toBe(before);
  });

  it('viewers, reseller operators and customers cannot create accounts', async () => {
    const w = await tree();
    const before = await count('accounts');
    for (const actor of [
      actorOf(w.operator, 'viewer'),
      actorOf(w.operator, 'operator'),
      actorOf(w.reseller, 'operator'),
      actorOf(w.acme, 'owner'),
    ]) {
      const error = await errorOf(
        createAccount(ctxFor(t.db, actor), { kind: 'customer', slug: 'newco', name: 'NewCo' }),
      );
      expect(error.code).toBe('forbidden');
    }
    expect(await count('accounts')).toBe(before);
    expect(await count('audit_events')).toBe(0);
  });
});

describe('setAccountStatus', () => {
  it('suspends and re-activates, auditing each change; the same status again writes nothing', async () => {
    const w = await tree();
    const suspended = await setAccountStatus(w.admin, 'acme', 'suspended');
    expect(suspended.status).toBe('suspended');
    expect((await setAccountStatus(w.admin, 'acme', 'suspended')).status).toBe('suspended');
    const active = await setAccountStatus(w.admin, w.acme.id, 'active');
    expect(active.status).toBe('active');
    const audit = await t.db.selectFrom('audit_events').selectAll().orderBy('id').execute();
    expect(audit.map((a) => [a.action, a.account_id, a.before, a.after])).toEqual([
      ['account.suspend', w.acme.id, { status: 'active' }, { status: 'suspended' }],
      ['account.activate', w.acme.id, { status: 'suspended' }, { status: 'active' }],
    ]);
  });

  it('refuses the operator account and the actor’s own account, and reaches only a reseller’s subtree', async () => {
    const w = await tree();
    expect((await errorOf(setAccountStatus(w.admin, 'operator', 'suspended'))).code).toBe('invalid');
    const voipco = ctxFor(t.db, actorOf(w.reseller, 'admin'));
    expect((await errorOf(setAccountStatus(voipco, 'voipco', 'suspended'))).message).toBe(
      'You cannot change the status of your own account.',
    );
    expect((await errorOf(setAccountStatus(voipco, 'initech', 'suspended'))).code).toBe('not_found');
    expect(
      (await errorOf(setAccountStatus(ctxFor(t.db, actorOf(w.operator, 'viewer')), 'acme', 'suspended')))
        .code,
    ).toBe('forbidden');
    const statuses = await t.db.selectFrom('accounts').select('status').distinct().execute();
    expect(statuses).toEqual([{ status: 'active' }]);
    expect(await count('audit_events')).toBe(0);
    await setAccountStatus(voipco, 'dental', 'suspended');
    expect((await findAccount(w.admin, 'dental')).status).toBe('suspended');
  });
});

describe('listAccounts', () => {
  it('lists the whole tree for the operator, parents before children, siblings by slug, with depth', async () => {
    const w = await tree();
    const list = await listAccounts(ctxFor(t.db, actorOf(w.operator, 'viewer')));
    expect(list.map((a) => [a.slug, a.depth])).toEqual([
      ['operator', 0],
      ['acme', 1],
      ['globaltel', 1],
      ['initech', 2],
      ['voipco', 1],
      ['bakery', 2],
      ['voipco-east', 2],
      ['dental', 3],
    ]);
  });

  it('scopes a reseller to its own subtree, rooted at itself; a customer sees only itself', async () => {
    const w = await tree();
    const list = await listAccounts(ctxFor(t.db, actorOf(w.reseller, 'viewer')));
    expect(list.map((a) => [a.slug, a.depth])).toEqual([
      ['voipco', 0],
      ['bakery', 1],
      ['voipco-east', 1],
      ['dental', 2],
    ]);
    expect((await listAccounts(ctxFor(t.db, actorOf(w.bakery, 'owner')))).map((a) => a.slug)).toEqual([
      'bakery',
    ]);
  });
});

describe('findAccount', () => {
  it('finds by slug (any case) or id, and suggests the nearest slug on a typo', async () => {
    const w = await tree();
    expect((await findAccount(w.admin, 'acme')).id).toBe(w.acme.id);
    expect((await findAccount(w.admin, ' ACME ')).id).toBe(w.acme.id);
    expect((await findAccount(w.admin, w.bakery.id)).slug).toBe('bakery');
    expect((await findAccount(w.admin, String(w.bakery.id))).slug).toBe('bakery');
    const typo = await errorOf(findAccount(w.admin, 'bakrey'));
    expect(typo.code).toBe('not_found');
    expect(typo.message).toBe('No account "bakrey". Did you mean bakery?');
    const none = await errorOf(findAccount(w.admin, 'zzzzzz'));
    expect(none.message).toBe('No account "zzzzzz".');
    expect((await errorOf(findAccount(w.admin, ' '))).code).toBe('invalid');
  });

  it("does not find or suggest accounts outside a reseller's subtree", async () => {
    const w = await tree();
    const voipco = ctxFor(t.db, actorOf(w.reseller, 'viewer'));
    expect((await findAccount(voipco, 'dental')).id).toBe(w.dental.id);
    const outside = await errorOf(findAccount(voipco, 'initech'));
    expect(outside.code).toBe('not_found');
    const byId = await errorOf(findAccount(voipco, w.initech.id));
    expect(byId.code).toBe('not_found');
    const typo = await errorOf(findAccount(voipco, 'acmee'));
    expect(typo.message).toBe('No account "acmee".');
  });
});

describe('users', () => {
  it('creates a user with an argon2 password hash that verifies, and audits without the hash', async () => {
    const w = await tree();
    const user = await createUser(w.admin, {
      account: 'voipco',
      role: 'admin',
      email: ' Alice@Example.com ',
      name: 'Alice',
      password: 'correct horse battery',
    });
    expect(user).toMatchObject({
      account_id: w.reseller.id,
      role: 'admin',
      email: 'alice@example.com',
      name: 'Alice',
      status: 'active',
    });
    expect(user.password_hash).toMatch(/^\$argon2/);
    expect(user.password_hash).not.toContain('correct horse');
    expect(await verifyPassword(user.password_hash!, 'correct horse battery')).toBe(true);
    expect(await verifyPassword(user.password_hash!, 'correct horse battery!')).toBe(false);
    const [audit] = await t.db.selectFrom('audit_events').selectAll().execute();
    expect(audit).toMatchObject({
      action: 'user.create',
      account_id: w.reseller.id,
      subject: 'alice@example.com',
    });
    expect(audit!.after).toEqual({ email: 'alice@example.com', role: 'admin', account: 'voipco' });
  });

  it('refuses a short password, a bad email, and a user with no identity, creating nothing', async () => {
    const w = await tree();
    const short = await errorOf(
      createUser(w.admin, { account: 'acme', role: 'viewer', email: 'bob@example.com', password: 'short' }),
    );
    expect(short.code).toBe('invalid');
    expect(short.field).toBe('password');
    expect(short.message).toBe('The password must have at least 10 characters.');
    expect(
      (await errorOf(createUser(w.admin, { account: 'acme', role: 'viewer', email: 'not-an-email' }))).field,
    ).toBe('email');
    expect((await errorOf(createUser(w.admin, { account: 'acme', role: 'viewer' }))).code).toBe('invalid');
    expect(await count('users')).toBe(0);
    expect(await count('audit_events')).toBe(0);
  });

  it('a duplicate email, in any case, is a conflict', async () => {
    const w = await tree();
    await createUser(w.admin, { account: 'acme', role: 'viewer', email: 'carol@example.com' });
    const error = await errorOf(
      createUser(w.admin, { account: 'bakery', role: 'viewer', email: 'CAROL@Example.COM' }),
    );
    expect(error.code).toBe('conflict');
    expect(error.field).toBe('email');
    expect(await count('users')).toBe(1);
    expect(await count('audit_events')).toBe(1);
  });

  it('a Slack or Telegram identity already linked to another user is a conflict naming the field', async () => {
    const w = await tree();
    await createUser(w.admin, {
      account: 'acme',
      role: 'viewer',
      slackUserId: 'U024BE7LH',
      telegramUserId: '42',
    });
    const slack = await errorOf(
      createUser(w.admin, { account: 'bakery', role: 'viewer', slackUserId: 'U024BE7LH' }),
    );
    expect(slack.code).toBe('conflict');
    expect(slack.field).toBe('slackUserId');
    const telegram = await errorOf(
      createUser(w.admin, { account: 'bakery', role: 'viewer', telegramUserId: ' 42 ' }),
    );
    expect(telegram.code).toBe('conflict');
    expect(telegram.field).toBe('telegramUserId');
    expect(await count('users')).toBe(1);
    expect(await count('audit_events')).toBe(1);
  });

  it('only an owner creates an owner; admins create the other roles; viewers and resellers outside reach cannot', async () => {
    const w = await tree();
    const notOwner = await errorOf(
      createUser(w.admin, { account: 'acme', role: 'owner', email: 'dave@example.com' }),
    );
    expect(notOwner.code).toBe('forbidden');
    expect(notOwner.message).toBe('Only an owner can create another owner.');
    expect(await count('users')).toBe(0);
    expect(
      (await createUser(w.owner, { account: 'acme', role: 'owner', email: 'dave@example.com' })).role,
    ).toBe('owner');

    expect(
      (
        await errorOf(
          createUser(ctxFor(t.db, actorOf(w.operator, 'viewer')), {
            account: 'acme',
            role: 'viewer',
            email: 'e@example.com',
          }),
        )
      ).code,
    ).toBe('forbidden');
    const voipco = ctxFor(t.db, actorOf(w.reseller, 'admin'));
    expect(
      (await errorOf(createUser(voipco, { account: 'initech', role: 'viewer', email: 'f@example.com' })))
        .code,
    ).toBe('not_found');
    expect(
      (await createUser(voipco, { account: 'dental', role: 'operator', email: 'g@example.com' })).account_id,
    ).toBe(w.dental.id);
    expect(await count('users')).toBe(2);
  });

  it('actorForUser builds the actor per channel and refuses disabled users and suspended accounts', async () => {
    const w = await tree();
    const erin = await createUser(w.admin, {
      account: 'voipco',
      role: 'operator',
      email: 'erin@example.com',
      slackUserId: 'U024BE7LH',
      telegramUserId: '987654',
    });
    const slack = await actorForUser(t.db, erin.id, 'slack');
    expect(slack).toEqual({
      userId: erin.id,
      accountId: w.reseller.id,
      accountKind: 'reseller',
      accountPath: w.reseller.path,
      role: 'operator',
      channel: 'slack',
      label: 'slack:U024BE7LH',
    });
    expect((await actorForUser(t.db, erin.id, 'telegram')).label).toBe('telegram:987654');
    expect((await actorForUser(t.db, erin.id, 'web')).label).toBe('web:erin@example.com');

    const frank = await createUser(w.admin, { account: 'acme', role: 'viewer', telegramUserId: '42' });
    expect((await actorForUser(t.db, frank.id, 'slack')).label).toBe(`slack:${frank.id}`);

    await t.db.updateTable('users').set({ status: 'disabled' }).where('id', '=', frank.id).execute();
    const disabled = await errorOf(actorForUser(t.db, frank.id, 'telegram'));
    expect(disabled.code).toBe('forbidden');
    expect(disabled.message).toBe('This user is disabled.');

    await setAccountStatus(w.admin, 'voipco', 'suspended');
    const suspended = await errorOf(actorForUser(t.db, erin.id, 'slack'));
    expect(suspended.code).toBe('forbidden');
    expect(suspended.message).toBe('This account is suspended.');

    expect((await errorOf(actorForUser(t.db, 999_999, 'web'))).code).toBe('not_found');
  });

  it('operatorActor acts as the owner of the root account', async () => {
    const w = await world();
    expect(await operatorActor(t.db, 'cli', 'root')).toEqual({
      userId: null,
      accountId: w.operator.id,
      accountKind: 'admin',
      accountPath: '/1/',
      role: 'owner',
      channel: 'cli',
      label: 'cli:root',
    });
  });
});

describe('races', () => {
  it('ten concurrent creations of one slug: one wins, the others get a conflict, not a database error', async () => {
    const w = await world();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        createAccount(ctxFor(t.db, actorOf(w.operator, 'admin')), {
          kind: 'customer',
          slug: 'popular',
          name: `Popular ${i}`,
        }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')) {
      expect(o.reason).toBeInstanceOf(DomainError);
      expect((o.reason as DomainError).code).toBe('conflict');
    }
    expect(await count('audit_events')).toBe(1);
  });

  it('ten concurrent users with one email: one wins, the others get a conflict', async () => {
    const w = await tree();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        createUser(ctxFor(t.db, actorOf(w.operator, 'admin')), {
          account: 'acme',
          role: 'viewer',
          email: 'same@example.com',
        }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')) {
      expect(o.reason).toBeInstanceOf(DomainError);
      expect((o.reason as DomainError).code).toBe('conflict');
    }
  });
});
