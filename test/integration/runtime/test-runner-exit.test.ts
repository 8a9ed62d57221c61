// CI trusts `npm test`'s exit code. A failing test must make it non-zero, also when the run started the
// embedded PostgreSQL, whose exit hook once turned every red run into exit 0.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { expect, it } from 'vitest';
import { REPO_ROOT } from './processes.ts';

it('exits 1 when a test fails, with the embedded PostgreSQL started', { timeout: 120_000 }, async () => {
  const child = spawn(
    process.execPath,
    [
      'node_modules/vitest/vitest.mjs',
      'run',
      '--config',
      'test/integration/runtime/fixtures/vitest.failing.config.ts',
    ],
    // An empty DATABASE_URL: the run starts its own embedded server, as a fresh clone's does.
    { cwd: REPO_ROOT, env: { ...process.env, DATABASE_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(output).toMatch(/1 failed/);
  expect(code, output).toBe(1);
});
