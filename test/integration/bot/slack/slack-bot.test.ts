// The Slack front door end to end: signed requests through Bolt's real receiver, a real PostgreSQL behind
// it, and Slack's side (Web API, response_url) faked with nock. Checks what Slack receives (the ack, the
// messages, the forms), what the database holds afterwards, and that bad requests change nothing.
import express from 'express';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSlackBot } from '../../../../bot/slack/slack-bot.ts';
import { loadConfig } from '../../../../core/config.ts';
import { connect } from '../../../../core/db/connect.ts';
import type { Account } from '../../../../core/db/schema.ts';
import { createLogger, silentLogger } from '../../../../core/runtime/logger.ts';
import { systemClock } from '../../../../core/shared/clock.ts';
import { useTestDatabase } from '../../../helpers/database.ts';
import { buildAccount, buildDid, buildOperator } from '../../../helpers/factories.ts';
import {
  ADMIN,
  AUDIT_CHANNEL,
  BASE_ENV,
  CHANNEL,
  FakeSlack,
  RESPONSE_URL,
  buttonClickBody,
  postSigned,
  signatureHeaders,
  slashCommandBody,
  sleep,
  startBot,
  textOf,
  viewSubmissionBody,
  waitFor,
  type Json,
  type RunningBot,
} from './slack-harness.ts';

const NUMBER = '+18665550100';
const OTHERS = ['+18665550101', '+18665550102'];
/** An ack is an empty 200 well inside Slack's 3 seconds; generous for a loaded CI machine. */
const FAST_ACK_MS = 1_000;

const database = useTestDatabase();
let slack: FakeSlack;
let running: RunningBot | undefined;
let acme: Account;

beforeEach(async () => {
  slack = new FakeSlack();
  slack.install();
  const operator = await buildOperator(database.db);
  acme = await buildAccount(database.db, operator, { slug: 'acme', name: 'Acme Corp' });
  for (const number of [NUMBER, ...OTHERS]) {
    await buildDid(database.db, { number, area_code: '866', city: '', province: '' });
  }
});

afterEach(async () => {
  // Lets replies still in flight finish before the next test empties the tables.
  await running?.close();
  running = undefined;
  slack.uninstall();
  expect(slack.unmatched, 'requests to hosts nock does not fake').toEqual([]);
});

async function bot(env: Record<string, string> = {}): Promise<RunningBot> {
  running = await startBot(database.db, env);
  return running;
}

const did = (number = NUMBER) =>
  database.db.selectFrom('dids').selectAll().where('number', '=', number).executeTakeFirstOrThrow();

async function command(b: RunningBot, text: string, user = ADMIN) {
  const body = slashCommandBody(text, user);
  return postSigned(b.url, body);
}

/** The next response_url message after `count` earlier ones. */
const response = (index = 0) => waitFor(() => slack.responses[index]);

function buttons(message: Json): Json[] {
  const found: Json[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      if ((node as Json).type === 'button') found.push(node as Json);
      Object.values(node).forEach(walk);
    }
  };
  walk(message.blocks);
  return found;
}

describe('the /did slash command', () => {
  it('acknowledges at once with an empty 200, then answers the caller alone in Block Kit', async () => {
    const b = await bot();
    const ack = await command(b, 'assign 18665550100 acme');
    expect(ack.status).toBe(200);
    expect(ack.body).toBe('');
    expect(ack.ms).toBeLessThan(FAST_ACK_MS);

    const message = await response();
    expect(message.response_type).toBe('ephemeral');
    expect(message.replace_original).toBe(false);
    expect(textOf(message)).toContain('+1 866 555 0100 is now assigned to acme');
    expect(message.text).toContain('is now assigned to acme');

    const row = await did();
    expect(row).toMatchObject({ status: 'assigned', assigned_account_id: acme.id });
    const audit = await database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'did.assign')
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ channel: 'slack', actor_label: `slack:${ADMIN}`, did_id: row.id });

    const posted = await waitFor(() => slack.calls('chat.postMessage')[0]);
    expect(posted.args).toMatchObject({
      channel: AUDIT_CHANNEL,
      text: `<@${ADMIN}> assigned +1 866 555 0100 to acme`,
    });
  });

  it('says nothing changed the second time, and posts no audit line for it', async () => {
    const b = await bot();
    await command(b, 'assign 18665550100 acme');
    await response(0);
    await command(b, 'assign +1 (866) 555-0100 acme');
    expect(textOf(await response(1))).toContain('already assigned to acme; nothing changed');
    await b.close();
    expect(slack.calls('chat.postMessage')).toHaveLength(1);
  });

  it('politely refuses a Slack user nobody linked, and runs nothing', async () => {
    const b = await bot();
    const ack = await command(b, 'assign 18665550100 acme', 'UNOBODY1');
    expect(ack.status).toBe(200);
    const message = await response();
    expect(textOf(message)).toContain("you're not set up as staff here");
    expect(textOf(message)).toContain('/did staff link slack &lt;@UNOBODY1&gt; viewer');
    await b.close();
    expect(await did()).toMatchObject({ status: 'available', assigned_account_id: null });
    expect(await database.db.selectFrom('users').selectAll().execute()).toEqual([]);
    expect(slack.calls('chat.postMessage')).toEqual([]);
  });

  it('lets a viewer look but not assign', async () => {
    const b = await bot();
    await command(b, 'staff link slack <@UVIEWER1> viewer');
    expect(textOf(await response(0))).toContain('✓ slack user UVIEWER1 is now viewer');

    await command(b, 'info 18665550100', 'UVIEWER1');
    expect(textOf(await response(1))).toContain('+1 866 555 0100');

    await command(b, 'assign 18665550100 acme', 'UVIEWER1');
    const refused = await response(2);
    expect(textOf(refused)).toMatch(/✗ Your role \(viewer\) cannot/);
    await b.close();
    expect(await did()).toMatchObject({ status: 'available', assigned_account_id: null });
  });

  it('shows search results as a compact list with an Assign button holding number and version', async () => {
    const b = await bot();
    await command(b, 'search 1866');
    const message = await response();
    const found = buttons(message);
    expect(found).toHaveLength(3);
    const first = await did();
    expect(found[0]).toMatchObject({
      action_id: `did_assign:${NUMBER}`,
      text: { type: 'plain_text', text: 'Assign' },
      style: 'primary',
    });
    expect(JSON.parse(found[0]!.value as string)).toEqual({ n: NUMBER, v: first.version });
    expect(textOf(message)).toContain('*+1 866 555 0100*');
    expect((message.blocks as Json[]).length).toBeLessThanOrEqual(50);
  });

  it('answers a usage mistake with the usage line', async () => {
    const b = await bot();
    await command(b, 'assign 18665550100');
    const text = textOf(await response());
    expect(text).toContain('✗ Missing the account.');
    expect(text).toContain('Usage: assign &lt;number&gt; &lt;account&gt;');
  });

  it('bulk assign shows progress at once, then edits it into what it assigned and skipped', async () => {
    const b = await bot();
    const ack = await command(b, 'assign first 5 1866 acme');
    expect(ack.body).toBe('');
    const progress = await response(0);
    expect(textOf(progress)).toContain('Working on it');
    expect(progress.replace_original).toBe(false);
    const done = await response(1);
    expect(done.replace_original).toBe(true);
    expect(textOf(done)).toContain('✓ Assigned 3 of 5 to acme.');
    expect(textOf(done)).toContain('+1 866 555 0102');
    const assigned = await database.db
      .selectFrom('dids')
      .select('number')
      .where('assigned_account_id', '=', acme.id)
      .execute();
    expect(assigned).toHaveLength(3);
    const posted = await waitFor(() => slack.calls('chat.postMessage')[0]);
    expect(posted.args.text).toBe(
      `<@${ADMIN}> assigned 3 numbers to acme (+1 866 555 0100, +1 866 555 0101, +1 866 555 0102)`,
    );
  });

  it('posts the reply with the bot token when the response_url no longer takes it', async () => {
    const b = await bot();
    slack.responseUrlStatus = 404;
    await command(b, 'info 18665550100');
    const posted = await waitFor(() => slack.calls('chat.postEphemeral')[0]);
    expect(posted.args).toMatchObject({ channel: CHANNEL, user: ADMIN });
    expect(textOf(posted.args)).toContain('+1 866 555 0100');
  });

  it('tries the response_url again when Slack fails, and the assignment happens once', async () => {
    const b = await bot();
    slack.responseUrlFailures.push(500, 503);
    await command(b, 'assign 18665550100 acme');
    expect(textOf(await response())).toContain('+1 866 555 0100 is now assigned to acme');
    expect(slack.responseUrlRequests).toBe(3);
    expect(slack.calls('chat.postEphemeral')).toEqual([]);
    expect(b.logs.filter((l) => l.msg === 'Slack response_url failed; trying again')).toHaveLength(2);
    expect(await did()).toMatchObject({ status: 'assigned', assigned_account_id: acme.id });
    const audit = await database.db
      .selectFrom('audit_events')
      .select('id')
      .where('action', '=', 'did.assign')
      .execute();
    expect(audit).toHaveLength(1);
  });

  it('posts the reply with the bot token when the response_url keeps failing, the assignment made once', async () => {
    const b = await bot();
    slack.responseUrlStatus = 500;
    await command(b, 'assign 18665550100 acme');
    const posted = await waitFor(() => slack.calls('chat.postEphemeral')[0]);
    expect(textOf(posted.args)).toContain('+1 866 555 0100 is now assigned to acme');
    expect(slack.responseUrlRequests).toBe(3);
    expect(b.logs.some((l) => l.msg === 'Slack response_url refused the reply; posting it instead')).toBe(
      true,
    );
    expect(await did()).toMatchObject({ status: 'assigned', assigned_account_id: acme.id });
    const audit = await database.db
      .selectFrom('audit_events')
      .select('id')
      .where('action', '=', 'did.assign')
      .execute();
    expect(audit).toHaveLength(1);
  });

  it('does not ask an expired response_url twice', async () => {
    const b = await bot();
    slack.responseUrlStatus = 404;
    await command(b, 'info 18665550100');
    await waitFor(() => slack.calls('chat.postEphemeral')[0]);
    expect(slack.responseUrlRequests).toBe(1);
  });

  it('apologises, without details, when something breaks on our side', async () => {
    // Nothing listens on port 1: every query fails with a connection error, not a domain error.
    const broken = connect('postgres://didops@127.0.0.1:1/nowhere', { max: 1 });
    const config = loadConfig({ ...BASE_ENV });
    const logs: string[] = [];
    const log = createLogger({ level: 'error', write: (line) => logs.push(line) });
    const slackBot = createSlackBot({
      db: broken,
      clock: systemClock,
      settings: { didAgingDays: 30 },
      config,
      log,
    });
    const app = express();
    app.use(slackBot.router!);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as { port: number };
      const ack = await postSigned(
        `http://127.0.0.1:${port}/slack/events`,
        slashCommandBody('info 18665550100'),
      );
      expect(ack.status).toBe(200);
      const message = await response();
      expect(textOf(message)).toBe(
        'Something went wrong on our side; nothing you can fix. It has been logged.',
      );
      expect(logs.join('\n')).toContain('A Slack command failed');
    } finally {
      await slackBot.stop();
      server.close();
      await broken.destroy();
    }
  });
});

describe('requests that are not genuinely from Slack', () => {
  it('refuses a forged signature with 401, and nothing runs', async () => {
    const b = await bot();
    const body = slashCommandBody('assign 18665550100 acme');
    const forged = await postSigned(b.url, body, signatureHeaders(body, { secret: 'not-the-secret' }));
    expect(forged.status).toBe(401);
    const missing = await postSigned(b.url, body, {});
    expect(missing.status).toBe(401);
    await sleep(200);
    await b.close();
    expect(slack.responses).toEqual([]);
    expect(slack.api.filter((c) => c.method !== 'auth.test')).toEqual([]);
    expect(await did()).toMatchObject({ status: 'available', assigned_account_id: null });
    expect(await database.db.selectFrom('audit_events').selectAll().execute()).toEqual([]);
    expect(b.logs.some((l) => String(l.msg).includes('Request verification failed'))).toBe(true);
  });

  it('refuses a correctly signed request replayed more than five minutes later', async () => {
    const b = await bot();
    const body = slashCommandBody('assign 18665550100 acme');
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;
    const replayed = await postSigned(b.url, body, signatureHeaders(body, { timestamp: sixMinutesAgo }));
    expect(replayed.status).toBe(401);
    await sleep(200);
    await b.close();
    expect(slack.responses).toEqual([]);
    expect(await did()).toMatchObject({ status: 'available' });
  });

  it('refuses a body changed after signing', async () => {
    const b = await bot();
    const body = slashCommandBody('info 18665550100');
    const tampered = await postSigned(
      b.url,
      slashCommandBody('assign 18665550100 acme'),
      signatureHeaders(body),
    );
    expect(tampered.status).toBe(401);
    await b.close();
    expect(await did()).toMatchObject({ status: 'available' });
  });
});

describe('buttons and forms', () => {
  async function openAssignForm(b: RunningBot) {
    const current = await did();
    const click = await postSigned(
      b.url,
      buttonClickBody(`did_assign:${NUMBER}`, JSON.stringify({ n: NUMBER, v: current.version })),
    );
    expect(click.status).toBe(200);
    expect(click.body).toBe('');
    const opened = await waitFor(() => slack.calls('views.open')[0]);
    return opened.args;
  }

  it('Assign opens a form with the trigger_id, and submitting an account assigns', async () => {
    const b = await bot();
    const args = await openAssignForm(b);
    expect(args.trigger_id).toBe('2468.13579.trigger');
    const view = args.view as Json;
    expect(view).toMatchObject({ type: 'modal', callback_id: 'did_assign_modal' });
    const current = await did();
    expect(JSON.parse(view.private_metadata as string)).toEqual({
      n: NUMBER,
      v: current.version,
      channel_id: CHANNEL,
      response_url: RESPONSE_URL,
    });

    const submit = await postSigned(
      b.url,
      viewSubmissionBody(view, { account_block: { account: { type: 'plain_text_input', value: 'acme' } } }),
    );
    expect(submit.status).toBe(200);
    expect(submit.body).toBe('');
    const message = await response();
    expect(message.response_type).toBe('ephemeral');
    expect(textOf(message)).toContain('+1 866 555 0100 is now assigned to acme');
    expect(await did()).toMatchObject({ status: 'assigned', assigned_account_id: acme.id });
    const posted = await waitFor(() => slack.calls('chat.postMessage')[0]);
    expect(posted.args.text).toBe(`<@${ADMIN}> assigned +1 866 555 0100 to acme`);
  });

  it('keeps the form open with the error under the field for an unknown account', async () => {
    const b = await bot();
    const view = (await openAssignForm(b)).view as Json;
    const submit = await postSigned(
      b.url,
      viewSubmissionBody(view, { account_block: { account: { type: 'plain_text_input', value: 'acmee' } } }),
    );
    expect(submit.status).toBe(200);
    const answer = JSON.parse(submit.body) as Json;
    expect(answer.response_action).toBe('errors');
    expect((answer.errors as Json).account_block).toMatch(/^No account "acmee"\. Did you mean acme\?/);
    await b.close();
    expect(slack.responses).toEqual([]);
    expect(await did()).toMatchObject({ status: 'available' });
  });

  it('Release (after Slack confirmed it) releases and tells the audit channel', async () => {
    const b = await bot();
    await command(b, 'assign 18665550100 acme');
    await response(0);
    await command(b, 'info 18665550100');
    const info = await response(1);
    const release = buttons(info).find((x) => String(x.action_id).startsWith('did_release'));
    expect(release).toMatchObject({ style: 'danger', confirm: { confirm: { text: 'Release' } } });
    expect(buttons(info).map((x) => x.action_id)).toContain(`did_transfer:${NUMBER}`);

    const click = await postSigned(
      b.url,
      buttonClickBody(String(release!.action_id), String(release!.value)),
    );
    expect(click.status).toBe(200);
    expect(click.body).toBe('');
    const answer = await response(2);
    expect(answer.replace_original).toBe(true);
    expect(textOf(answer)).toContain('✓ +1 866 555 0100 is released.');
    expect(await did()).toMatchObject({ status: 'aging', assigned_account_id: null });
    await waitFor(() => slack.calls('chat.postMessage').length >= 2);
    expect(slack.calls('chat.postMessage').map((c) => c.args.text)).toEqual([
      `<@${ADMIN}> assigned +1 866 555 0100 to acme`,
      `<@${ADMIN}> released +1 866 555 0100`,
    ]);
  });

  it('refuses a stale Release button: says the number changed, releases nothing', async () => {
    const b = await bot();
    await command(b, 'assign 18665550100 acme');
    await response(0);
    const drawn = await did();
    // Someone changes the number after the button was drawn.
    await database.db
      .updateTable('dids')
      .set({ description: 'Main line' })
      .where('id', '=', drawn.id)
      .execute();

    await postSigned(
      b.url,
      buttonClickBody(`did_release:${NUMBER}`, JSON.stringify({ n: NUMBER, v: drawn.version })),
    );
    const answer = await response(1);
    expect(answer.replace_original).toBe(true);
    expect(textOf(answer)).toContain('changed since it was shown');
    await b.close();
    expect(await did()).toMatchObject({ status: 'assigned', assigned_account_id: acme.id });
    expect(slack.calls('chat.postMessage')).toHaveLength(1);
  });

  it('posts no audit line when no audit channel is configured', async () => {
    const b = await bot({ SLACK_AUDIT_CHANNEL: '' });
    await command(b, 'assign 18665550100 acme');
    await response();
    await b.close();
    expect(slack.calls('chat.postMessage')).toEqual([]);
  });

  it('answers a button that is not ours without doing anything', async () => {
    const b = await bot();
    await postSigned(b.url, buttonClickBody(`did_release:${NUMBER}`, 'garbage'));
    expect(textOf(await response())).toContain('Run the command again');
  });

  async function openTransferForm(b: RunningBot, version?: number) {
    await command(b, 'assign 18665550100 acme');
    await response(0);
    const current = await did();
    await postSigned(
      b.url,
      buttonClickBody(`did_transfer:${NUMBER}`, JSON.stringify({ n: NUMBER, v: version ?? current.version })),
    );
    return (await waitFor(() => slack.calls('views.open')[0])).args.view as Json;
  }

  const transferValues = (fields: { condition?: string; destination?: string; enabled?: 'on' | 'off' }) => ({
    switch_block: {
      switch: { type: 'radio_buttons', selected_option: { value: fields.enabled ?? 'keep' } },
    },
    condition_block: {
      condition: {
        type: 'static_select',
        selected_option: fields.condition ? { value: fields.condition } : null,
      },
    },
    destination_block: { destination: { type: 'plain_text_input', value: fields.destination ?? null } },
    ring_block: { seconds: { type: 'number_input', value: null } },
  });

  it('Transfer opens a form with the condition, destination and switch, and checks it is filled in', async () => {
    const b = await bot();
    const view = await openTransferForm(b);
    expect(view.callback_id).toBe('did_transfer_modal');
    const select = (view.blocks as Json[]).find((x) => x.block_id === 'condition_block')!.element as Json;
    expect((select.options as Json[]).map((o) => (o.text as Json).text)).toEqual([
      'Busy',
      'No answer',
      'Unreachable',
      'Always',
    ]);

    const halfFilled = await postSigned(
      b.url,
      viewSubmissionBody(view, transferValues({ condition: 'busy' })),
    );
    expect(JSON.parse(halfFilled.body)).toMatchObject({
      response_action: 'errors',
      errors: { destination_block: expect.stringContaining('Give where calls go') as unknown },
    });
    const empty = await postSigned(b.url, viewSubmissionBody(view, transferValues({})));
    expect(JSON.parse(empty.body)).toMatchObject({
      response_action: 'errors',
      errors: { switch_block: 'Choose something to change.' },
    });
  });

  it('Transfer form: sets the destination, then turns transfer on, and tells the audit channel', async () => {
    const b = await bot();
    const view = await openTransferForm(b);
    const submit = await postSigned(
      b.url,
      viewSubmissionBody(
        view,
        transferValues({ condition: 'busy', destination: '+1 212 555 0142', enabled: 'on' }),
      ),
    );
    expect(submit.status).toBe(200);
    expect(submit.body).toBe('');
    const answer = textOf(await response(1));
    expect(answer).toContain('✓ Busy: calls to +1 866 555 0100 now go to +1 212 555 0142.');
    expect(answer).toContain('✓ Call transfer is now on for +1 866 555 0100.');
    const row = await did();
    const settings = await database.db
      .selectFrom('call_transfers')
      .selectAll()
      .where('did_id', '=', row.id)
      .executeTakeFirstOrThrow();
    expect(settings).toMatchObject({ enabled: true, busy_destination: '+12125550142' });
    await waitFor(() => slack.calls('chat.postMessage').length >= 2);
    expect(slack.calls('chat.postMessage')[1]!.args.text).toBe(
      `<@${ADMIN}> set busy transfer of +1 866 555 0100 to +1 212 555 0142; turned call transfer on for +1 866 555 0100`,
    );
  });

  it('Transfer form: shows the refusal of a destination under its field, changes nothing', async () => {
    const b = await bot();
    const view = await openTransferForm(b);
    const submit = await postSigned(
      b.url,
      viewSubmissionBody(view, transferValues({ condition: 'always', destination: 'call my mum' })),
    );
    const answer = JSON.parse(submit.body) as Json;
    expect(answer.response_action).toBe('errors');
    expect(Object.keys(answer.errors as Json)).toEqual(['destination_block']);
    await b.close();
    const row = await did();
    expect(
      await database.db.selectFrom('call_transfers').selectAll().where('did_id', '=', row.id).execute(),
    ).toEqual([]);
  });

  it('Transfer form from a stale button: closes, says the number changed, changes nothing', async () => {
    const b = await bot();
    const view = await openTransferForm(b, 1);
    const submit = await postSigned(b.url, viewSubmissionBody(view, transferValues({ enabled: 'off' })));
    expect(submit.body).toBe('');
    expect(textOf(await response(1))).toContain('changed since it was shown');
    await b.close();
    expect(await database.db.selectFrom('call_transfers').selectAll().execute()).toEqual([]);
    expect(slack.calls('chat.postMessage')).toHaveLength(1);
  });
});

describe('a slow database', () => {
  it('does not delay the ack: the answer follows once the database answers', async () => {
    const b = await bot();
    // Warm up (bootstrap admin, auth.test) so the measured request is a plain one.
    await command(b, 'info 18665550101');
    await response(0);

    const locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM dids WHERE number = $1 FOR UPDATE', [NUMBER]);

      const ack = await command(b, 'assign 18665550100 acme');
      expect(ack.status).toBe(200);
      expect(ack.body).toBe('');
      expect(ack.ms).toBeLessThan(FAST_ACK_MS);
      await sleep(400);
      expect(slack.responses).toHaveLength(1);
      expect(await did()).toMatchObject({ status: 'available' });

      await locker.query('COMMIT');
      const answer = await response(1);
      expect(textOf(answer)).toContain('is now assigned to acme');
    } finally {
      await locker.end();
    }
  });
});

describe('a slow database behind a form', () => {
  it("closes the form within Slack's 3 seconds and answers once the database does", async () => {
    const b = await bot();
    const current = await did();
    await postSigned(
      b.url,
      buttonClickBody(`did_assign:${NUMBER}`, JSON.stringify({ n: NUMBER, v: current.version })),
    );
    const view = (await waitFor(() => slack.calls('views.open')[0])).args.view as Json;

    const locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM dids WHERE number = $1 FOR UPDATE', [NUMBER]);
      const submit = await postSigned(
        b.url,
        viewSubmissionBody(view, { account_block: { account: { type: 'plain_text_input', value: 'acme' } } }),
      );
      expect(submit.status).toBe(200);
      expect(submit.body).toBe('');
      expect(submit.ms).toBeGreaterThan(1_500);
      expect(submit.ms).toBeLessThan(2_900);
      expect(slack.responses).toEqual([]);
      await locker.query('COMMIT');
      expect(textOf(await response())).toContain('is now assigned to acme');
    } finally {
      await locker.end();
    }
  });
});

describe('Socket Mode', () => {
  it('with SLACK_APP_TOKEN, serves no HTTP route (it connects out on start, not done here)', async () => {
    const config = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_APP_TOKEN: 'xapp-test-token',
      SLACK_API_URL: 'https://slack.test/api/',
    });
    const socketBot = createSlackBot({
      db: database.db,
      clock: systemClock,
      settings: { didAgingDays: 30 },
      config,
      log: silentLogger,
    });
    expect(socketBot.router).toBeUndefined();
    await socketBot.stop();
    expect(slack.api).toEqual([]);
  });
});
