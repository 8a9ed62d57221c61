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
});
