// The staff command grammar as people type it in Slack, Telegram and the console: what parses to which
// command, and what a mistake gets back instead of a command.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../../bot/commands/grammar.ts';
import { parseCommand, type Channel, type ParseResult } from '../../../../bot/commands/parse.ts';
import { tokenize } from '../../../../bot/commands/tokenize.ts';

/** The parsed command, or a failed assertion that shows what the parser said instead. */
function parsed(input: string | readonly string[], channel: Channel = 'chat') {
  const result = parseCommand(input, channel);
  if (!result.ok) expect.fail(`${JSON.stringify(input)} did not parse: ${result.message}`);
  return result.command;
}

function refused(input: string | readonly string[], channel: Channel = 'chat') {
  const result = parseCommand(input, channel);
  if (result.ok) expect.fail(`${JSON.stringify(input)} parsed as ${result.command.name}`);
  return result;
}

describe('parseCommand: the grammar parses its own examples', () => {
  const everyExample = (channel: Channel) =>
    COMMANDS.filter((spec) => channel === 'cli' || !spec.cliOnly).flatMap((spec) =>
      spec.examples.map((example) => ({ name: spec.name, example })),
    );

  it.each(everyExample('cli'))('console: $example → $name', ({ name, example }) => {
    expect(parsed(example, 'cli').name).toBe(name);
  });

  it.each(everyExample('chat'))('chat: $example → $name', ({ name, example }) => {
    expect(parsed(example, 'chat').name).toBe(name);
  });

  it('offers chat the everyday commands and none of the console-only ones', () => {
    const names = everyExample('chat').map((e) => e.name);
    expect(names).toEqual(
      expect.arrayContaining(['help', 'search', 'info', 'assign', 'assign first', 'release']),
    );
    for (const spec of COMMANDS.filter((c) => c.cliOnly)) expect(names).not.toContain(spec.name);
  });

  it('reads the did create example field by field, quoted values included', () => {
    expect(
      parsed('did create +12125550142 city="New York" provider=NorthStar batch="US Local Standard"', 'cli'),
    ).toEqual({
      name: 'did create',
      fields: {
        number: '+12125550142',
        city: 'New York',
        provider: 'NorthStar',
        pricing_batch: 'US Local Standard',
      },
    });
  });

  it('takes the console`s argv as it comes from the shell (did create is not the /did prefix)', () => {
    expect(
      parsed(['did', 'create', '+1', '212', '555', '0199', 'batch=Promo', 'city=New York'], 'cli'),
    ).toEqual({
      name: 'did create',
      fields: { number: '+1 212 555 0199', pricing_batch: 'Promo', city: 'New York' },
    });
  });
});

describe('parseCommand: numbers, accounts and filters', () => {
  it('keeps a number typed with spaces together and takes the last word as the account', () => {
    expect(parsed('assign +1 866 555 0100 acme')).toEqual({
      name: 'assign',
      number: '+1 866 555 0100',
      account: 'acme',
    });
    expect(parsed('info +1 (866) 555-0100')).toEqual({ name: 'info', number: '+1 (866) 555-0100' });
    expect(parsed('release 0044 20 7946 0000')).toEqual({ name: 'release', number: '0044 20 7946 0000' });
  });

  it.each([
    '/did assign 18665550100 acme',
    '/did@mybot assign 18665550100 acme',
    'did assign 18665550100 acme',
  ])('strips the chat prefix: %s', (input) => {
    expect(parsed(input)).toEqual({ name: 'assign', number: '18665550100', account: 'acme' });
  });

  it('answers a bare /did with help', () => {
    expect(parsed('/did')).toEqual({ name: 'help', topic: undefined });
    expect(parsed('/did@mybot')).toEqual({ name: 'help', topic: undefined });
  });

  it('matches command words in any case', () => {
    expect(parsed('ASSIGN 18665550100 acme').name).toBe('assign');
    expect(parsed('Assign First 3 1212 acme').name).toBe('assign first');
  });

  it('keeps quoted phrases together, straight, single and smart quotes alike', () => {
    expect(parsed('assign 18665550100 "acme corp"', 'chat')).toMatchObject({ account: 'acme corp' });
    expect(parsed("assign 18665550100 'acme corp'", 'chat')).toMatchObject({ account: 'acme corp' });
    expect(parsed('assign 18665550100 “acme corp”', 'chat')).toMatchObject({ account: 'acme corp' });
    expect(parsed('describe 18665550100 “Main support line”', 'cli')).toEqual({
      name: 'describe',
      number: '18665550100',
      text: 'Main support line',
    });
  });

  it('keeps a quoted option value together, smart quotes included', () => {
    expect(parsed('search country=US city="New York" group=“US Local”')).toMatchObject({
      filter: { country: 'US', city: 'New York', group: 'US Local' },
    });
    expect(parsed('account create customer newco name=“New Co”', 'cli')).toEqual({
      name: 'account create',
      kind: 'customer',
      slug: 'newco',
      options: { name: 'New Co' },
    });
  });

  it('reads assign first: the count, the pattern, the account and search filters', () => {
    expect(parsed('assign first 10 1800%VOIP acme country=US')).toEqual({
      name: 'assign first',
      count: 10,
      filter: expect.objectContaining({ pattern: '1800%VOIP', country: 'US' }) as unknown,
      account: 'acme',
    });
  });

  it('reads search: pattern, filters, limit (default 20) and the page cursor', () => {
    const search = parsed('search 1212 status=available limit=5 after=abc sort=setup_fee');
    expect(search).toMatchObject({
      name: 'search',
      filter: { pattern: '1212', status: 'available' },
      limit: 5,
      after: 'abc',
      sort: 'setup_fee',
    });
    expect(parsed('search')).toMatchObject({ name: 'search', limit: 20, filter: { pattern: undefined } });
    expect(parsed('search COUNTRY=GB')).toMatchObject({ filter: { country: 'GB' } });
  });

  it('answers an empty message, or one of spaces only, with help', () => {
    expect(parsed('')).toEqual({ name: 'help', topic: undefined });
    expect(parsed('   \n\t')).toEqual({ name: 'help', topic: undefined });
    expect(parsed([])).toEqual({ name: 'help', topic: undefined });
    expect(parsed('help assign')).toEqual({ name: 'help', topic: 'assign' });
  });
});

describe('parseCommand: mistakes get an answer, not a command', () => {
  it.each([
    ['relase 18665550100', 'release'],
    ['serch 1800%VOIP', 'search'],
    ['asign 18665550100 acme', 'assign'],
    ['hlep', 'help'],
    ['ifno 18665550100', 'info'],
    ['Relase 18665550100', 'release'],
  ])('%s → did you mean `%s`?', (input, suggestion) => {
    const result = refused(input);
    expect(result.message).toContain(`Did you mean \`${suggestion}\`?`);
    expect(result.message).toContain(`Unknown command "${input.split(' ')[0]!}"`);
    expect(result).toMatchObject({ suggestion });
  });

  it('suggests nothing for a word like no command', () => {
    const result = refused('xyzzy 1');
    expect(result.message).toBe('Unknown command "xyzzy". Type `help` for the list.');
    expect(result).toMatchObject({ suggestion: undefined });
  });

  it('does not suggest a console-only command in chat', () => {
    expect(refused('imprt x.csv', 'cli')).toMatchObject({ suggestion: 'import' });
    expect(refused('imprt x.csv', 'chat')).toMatchObject({ suggestion: undefined });
  });

  it('names an unknown option and lists the ones there are', () => {
    const result = refused('search 1800 colour=blue');
    expect(result.message).toContain('has no option "colour"');
    expect(result.message).not.toContain('Did you mean');
    expect(result.message).toContain('Options: country, area, city');
    expect(result.message).toContain('limit');
    expect(result).toMatchObject({ usage: expect.stringMatching(/^search /) as unknown });
  });

  it('suggests the option meant', () => {
    const result = refused('search 1800 limt=5');
    expect(result.message).toContain('has no option "limt". Did you mean limit=?');
  });

  it('treats key=value as a word for commands without options', () => {
    expect(parsed('assign 18665550100 acme=x')).toMatchObject({ account: 'acme=x' });
  });

  it.each([
    ['assign', 'Missing the number and the account.', 'assign <number> <account>'],
    ['assign 18665550100', 'Missing the account.', 'assign <number> <account>'],
    ['info', 'Missing the number.', 'info <number>'],
    ['release', 'Missing the number.', 'release <number>'],
    ['assign first', 'Missing N, the pattern and the account.', 'assign first <N> <pattern> <account>'],
    ['assign first 10 acme', 'Missing the account.', 'assign first <N> <pattern> <account>'],
  ])('%s → "%s" with the usage line', (input, message, usage) => {
    expect(refused(input)).toMatchObject({ message, usage });
  });

  it.each(['assign first x 1212 acme', 'assign first 0 1212 acme', 'assign first 2.5 1212 acme'])(
    '%s: the count is not a count',
    (input) => {
      const result = refused(input);
      expect(result.message).toMatch(/^".*" is not a count: give a whole number/);
      expect(result.usage).toBe('assign first <N> <pattern> <account>');
    },
  );

  it.each(['limit=0', 'limit=201', 'limit=ten', 'limit=1.5'])('search %s is refused', (limit) => {
    expect(refused(`search 1212 ${limit}`).message).toBe('limit must be a whole number from 1 to 200.');
  });

  it('refuses a console-only command in chat and says where it works', () => {
    const result = refused('import x.csv', 'chat');
    expect(result.message).toBe("`import` works only in the server's console.");
    expect(result.usage).toBe('npm run did -- import <file.csv>');
    expect(parsed('import x.csv', 'cli')).toEqual({ name: 'import', file: 'x.csv' });
  });

  it.each(COMMANDS.filter((spec) => spec.cliOnly).map((spec) => spec.examples[0]!))(
    'chat refuses the console-only %s',
    (example) => {
      expect(refused(example, 'chat').message).toContain("works only in the server's console");
    },
  );
});

describe('parseCommand and tokenize: any input at all', () => {
  const anyText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.string({ unit: 'grapheme', maxLength: 80 }),
  );
  const word = fc.oneof(
    fc.constantFrom(
      ...COMMANDS.flatMap((spec) => spec.name.split(' ')),
      '/did',
      '/did@bot',
      'did',
      'first',
      'limit=5',
      'limit=',
      '=',
      'x=y',
      '__proto__=1',
      'constructor=1',
      '"',
      '“',
      '”',
      "'",
      '%',
      '+1',
      '866',
      '',
      ' ',
    ),
    fc.string({ unit: 'binary', maxLength: 12 }),
  );
  const words = fc.array(word, { maxLength: 8 });

  function wellFormed(result: ParseResult): void {
    if (result.ok) expect(COMMANDS).toContain(result.spec);
    else expect(result.message.trim()).not.toBe('');
  }

  it('never throws on any string, and always answers', () => {
    fc.assert(
      fc.property(anyText, fc.constantFrom<Channel>('chat', 'cli'), (text, channel) => {
        wellFormed(parseCommand(text, channel));
      }),
      { numRuns: 2_000 },
    );
  });

  it('never throws on any words, and always answers', () => {
    fc.assert(
      fc.property(words, fc.constantFrom<Channel>('chat', 'cli'), (list, channel) => {
        wellFormed(parseCommand(list, channel));
        wellFormed(parseCommand(list.join(' '), channel));
      }),
      { numRuns: 2_000 },
    );
  });

  it('tokenize never throws and never returns a token with whitespace around it', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyText,
          words.map((list) => list.join(' ')),
        ),
        (text) => {
          for (const token of tokenize(text)) expect(token).toBe(token.trim());
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('tokenize splits on whitespace of any kind and keeps quoted phrases whole', () => {
    expect(tokenize('  assign\t+1 866\n555 0100   acme ')).toEqual([
      'assign',
      '+1',
      '866',
      '555',
      '0100',
      'acme',
    ]);
    expect(tokenize('a " b c " “ d ” \'e f\' name="g h"')).toEqual(['a', 'b c', 'd', 'e f', 'name=g h']);
    expect(tokenize('ＡＢＣ\u00a0x')).toEqual(['ABC', 'x']);
    expect(tokenize("O'Brien's line")).toEqual(["O'Brien's", 'line']);
    expect(tokenize('"unclosed quote')).toEqual(['"unclosed', 'quote']);
  });
});
