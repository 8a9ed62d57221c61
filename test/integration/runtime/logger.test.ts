// The logger has no database; it lives here with the rest of the runtime plumbing.
import { describe, expect, it } from 'vitest';
import { createLogger, type LogLevel } from '../../../core/runtime/logger.ts';

function capture(level: LogLevel) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level,
    now: () => new Date('2026-01-01T00:00:00Z'),
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return { log, lines };
}

describe('logger', () => {
  it('writes JSON lines with level, time, msg and fields, pino-style', () => {
    const { log, lines } = capture('info');
    log.info('plain');
    log.warn({ port: 3000 }, 'with fields');
    log.child({ role: 'web' }).error({ path: '/x' }, 'from a child');
    expect(lines).toEqual([
      { level: 'info', time: '2026-01-01T00:00:00.000Z', msg: 'plain' },
      { level: 'warn', time: '2026-01-01T00:00:00.000Z', port: 3000, msg: 'with fields' },
      { level: 'error', time: '2026-01-01T00:00:00.000Z', role: 'web', path: '/x', msg: 'from a child' },
    ]);
  });

  it('drops lines below its level', () => {
    const { log, lines } = capture('warn');
    log.debug('no');
    log.info('no');
    log.warn('yes');
    log.fatal('yes');
    expect(lines.map((l) => l.level)).toEqual(['warn', 'fatal']);
    const silent = capture('silent');
    silent.log.fatal('no');
    expect(silent.lines).toEqual([]);
  });

  it('serializes errors with their stack and cause', () => {
    const { log, lines } = capture('info');
    log.error({ err: new Error('outer', { cause: new Error('inner') }) }, 'failed');
    expect(lines[0]).toMatchObject({
      msg: 'failed',
      err: { type: 'Error', message: 'outer', cause: { message: 'inner' } },
    });
    expect((lines[0]!.err as { stack: string }).stack).toContain('outer');
  });

  it('never writes secrets', () => {
    const { log, lines } = capture('info');
    log.info(
      {
        password: 'hunter22',
        sessionSecret: 'abc',
        nested: { apiKey: 'k', Authorization: 'Bearer t' },
        url: 'postgres://u:pw123@h/db',
      },
      'connecting to postgres://u:pw123@h/db',
    );
    const text = JSON.stringify(lines);
    for (const secret of ['hunter22', '"abc"', 'Bearer t', 'pw123']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      url: 'postgres://u:****@h/db',
      msg: 'connecting to postgres://u:****@h/db',
    });
  });

  it("masks secrets in a child's fields, and in a message taken from an error", () => {
    const { log, lines } = capture('info');
    const child = log.child({ token: 'xoxb-secret', db: 'postgres://u:childpw@h/db' });
    child.error(new Error('cannot reach postgres://u:errpw@h/db'));
    child.warn({ err: new Error('connect to redis://:redispw@cache:6379 failed') });
    const text = JSON.stringify(lines);
    for (const secret of ['xoxb-secret', 'childpw', 'errpw', 'redispw']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      level: 'error',
      token: '[redacted]',
      db: 'postgres://u:****@h/db',
      msg: 'cannot reach postgres://u:****@h/db',
      err: { type: 'Error', message: 'cannot reach postgres://u:****@h/db' },
    });
    expect(lines[1]).toMatchObject({ msg: 'connect to redis://:****@cache:6379 failed' });
  });

  it('adds its fields to every line, and says which levels it writes', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', fields: { service: 'didops' }, write: (l) => lines.push(l) });
    log.info({ n: 1 }, 'one');
    expect(JSON.parse(lines[0]!)).toMatchObject({ service: 'didops', n: 1, msg: 'one' });
    expect(lines[0]).not.toContain('\n');
    expect([log.isLevelEnabled('info'), log.isLevelEnabled('debug'), log.isLevelEnabled('silent')]).toEqual([
      true,
      false,
      false,
    ]);
    expect(log.level).toBe('info');
  });
});
