// Configuration from the environment: defaults, every problem listed at once, secrets kept out of messages.
import { describe, it, expect } from 'vitest';
import express from 'express';
import fc from 'fast-check';
import { ConfigError, loadConfig } from '../../core/config.ts';

function configErrorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, but the configuration loaded');
}

const SECRET_32 = 'a'.repeat(32);

describe('loadConfig', () => {
  it('runs with no environment at all, on the defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      port: 3000,
      publicUrl: 'http://localhost:3000',
      databaseUrl: undefined,
      redisUrl: undefined,
      sessionSecret: undefined,
      didAgingDays: 30,
      embeddedPostgresPort: 54329,
      dataDir: '.data',
      logLevel: 'info',
    });
    expect(config.slack.adminUsers).toEqual([]);
    expect(config.stripe.secretKey).toBeUndefined();
  });

  it('treats an empty value as unset, as .env.example promises', () => {
    const config = loadConfig({
      PORT: '',
      DID_AGING_DAYS: '',
      NODE_ENV: '',
      LOG_LEVEL: ' ',
      DATA_DIR: '',
      SESSION_SECRET: '',
    });
    expect(config).toMatchObject({
      env: 'development',
      port: 3000,
      didAgingDays: 30,
      logLevel: 'info',
      dataDir: '.data',
    });
    expect(config.sessionSecret).toBeUndefined();
  });

  it('reads the values it is given', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      PORT: ' 8080 ',
      SESSION_SECRET: SECRET_32,
      DATABASE_URL: 'postgres://didops:pw@db:5432/didops',
      DID_AGING_DAYS: '0',
      SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
      SLACK_SIGNING_SECRET: 'signing',
      SLACK_ADMIN_USERS: ' U012ABCDEF, U034GHIJKL ,,',
      STRIPE_SECRET_KEY: 'rk_test_123',
      STRIPE_WEBHOOK_SECRET: 'whsec_123',
    });
    expect(config).toMatchObject({
      env: 'production',
      port: 8080,
      publicUrl: 'http://localhost:8080',
      databaseUrl: 'postgres://didops:pw@db:5432/didops',
      didAgingDays: 0,
      sessionSecret: SECRET_32,
    });
    expect(config.slack).toMatchObject({
      botToken: 'xoxb-1-2-abc',
      adminUsers: ['U012ABCDEF', 'U034GHIJKL'],
    });
    expect(config.stripe).toMatchObject({ secretKey: 'rk_test_123', webhookSecret: 'whsec_123' });
  });

  it('drops the trailing slash of PUBLIC_URL', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://dids.example.com/' }).publicUrl).toBe(
      'https://dids.example.com',
    );
  });

  it('returns a frozen config', () => {
    const config = loadConfig({ SLACK_ADMIN_USERS: 'U1' });
    expect(Object.isFrozen(config)).toBe(true);
    for (const part of [
      config.slack,
      config.telegram,
      config.stripe,
      config.slack.adminUsers,
      config.telegram.adminUsers,
    ]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.slack.adminUsers as string[]).push('U2');
    }).toThrow(TypeError);
  });

  describe('names each bad variable and says what it expects', () => {
    it.each([
      [{ PORT: 'abc' }, 'PORT: expected a port number (got "abc")'],
      [{ PORT: '70000' }, 'PORT: expected a port from 1 to 65535 (got "70000")'],
      [{ PORT: '0' }, 'PORT: expected a port from 1 to 65535 (got "0")'],
      [{ PORT: '3000.5' }, 'PORT: expected a whole port number (got "3000.5")'],
      [
        { DATABASE_URL: 'mysql://root:hunter2@db/app' },
        'DATABASE_URL: expected a PostgreSQL URL such as postgres://user:pass@host/db (postgres:// or postgresql://...) (got "mysq…")',
      ],
      [
        { DATABASE_URL: 'localhost:5432' },
        'DATABASE_URL: expected a PostgreSQL URL such as postgres://user:pass@host/db (postgres:// or postgresql://...) (got "loca…")',
      ],
      [
        { SLACK_BOT_TOKEN: 'xoxp-1234-5678', SLACK_SIGNING_SECRET: 'signing' },
        'SLACK_BOT_TOKEN: expected a Slack bot token starting with "xoxb-" (got "xoxp…")',
      ],
      [{ DID_AGING_DAYS: '-1' }, 'DID_AGING_DAYS: expected 0 or more days (got "-1")'],
      [{ DID_AGING_DAYS: 'a month' }, 'DID_AGING_DAYS: expected a number of days (got "a month")'],
      [
        { PUBLIC_URL: 'dids.example.com' },
        'PUBLIC_URL: expected an absolute URL such as https://dids.example.com (http:// or https://...) (got "dids…")',
      ],
      [
        { METRICS_TOKEN: 'short' },
        'METRICS_TOKEN: expected at least 16 printable characters without spaces (for example: openssl rand -hex 24) (got "shor…")',
      ],
      [{ METRICS_PORT: 'ninety' }, 'METRICS_PORT: expected a port number (got "ninety")'],
    ])('%j', (env, problem) => {
      const error = configErrorOf(env);
      expect(error.name).toBe('ConfigError');
      expect(error.problems).toEqual([problem]);
      expect(error.message).toBe(`Invalid configuration:\n  - ${problem}`);
    });
  });

  it('reports every problem at once, even when a field fails to parse', () => {
    const error = configErrorOf({
      NODE_ENV: 'production',
      PORT: 'abc',
      DATABASE_URL: 'mysql://db/app',
      SLACK_BOT_TOKEN: 'nope',
      SLACK_SIGNING_SECRET: 'signing',
      LOG_LEVEL: 'loud',
      STRIPE_SECRET_KEY: 'sk_test_123',
    });
    expect(error.problems.map((problem) => problem.split(':')[0])).toEqual([
      'PORT',
      'DATABASE_URL',
      'SLACK_BOT_TOKEN',
      'LOG_LEVEL',
      'SESSION_SECRET',
      'STRIPE_WEBHOOK_SECRET',
    ]);
    expect(error.message.split('\n')).toHaveLength(7);
  });

  it('requires SESSION_SECRET in production, of at least 32 characters', () => {
    expect(configErrorOf({ NODE_ENV: 'production' }).problems).toEqual([
      'SESSION_SECRET: required when NODE_ENV=production: storefront sessions must be signed with a secret of yours',
    ]);
    expect(configErrorOf({ NODE_ENV: 'production', SESSION_SECRET: 'short-secret-xyz' }).problems).toEqual([
      'SESSION_SECRET: expected at least 32 characters (for example: openssl rand -hex 32) (got "shor…")',
    ]);
    expect(loadConfig({ NODE_ENV: 'production', SESSION_SECRET: SECRET_32 }).sessionSecret).toBe(SECRET_32);
    expect(loadConfig({ NODE_ENV: 'development' }).sessionSecret).toBeUndefined();
  });

  it('requires the features that go together', () => {
    expect(configErrorOf({ STRIPE_SECRET_KEY: 'sk_test_123' }).problems).toEqual([
      'STRIPE_WEBHOOK_SECRET: required when STRIPE_SECRET_KEY is set: payments are confirmed by signed webhooks',
    ]);
    expect(configErrorOf({ SLACK_APP_TOKEN: 'xapp-1-abc' }).problems).toEqual([
      'SLACK_BOT_TOKEN: required when SLACK_APP_TOKEN is set: Socket Mode still replies as the bot',
    ]);
    expect(configErrorOf({ SLACK_BOT_TOKEN: 'xoxb-1' }).problems).toEqual([
      'SLACK_SIGNING_SECRET: required when SLACK_BOT_TOKEN is set without SLACK_APP_TOKEN: HTTP mode verifies Slack requests',
    ]);
    expect(
      configErrorOf({ TELEGRAM_WEBHOOK_SECRET: 'hook-secret' }).problems.map((p) => p.split(':')[0]),
    ).toEqual(['TELEGRAM_BOT_TOKEN', 'PUBLIC_URL']);
    expect(loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }).slack.appToken).toBe(
      'xapp-1',
    );
  });

  it('reads SLACK_AUDIT_CHANNEL as a channel id, which needs the bot token', () => {
    const slack = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'signing' };
    expect(loadConfig(slack).slack.auditChannel).toBeUndefined();
    expect(loadConfig({ ...slack, SLACK_AUDIT_CHANNEL: ' C0123ABCDEF ' }).slack.auditChannel).toBe(
      'C0123ABCDEF',
    );
    expect(configErrorOf({ ...slack, SLACK_AUDIT_CHANNEL: '#ops' }).problems).toEqual([
      'SLACK_AUDIT_CHANNEL: expected a Slack channel id such as C0123456789 (channel details → Copy channel ID), not its name (got "#ops")',
    ]);
    expect(configErrorOf({ SLACK_AUDIT_CHANNEL: 'C0123ABCDEF' }).problems).toEqual([
      'SLACK_BOT_TOKEN: required when SLACK_AUDIT_CHANNEL is set: the bot posts the audit lines there',
    ]);
  });

  describe('TRUST_PROXY', () => {
    /** Whether express, given the setting as the web app gives it, believes `address` at `hop` (0 = nearest). */
    const trusts = (value: string | undefined, address: string, hop = 0) => {
      const app = express();
      app.set(
        'trust proxy',
        loadConfig(value === undefined ? {} : { TRUST_PROXY: value }).trustProxy ?? false,
      );
      return (app.get('trust proxy fn') as (address: string, hop: number) => boolean)(address, hop);
    };

    it('is unset by default, so X-Forwarded-For is believed from nobody', () => {
      expect(loadConfig({}).trustProxy).toBeUndefined();
      expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBeUndefined();
      expect(trusts(undefined, '127.0.0.1')).toBe(false);
    });

    it('reads a hop count', () => {
      expect(loadConfig({ TRUST_PROXY: ' 2 ' }).trustProxy).toBe(2);
      expect(trusts('1', '203.0.113.7', 0)).toBe(true);
      expect(trusts('1', '203.0.113.7', 1)).toBe(false);
    });

    it('reads the proxies as a list of IPs, CIDR ranges and named private ranges, frozen', () => {
      const list = loadConfig({
        TRUST_PROXY: '10.0.0.0/8, 192.0.2.10 ,fd00::/8,,Loopback,uniquelocal,::1/128',
      }).trustProxy;
      expect(list).toEqual(['10.0.0.0/8', '192.0.2.10', 'fd00::/8', 'loopback', 'uniquelocal', '::1/128']);
      expect(Object.isFrozen(list)).toBe(true);
      expect(trusts('10.0.0.0/8', '10.1.2.3')).toBe(true);
      expect(trusts('192.0.2.10', '192.0.2.10')).toBe(true);
      expect(trusts('192.0.2.10', '192.0.2.11')).toBe(false);
      expect(trusts('loopback', '::1')).toBe(true);
      expect(trusts('uniquelocal', '172.18.0.5')).toBe(true);
      expect(trusts('uniquelocal', '203.0.113.7')).toBe(false);
    });

    const FORMS =
      'the number of proxies in front of the app (1 to 10), or a comma-separated list of their IPs and CIDR ranges (loopback, linklocal and uniquelocal name the private ones)';
    it.each([
      [
        'true',
        `TRUST_PROXY: "true" believes X-Forwarded-For from anyone, so any visitor could claim any IP and slip past the per-IP limits: expected ${FORMS} (got "true")`,
      ],
      [
        'TRUE',
        `TRUST_PROXY: "true" believes X-Forwarded-For from anyone, so any visitor could claim any IP and slip past the per-IP limits: expected ${FORMS} (got "TRUE")`,
      ],
      ['0', `TRUST_PROXY: expected ${FORMS} (got "0")`],
      ['11', `TRUST_PROXY: expected ${FORMS} (got "11")`],
      ['1.5', `TRUST_PROXY: expected ${FORMS}; "1.5" is neither (got "1.5")`],
      [
        'proxy.example.com',
        `TRUST_PROXY: expected ${FORMS}; "proxy.example.com" is neither (got "proxy.example.com")`,
      ],
      ['10.0.0.0/33', `TRUST_PROXY: expected ${FORMS}; "10.0.0.0/33" is neither (got "10.0.0.0/33")`],
      ['10.0.0.0/8/8', `TRUST_PROXY: expected ${FORMS}; "10.0.0.0/8/8" is neither (got "10.0.0.0/8/8")`],
      [
        '10.0.0.0/255.0.0.0',
        `TRUST_PROXY: expected ${FORMS}; "10.0.0.0/255.0.0.0" is neither (got "10.0.0.0/255.0.0.0")`,
      ],
      [
        'loopback, 0.0.0.0/0',
        `TRUST_PROXY: "0.0.0.0/0" is every address, which trusts anyone as "true" would: expected ${FORMS} (got "loopback, 0.0.0.0/0")`,
      ],
      [
        '::/0',
        `TRUST_PROXY: "::/0" is every address, which trusts anyone as "true" would: expected ${FORMS} (got "::/0")`,
      ],
    ])('refuses %j, saying what it takes', (value, problem) => {
      expect(configErrorOf({ TRUST_PROXY: value }).problems).toEqual([problem]);
    });
  });

  describe('keeps secrets out of the message', () => {
    it.each([
      ['STRIPE_SECRET_KEY', 'pk_live_abcdefghijkl', { STRIPE_WEBHOOK_SECRET: 'whsec_x' }],
      ['STRIPE_WEBHOOK_SECRET', 'wh_live_abcdefghijkl', { STRIPE_SECRET_KEY: 'sk_live_x' }],
      ['SESSION_SECRET', 'not-long-enough-secret', { NODE_ENV: 'production' }],
      ['SLACK_BOT_TOKEN', 'xoxp-12345-67890-abcdef', { SLACK_SIGNING_SECRET: 'signing' }],
      [
        'SLACK_APP_TOKEN',
        'xoxb-12345-67890-abcdef',
        { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' },
      ],
      ['TELEGRAM_BOT_TOKEN', '123456:short-token', {}],
      [
        'TELEGRAM_WEBHOOK_SECRET',
        'has spaces and symbols !!',
        { TELEGRAM_BOT_TOKEN: '123456:ABCDEFGHIJKLMNOPQRSTUVWX', PUBLIC_URL: 'https://x.example' },
      ],
      ['DATABASE_URL', 'mysql://root:hunter2@db/app', {}],
      ['REDIS_URL', 'http://:hunter2@redis:6379', {}],
    ])('%s', (name, value, rest) => {
      const error = configErrorOf({ ...rest, [name]: value });
      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]).toMatch(
        new RegExp(`^${name}: expected .* \\(got "${value.slice(0, 4)}…"\\)$`),
      );
      expect(error.message).not.toContain(value);
      expect(error.message).not.toContain(value.slice(4));
    });

    it('for any malformed Stripe key', () => {
      fc.assert(
        fc.property(fc.stringMatching(/^(pk_|sk|rk-)?[A-Za-z0-9]{12,40}$/), (key) => {
          const error = configErrorOf({ STRIPE_SECRET_KEY: key, STRIPE_WEBHOOK_SECRET: 'whsec_x' });
          expect(error.problems).toEqual([
            `STRIPE_SECRET_KEY: expected a Stripe secret key starting with "sk_" (or a restricted key "rk_") (got "${key.slice(0, 4)}…")`,
          ]);
          expect(error.message).not.toContain(key.slice(4));
        }),
      );
    });
  });
});
