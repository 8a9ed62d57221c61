// The one place that reads process.env. Parsed once at start, frozen, and every problem is reported at
// once so an operator fixes the environment in one go instead of one restart per mistake.
import { isIP } from 'node:net';
import { z } from 'zod';

const optionalString = z
  .string()
  .trim()
  .transform((s) => (s === '' ? undefined : s))
  .optional();

const idList = z
  .string()
  .optional()
  .transform((s) =>
    (s ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

function prefixed(prefix: string, what: string) {
  return optionalString.refine((s) => s === undefined || s.startsWith(prefix), {
    message: `expected ${what} starting with "${prefix}"`,
  });
}

function url(protocols: string[], what: string) {
  return optionalString.refine(
    (s) => {
      if (s === undefined) return true;
      try {
        return protocols.includes(new URL(s).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected ${what} (${protocols.map((p) => p + '//').join(' or ')}...)` },
  );
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];
const PROXY_FORMS =
  'the number of proxies in front of the app (1 to 10), or a comma-separated list of their IPs and CIDR ranges (loopback, linklocal and uniquelocal name the private ones)';

/** Why an entry of a TRUST_PROXY list is refused, or undefined when express may take it. */
function proxyAddressProblem(entry: string): string | undefined {
  if (PROXY_NAMES.includes(entry.toLowerCase())) return undefined;
  const [ip = '', prefix, ...rest] = entry.split('/');
  const version = isIP(ip);
  const bits = version === 4 ? 32 : 128;
  if (
    version === 0 ||
    rest.length > 0 ||
    (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) ||
    Number(prefix) > bits
  ) {
    return `expected ${PROXY_FORMS}; "${entry}" is neither`;
  }
  if (prefix !== undefined && Number(prefix) === 0) {
    return `"${entry}" is every address, which trusts anyone as "true" would: expected ${PROXY_FORMS}`;
  }
  return undefined;
}

/**
 * Which hops' X-Forwarded-For express believes, in the subset of its 'trust proxy' values that cannot trust
 * the whole internet: a hop count, or the proxies' addresses. Unset (or false) = none.
 */
const trustProxy = optionalString.transform((s, ctx): number | readonly string[] | undefined => {
  if (s === undefined || s.toLowerCase() === 'false') return undefined;
  const refuse = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  if (s.toLowerCase() === 'true') {
    return refuse(
      `"true" believes X-Forwarded-For from anyone, so any visitor could claim any IP and slip past the per-IP limits: expected ${PROXY_FORMS}`,
    );
  }
  if (/^\d+$/.test(s)) {
    const hops = Number(s);
    return hops >= 1 && hops <= 10 ? hops : refuse(`expected ${PROXY_FORMS}`);
  }
  const entries = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const problem = proxyAddressProblem(entry);
    if (problem !== undefined) return refuse(problem);
  }
  return Object.freeze(entries.map((x) => (PROXY_NAMES.includes(x.toLowerCase()) ? x.toLowerCase() : x)));
});

const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: z.coerce
      .number({ message: 'expected a port number' })
      .int('expected a whole port number')
      .min(1, 'expected a port from 1 to 65535')
      .max(65535, 'expected a port from 1 to 65535')
      .default(3000),
    PUBLIC_URL: url(['http:', 'https:'], 'an absolute URL such as https://dids.example.com'),
    DATABASE_URL: url(['postgres:', 'postgresql:'], 'a PostgreSQL URL such as postgres://user:pass@host/db'),
    REDIS_URL: url(['redis:', 'rediss:'], 'a Redis URL such as redis://localhost:6379'),
    SESSION_SECRET: optionalString.refine((s) => s === undefined || s.length >= 32, {
      message: 'expected at least 32 characters (for example: openssl rand -hex 32)',
    }),
    // Behind a reverse proxy every request comes from the proxy's address: this says which hops of
    // X-Forwarded-For to believe, so the per-IP limits see the visitor's.
    TRUST_PROXY: trustProxy.describe(
      'Proxies whose X-Forwarded-For is believed: a hop count or their addresses; unset = none',
    ),
    SLACK_SIGNING_SECRET: optionalString,
    SLACK_BOT_TOKEN: prefixed('xoxb-', 'a Slack bot token'),
    SLACK_APP_TOKEN: prefixed('xapp-', 'a Slack app-level token'),
    SLACK_ADMIN_USERS: idList,
    SLACK_AUDIT_CHANNEL: optionalString.refine((s) => s === undefined || /^[CG][A-Z0-9]{2,}$/.test(s), {
      message:
        'expected a Slack channel id such as C0123456789 (channel details → Copy channel ID), not its name',
    }),
    TELEGRAM_BOT_TOKEN: optionalString.refine((s) => s === undefined || /^\d+:[\w-]{20,}$/.test(s), {
      message: 'expected a Telegram bot token like 123456:ABC-DEF... from @BotFather',
    }),
    TELEGRAM_WEBHOOK_SECRET: optionalString.refine(
      (s) => s === undefined || /^[A-Za-z0-9_-]{1,256}$/.test(s),
      {
        message: 'expected 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram rejects others)',
      },
    ),
    TELEGRAM_ADMIN_USERS: idList,
    STRIPE_SECRET_KEY: optionalString.refine((s) => s === undefined || /^(sk|rk)_/.test(s), {
      message: 'expected a Stripe secret key starting with "sk_" (or a restricted key "rk_")',
    }),
    STRIPE_WEBHOOK_SECRET: prefixed('whsec_', 'a Stripe webhook signing secret'),
    SLACK_API_URL: url(['http:', 'https:'], 'a URL'),
    TELEGRAM_API_ROOT: url(['http:', 'https:'], 'a URL'),
    STRIPE_API_BASE: url(['http:', 'https:'], 'a URL'),
    DID_AGING_DAYS: z.coerce
      .number({ message: 'expected a number of days' })
      .int('expected a whole number of days')
      .min(0, 'expected 0 or more days')
      .max(3650, 'expected at most 3650 days')
      .default(30),
    EMBEDDED_POSTGRES_PORT: z.coerce.number().int().min(1024).max(65535).default(54329),
    DATA_DIR: z.string().default('.data'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    // Guards GET /metrics: unset, the endpoint is open (keep it off the public internet at the proxy).
    METRICS_TOKEN: optionalString
      .refine((s) => s === undefined || /^[\x21-\x7e]{16,}$/.test(s), {
        message:
          'expected at least 16 printable characters without spaces (for example: openssl rand -hex 24)',
      })
      .describe('Bearer token GET /metrics requires; unset = /metrics is open'),
    // A worker or bot process has no HTTP listener: with this set it serves /healthz, /readyz and /metrics.
    METRICS_PORT: z.coerce
      .number({ message: 'expected a port number' })
      .int('expected a whole port number')
      .min(1, 'expected a port from 1 to 65535')
      .max(65535, 'expected a port from 1 to 65535')
      .optional()
      .describe(
        'Port for /healthz, /readyz and /metrics in worker and bot processes (the web role uses PORT)',
      ),
  })
  // Zod skips refinements once a field has failed (PORT=abc); these rules only look at which values are set,
  // so `when` runs them anyway and every problem is reported at once.
  .superRefine(
    (env, ctx) => {
      const need = (name: keyof typeof env, when: string, why: string) => {
        if (env[name] === undefined) {
          ctx.addIssue({ code: 'custom', path: [name], message: `required when ${when}: ${why}` });
        }
      };
      if (env.NODE_ENV === 'production') {
        need(
          'SESSION_SECRET',
          'NODE_ENV=production',
          'storefront sessions must be signed with a secret of yours',
        );
      }
      if (env.SLACK_BOT_TOKEN && !env.SLACK_APP_TOKEN) {
        need(
          'SLACK_SIGNING_SECRET',
          'SLACK_BOT_TOKEN is set without SLACK_APP_TOKEN',
          'HTTP mode verifies Slack requests',
        );
      }
      if (env.SLACK_APP_TOKEN)
        need('SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN is set', 'Socket Mode still replies as the bot');
      if (env.SLACK_AUDIT_CHANNEL)
        need('SLACK_BOT_TOKEN', 'SLACK_AUDIT_CHANNEL is set', 'the bot posts the audit lines there');
      if (env.TELEGRAM_WEBHOOK_SECRET) {
        need('TELEGRAM_BOT_TOKEN', 'TELEGRAM_WEBHOOK_SECRET is set', 'the webhook belongs to a bot');
        need(
          'PUBLIC_URL',
          'TELEGRAM_WEBHOOK_SECRET is set',
          'Telegram must be told where to deliver updates',
        );
      }
      if (env.STRIPE_SECRET_KEY) {
        need(
          'STRIPE_WEBHOOK_SECRET',
          'STRIPE_SECRET_KEY is set',
          'payments are confirmed by signed webhooks',
        );
      }
    },
    { when: () => true },
  );

export type Env = z.infer<typeof envSchema>;

/** Every variable the app reads: the deployment files and the docs are checked against it. */
export const ENV_NAMES: readonly string[] = Object.keys(envSchema.shape);

export interface Config {
  readonly env: Env['NODE_ENV'];
  readonly port: number;
  readonly publicUrl: string;
  readonly databaseUrl: string | undefined;
  readonly redisUrl: string | undefined;
  readonly sessionSecret: string | undefined;
  /** TRUST_PROXY for express's 'trust proxy': hops to believe, or the proxies' addresses; undefined = none. */
  readonly trustProxy: number | readonly string[] | undefined;
  readonly slack: {
    readonly signingSecret: string | undefined;
    readonly botToken: string | undefined;
    readonly appToken: string | undefined;
    readonly adminUsers: readonly string[];
    readonly apiUrl: string | undefined;
    /** SLACK_AUDIT_CHANNEL: channel id where changes made from Slack are announced. */
    readonly auditChannel: string | undefined;
  };
  readonly telegram: {
    readonly botToken: string | undefined;
    readonly webhookSecret: string | undefined;
    readonly adminUsers: readonly string[];
    readonly apiRoot: string | undefined;
  };
  readonly stripe: {
    readonly secretKey: string | undefined;
    readonly webhookSecret: string | undefined;
    readonly apiBase: string | undefined;
  };
  readonly didAgingDays: number;
  readonly embeddedPostgresPort: number;
  readonly dataDir: string;
  readonly logLevel: Env['LOG_LEVEL'];
  readonly metrics: {
    /** METRICS_TOKEN: bearer token for GET /metrics; undefined = open. */
    readonly token: string | undefined;
    /** METRICS_PORT: listener for the probes and metrics of processes without the web role. */
    readonly port: number | undefined;
  };
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Parses an environment (process.env by default). Throws ConfigError listing every problem. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // An empty value counts as unset (.env.example): `PORT=` or `DID_AGING_DAYS=` means the default, not 0.
  const set = Object.fromEntries(Object.entries(source).filter(([, value]) => value?.trim()));
  const parsed = envSchema.safeParse(set);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.') || '(environment)';
      const given = typeof issue.path[0] === 'string' ? source[issue.path[0]] : undefined;
      return given === undefined
        ? `${name}: ${issue.message}`
        : `${name}: ${issue.message} (got "${redact(name, given)}")`;
    });
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  return Object.freeze({
    env: e.NODE_ENV,
    port: e.PORT,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    sessionSecret: e.SESSION_SECRET,
    trustProxy: e.TRUST_PROXY,
    slack: Object.freeze({
      signingSecret: e.SLACK_SIGNING_SECRET,
      botToken: e.SLACK_BOT_TOKEN,
      appToken: e.SLACK_APP_TOKEN,
      adminUsers: Object.freeze(e.SLACK_ADMIN_USERS),
      apiUrl: e.SLACK_API_URL,
      auditChannel: e.SLACK_AUDIT_CHANNEL,
    }),
    telegram: Object.freeze({
      botToken: e.TELEGRAM_BOT_TOKEN,
      webhookSecret: e.TELEGRAM_WEBHOOK_SECRET,
      adminUsers: Object.freeze(e.TELEGRAM_ADMIN_USERS),
      apiRoot: e.TELEGRAM_API_ROOT,
    }),
    stripe: Object.freeze({
      secretKey: e.STRIPE_SECRET_KEY,
      webhookSecret: e.STRIPE_WEBHOOK_SECRET,
      apiBase: e.STRIPE_API_BASE,
    }),
    didAgingDays: e.DID_AGING_DAYS,
    embeddedPostgresPort: e.EMBEDDED_POSTGRES_PORT,
    dataDir: e.DATA_DIR,
    logLevel: e.LOG_LEVEL,
    metrics: Object.freeze({ token: e.METRICS_TOKEN, port: e.METRICS_PORT }),
  });
}

// Secrets must not end up in terminals or log collectors, even when they are malformed.
function redact(name: string, value: string): string {
  if (/SECRET|TOKEN|KEY|PASSWORD|URL/.test(name)) return value.length <= 4 ? '****' : `${value.slice(0, 4)}…`;
  return value;
}
