// `transfer <number> …` as people type it: a number with spaces, then a keyword, then what the keyword
// needs. Mistakes get the usage line, never a command.
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../../bot/commands/grammar.ts';
import { parseCommand, type Channel } from '../../../../bot/commands/parse.ts';

function parsed(input: string | readonly string[], channel: Channel = 'chat') {
  const result = parseCommand(input, channel);
  if (!result.ok) expect.fail(`${JSON.stringify(input)} did not parse: ${result.message}`);
  return result.command;
}

function refused(input: string, channel: Channel = 'chat') {
  const result = parseCommand(input, channel);
  if (result.ok) expect.fail(`${JSON.stringify(input)} parsed as ${JSON.stringify(result.command)}`);
  return result;
}

const USAGE =
  'transfer <number> [busy|noanswer|unreachable|always <destination|none> | on | off | timeout <seconds>]';

describe('transfer: the grammar', () => {
  it('is in chat as well as the console, with the documented usage', () => {
    const spec = COMMANDS.find((c) => c.name === 'transfer');
    expect(spec?.usage).toBe(USAGE);
    expect(spec?.cliOnly).toBeFalsy();
    expect(parsed('transfer 18665550100', 'cli').name).toBe('transfer');
  });

  it('shows the settings when no keyword follows the number, spaces and punctuation kept', () => {
    expect(parsed('transfer +1 866 555 0100')).toEqual({
      name: 'transfer',
      number: '+1 866 555 0100',
      change: { kind: 'show' },
    });
    expect(parsed('/did transfer +1 (866) 555-0100')).toMatchObject({
      number: '+1 (866) 555-0100',
      change: { kind: 'show' },
    });
  });

  it.each([
    ['busy', 'busy'],
    ['BUSY', 'busy'],
    ['noanswer', 'no_answer'],
    ['no-answer', 'no_answer'],
    ['no_answer', 'no_answer'],
    ['no answer', 'no_answer'],
    ['unreachable', 'unreachable'],
    ['always', 'always'],
  ] as const)('reads "%s" as the %s condition, the number before it typed with spaces', (word, condition) => {
    expect(parsed(`transfer +1 866 555 0100 ${word} +44 20 7946 0000`)).toEqual({
      name: 'transfer',
      number: '+1 866 555 0100',
      change: { kind: 'destination', condition, destination: '+44 20 7946 0000' },
    });
  });

  it('takes a SIP address, and none to clear', () => {
    expect(parsed('transfer 18665550100 noanswer sip:desk@pbx.acme.example:5061')).toMatchObject({
      number: '18665550100',
      change: { kind: 'destination', condition: 'no_answer', destination: 'sip:desk@pbx.acme.example:5061' },
    });
    expect(parsed('transfer 18665550100 always none')).toMatchObject({
      change: { kind: 'destination', condition: 'always', destination: 'none' },
    });
  });

  it('leaves judging the destination to core: letters or a SIP URI without host still parse', () => {
    expect(parsed('transfer 18665550100 busy +1 800 FLOWERS')).toMatchObject({
      change: { kind: 'destination', destination: '+1 800 FLOWERS' },
    });
    expect(parsed('transfer 18665550100 busy sip:alice')).toMatchObject({
      change: { kind: 'destination', destination: 'sip:alice' },
    });
  });

  it('reads on and off, in any case', () => {
    expect(parsed('transfer +1 866 555 0100 on')).toEqual({
      name: 'transfer',
      number: '+1 866 555 0100',
      change: { kind: 'switch', enabled: true },
    });
    expect(parsed('transfer 18665550100 OFF')).toMatchObject({ change: { kind: 'switch', enabled: false } });
  });

  it('reads the ring timeout in seconds, with or without an s', () => {
    expect(parsed('transfer +1 866 555 0100 timeout 25')).toEqual({
      name: 'transfer',
      number: '+1 866 555 0100',
      change: { kind: 'ring-timeout', seconds: 25 },
    });
    expect(parsed('transfer 18665550100 timeout 30s')).toMatchObject({
      change: { kind: 'ring-timeout', seconds: 30 },
    });
    // The range (5 to 300) is core's rule: the parser passes any whole number on.
    expect(parsed('transfer 18665550100 timeout 1000')).toMatchObject({
      change: { kind: 'ring-timeout', seconds: 1000 },
    });
  });

  it('takes the words as the console gets them from the shell', () => {
    expect(
      parsed(['transfer', '+1', '866', '555', '0100', 'busy', 'sip:desk@pbx.example.com'], 'cli'),
    ).toEqual({
      name: 'transfer',
      number: '+1 866 555 0100',
      change: { kind: 'destination', condition: 'busy', destination: 'sip:desk@pbx.example.com' },
    });
  });
});

describe('transfer: mistakes get the usage line', () => {
  it.each([
    ['transfer', 'Missing the number.'],
    ['transfer busy +442079460000', 'Missing the number.'],
    ['transfer on', 'Missing the number.'],
    ['transfer 18665550100 busy', 'Missing the destination after busy'],
    ['transfer +1 866 555 0100 no answer', 'Missing the destination after no answer'],
    ['transfer 18665550100 always', 'Missing the destination after always'],
    ['transfer 18665550100 timeout', 'Missing the seconds after timeout'],
    ['transfer 18665550100 timeout soon', '"soon" is not a number of seconds'],
    ['transfer 18665550100 timeout 2.5', '"2.5" is not a number of seconds'],
    ['transfer 18665550100 timeout 20 30', '"20 30" is not a number of seconds'],
    ['transfer 18665550100 on now', '"on" takes nothing after it'],
    [
      'transfer 18665550100 sip:desk@pbx.example.com',
      'Missing the condition before "sip:desk@pbx.example.com"',
    ],
    ['transfer 18665550100 +442079460000', 'Missing the condition before "+442079460000"'],
    ['transfer 18665550100 bussy +442079460000', '"bussy" is not busy, noanswer, unreachable or always'],
  ])('%s → %s', (input, message) => {
    const result = refused(input);
    expect(result.message).toContain(message);
    expect(result.usage).toBe(USAGE);
  });

  it('suggests the keyword meant', () => {
    expect(refused('transfer 18665550100 bussy +442079460000').message).toContain('Did you mean busy?');
    expect(refused('transfer 18665550100 of').message).toMatch(/Did you mean .*off/);
  });
});
