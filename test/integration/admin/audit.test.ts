import { describe, expect, it } from 'vitest';
import { actorForUser, operatorActor } from '../../../core/accounts/users.ts';
import { assignDid, releaseDid } from '../../../core/inventory/assignment.ts';
import { setDescription } from '../../../core/inventory/edit-did.ts';
import { ManualClock } from '../../../core/shared/clock.ts';
import { useTestDatabase } from '../../helpers/database.ts';
import { buildDid, ctxFor } from '../../helpers/factories.ts';
import { adminWorld, serveAdmin, signIn, staffEmail, textOf } from './harness.ts';

const t = useTestDatabase();

async function history() {
  const w = await adminWorld(t.db);
  const did = await buildDid(t.db, { number: '+12125550142' });
  await buildDid(t.db, { number: '+12125550143' });
  const web = ctxFor(t.db, await actorForUser(t.db, w.staff.operator.id, 'web'));
  const cli = ctxFor(t.db, await operatorActor(t.db, 'cli', 'root'));
  await assignDid(web, { number: did.number, account: 'acme' });
  await setDescription(cli, '+12125550143', 'Main line');
  await releaseDid(cli, { number: did.number });
  return { w, did };
}

describe('the audit log', () => {
  it("shows a number's trail, newest first, each event with before and after", async () => {
    await history();
    const { base } = await serveAdmin(t.db);
    const viewer = await signIn(base, staffEmail('viewer'));
    // The inventory links each number to its trail.
    const inventory = await viewer.get('/admin/inventory?pattern=12125550142');
    expect(inventory.html.replace(/&#x3D;/g, '=')).toContain('href="/admin/audit?number=%2B12125550142"');
    const page = await viewer.get('/admin/audit?number=%2B12125550142');
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toContain('Audit trail of +12125550142');
    expect(text).toMatch(
      /did\.release \+12125550142 [^·]+ · cli · cli:root Field Before After .*status assigned aging .*customer acme/,
    );
    expect(text).toMatch(
      /did\.assign \+12125550142 [^·]+ · web · web:operator@operator\.example Field Before After .*status available assigned .*customer — acme/,
    );
    expect(text.indexOf('did.release +1')).toBeLessThan(text.indexOf('did.assign +1'));
    expect(text).not.toContain('Main line');
  });

  it('filters by account, user, channel, action and time, and pages', async () => {
    await history();
    const { base } = await serveAdmin(t.db);
    const viewer = await signIn(base, staffEmail('viewer'));
    const actions = async (query: string) => {
      const page = await viewer.get(`/admin/audit?${query}`);
      expect(page.status, query).toBe(200);
      return [...page.html.matchAll(/<strong>([a-z_.]+)<\/strong>/g)].map((m) => m[1]);
    };
    expect(await actions('account=acme')).toEqual(['did.release', 'did.assign']);
    expect(await actions('user=operator%40operator.example')).toEqual(['did.assign']);
    expect(await actions('user=cli%3Aroot')).toEqual(['did.release', 'did.describe']);
    expect(await actions('channel=web')).toEqual(['did.assign']);
    expect(await actions('action=did.describe')).toEqual(['did.describe']);
    expect(await actions('action=did.')).toEqual(['did.release', 'did.describe', 'did.assign']);
    expect(await actions('from=2000-01-01&to=2000-12-31')).toEqual([]);
    const today = new ManualClock(new Date()).now().toISOString().slice(0, 10);
    expect(await actions(`from=${today}&to=${today}`)).toHaveLength(3);
    const bad = await viewer.get('/admin/audit?channel=fax');
    expect(bad.status).toBe(400);
    expect(textOf(bad.html)).toContain('"fax" is not a channel.');
    const badDate = await viewer.get('/admin/audit?from=yesterday');
    expect(badDate.status).toBe(400);
  });

  it('pages through a long trail by id', async () => {
    const w = await adminWorld(t.db);
    await buildDid(t.db, { number: '+12125550142' });
    const cli = ctxFor(t.db, await operatorActor(t.db, 'cli', 'root'));
    for (let i = 0; i < 55; i++) await setDescription(cli, '+12125550142', `note ${i}`);
    void w;
    const { base } = await serveAdmin(t.db);
    const viewer = await signIn(base, staffEmail('viewer'));
    const first = await viewer.get('/admin/audit?number=%2B12125550142');
    expect(first.html.match(/class="card admin-event"/g)).toHaveLength(50);
    const next = /href="([^"]+)" rel="next"/.exec(
      first.html.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&'),
    )![1]!;
    const second = await viewer.get(next);
    expect(second.html.match(/class="card admin-event"/g)).toHaveLength(5);
    expect(textOf(second.html)).toContain('note 0');
  });
});
