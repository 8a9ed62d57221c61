// CI trusts `npm test`'s exit code. A failing test must make it non-zero, also when the run started the
// embedded PostgreSQL, whose exit hook once turned every red run into exit 0.
import { expect, it } from 'vitest';
import { runScript } from './processes.ts';

it('exits 1 when a test fails, with the embedded PostgreSQL started', { timeout: 120_000 }, async () => {
  // An empty DATABASE_URL: the run starts its own embedded server, as a fresh clone's does.
  const run = runScript(
    'node_modules/vitest/vitest.mjs',
    ['run', '--config', 'test/integration/runtime/fixtures/vitest.failing.config.ts'],
    { DATABASE_URL: '' },
  );
  const exit = await run.exited(100_000);
  const output = run.stdout() + run.stderr();
  expect(output).toMatch(/1 failed/);
  expect(exit, output).toEqual({ code: 1, signal: null });
});
