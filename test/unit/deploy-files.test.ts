// The deployment files checked against the code: every setting the app reads reaches the containers and is
// documented, Redis keeps its jobs (append-only file, noeviction), every long-running service has a health
// check, and the image runs production dependencies only, as an unprivileged user. Compose itself validates
// the file where it is installed (`.ci/run` installs Debian's docker-compose; the Docker engine is not
// needed for `config`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_NAMES } from '../../core/config.ts';

const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  user?: string;
}
interface ComposeFile {
  services: Record<string, Service>;
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
const APP_SERVICES = ['migrate', 'web', 'worker'];
/** Only used without DATABASE_URL, which compose always sets. */
const EMBEDDED_ONLY = new Set(['EMBEDDED_POSTGRES_PORT', 'DATA_DIR']);

describe('docker-compose.yml', () => {
  it('hands every setting the app reads to each app service', () => {
    for (const name of APP_SERVICES) {
      const environment = compose.services[name]?.environment ?? {};
      const missing = ENV_NAMES.filter((env) => !EMBEDDED_ONLY.has(env) && !(env in environment));
      expect(missing, `${name} does not pass these settings on`).toEqual([]);
    }
  });

  it('runs Redis with an append-only file and noeviction, PostgreSQL on a volume', () => {
    const redis = compose.services.redis!;
    expect(redis.command?.join(' ')).toMatch(/--appendonly yes/);
    expect(redis.command?.join(' ')).toMatch(/--maxmemory-policy noeviction/);
    expect(JSON.stringify(compose.services.postgres)).toContain('/var/lib/postgresql/data');
  });

  it('checks the health of every long-running service, and starts the app after a finished migration', () => {
    for (const name of ['postgres', 'redis', 'web', 'worker']) {
      expect(compose.services[name]?.healthcheck?.test, `${name} has no health check`).toBeDefined();
    }
    for (const name of ['web', 'worker']) {
      expect(compose.services[name]?.depends_on?.migrate).toEqual({
        condition: 'service_completed_successfully',
      });
    }
    expect(compose.services.web?.command).toEqual(['node', 'bin/start.ts', 'web']);
    expect(compose.services.worker?.command).toEqual(['node', 'bin/start.ts', 'worker']);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('installs production dependencies from the lock file in a stage of their own', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev/m);
    expect(dockerfile).toMatch(/^COPY --from=deps /m);
  });

  it('runs as the unprivileged node user, with a health check', () => {
    const lastUser = [...dockerfile.matchAll(/^USER (\S+)/gm)].at(-1)?.[1];
    expect(lastUser).toBe('node');
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
  });
});

describe('the documentation of the settings', () => {
  it('lists every setting in .env.example and in the README', () => {
    const example = read('.env.example');
    const readme = read('README.md');
    expect(ENV_NAMES.filter((env) => !new RegExp(`^#? ?${env}=`, 'm').test(example))).toEqual([]);
    expect(ENV_NAMES.filter((env) => !readme.includes(`\`${env}\``))).toEqual([]);
  });
});

/** `docker compose` (the plugin) or `docker-compose` (Debian's), whichever answers. */
function composeCommand(): string[] | undefined {
  for (const command of [['docker', 'compose'], ['docker-compose']]) {
    const probe = spawnSync(command[0]!, [...command.slice(1), 'version'], { encoding: 'utf8' });
    if (probe.status === 0) return command;
  }
  return undefined;
}

const composeCli = composeCommand();

// CI installs a Compose: there, a missing one fails the test instead of skipping it.
describe.runIf(composeCli !== undefined || process.env.CI)('compose config', () => {
  const run = (env: Record<string, string>) => {
    if (!composeCli)
      throw new Error('no `docker compose` or `docker-compose` on PATH (apt-get install docker-compose)');
    // An env file of the test's own: a developer's .env must not decide the outcome.
    const envFile = path.join(mkdtempSync(path.join(tmpdir(), 'didops-compose-')), 'env');
    writeFileSync(
      envFile,
      Object.entries(env)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
    );
    const [command, ...args] = composeCli;
    return spawnSync(command!, [...args, '--env-file', envFile, 'config'], {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });
  };

  it('validates the file and points the app at the services defined beside it', () => {
    const result = run({ SESSION_SECRET: 's'.repeat(32), POSTGRES_PASSWORD: 'pw', LOG_LEVEL: 'warn' });
    expect(result.status, result.stderr).toBe(0);
    const resolved = parse(result.stdout) as ComposeFile;
    const web = resolved.services.web!.environment!;
    expect(web.DATABASE_URL).toBe('postgres://didops:pw@postgres:5432/didops');
    expect(web.REDIS_URL).toBe('redis://redis:6379');
    expect(web.LOG_LEVEL).toBe('warn');
    expect(web.DID_AGING_DAYS).toBe('30');
    expect(web.STRIPE_SECRET_KEY).toBe('');
  });

  it('refuses to start without SESSION_SECRET, and says so', () => {
    const result = run({});
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('set SESSION_SECRET in .env');
  });
});
