// Runs a parsed command through one core use case and says what happened, as a channel-neutral reply.
// No rules live here: core decides, this only words the outcome.
import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { createAccount, findAccount, listAccounts, setAccountStatus } from '../../core/accounts/accounts.ts';
import { amountOwed } from '../../core/billing/ledger.ts';
import { listOwnedNumbers, recordManualPayment } from '../../core/billing/subscriptions.ts';
import { createUser } from '../../core/accounts/users.ts';
import { linkStaff, listStaff, unlinkStaff } from '../../core/accounts/staff-identity.ts';
import {
  createGroup,
  createPricingBatch,
  createProvider,
  createVendorBatch,
  listCatalog,
} from '../../core/catalog/catalog.ts';
import type { Ctx } from '../../core/context.ts';
import type { BillingMode, DidStatus } from '../../core/db/schema.ts';
import { describeRating, rateCall, ratingTermsOf } from '../../core/billing/rating.ts';
import { periodLabel, recurringLabel } from '../../core/billing/periods.ts';
import { assignDid, assignMany, releaseDid, type AssignResult } from '../../core/inventory/assignment.ts';
import {
  createDid,
  endAging,
  getDidInfo,
  setDescription,
  setDestination,
  setEnabled,
  setPricingBatch,
} from '../../core/inventory/edit-did.ts';
import { exportDidsCsv } from '../../core/inventory/export-csv.ts';
import { importDidsCsv } from '../../core/inventory/import-csv.ts';
import { searchDids, type DidView } from '../../core/inventory/search-dids.ts';
import { formatNumber } from '../../core/numbers/phone-number.ts';
import { formatMoney } from '../../core/shared/money.ts';
import { COMMANDS, type Command } from './grammar.ts';
import { findSpec } from './parse.ts';
import { reply, withEffect, type Action, type Block, type Reply } from './reply.ts';
import { executeTransfer } from './transfer-reply.ts';
import { executeTelegramLink } from './telegram-link-reply.ts';
import { executeToken } from './token-reply.ts';
import { setAccountCallTransfer } from '../../core/transfer/call-transfer.ts';

/** What only the CLI can offer: files, standard output and a progress line. */
export interface ConsoleIo {
  openInput(file: string): Readable;
  openOutput(file: string | undefined): Writable;
  progress(text: string): void;
}

export interface ExecuteOptions {
  readonly channel: 'cli' | 'chat';
  readonly io?: ConsoleIo;
  /** Creates the operator account on an empty database (`init`); supplied by the CLI. */
  readonly init?: (slug: string, name: string) => Promise<string>;
}

export async function executeCommand(ctx: Ctx, command: Command, options: ExecuteOptions): Promise<Reply> {
  switch (command.name) {
    case 'help':
      return help(command.topic, options.channel);
    case 'search': {
      const page = await searchDids(ctx, command.filter, {
        limit: command.limit,
        after: command.after,
        sort: command.sort,
      });
      if (page.items.length === 0) {
        return reply(
          { type: 'text', text: 'No numbers match.' },
          { type: 'hint', text: 'Widen the pattern, or drop a filter. `help search` explains patterns.' },
        );
      }
      const blocks: Block[] = [
        {
          type: 'heading',
          text: `${page.items.length} number${page.items.length === 1 ? '' : 's'}${page.nextCursor ? ' (more available)' : ''}`,
        },
        {
          type: 'table',
          columns: ['Number', 'Status', 'Location', 'Setup', 'Monthly', 'Holder'],
          rows: page.items.map((d) => [
            formatNumber(d.number),
            statusLabel(d),
            location(d),
            formatMoney(d.setup_fee, d.currency),
            recurringLabel(d),
            holder(d),
          ]),
          rowActions: page.items.map(actionsFor),
        },
      ];
      if (page.nextCursor) blocks.push({ type: 'hint', text: `Next page: add after=${page.nextCursor}` });
      return reply(...blocks);
    }
    case 'info':
      return info(await getDidInfo(ctx, command.number));
    case 'assign': {
      const result = await assignDid(ctx, {
        number: command.number,
        account: command.account,
        expectedVersion: command.version,
      });
      const number = formatNumber(result.unchanged[0] ?? result.assigned[0] ?? command.number);
      return withEffect(
        reply({
          type: 'text',
          text: result.assigned.length
            ? `✓ ${number} is now assigned to ${result.account.slug}.`
            : `${number} was already assigned to ${result.account.slug}; nothing changed.`,
        }),
        result.assigned.length ? `assigned ${number} to ${result.account.slug}` : undefined,
      );
    }
    case 'assign first':
      return bulkReply(
        await assignMany(ctx, command.account, {
          mode: 'first',
          count: command.count,
          filter: command.filter,
        }),
        command.count,
      );
    case 'release': {
      const { did, agingUntil } = await releaseDid(ctx, {
        number: command.number,
        expectedVersion: command.version,
      });
      return withEffect(
        reply(
          { type: 'text', text: `✓ ${formatNumber(did.number)} is released.` },
          {
            type: 'text',
            text: agingUntil
              ? `It rests until ${day(agingUntil)} before it is offered again.`
              : 'It is available again now.',
          },
        ),
        `released ${formatNumber(did.number)}`,
      );
    }
    case 'transfer':
      return executeTransfer(ctx, command, options.channel);
    case 'aging end': {
      const { did } = await endAging(ctx, command.number);
      return reply({ type: 'text', text: `✓ ${formatNumber(did.number)} is available again.` });
    }
    case 'import': {
      const io = requireIo(options);
      const report = await importDidsCsv(ctx, io.openInput(command.file), {
        onProgress: (p) =>
          io.progress(
            `${p.rows.toLocaleString('en-US')} rows read, ${p.imported.toLocaleString('en-US')} imported, ${p.existing.toLocaleString('en-US')} already present, ${p.errors} with errors`,
          ),
      });
      const blocks: Block[] = [
        { type: 'heading', text: `Imported ${report.imported} of ${report.rows} rows from ${command.file}.` },
        {
          type: 'fields',
          pairs: [
            ['Imported', String(report.imported)],
            ['Already in the inventory (left as they are)', String(report.existing)],
            ['Rows with errors', String(report.errors)],
          ],
        },
      ];
      if (report.ignoredColumns.length)
        blocks.push({
          type: 'text',
          text: `Ignored columns (unknown): ${report.ignoredColumns.join(', ')}. \`help import\` lists the known ones.`,
        });
      if (report.rowErrors.length) {
        blocks.push({
          type: 'list',
          items: report.rowErrors.map(
            (e) => `line ${e.line}${e.number ? ` (${e.number})` : ''}: ${e.message}`,
          ),
        });
        if (report.errors > report.rowErrors.length)
          blocks.push({ type: 'text', text: `…and ${report.errors - report.rowErrors.length} more.` });
        blocks.push({
          type: 'hint',
          text: 'Fix those lines and import the file again: rows already imported are skipped.',
        });
      }
      return { ...reply(...blocks), ok: report.errors === 0, exitCode: report.errors === 0 ? 0 : 2 };
    }
    case 'export': {
      const io = requireIo(options);
      const written = await exportDidsCsv(ctx, command.filter, io.openOutput(command.file));
      return reply({
        type: 'text',
        text: command.file ? `✓ Wrote ${written} numbers to ${command.file}.` : '',
      });
    }
    case 'did create': {
      const did = await createDid(ctx, command.fields);
      return reply({
        type: 'text',
        text: `✓ Added ${formatNumber(did.number)} (${location(did)}, ${formatMoney(did.setup_fee, did.currency)} setup, ${recurringLabel(did)}).`,
      });
    }
    case 'describe':
      return changed(await setDescription(ctx, command.number, command.text), 'description set');
    case 'enable':
    case 'disable':
      return changed(
        await setEnabled(ctx, command.number, command.name === 'enable'),
        command.name === 'enable' ? 'enabled: back in the pool' : 'disabled',
      );
    case 'set-batch':
      return changed(
        await setPricingBatch(ctx, command.number, command.batch),
        `moved to pricing batch ${command.batch}`,
      );
    case 'route':
      return changed(
        await setDestination(ctx, command.number, command.destination),
        `calls now go to ${command.destination}`,
      );
    case 'account create': {
      const o = command.options;
      const account = await createAccount(ctx, {
        kind: command.kind,
        slug: command.slug,
        name: o.name ?? command.slug,
        parent: o.parent,
        billingMode: o.billing as BillingMode | undefined,
        creditLimit: o.credit,
        currency: o.currency,
        email: o.email,
      });
      return reply({ type: 'text', text: `✓ Created ${account.kind} ${account.slug} (id ${account.id}).` });
    }
    case 'account transfer': {
      const { account, changed } = await setAccountCallTransfer(ctx, {
        account: command.account,
        enabled: command.enabled,
      });
      const state = command.enabled ? 'on' : 'off';
      return withEffect(
        reply({
          type: 'text',
          text: changed
            ? `✓ Call transfer is ${state} for ${account.slug}${command.enabled ? '' : ' and every account below it'}.`
            : `Call transfer already was ${state} for ${account.slug}; nothing changed.`,
        }),
        changed ? `turned call transfer ${state} for account ${account.slug}` : undefined,
      );
    }
    case 'account list': {
      const accounts = await listAccounts(ctx);
      return reply({
        type: 'table',
        columns: ['Account', 'Kind', 'Billing', 'Status', 'Name'],
        rows: accounts.map((a) => [
          '  '.repeat(a.depth) + a.slug,
          a.kind === 'admin' ? 'operator' : a.kind,
          a.billing_mode,
          a.status,
          a.name,
        ]),
      });
    }
    case 'balance': {
      const account = await findAccount(ctx, command.account);
      const owed = await amountOwed(ctx.db, account.id);
      const numbers = await listOwnedNumbers(ctx, account.id);
      return reply(
        {
          type: 'text',
          text: `${account.slug} (${account.billing_mode}${account.billing_mode === 'postpaid' ? `, credit limit ${formatMoney(account.credit_limit, account.currency)}` : ''}): ${owedLabel(owed, account.currency)}.`,
        },
        numbers.length === 0
          ? { type: 'text', text: 'No numbers bought.' }
          : {
              type: 'table',
              columns: ['Number', 'Status', 'Renews', 'Price'],
              rows: numbers.map((n) => [
                formatNumber(n.number),
                n.cancelAtPeriodEnd ? 'canceling' : n.status.replace('_', ' '),
                n.billingType === 'one_time' ? '—' : n.currentPeriodEnd.toISOString().slice(0, 10),
                recurringLabel({
                  billing_type: n.billingType,
                  billing_period: n.billingPeriod,
                  billing_days: n.billingDays,
                  setup_fee: n.setupFee,
                  recurring_fee: n.recurringFee,
                  currency: n.currency,
                }),
              ]),
            },
      );
    }
    case 'pay': {
      const { owed } = await recordManualPayment(ctx, command);
      const account = await findAccount(ctx, command.account);
      return reply({
        type: 'text',
        text: `✓ Recorded ${command.amount} from ${account.slug} (${command.reference}). ${owedLabel(owed, account.currency)}; unpaid renewals are retried at the next sweep.`,
      });
    }
    case 'account suspend':
    case 'account activate':
    case 'account close': {
      const status = (
        { 'account suspend': 'suspended', 'account activate': 'active', 'account close': 'closed' } as const
      )[command.name];
      const account = await setAccountStatus(ctx, command.account, status);
      return reply({ type: 'text', text: `✓ ${account.slug} is ${account.status}.` });
    }
    case 'user create': {
      const password = command.options.email ? randomBytes(12).toString('base64url') : undefined;
      const user = await createUser(ctx, {
        account: command.account,
        role: command.role,
        email: command.options.email,
        name: command.options.name,
        password,
        slackUserId: command.options.slack,
        telegramUserId: command.options.telegram,
      });
      const blocks: Block[] = [
        {
          type: 'text',
          text: `✓ Created ${user.role} ${user.email ?? user.slack_user_id ?? user.telegram_user_id} (id ${user.id}).`,
        },
      ];
      if (password) blocks.push({ type: 'fields', pairs: [['Password (shown once)', password]] });
      return reply(...blocks);
    }
    case 'provider create': {
      const provider = await createProvider(ctx, {
        name: command.providerName,
        description: command.options.description,
      });
      return reply({ type: 'text', text: `✓ Added provider ${provider.name}.` });
    }
    case 'vendor-batch create': {
      const o = command.options;
      const batch = await createVendorBatch(ctx, {
        provider: command.provider,
        name: command.batchName,
        activationCost: o.activation,
        recurringCost: o.recurring,
        currency: o.currency,
      });
      return reply({ type: 'text', text: `✓ Added vendor batch ${batch.name}.` });
    }
    case 'group create': {
      const group = await createGroup(ctx, {
        name: command.groupName,
        description: command.options.description,
      });
      return reply({ type: 'text', text: `✓ Added group ${group.name}.` });
    }
    case 'batch create': {
      const o = command.options;
      const batch = await createPricingBatch(ctx, {
        name: command.batchName,
        owner: o.owner,
        setupFee: o.setup,
        recurringFee: o.monthly,
        currency: o.currency,
        billingType: o.type,
        billingPeriod: o.period,
        billingDays: o.days === undefined ? undefined : Number(o.days),
      });
      return reply({
        type: 'text',
        text: `✓ Added pricing batch ${batch.name}: ${formatMoney(batch.setup_fee, batch.currency)} setup, ${formatMoney(batch.recurring_fee, batch.currency)} ${periodLabel(batch)}.`,
      });
    }
    case 'catalog': {
      const c = await listCatalog(ctx);
      return reply(
        { type: 'heading', text: 'Providers' },
        { type: 'list', items: c.providers.map((p) => p.name) },
        { type: 'heading', text: 'Vendor batches' },
        {
          type: 'table',
          columns: ['Name', 'Activation', 'Recurring'],
          rows: c.vendorBatches.map((v) => [
            v.name,
            formatMoney(v.activation_cost, v.currency),
            formatMoney(v.recurring_cost, v.currency),
          ]),
        },
        { type: 'heading', text: 'Groups' },
        { type: 'list', items: c.groups.map((g) => g.name) },
        { type: 'heading', text: 'Pricing batches' },
        {
          type: 'table',
          columns: ['Name', 'Owner', 'Setup', 'Recurring'],
          rows: c.pricingBatches.map((b) => [
            b.name,
            b.owner_slug,
            formatMoney(b.setup_fee, b.currency),
            `${formatMoney(b.recurring_fee, b.currency)} ${periodLabel(b)}`,
          ]),
        },
      );
    }
    case 'staff link': {
      const { user, changed } = await linkStaff(ctx, {
        channel: command.channel,
        user: command.user,
        role: command.role,
      });
      const who = `${command.channel} user ${user.slack_user_id ?? user.telegram_user_id}`;
      return reply({
        type: 'text',
        text: changed ? `✓ ${who} is now ${user.role}.` : `${who} already is ${user.role}; nothing changed.`,
      });
    }
    case 'staff unlink': {
      const user = await unlinkStaff(ctx, { channel: command.channel, user: command.user });
      return reply({
        type: 'text',
        text: `✓ ${command.channel} user ${user.slack_user_id ?? user.telegram_user_id} is no longer staff.`,
      });
    }
    case 'staff list': {
      const staff = await listStaff(ctx);
      return reply({
        type: 'table',
        columns: ['Who', 'Role', 'Status', 'Slack', 'Telegram'],
        rows: staff.map((m) => [
          m.name || m.email || '—',
          m.role,
          m.status,
          m.slackUserId ?? '',
          m.telegramUserId ?? '',
        ]),
      });
    }
    case 'token create':
    case 'token revoke':
    case 'token list':
      return executeToken(ctx, command);
    case 'telegram link':
      return executeTelegramLink(ctx, command);
    case 'init': {
      if (!options.init) return reply({ type: 'text', text: '`init` works only in the console.' });
      return reply({ type: 'text', text: await options.init(command.slug, command.operatorName) });
    }
  }
}

function requireIo(options: ExecuteOptions): ConsoleIo {
  if (!options.io) throw new Error('this command needs the console');
  return options.io;
}

/** `help` needs no database: front doors answer it before connecting. */
function owedLabel(owed: number, currency: string): string {
  if (owed === 0) return 'nothing owed';
  return owed > 0 ? `owes ${formatMoney(owed, currency)}` : `in credit by ${formatMoney(-owed, currency)}`;
}

export function help(topic: string | undefined, channel: 'cli' | 'chat'): Reply {
  const visible = COMMANDS.filter((c) => channel === 'cli' || !c.cliOnly);
  const prefix = channel === 'cli' ? 'npm run did -- ' : '/did ';
  if (topic) {
    const found = findSpec(topic.split(/\s+/));
    const spec = found && visible.includes(found.spec) ? found.spec : undefined;
    if (!spec) return reply({ type: 'text', text: `No command "${topic}". Type \`help\` for the list.` });
    const blocks: Block[] = [
      { type: 'heading', text: `${prefix}${spec.usage}` },
      { type: 'text', text: spec.summary + '.' },
    ];
    if (spec.details) blocks.push({ type: 'text', text: spec.details });
    blocks.push(
      { type: 'text', text: spec.examples.length > 1 ? 'Examples:' : 'Example:' },
      ...spec.examples.map((e): Block => ({ type: 'hint', text: prefix + e })),
    );
    return reply(...blocks);
  }
  return reply(
    { type: 'heading', text: 'Commands' },
    {
      type: 'table',
      columns: ['Command', 'What it does'],
      rows: visible.map((c) => [c.usage.split(' [')[0]!.split(' name=')[0]!, c.summary]),
    },
    { type: 'hint', text: `${prefix}help <command> shows details and an example, e.g. ${prefix}help assign` },
  );
}

function info({ did, history }: Awaited<ReturnType<typeof getDidInfo>>): Reply {
  const terms = ratingTermsOf(did);
  const threeMinutes = rateCall(terms, 180);
  const pairs: [string, string][] = [
    ['Status', statusLabel(did)],
    ['Holder', holder(did) || '—'],
    ['Location', location(did)],
    ['Type', did.number_type.replace('_', '-')],
    ['Group', did.group_name ?? '—'],
    ['Provider', [did.provider_name, did.vendor_batch_name].filter(Boolean).join(' / ') || '—'],
    ['Pricing batch', did.pricing_batch_name ?? 'none (unallocated)'],
    ['Price', `${formatMoney(did.setup_fee, did.currency)} setup, ${recurringLabel(did)}`],
    [
      'Vendor cost',
      `${formatMoney(did.activation_cost, did.currency)} activation, ${formatMoney(did.recurring_cost, did.currency)}/month`,
    ],
    ['Call rating', describeRating(terms)],
    ['A 3-minute call', formatMoney(threeMinutes.cost, threeMinutes.currency)],
    [
      'Limits',
      `ring ${did.call_timeout_seconds}s, ${did.max_concurrent_calls || 'unlimited'} concurrent calls`,
    ],
    ['Capabilities', did.capabilities.join(', ')],
    ['Routes to', did.destination ?? 'not set'],
  ];
  if (did.description) pairs.push(['Description', did.description]);
  const blocks: Block[] = [
    { type: 'heading', text: formatNumber(did.number) },
    { type: 'fields', pairs },
  ];
  if (history.length) {
    blocks.push(
      { type: 'text', text: 'Recent changes:' },
      {
        type: 'list',
        items: history.map(
          (h) => `${h.at.toISOString().slice(0, 16).replace('T', ' ')} ${h.action} by ${h.by}`,
        ),
      },
    );
  }
  const actions = actionsFor(did);
  if (actions.length) blocks.push({ type: 'actions', actions });
  return reply(...blocks);
}

/** The buttons a number offers in chat: take a free one, or let go of / route one in use. */
export function actionsFor(did: DidView): Action[] {
  const base = { number: did.number, version: did.version };
  if (did.status === 'available') return [{ ...base, kind: 'assign', label: 'Assign', style: 'primary' }];
  if (did.status !== 'assigned' && did.status !== 'suspended') return [];
  return [
    {
      ...base,
      kind: 'release',
      label: 'Release',
      style: 'danger',
      confirm: {
        title: 'Release this number?',
        text: `${formatNumber(did.number)} goes back to the pool${holder(did) ? `, taken from ${holder(did)}` : ''}. Its routing and call-transfer settings are cleared.`,
        yes: 'Release',
      },
    },
    { ...base, kind: 'transfer', label: 'Transfer' },
  ];
}

function bulkReply(result: AssignResult, requested: number): Reply {
  const blocks: Block[] = [
    { type: 'text', text: `✓ Assigned ${result.assigned.length} of ${requested} to ${result.account.slug}.` },
  ];
  if (result.assigned.length)
    blocks.push({
      type: 'list',
      items: result.assigned
        .slice(0, 50)
        .map(formatNumber)
        .concat(result.assigned.length > 50 ? [`…and ${result.assigned.length - 50} more`] : []),
    });
  if (result.skipped.length) {
    blocks.push(
      { type: 'text', text: 'Skipped:' },
      {
        type: 'list',
        items: result.skipped.map((s) => (s.number ? `${formatNumber(s.number)} ${s.reason}` : s.reason)),
      },
    );
  }
  return withEffect(
    reply(...blocks),
    result.assigned.length
      ? `assigned ${result.assigned.length} number${result.assigned.length === 1 ? '' : 's'} to ${result.account.slug} (${result.assigned.slice(0, 5).map(formatNumber).join(', ')}${result.assigned.length > 5 ? ', …' : ''})`
      : undefined,
  );
}

function changed(result: { did: DidView; changed: boolean }, what: string): Reply {
  return reply({
    type: 'text',
    text: result.changed
      ? `✓ ${formatNumber(result.did.number)}: ${what}.`
      : `${formatNumber(result.did.number)}: already so; nothing changed.`,
  });
}

const day = (date: Date) => date.toISOString().slice(0, 10);

const STATUS_WORDS: Readonly<Record<DidStatus, string>> = {
  available: 'available',
  reserved: 'reserved (checkout)',
  assigned: 'in use',
  suspended: 'suspended',
  aging: 'aging',
  disabled: 'disabled',
};

/** PortaBilling's status column: "In use", "Free since <date>", and aging until when. */
export function statusLabel(did: DidView): string {
  if (did.status === 'aging' && did.aging_until) return `aging until ${day(did.aging_until)}`;
  if (did.status === 'available' && did.freed_at) return `free since ${day(did.freed_at)}`;
  return STATUS_WORDS[did.status];
}

function holder(did: DidView): string {
  if (did.customer_slug && did.owner_slug) return `${did.customer_slug} (via ${did.owner_slug})`;
  return did.customer_slug ?? did.owner_slug ?? '';
}

function location(did: Pick<DidView, 'country' | 'city' | 'province' | 'area_code'>): string {
  return (
    [did.city, did.province, did.country].filter(Boolean).join(', ') +
    (did.area_code ? ` (${did.area_code})` : '')
  );
}
