// The end-to-end harness: the real web app on a free port over this file's test database, driven by a real
// Chromium through playwright-core. Chromium is Debian's (/usr/bin/chromium) or CHROMIUM_PATH; without it
// the suite fails in CI (CI is set) and is skipped with a warning elsewhere. Screenshots go to
// test-artifacts/screenshots/<name>.png; `mobile` pages are 375×812, like a small phone.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import type { Db } from '../../core/db/connect.ts';
import { silentLogger } from '../../core/runtime/logger.ts';
import { createWebApp, type WebDeps } from '../../storefront/app.ts';
import { startWebServer, type WebServer } from '../../storefront/server.ts';

export const SCREENSHOTS_DIR = fileURLToPath(new URL('../../test-artifacts/screenshots', import.meta.url));
export const MOBILE = { width: 375, height: 812 } as const;
const DESKTOP = { width: 1280, height: 800 } as const;

/** Chromium's path: CHROMIUM_PATH, else chromium or chromium-browser on PATH; null when there is none. */
export function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, ...['chromium', 'chromium-browser'].map(which)];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  return null;
}

function which(name: string): string | undefined {
  try {
    return (
      execFileSync('which', [name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() ||
      undefined
    );
  } catch {
    return undefined;
  }
}

const CHROMIUM = findChromium();
const MISSING =
  'Chromium was not found: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH to its binary.';

/** `describe` for browser tests: skipped with a warning when Chromium is missing, unless in CI. */
export function describeInBrowser(name: string, body: () => void): void {
  if (!CHROMIUM && !process.env.CI) {
    console.warn(`\n⚠ Skipping the end-to-end tests "${name}": ${MISSING}\n`);
    describe.skip(name, body);
    return;
  }
  describe(name, body);
}

export interface E2E {
  /** Where the app listens, e.g. http://127.0.0.1:41234 */
  readonly baseUrl: string;
  /** A fresh page in its own browser context (cookies of its own); mobile = 375×812. */
  newPage(options?: { mobile?: boolean }): Promise<Page>;
  /** Console errors and CSP violations the pages reported (a page must produce none). */
  readonly consoleErrors: string[];
}

export interface BrowserAppOptions {
  /** More environment for the app's configuration (read in beforeAll, after the file's own hooks ran). */
  readonly env?: () => Record<string, string>;
  /** The queue and payments gateway the app uses (checkout by card, the Stripe webhook). */
  readonly jobs?: () => WebDeps['jobs'];
}

/** Registers hooks: the browser and the app for the file, a context per page, closed after each test. */
export function useBrowser(database: { readonly db: Db }, options: BrowserAppOptions = {}): E2E {
  let browser: Browser | undefined;
  let web: WebServer | undefined;
  const contexts: BrowserContext[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    if (!CHROMIUM) throw new Error(`${MISSING} The end-to-end suite is required in CI.`);
    const isRoot = process.getuid?.() === 0;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: isRoot ? ['--no-sandbox'] : [],
    });
    const app = createWebApp({
      db: database.db,
      config: loadConfig({ NODE_ENV: 'test', ...options.env?.() }),
      log: silentLogger,
      jobs: options.jobs?.(),
    });
    web = await startWebServer(app, { port: 0, host: '127.0.0.1', log: silentLogger });
  });

  afterEach(async () => {
    while (contexts.length) await contexts.pop()!.close();
    consoleErrors.length = 0;
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close(1_000);
  });

  return {
    get baseUrl() {
      if (!web) throw new Error('useBrowser: the app runs only inside tests and hooks');
      return `http://127.0.0.1:${web.port}`;
    },
    consoleErrors,
    async newPage(options = {}) {
      if (!browser) throw new Error('useBrowser: the browser runs only inside tests and hooks');
      const context = await browser.newContext({
        viewport: options.mobile ? MOBILE : DESKTOP,
        baseURL: `http://127.0.0.1:${web!.port}`,
        ...(options.mobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
      });
      contexts.push(context);
      const page = await context.newPage();
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(`${page.url()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => consoleErrors.push(`${page.url()}: ${error.message}`));
      return page;
    },
  };
}

/** Saves a screenshot (the full page unless told) as test-artifacts/screenshots/<name>.png; returns its path. */
export async function screenshot(
  page: Page,
  name: string,
  options: { fullPage?: boolean } = {},
): Promise<string> {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  const file = path.join(SCREENSHOTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: options.fullPage ?? true });
  return file;
}

/** The widest the document gets, in CSS pixels: more than the viewport means horizontal scrolling. */
export function scrollWidth(page: Page): Promise<number> {
  // A string, evaluated in the page: the test code is type-checked without the DOM library.
  return page.evaluate<number>('document.documentElement.scrollWidth');
}
