// `transfer <number> …`: runs the call-transfer use case the command asks for and words its settings as a
// reply: whether calls are transferred, where each condition sends them, and what to do next.
import type { Ctx } from '../../core/context.ts';
import { formatNumber } from '../../core/numbers/phone-number.ts';
import {
  CONDITION_LABEL,
  formatDestination,
  getCallTransfer,
  setRingTimeout,
  setTransferDestination,
  setTransferEnabled,
  type CallTransferView,
  type TransferDestination,
} from '../../core/transfer/call-transfer.ts';
import type { Command } from './grammar.ts';
import { reply, withEffect, type Block, type Reply } from './reply.ts';

export type TransferCommand = Extract<Command, { name: 'transfer' }>;

export async function executeTransfer(
  ctx: Ctx,
  command: TransferCommand,
  channel: 'cli' | 'chat',
): Promise<Reply> {
  const { number, change, version: expectedVersion } = command;
  const prefix = channel === 'cli' ? 'npm run did -- ' : '/did ';
  switch (change.kind) {
    case 'show':
      return transferReply(await getCallTransfer(ctx, number), [], prefix);
    case 'switch': {
      const { view, changed } = await setTransferEnabled(ctx, {
        number,
        enabled: change.enabled,
        expectedVersion,
      });
      const state = change.enabled ? 'on' : 'off';
      const said = changed
        ? `✓ Call transfer is now ${state} for ${formatNumber(view.number)}.`
        : `Call transfer already was ${state} for ${formatNumber(view.number)}; nothing changed.`;
      return withEffect(
        transferReply(view, [said], prefix),
        changed ? `turned call transfer ${state} for ${formatNumber(view.number)}` : undefined,
      );
    }
    case 'destination': {
      const { view, changed } = await setTransferDestination(ctx, {
        number,
        condition: change.condition,
        destination: change.destination,
        expectedVersion,
      });
      const label = CONDITION_LABEL[change.condition];
      const now = view.destinations[change.condition];
      const said: string[] = [
        !changed
          ? `${label} ${now ? `already goes to ${formatDestination(now)}` : 'has no destination already'}; nothing changed.`
          : now
            ? `✓ ${label}: calls to ${formatNumber(view.number)} now go to ${formatDestination(now)}.`
            : `✓ ${label}: destination cleared for ${formatNumber(view.number)}.`,
      ];
      if (changed && !now && !view.enabled && !hasDestination(view)) {
        said.push('Call transfer is off: no destination is left.');
      }
      return withEffect(
        transferReply(view, said, prefix),
        changed
          ? `set ${label.toLowerCase()} transfer of ${formatNumber(view.number)} to ${now ? formatDestination(now) : 'none'}`
          : undefined,
      );
    }
    case 'ring-timeout': {
      const { view, changed } = await setRingTimeout(ctx, {
        number,
        seconds: change.seconds,
        expectedVersion,
      });
      const said = changed
        ? `✓ Calls to ${formatNumber(view.number)} now ring ${view.ringTimeoutSeconds} s before no answer applies.`
        : `The ring timeout already was ${view.ringTimeoutSeconds} s; nothing changed.`;
      return withEffect(
        transferReply(view, [said], prefix),
        changed
          ? `set the ring timeout of ${formatNumber(view.number)} to ${view.ringTimeoutSeconds} s`
          : undefined,
      );
    }
  }
}

function transferReply(view: CallTransferView, said: readonly string[], prefix: string): Reply {
  const d = view.destinations;
  const blocks: Block[] = [
    ...said.map((text): Block => ({ type: 'text', text })),
    {
      type: 'heading',
      text: `Call transfer for ${formatNumber(view.number)}${view.holder ? ` (${view.holder})` : ''}`,
    },
    {
      type: 'fields',
      pairs: [
        ['Transfer', stateOf(view)],
        ['Busy →', shown(d.busy)],
        [
          'No answer →',
          d.no_answer
            ? `${formatDestination(d.no_answer)} (after ${view.ringTimeoutSeconds} s)`
            : `not set (rings ${view.ringTimeoutSeconds} s)`,
        ],
        ['Unreachable →', shown(d.unreachable)],
        ['Always →', shown(d.always)],
      ],
    },
  ];
  blocks.push(...nextStep(view, prefix));
  return reply(...blocks);
}

function stateOf(view: CallTransferView): string {
  const account = `off for the whole account${view.holder ? ` ${view.holder}` : ''}`;
  if (!view.enabled) return view.accountEnabled ? 'off' : `off (and ${account})`;
  if (!view.accountEnabled) return `on, but ${account}: no calls are transferred`;
  if (view.status === 'suspended') return 'on, but the number is suspended: no calls are transferred';
  return 'on';
}

function nextStep(view: CallTransferView, prefix: string): Block[] {
  const n = view.number;
  if (!view.accountEnabled) {
    return [
      {
        type: 'text',
        text: "Call transfer is switched off for the whole account; the account's provider can switch it back on.",
      },
    ];
  }
  if (!hasDestination(view)) {
    return [
      { type: 'text', text: 'Set where calls go first, then turn transfer on:' },
      { type: 'hint', text: `${prefix}transfer ${n} busy +1 212 555 0142` },
    ];
  }
  return [{ type: 'hint', text: `${prefix}transfer ${n} ${view.enabled ? 'off' : 'on'}` }];
}

function shown(destination: TransferDestination | null): string {
  return destination ? formatDestination(destination) : 'not set';
}

function hasDestination(view: CallTransferView): boolean {
  return Object.values(view.destinations).some((d) => d !== null);
}
