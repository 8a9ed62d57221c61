// Serves the whole web app on a free port for storefront tests, and a small browser-like client: it keeps
// cookies (like a browser, whatever their flags), follows nothing by itself (tests look at redirects),
// sends Accept: text/html, and finds the CSRF token in the last page to post forms with.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { loadConfig } from '../../../core/config.ts';
import type { Db } from '../../../core/db/connect.ts';
import { createLogger } from '../../../core/runtime/logger.ts';
import type { Clock } from '../../../core/shared/clock.ts';
import { createWebApp, type WebDeps } from '../../../storefront/app.ts';
import type { TelegramBotLookup } from '../../../storefront/web/telegram-bot-name.ts';

const servers: Server[] = [];

afterEach(async () => {
  while (servers.length) {
    const server = servers.pop()!;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

export interface Served {
  readonly base: string;
  /** Every log line the app wrote, parsed. */
  readonly logs: Record<string, unknown>[];
}

export async function serve(
  db: Db,
  options: {
    env?: Record<string, string>;
    clock?: Clock;
    telegramBot?: () => Promise<TelegramBotLookup>;
    /** The queue and payments gateway (checkout by card, the Stripe webhook). */
    jobs?: WebDeps['jobs'];
  } = {},
): Promise<Served> {
  const logs: Record<string, unknown>[] = [];
  const app = createWebApp({
    db,
    config: loadConfig({ NODE_ENV: 'development', ...options.env }),
    log: createLogger({
      level: 'info',
      write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
    }),
    clock: options.clock,
    telegramBot: options.telegramBot,
    jobs: options.jobs,
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  servers.push(server);
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, logs };
}

export interface Page {
  readonly status: number;
  readonly headers: Headers;
  readonly html: string;
  /** The redirect target, for 3xx answers. */
  readonly location: string | null;
}

export class Browser {
  readonly base: string;
  readonly cookies = new Map<string, string>();
  /** The last page's CSRF token. */
  csrf = '';
  constructor(base: string) {
    this.base = base;
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Page> {
    return this.request('GET', path, undefined, headers);
  }

  /** Posts a form with the last page's CSRF token unless the fields set `_csrf` themselves. */
  async post(
    path: string,
    fields: Record<string, string | string[]> = {},
    headers: Record<string, string> = {},
  ): Promise<Page> {
    const body = new URLSearchParams();
    if (!('_csrf' in fields)) body.append('_csrf', this.csrf);
    for (const [name, value] of Object.entries(fields)) {
      for (const v of Array.isArray(value) ? value : [value]) body.append(name, v);
    }
    return this.request('POST', path, body, headers);
  }

  /** GET the page that has the form, then post it (how a person does it). */
  async submit(formPath: string, action: string, fields: Record<string, string>): Promise<Page> {
    const page = await this.get(formPath);
    if (page.status !== 200) throw new Error(`GET ${formPath}: ${page.status}`);
    return this.post(action, fields);
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  private async request(
    method: string,
    path: string,
    body: URLSearchParams | undefined,
    headers: Record<string, string> = {},
  ): Promise<Page> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(this.base + path, {
      method,
      redirect: 'manual',
      headers: {
        accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
        ...(cookie ? { cookie } : {}),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...headers,
      },
      body: body?.toString(),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = /max-age=0|expires=Thu, 01 Jan 1970/i.test(line) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const html = await response.text();
    const token = /name="_csrf" value="([^"]*)"/.exec(html)?.[1];
    if (token !== undefined) this.csrf = token;
    return {
      status: response.status,
      headers: response.headers,
      html,
      location: response.headers.get('location'),
    };
  }
}

/** The visible text of an HTML page, tags removed and whitespace squeezed: for "the page says X". */
export function textOf(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&#x3D;/g, '=')
    .replace(/&#x60;/g, '`')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The password every test user gets (10+ characters). */
export const PASSWORD = 'correct horse battery';
